#include "kube/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "http/client.h"

namespace aim::kube {
namespace {

constexpr std::size_t kMaxBodyInMessage = 200;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The first line of a non-Status body, shortened, so that an HTML error page or a proxy's
// banner still gives one readable line.
std::string first_line(std::string_view body) {
  auto nl = body.find_first_of("\r\n");
  std::string line(body.substr(0, nl));
  if (line.size() > kMaxBodyInMessage) line = line.substr(0, kMaxBodyInMessage) + "...";
  return line;
}

ErrorCode code_for(long http_status, std::string_view reason) {
  if (reason == "AlreadyExists") return ErrorCode::kAlreadyExists;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorCode::kTimeout;
  if (reason == "Expired" || reason == "Gone") return ErrorCode::kGone;
  switch (http_status) {
    case 400:
      return ErrorCode::kBadRequest;
    case 401:
      return ErrorCode::kUnauthorized;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 405:
      return ErrorCode::kMethodNotAllowed;
    case 409:
      return ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 422:
      return ErrorCode::kInvalid;
    case 429:
      return ErrorCode::kTooManyRequests;
    case 504:
      return ErrorCode::kTimeout;
    default:
      break;
  }
  if (reason == "NotFound") return ErrorCode::kNotFound;
  if (reason == "Conflict") return ErrorCode::kConflict;
  if (reason == "Invalid") return ErrorCode::kInvalid;
  if (reason == "Forbidden") return ErrorCode::kForbidden;
  if (reason == "Unauthorized") return ErrorCode::kUnauthorized;
  if (reason == "TooManyRequests") return ErrorCode::kTooManyRequests;
  if (reason == "BadRequest") return ErrorCode::kBadRequest;
  if (reason == "MethodNotAllowed") return ErrorCode::kMethodNotAllowed;
  if (http_status >= 500) return ErrorCode::kServerError;
  return ErrorCode::kOther;
}

// Fills err from a decoded metav1.Status; returns false when `status` is not one.
bool decode_status(const nlohmann::json& status, long http_status, Error& err) {
  if (!status.is_object() || string_member(status, "kind") != "Status") return false;
  long code = http_status;
  if (auto it = status.find("code"); it != status.end() && it->is_number_integer())
    code = it->get<long>();
  err.http_status = static_cast<int>(code != 0 ? code : http_status);
  err.reason = string_member(status, "reason");
  err.message = string_member(status, "message");
  err.code = code_for(err.http_status, err.reason);
  if (auto d = status.find("details"); d != status.end() && d->is_object()) {
    if (auto c = d->find("causes"); c != d->end() && c->is_array()) {
      for (const auto& cause : *c) {
        if (!cause.is_object()) continue;
        err.causes.push_back(Cause{string_member(cause, "field"), string_member(cause, "reason"),
                                   string_member(cause, "message")});
      }
    }
    if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer())
      err.retry_after = std::chrono::seconds(r->get<long>());
  }
  if (err.message.empty()) err.message = err.reason.empty() ? "request failed" : err.reason;
  return true;
}

}  // namespace

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kInvalid:
      return "Invalid";
    case ErrorCode::kBadRequest:
      return "BadRequest";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kGone:
      return "Gone";
    case ErrorCode::kTooManyRequests:
      return "TooManyRequests";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::kServerError:
      return "ServerError";
    case ErrorCode::kNetwork:
      return "Network";
    case ErrorCode::kTls:
      return "TLS";
    case ErrorCode::kConfig:
      return "Config";
    case ErrorCode::kDecode:
      return "Decode";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kOther:
      return "Other";
  }
  return "Other";
}

std::string Error::describe() const {
  std::string out;
  if (http_status != 0) {
    out = fmt::format("{} ({}): {}", to_string(code), http_status, message);
  } else {
    // Transport and configuration errors already read as a sentence naming their cause.
    out = message.empty() ? std::string(to_string(code)) : message;
  }
  for (std::size_t i = 0; i < causes.size(); ++i) {
    const Cause& c = causes[i];
    out += i == 0 ? " [" : "; ";
    if (!c.field.empty()) out += c.field + ": ";
    out += c.message.empty() ? c.reason : c.message;
    if (i + 1 == causes.size()) out += "]";
  }
  if (retry_after) out += fmt::format(" (retry after {}s)", retry_after->count());
  // One line, whatever the server sent.
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

Error make_error(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

Error error_from_status_json(std::string_view status_json, long http_status) {
  Error err;
  auto j = nlohmann::json::parse(status_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() && decode_status(j, http_status, err)) return err;
  err.http_status = static_cast<int>(http_status);
  err.code = http_status ? code_for(http_status, {}) : ErrorCode::kDecode;
  err.message = status_json.empty() ? "empty response" : first_line(status_json);
  return err;
}

Error error_from_response(long http_status, std::string_view body, const http::Headers& headers) {
  Error err = error_from_status_json(body, http_status);
  if (body.empty()) err.message = fmt::format("HTTP {} with an empty body", http_status);
  if (!err.retry_after) {
    if (auto ra = headers.get("Retry-After")) {
      char* end = nullptr;
      long secs = std::strtol(ra->c_str(), &end, 10);
      if (end != ra->c_str() && secs >= 0) err.retry_after = std::chrono::seconds(secs);
    }
  }
  return err;
}

Error error_from_transport(const http::Error& e, std::string_view server) {
  Error err;
  const std::string& m = e.message;
  switch (e.kind) {
    case http::ErrorKind::kResolve:
      err.code = ErrorCode::kNetwork;
      err.message = fmt::format("cannot reach {}: host name does not resolve ({})", server, m);
      break;
    case http::ErrorKind::kConnect:
      err.code = ErrorCode::kNetwork;
      err.message =
          fmt::format("cannot reach {}: connection refused or host unreachable ({})", server, m);
      break;
    case http::ErrorKind::kTimeout:
      err.code = ErrorCode::kTimeout;
      err.message = fmt::format("request to {} timed out ({})", server, m);
      break;
    case http::ErrorKind::kAborted:
      err.code = ErrorCode::kCancelled;
      err.message = fmt::format("request to {} cancelled", server);
      break;
    case http::ErrorKind::kTls: {
      err.code = ErrorCode::kTls;
      std::string why;
      if (contains(m, "self-signed") || contains(m, "self signed") ||
          contains(m, "unable to get local issuer") || contains(m, "unknown ca") ||
          contains(m, "unable to get issuer")) {
        why = "certificate signed by unknown authority — check certificate-authority-data";
      } else if (contains(m, "does not match") || contains(m, "no alternative certificate")) {
        why =
            "the server certificate is not valid for this host — check server and "
            "tls-server-name";
      } else if (contains(m, "expired")) {
        why = "certificate has expired";
      } else if (contains(m, "client cert") || contains(m, "private key") ||
                 contains(m, "unable to set") || contains(m, "could not load")) {
        why =
            "cannot use the client certificate — check client-certificate-data and "
            "client-key-data";
      } else {
        why = "handshake failed";
      }
      err.message = fmt::format("TLS verification of {}: {} ({})", server, why, m);
      break;
    }
    case http::ErrorKind::kWrite:
    case http::ErrorKind::kOther:
      err.code = ErrorCode::kNetwork;
      err.message = fmt::format("request to {} failed: {}", server, m);
      break;
  }
  return err;
}

}  // namespace aim::kube
