#include "kube/workqueue.h"

#include <algorithm>
#include <cmath>

namespace aim::kube {
namespace {

std::vector<double> exponential_buckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// --- rate limiters ---

ItemExponentialRateLimiter::ItemExponentialRateLimiter(Duration base, Duration max_delay)
    : base_(base), max_(max_delay) {}

Duration ItemExponentialRateLimiter::when(const std::string& key) {
  std::lock_guard lock(mu_);
  int exp = failures_[key]++;
  // Compute in floating point so that large exponents saturate at the cap instead of overflowing.
  double delay = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (delay >= static_cast<double>(max_.count())) return max_;
  return Duration(static_cast<Duration::rep>(delay));
}

void ItemExponentialRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::retries(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, Clock& clock)
    : bucket_(qps, burst, [&clock] { return clock.steady(); }) {}

Duration BucketRateLimiter::when(const std::string&) {
  return bucket_.reserve();
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::when(const std::string& key) {
  Duration d = Duration::zero();
  for (auto& l : limiters_) d = std::max(d, l->when(key));
  return d;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& l : limiters_) l->forget(key);
}

int MaxOfRateLimiter::retries(const std::string& key) const {
  int r = 0;
  for (const auto& l : limiters_) r = std::max(r, l->retries(key));
  return r;
}

std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5),
                                                               std::chrono::seconds(1000)));
  parts.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(parts));
}

// --- queue ---

WorkQueue::WorkQueue(std::string name) : WorkQueue(std::move(name), Options{}) {}

WorkQueue::WorkQueue(std::string name, Options options)
    : name_(std::move(name)), limiter_(std::move(options.rate_limiter)) {
  if (!limiter_) limiter_ = default_controller_rate_limiter();
  auto& reg = options.registry != nullptr ? *options.registry : metrics::Registry::global();
  const std::vector<std::string> labels{"name"};
  const auto buckets = exponential_buckets(1e-8, 10, 10);
  depth_ = &reg.gauge("workqueue_depth", "Current depth of workqueue", labels).with({name_});
  adds_ = &reg.counter("workqueue_adds_total", "Total number of adds handled by workqueue", labels)
               .with({name_});
  queue_duration_ = &reg.histogram("workqueue_queue_duration_seconds",
                                   "How long in seconds an item stays in workqueue before being "
                                   "requested",
                                   labels, buckets)
                         .with({name_});
  work_duration_ =
      &reg.histogram("workqueue_work_duration_seconds",
                     "How long in seconds processing an item from workqueue takes", labels, buckets)
           .with({name_});
  retries_ = &reg.counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                          labels)
                  .with({name_});
  unfinished_work_ = &reg.gauge("workqueue_unfinished_work_seconds",
                                "How many seconds of work has been done that is in progress and "
                                "hasn't been observed by work_duration. Large values indicate "
                                "stuck threads.",
                                labels)
                          .with({name_});
  longest_running_ = &reg.gauge("workqueue_longest_running_processor_seconds",
                                "How many seconds has the longest running processor for "
                                "workqueue been running.",
                                labels)
                          .with({name_});
  link_ = std::make_shared<CollectorLink>();
  link_->queue = this;
  reg.add_collector([link = link_, unfinished = unfinished_work_, longest = longest_running_] {
    std::lock_guard lock(link->mu);
    if (link->queue != nullptr) {
      link->queue->collect();
    } else {
      unfinished->set(0);
      longest->set(0);
    }
  });
  delay_thread_ = std::thread([this] { delay_loop(); });
}

void WorkQueue::collect() {
  const auto now = std::chrono::steady_clock::now();
  double total = 0, longest = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, started] : started_at_) {
      const double s = std::chrono::duration<double>(now - started).count();
      total += s;
      longest = std::max(longest, s);
    }
  }
  unfinished_work_->set(total);
  longest_running_->set(longest);
}

WorkQueue::~WorkQueue() {
  {
    std::lock_guard lock(link_->mu);  // waits for a scrape that is reading this queue; after
                                      // this, the collector reports 0
    link_->queue = nullptr;
  }
  shut_down();
  if (delay_thread_.joinable()) delay_thread_.join();
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_) return;
  adds_->inc();
  if (!dirty_.insert(key).second) return;  // already queued
  added_at_.emplace(key, std::chrono::steady_clock::now());
  if (processing_.count(key) != 0) return;  // queued again by done()
  queue_.push_back(key);
  depth_->set(static_cast<double>(queue_.size()));
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) {
    add(key);
    return;
  }
  auto at = std::chrono::steady_clock::now() + delay;
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  auto it = waiting_at_.find(key);
  if (it != waiting_at_.end()) {
    if (it->second <= at) return;  // an earlier add is already scheduled
    auto range = waiting_.equal_range(it->second);
    for (auto w = range.first; w != range.second; ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_at_[key] = at;
  waiting_.emplace(at, key);
  delay_cv_.notify_one();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  retries_->inc();
  add_after(key, limiter_->when(key));
}

void WorkQueue::forget(const std::string& key) {
  limiter_->forget(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  return limiter_->retries(key);
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;  // shut down
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  depth_->set(static_cast<double>(queue_.size()));
  processing_.insert(key);
  dirty_.erase(key);
  auto added = added_at_.find(key);
  if (added != added_at_.end()) {
    queue_duration_->observe(seconds_since(added->second));
    added_at_.erase(added);
  }
  started_at_[key] = std::chrono::steady_clock::now();
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  auto started = started_at_.find(key);
  if (started != started_at_.end()) {
    work_duration_->observe(seconds_since(started->second));
    started_at_.erase(started);
  }
  if (dirty_.count(key) != 0) {
    queue_.push_back(key);
    depth_->set(static_cast<double>(queue_.size()));
    cv_.notify_one();
  }
}

void WorkQueue::shut_down() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  delay_cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::delayed() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void WorkQueue::delay_loop() {
  std::unique_lock lock(mu_);
  while (!shutting_down_) {
    if (waiting_.empty()) {
      delay_cv_.wait(lock);
      continue;
    }
    auto next = waiting_.begin()->first;
    if (std::chrono::steady_clock::now() < next) {
      delay_cv_.wait_until(lock, next);
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      std::string key = waiting_.begin()->second;
      waiting_.erase(waiting_.begin());
      waiting_at_.erase(key);
      add_locked(key);
    }
  }
}

}  // namespace aim::kube
