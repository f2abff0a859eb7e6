#include "kube/clock.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace aim::kube {
namespace {

class RealClock final : public Clock {
 public:
  SteadyTime steady() const override { return std::chrono::steady_clock::now(); }
  WallTime wall() const override { return std::chrono::system_clock::now(); }
  bool sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>* stop) override {
    auto deadline = std::chrono::steady_clock::now() + d;
    while (true) {
      if (stop != nullptr && stop->load()) return false;
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return true;
      std::this_thread::sleep_for(
          std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::milliseconds(100)));
    }
  }
};

}  // namespace

Clock& Clock::real() {
  static RealClock clock;
  return clock;
}

FakeClock::FakeClock()
    : steady_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1)),
      wall_(std::chrono::system_clock::from_time_t(1767225600)) {}  // 2026-01-01T00:00:00Z

Clock::SteadyTime FakeClock::steady() const {
  std::lock_guard lock(mu_);
  return steady_;
}

Clock::WallTime FakeClock::wall() const {
  std::lock_guard lock(mu_);
  return wall_;
}

bool FakeClock::sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>* stop) {
  if (stop != nullptr && stop->load()) return false;
  advance(d);
  // Give other threads a chance to run, as a real sleep would.
  std::this_thread::yield();
  return !(stop != nullptr && stop->load());
}

void FakeClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  steady_ += d;
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
}

}  // namespace aim::kube
