// Times and durations as Kubernetes objects and Go programs write them: RFC 3339 timestamps
// ("2026-11-23T22:00:00Z") and Go durations ("1h30m", "500ms"). The one implementation of each
// for the operator, aimctl and aim-fetch.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace aim {

// Unix seconds of an RFC 3339 timestamp: "T", "t" or " " between date and time, optional
// fractional seconds (dropped), "Z" or a numeric offset (honoured). Every field is range-checked;
// nullopt for anything else, including trailing text, and for times a
// std::chrono::system_clock::time_point cannot hold (before 1677-09-22 or after 2262-04-11).
std::optional<int64_t> parse_rfc3339(std::string_view text);

// The same with the fraction kept to the microsecond (metav1.MicroTime, lease renew times).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339_time(std::string_view text);

// "2026-11-23T22:00:00Z", the form the API server writes (metav1.Time).
std::string format_rfc3339(int64_t unix_seconds);
// "2026-11-23T22:00:00.123456Z" (metav1.MicroTime: events, leases).
std::string format_rfc3339_micro(std::chrono::system_clock::time_point t);

// Go's time.ParseDuration: a sign, then one or more decimal numbers each with a unit (ns, us, µs,
// ms, s, m, h), or "0". Whole numbers are exact, fractions round as Go's do; more than int64
// nanoseconds is an error. The message names the text and what is wrong with it.
Result<std::chrono::nanoseconds, std::string> parse_go_duration(std::string_view text);

// Go's Duration.String: "1h30m0s", "1.5s", "500ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

}  // namespace aim
