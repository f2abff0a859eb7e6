// Error classification for image and registry failures (behavior.md §2.7 and §4.1): what kind
// of failure a registry error is, and the condition category / reason / message it becomes.
//
// Categories follow the framework: Auth and MissingUpstream make a resource Failed (and are
// retried with backoff), Infrastructure degrades it after a grace period, Unknown is retried
// like infrastructure. Mapping registry failures here (instead of leaving them all Unknown as
// the reference does) is deliberate: an auth failure or a missing image is the user's to fix.
#pragma once

#include <string>
#include <string_view>

namespace aim::engine {

enum class ErrorCategory {
  kAuth,
  kMissingUpstream,
  kMissingDownstream,
  kInvalidSpec,
  kInfrastructure,
  kUnknown,
};

std::string_view to_string(ErrorCategory c);

struct ClassifiedError {
  ErrorCategory category = ErrorCategory::kUnknown;
  std::string reason;
  std::string message;
};

// The reference's text rules (§4.1), also used for kubelet ImagePullBackOff / ErrImagePull
// messages: auth words first, then not-found words.
enum class ImageErrorKind { kAuth, kNotFound, kGeneric };
ImageErrorKind classify_image_error_text(std::string_view message);
// HTTP status of a registry response: 401/403 auth, 404 not found, else generic.
ImageErrorKind classify_image_error_status(long http_status);

// What went wrong talking to a registry, as the registry client reports it.
enum class RegistryFailure {
  kAuth,               // 401/403, or the token endpoint refused the credentials
  kNotFound,           // 404 / MANIFEST_UNKNOWN / NAME_UNKNOWN
  kConnectionRefused,  // nothing listens
  kTimeout,            // connect or request deadline
  kDns,                // host name did not resolve
  kTls,                // handshake or certificate failure
  kNetwork,            // other transport failure
  kBadResponse,        // the registry answered, but not as the protocol says (or 5xx / 429)
  kInvalidReference,   // the image string does not parse
  kOther,              // anything else: classified by its text
};

struct RegistryErrorInfo {
  RegistryFailure failure = RegistryFailure::kOther;
  long http_status = 0;  // 0 when there was no response
  std::string host;      // registry host, for messages
  std::string message;   // already free of credentials
};

// Condition reasons: ImagePullAuthFailure, ImageNotFound, InvalidImageReference,
// ConnectionRefused, NetworkTimeout, DNSFailure, NetworkError, RateLimited, ServerError,
// UnknownError.
//
// Mapping from registry::Error (controllers do it; engine does not depend on registry/):
// kAuth -> kAuth, kNotFound -> kNotFound, kInvalidReference -> kInvalidReference,
// kBadResponse -> kBadResponse, kUnreachable by transport: kConnect -> kConnectionRefused,
// kResolve -> kDns, kTimeout -> kTimeout, kTls -> kTls, otherwise kNetwork.
ClassifiedError classify_registry_error(const RegistryErrorInfo& error);

}  // namespace aim::engine
