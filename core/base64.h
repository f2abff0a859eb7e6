// Base64 (RFC 4648) for credentials and PEM data: kubeconfig *-data fields, docker config
// "auth" entries, Basic authorization headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aim {

// Standard alphabet, with padding.
std::string base64_encode(std::string_view data);
// Accepts the standard and the URL-safe alphabet; whitespace is ignored and padding is
// optional. nullopt on any other character or on data after padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace aim
