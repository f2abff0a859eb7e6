#include "kube/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace aim::kube {

TokenBucket::TokenBucket(double qps, int burst, NowFn now)
    : qps_(qps),
      burst_(std::max(1, burst)),
      now_(now ? std::move(now) : NowFn([] { return Clock::now(); })),
      tokens_(burst_),
      last_(now_()) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  if (unlimited()) return std::chrono::nanoseconds(0);
  std::lock_guard lock(mu_);
  refill(now_());
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

bool TokenBucket::try_take() {
  if (unlimited()) return true;
  std::lock_guard lock(mu_);
  refill(now_());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool TokenBucket::take(const std::atomic<bool>* cancel) {
  auto wait = reserve();
  if (wait.count() == 0) return true;
  const auto deadline = Clock::now() + wait;
  while (Clock::now() < deadline) {
    if (cancel && cancel->load()) {
      std::lock_guard lock(mu_);
      tokens_ = std::min(burst_, tokens_ + 1);
      return false;
    }
    auto left = deadline - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(100)));
  }
  return true;
}

double TokenBucket::available() {
  if (unlimited()) return burst_;
  std::lock_guard lock(mu_);
  refill(now_());
  return tokens_;
}

}  // namespace aim::kube
