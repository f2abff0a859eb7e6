// RFC 3339 timestamps (ExecCredential expiry). Private to the kube layer; base64 is in
// core/base64.h.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aim::kube::encoding {

// "2026-11-23T22:00:00Z", with optional fractional seconds and a numeric offset.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace aim::kube::encoding
