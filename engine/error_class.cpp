#include "engine/error_class.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/strings.h"

namespace aim::engine {
namespace {

template <std::size_t N>
bool contains_any(const std::string& text, const std::array<std::string_view, N>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

constexpr std::array<std::string_view, 11> kAuthWords{"unauthorized",
                                                      "authentication required",
                                                      "authentication failed",
                                                      "401",
                                                      "403",
                                                      "forbidden",
                                                      "denied",
                                                      "permission denied",
                                                      "access denied",
                                                      "credentials",
                                                      "authentication"};
constexpr std::array<std::string_view, 6> kNotFoundWords{
    "not found", "404", "manifest unknown", "name unknown", "image not found", "no such"};

std::string with_host(std::string_view what, const RegistryErrorInfo& e) {
  std::string out(what);
  if (!e.host.empty()) out += " " + e.host;
  if (!e.message.empty()) out += ": " + e.message;
  return out;
}

}  // namespace

std::string_view to_string(ErrorCategory c) {
  switch (c) {
    case ErrorCategory::kAuth:
      return "Auth";
    case ErrorCategory::kMissingUpstream:
      return "MissingUpstream";
    case ErrorCategory::kMissingDownstream:
      return "MissingDownstream";
    case ErrorCategory::kInvalidSpec:
      return "InvalidSpec";
    case ErrorCategory::kInfrastructure:
      return "Infrastructure";
    case ErrorCategory::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

ImageErrorKind classify_image_error_text(std::string_view message) {
  std::string text = ascii_lower(message);
  if (contains_any(text, kAuthWords)) return ImageErrorKind::kAuth;
  if (contains_any(text, kNotFoundWords)) return ImageErrorKind::kNotFound;
  return ImageErrorKind::kGeneric;
}

ImageErrorKind classify_image_error_status(long http_status) {
  if (http_status == 401 || http_status == 403) return ImageErrorKind::kAuth;
  if (http_status == 404) return ImageErrorKind::kNotFound;
  return ImageErrorKind::kGeneric;
}

ClassifiedError classify_registry_error(const RegistryErrorInfo& e) {
  RegistryFailure f = e.failure;
  if (f == RegistryFailure::kOther) {
    switch (e.http_status != 0 ? classify_image_error_status(e.http_status)
                               : classify_image_error_text(e.message)) {
      case ImageErrorKind::kAuth:
        f = RegistryFailure::kAuth;
        break;
      case ImageErrorKind::kNotFound:
        f = RegistryFailure::kNotFound;
        break;
      case ImageErrorKind::kGeneric:
        break;
    }
  }
  switch (f) {
    case RegistryFailure::kAuth:
      return {ErrorCategory::kAuth, "ImagePullAuthFailure",
              with_host("Registry authentication failed for", e)};
    case RegistryFailure::kNotFound:
      return {ErrorCategory::kMissingUpstream, "ImageNotFound", with_host("Image not found in", e)};
    case RegistryFailure::kInvalidReference:
      return {ErrorCategory::kInvalidSpec, "InvalidImageReference", e.message};
    case RegistryFailure::kConnectionRefused:
      return {ErrorCategory::kInfrastructure, "ConnectionRefused",
              with_host("Connection refused by", e)};
    case RegistryFailure::kTimeout:
      return {ErrorCategory::kInfrastructure, "NetworkTimeout",
              with_host("Timed out talking to", e)};
    case RegistryFailure::kDns:
      return {ErrorCategory::kInfrastructure, "DNSFailure", "DNS resolution failed for " + e.host};
    case RegistryFailure::kTls:
    case RegistryFailure::kNetwork:
      return {ErrorCategory::kInfrastructure, "NetworkError",
              "Network operation failed: " + e.message};
    case RegistryFailure::kBadResponse:
      if (e.http_status == 429) {
        return {ErrorCategory::kInfrastructure, "RateLimited", with_host("Rate limited by", e)};
      }
      if (e.http_status >= 500) {
        return {ErrorCategory::kInfrastructure, "ServerError", with_host("Registry error from", e)};
      }
      return {ErrorCategory::kUnknown, "UnknownError", e.message};
    case RegistryFailure::kOther:
      break;
  }
  return {ErrorCategory::kUnknown, "UnknownError", e.message};
}

}  // namespace aim::engine
