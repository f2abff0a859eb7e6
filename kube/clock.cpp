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

std::string format_micro_time(Clock::WallTime t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:06d}Z", buf, us % 1000000);
}

std::string format_time(Clock::WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parse_time(const std::string& text, Clock::WallTime& out) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t pos = static_cast<std::size_t>(consumed);
  long long micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 6; ++digits) micros *= 10;
  }
  // Only UTC ("Z") is produced by the API server for these fields.
  if (pos >= text.size() || (text[pos] != 'Z' && text[pos] != 'z')) return false;
  std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return false;
  out = std::chrono::system_clock::from_time_t(secs) + std::chrono::microseconds(micros);
  return true;
}

}  // namespace aim::kube
