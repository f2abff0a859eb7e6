// Clock: the runtime's source of time, injectable so that rate limiters, leader election and
// event folding can be unit-tested without sleeping. `steady()` is for durations and deadlines,
// `wall()` for timestamps written to the API (Lease renewTime, Event eventTime).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "core/chrono.h"

namespace aim::kube {

class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual SteadyTime steady() const = 0;
  virtual WallTime wall() const = 0;
  // Sleeps for d, returning early (false) once *stop is true. Checks stop at least every 100 ms.
  virtual bool sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>* stop) = 0;

  // The process-wide real clock.
  static Clock& real();
};

// A clock that only moves when told: advance() moves time; sleep_for() advances by the slept
// duration at once (so loops that sleep run instantly and deterministically in tests).
class FakeClock final : public Clock {
 public:
  FakeClock();
  SteadyTime steady() const override;
  WallTime wall() const override;
  bool sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>* stop) override;
  void advance(std::chrono::nanoseconds d);

 private:
  mutable std::mutex mu_;
  SteadyTime steady_;
  WallTime wall_;
};

// RFC 3339 with microseconds, as metav1.MicroTime: 2026-01-02T15:04:05.000000Z (core/chrono.h).
inline std::string format_micro_time(Clock::WallTime t) {
  return format_rfc3339_micro(t);
}
// RFC 3339 seconds, as metav1.Time: 2026-01-02T15:04:05Z.
inline std::string format_time(Clock::WallTime t) {
  return format_rfc3339(std::chrono::system_clock::to_time_t(t));
}

}  // namespace aim::kube
