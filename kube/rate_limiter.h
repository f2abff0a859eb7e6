// TokenBucket: the client-side QPS/burst limit. The bucket holds up to `burst` tokens and refills
// at `qps` tokens per second; each request takes one. A caller that finds the bucket empty
// reserves a future token and waits exactly until it is due, so waiters are served in order
// and the long-run rate never exceeds qps. The clock is injectable so tests can check the
// arithmetic without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>

namespace aim::kube {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  // qps <= 0 disables the limit. A burst below 1 is treated as 1. The bucket starts full.
  TokenBucket(double qps, int burst, NowFn now = {});

  // Takes one token and returns how long the caller must wait before using it: zero when a
  // token was available, otherwise the time until the reserved token is refilled.
  std::chrono::nanoseconds reserve();
  // Takes one token only if one is available now.
  bool try_take();
  // Blocks until a token is available. Returns false if *cancel became true while waiting
  // (the reserved token is then given back).
  bool take(const std::atomic<bool>* cancel = nullptr);
  // Tokens available now (negative while callers are waiting for reserved tokens).
  double available();

  bool unlimited() const { return qps_ <= 0; }

 private:
  void refill(Clock::time_point now);

  const double qps_;
  const double burst_;
  NowFn now_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace aim::kube
