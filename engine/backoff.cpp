#include "engine/backoff.h"

#include <algorithm>

#include "core/chrono.h"

namespace aim::engine {

std::chrono::seconds discovery_backoff(int attempts) {
  if (attempts <= 0) return std::chrono::seconds{0};
  // 60 * 2^6 = 3840 already exceeds the cap, so larger exponents need not be computed.
  int exp = std::min(attempts - 1, 6);
  return std::min(kDiscoveryBaseBackoff * (1 << exp), kDiscoveryMaxBackoff);
}

std::optional<Clock::time_point> discovery_retry_at(const DiscoveryState& state,
                                                    std::string_view current_spec_hash) {
  if (state.attempts <= 0 || !state.last_attempt_time) return std::nullopt;
  if (state.spec_hash != current_spec_hash) return std::nullopt;
  return *state.last_attempt_time + discovery_backoff(state.attempts);
}

std::chrono::seconds discovery_wait(const DiscoveryState& state, std::string_view current_spec_hash,
                                    Clock::time_point now) {
  auto until = discovery_retry_at(state, current_spec_hash);
  if (!until || now >= *until) return std::chrono::seconds{0};
  // Round up so that a timer armed for the wait never fires just before the gate opens.
  return std::chrono::ceil<std::chrono::seconds>(*until - now);
}

DiscoveryState record_discovery_failure(DiscoveryState state, Clock::time_point job_created,
                                        Clock::time_point now, std::string code,
                                        std::string message, std::string_view current_spec_hash) {
  if (!state.spec_hash.empty() && state.spec_hash != current_spec_hash) state.attempts = 0;
  if (!state.last_attempt_time || job_created > *state.last_attempt_time) {
    state.attempts += 1;
    state.last_attempt_time = now;
    state.last_failure_reason = message.empty() ? "Unknown failure" : std::move(message);
    state.last_failure_code = code.empty() ? "DiscoveryFailed" : std::move(code);
    state.spec_hash = std::string(current_spec_hash);
  }
  return state;
}

std::string discovery_failed_message(const DiscoveryState& state,
                                     std::optional<Clock::time_point> retry_at,
                                     Clock::time_point now) {
  const std::string& what = state.last_failure_reason;
  std::string out = "Discovery attempt " + std::to_string(state.attempts) + " failed: " + what +
                    (what.ends_with('.') ? " " : ". ") + "Next attempt ";
  if (!retry_at || now >= *retry_at) return out + "now";
  return out + "at " +
         format_rfc3339(
             std::chrono::ceil<std::chrono::seconds>(retry_at->time_since_epoch()).count());
}

std::string discovery_retrying_message(const DiscoveryState& state) {
  return "Discovery attempt " + std::to_string(state.attempts + 1) + " is running; attempt " +
         std::to_string(state.attempts) + " failed: " + state.last_failure_reason;
}

}  // namespace aim::engine
