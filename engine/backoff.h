// The discovery circuit breaker (behavior.md §4.2, §3.2): 60 s x 2^(attempts-1), capped at
// 3600 s, keyed by the discovery spec hash. Unlike the reference, callers learn when the wait
// ends so they can arm a timer for that moment (spec README §4).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aim::engine {

using Clock = std::chrono::system_clock;

inline constexpr std::chrono::seconds kDiscoveryBaseBackoff{60};
inline constexpr std::chrono::seconds kDiscoveryMaxBackoff{3600};

// 0 for attempts <= 0; 60, 120, 240, ..., 1920, 3600, 3600, ...
std::chrono::seconds discovery_backoff(int attempts);

// status.discovery of a template.
struct DiscoveryState {
  int attempts = 0;
  std::optional<Clock::time_point> last_attempt_time;
  std::string last_failure_reason;  // what failed, in words (the reference's field)
  std::string spec_hash;
  std::string last_failure_code;  // the condition reason of that failure (PodFailed, ...)
};

// When the gate opens again: nullopt when there is no gate (no failed attempts, no attempt
// time, or a spec hash that differs from the stored one). The gate is closed while now < result.
std::optional<Clock::time_point> discovery_retry_at(const DiscoveryState& state,
                                                    std::string_view current_spec_hash);

// How long to wait from `now`; zero when the gate is open. Use it as the RequeueAfter.
std::chrono::seconds discovery_wait(const DiscoveryState& state, std::string_view current_spec_hash,
                                    Clock::time_point now);

// The state after observing a failed discovery Job created at `job_created`, which failed with
// the condition reason `code` and `message`: a changed spec hash resets the count first; the
// attempt counts once (only when the job is newer than the last recorded attempt).
DiscoveryState record_discovery_failure(DiscoveryState state, Clock::time_point job_created,
                                        Clock::time_point now, std::string code,
                                        std::string message, std::string_view current_spec_hash);

// What a template says while its latest attempt has failed and the next one is not running:
// "Discovery attempt 2 failed: <message>. Next attempt at 2026-12-07T01:02:03Z" (an absolute
// time, so that the status does not change while it waits), or "... Next attempt now" once due.
std::string discovery_failed_message(const DiscoveryState& state,
                                     std::optional<Clock::time_point> retry_at,
                                     Clock::time_point now);

// While a retry runs: "Discovery attempt 3 is running; attempt 2 failed: <message>".
std::string discovery_retrying_message(const DiscoveryState& state);

}  // namespace aim::engine
