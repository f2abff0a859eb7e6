// WorkQueue: the de-duplicating, rate-limited queue between informer events and reconcile
// workers, with client-go's semantics:
//  * a key waiting in the queue is stored once, however often it is added;
//  * a key is handed to at most one worker at a time; if it is added while being processed,
//    it is queued again when that worker calls done();
//  * add_after delays an add; add_rate_limited delays by the rate limiter (per-key exponential
//    backoff 5 ms * 2^n capped at 1000 s, and an overall token bucket of 10 qps / burst 100);
//  * shut_down wakes every waiting worker; get() then returns nullopt.
// Metrics (label name): workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds,
// workqueue_work_duration_seconds, workqueue_retries_total.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "kube/clock.h"
#include "kube/metrics.h"
#include "kube/rate_limiter.h"

namespace aim::kube {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long to wait before processing `key` again; records one more failure for it.
  virtual Duration when(const std::string& key) = 0;
  // The key succeeded: reset its failure history.
  virtual void forget(const std::string& key) = 0;
  virtual int retries(const std::string& key) const = 0;
};

// base * 2^failures, capped at max_delay.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base, Duration max_delay);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int retries(const std::string& key) const override;

 private:
  Duration base_;
  Duration max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// A token bucket shared by all keys: each call takes one token; when none is left the delay
// is how long until the reserved token arrives (the bucket goes into debt, like rate.Limiter).
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, Clock& clock = Clock::real());
  Duration when(const std::string& key) override;
  void forget(const std::string&) override {}
  int retries(const std::string&) const override { return 0; }

 private:
  TokenBucket bucket_;
};

// The largest delay of its parts.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int retries(const std::string& key) const override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max(per-key 5 ms..1000 s, bucket 10 qps / 100).
std::unique_ptr<RateLimiter> default_controller_rate_limiter(Clock& clock = Clock::real());

class WorkQueue {
 public:
  struct Options {
    std::unique_ptr<RateLimiter> rate_limiter;  // default_controller_rate_limiter() when null
    metrics::Registry* registry = nullptr;      // Registry::global() when null
  };
  explicit WorkQueue(std::string name);
  WorkQueue(std::string name, Options options);
  ~WorkQueue();  // shuts down
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  // Adds after `delay`. If the key is already waiting, the earlier time wins.
  void add_after(const std::string& key, Duration delay);
  // Adds after the rate limiter's delay for the key (counts a retry).
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks until a key is available or the queue is shut down (nullopt).
  std::optional<std::string> get();
  // Marks the key processed; queues it again if it was added meanwhile.
  void done(const std::string& key);

  void shut_down();
  bool shutting_down() const;
  // Keys ready for a worker (not counting delayed or in-process keys).
  std::size_t len() const;
  // Keys waiting for their add_after time.
  std::size_t delayed() const;

 private:
  void delay_loop();
  void add_locked(const std::string& key);

  std::string name_;
  std::unique_ptr<RateLimiter> limiter_;

  mutable std::mutex mu_;
  std::condition_variable cv_;        // workers waiting in get()
  std::condition_variable delay_cv_;  // the delay thread
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> added_at_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> started_at_;
  // Delayed adds: ready time -> keys, plus the reverse map to keep the earliest time per key.
  std::multimap<std::chrono::steady_clock::time_point, std::string> waiting_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> waiting_at_;
  bool shutting_down_ = false;
  std::thread delay_thread_;

  metrics::Gauge* depth_;
  metrics::Counter* adds_;
  metrics::Histogram* queue_duration_;
  metrics::Histogram* work_duration_;
  metrics::Counter* retries_;
  // Read at scrape time from started_at_ by a collector of the registry. The registry may go
  // before the queue (tests) or after it (the global one): the collector reaches the queue only
  // through this link, which the destructor cuts; a collector whose queue is gone reports 0.
  metrics::Gauge* unfinished_work_;
  metrics::Gauge* longest_running_;
  struct CollectorLink {
    std::mutex mu;
    WorkQueue* queue = nullptr;
  };
  std::shared_ptr<CollectorLink> link_;
  void collect();
};

}  // namespace aim::kube
