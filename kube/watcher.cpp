#include "kube/watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

#include "kube/object.h"

namespace aim::kube {
namespace {

using Clock = std::chrono::steady_clock;

// Sleeps for `d` or until stop, in slices short enough to notice stop within a second.
void sleep_unless_stopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop.load() && Clock::now() < until)
    std::this_thread::sleep_for(
        std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(100)));
}

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), next_(initial), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next() {
    auto d = next_;
    next_ = std::min(max_, next_ * 2);
    // Up to 25% jitter so that many watchers do not reconnect in lockstep.
    std::uniform_int_distribution<long> jitter(0, std::max<long>(1, d.count() / 4));
    return d + std::chrono::milliseconds(jitter(rng_));
  }
  void reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, next_;
  std::mt19937 rng_;
};

}  // namespace

Watcher::Watcher(std::shared_ptr<Client> client, ResourceType type, std::string ns,
                 ListOptions selectors)
    : client_(std::move(client)),
      type_(std::move(type)),
      ns_(std::move(ns)),
      selectors_(std::move(selectors)) {}

void Watcher::set_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) {
  backoff_initial_ = initial;
  backoff_max_ = std::max(initial, max);
}

void Watcher::run(const std::atomic<bool>& stop, const WatchHandler& handler) {
  Backoff backoff(backoff_initial_, backoff_max_);
  std::mt19937 rng(std::random_device{}());
  const std::string what = ns_.empty() ? type_.resource : ns_ + "/" + type_.resource;
  bool need_list = true;
  std::string rv;
  // Backs off before the next attempt; a server that says when to come back (429, or 503
  // while it starts) is believed, up to the maximum backoff.
  auto pause_after = [&](const Error& err) {
    auto wait = backoff.next();
    if (err.retry_after)
      wait = std::max(wait, std::min<std::chrono::milliseconds>(*err.retry_after, backoff_max_));
    sleep_unless_stopped(wait, stop);
  };

  while (!stop.load()) {
    if (need_list) {
      ListOptions list_options = selectors_;
      list_options.resource_version.clear();  // a consistent read: the current state
      list_options.resource_version_match.clear();
      auto listed = client_->list(type_, ns_, list_options);
      if (!listed) {
        spdlog::warn("watcher {}: list failed: {}", what, listed.error().describe());
        pause_after(listed.error());
        continue;
      }
      rv = listed->resource_version;
      if (handler.on_replace) handler.on_replace(std::move(listed->items), rv);
      need_list = false;
    }

    ListOptions watch_options = selectors_;
    watch_options.resource_version = rv;
    watch_options.resource_version_match.clear();
    watch_options.allow_watch_bookmarks = true;
    if (watch_options.timeout_seconds <= 0) {
      // Like client-go: a random 5-10 minutes, so reconnects spread out over time.
      std::uniform_int_distribution<int> secs(300, 599);
      watch_options.timeout_seconds = secs(rng);
    }
    std::size_t delivered = 0;
    const auto started = Clock::now();
    auto watched = client_->watch(
        type_, ns_, watch_options,
        [&](WatchEvent&& ev) {
          if (stop.load()) return false;
          std::string ev_rv(resource_version_view(ev.object));
          if (ev.type != WatchEvent::Type::kBookmark) {
            ++delivered;
            if (handler.on_event) handler.on_event(ev);
          }
          // Only after the consumer has it: a resume starts after the last delivered event.
          if (!ev_rv.empty()) rv = std::move(ev_rv);
          return true;
        },
        &stop);
    if (stop.load()) break;
    if (watched) {
      // The server ended the stream (its timeout): resume where we are. A stream that ends at
      // once without events, again and again, would spin, so that case backs off.
      if (delivered > 0 || Clock::now() - started > std::chrono::seconds(1)) {
        backoff.reset();
      } else {
        sleep_unless_stopped(backoff.next(), stop);
      }
      continue;
    }
    const Error& err = watched.error();
    if (err.is(ErrorCode::kGone)) {
      spdlog::info("watcher {}: resourceVersion {} is too old, relisting", what, rv);
      need_list = true;
      backoff.reset();
      continue;
    }
    if (err.is(ErrorCode::kCancelled)) break;
    if (delivered > 0) backoff.reset();
    spdlog::warn("watcher {}: watch from resourceVersion {} failed, resuming: {}", what, rv,
                 err.describe());
    pause_after(err);
  }
}

}  // namespace aim::kube
