// Typed errors of the Kubernetes client. The API server's `Status` responses, transport
// failures and configuration problems all become one value type, so callers branch on a code
// (NotFound, Conflict, ...) instead of parsing messages.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aim::http {
class Headers;
struct Error;
}  // namespace aim::http

namespace aim::kube {

enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kConflict,
  kInvalid,  // 422 with field causes
  kBadRequest,
  kUnauthorized,
  kForbidden,
  kGone,  // 410: resourceVersion too old (watch/list must relist)
  kTooManyRequests,
  kTimeout,  // server-side timeout (504 / reason Timeout) or client deadline
  kMethodNotAllowed,
  kServerError,  // other 5xx
  kNetwork,      // could not reach the server (refused, DNS, reset)
  kTls,          // certificate / handshake problem
  kConfig,       // unusable kubeconfig or in-cluster environment
  kDecode,       // the server sent something we could not parse
  kCancelled,    // the caller asked to stop
  kOther,
};

std::string_view to_string(ErrorCode code);

struct Cause {
  std::string field;
  std::string reason;
  std::string message;
};

struct Error {
  ErrorCode code = ErrorCode::kOther;
  int http_status = 0;
  std::string reason;   // Status.reason, e.g. "NotFound"
  std::string message;  // human-readable, never contains credentials
  std::vector<Cause> causes;
  std::optional<std::chrono::seconds> retry_after;

  bool is(ErrorCode c) const { return code == c; }
  // One line naming the cause, suitable for a log line or a condition message.
  std::string describe() const;
};

template <typename T>
using Result = aim::Result<T, Error>;

// Builds an Error from an HTTP response that is not 2xx; decodes a metav1.Status body when present.
Error error_from_response(long http_status, std::string_view body, const http::Headers& headers);

// Decodes a metav1.Status object given as JSON text (e.g. the object of a watch ERROR event);
// http_status is used when the Status carries no code.
Error error_from_status_json(std::string_view status_json, long http_status = 0);

// Turns a transport failure (refused, DNS, TLS, timeout) into one line naming the server and
// the cause, e.g. "cannot reach https://127.0.0.1:6443: connection refused".
Error error_from_transport(const http::Error& error, std::string_view server);

Error make_error(ErrorCode code, std::string message);

}  // namespace aim::kube
