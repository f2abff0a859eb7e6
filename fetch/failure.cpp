#include "fetch/failure.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace aim::fetch {

bool Failure::retryable() const {
  if (permanent) return false;
  switch (cls) {
    case FailureClass::kRateLimited:
    case FailureClass::kTimeout:
    case FailureClass::kNetwork:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(FailureClass c) {
  switch (c) {
    case FailureClass::kInternal:
      return "internal";
    case FailureClass::kInvalidArgument:
      return "invalid_argument";
    case FailureClass::kAuth:
      return "auth";
    case FailureClass::kNotFound:
      return "not_found";
    case FailureClass::kRateLimited:
      return "rate_limited";
    case FailureClass::kDiskFull:
      return "disk_full";
    case FailureClass::kChecksumMismatch:
      return "checksum_mismatch";
    case FailureClass::kTimeout:
      return "timeout";
    case FailureClass::kNetwork:
      return "network";
    case FailureClass::kUnsafePath:
      return "unsafe_path";
    case FailureClass::kCancelled:
      return "cancelled";
  }
  return "internal";
}

int exit_code(FailureClass c) {
  switch (c) {
    case FailureClass::kInternal:
      return 1;
    case FailureClass::kInvalidArgument:
      return 2;
    case FailureClass::kAuth:
      return 3;
    case FailureClass::kNotFound:
      return 4;
    case FailureClass::kRateLimited:
      return 5;
    case FailureClass::kDiskFull:
      return 6;
    case FailureClass::kChecksumMismatch:
      return 7;
    case FailureClass::kTimeout:
      return 8;
    case FailureClass::kNetwork:
      return 9;
    case FailureClass::kUnsafePath:
      return 10;
    case FailureClass::kCancelled:
      return 130;
  }
  return 1;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view v, std::chrono::system_clock::time_point now) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  bool digits = true;
  for (char c : v) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (v.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24));
    return std::chrono::milliseconds(std::stoll(std::string(v)) * 1000);
  }
  std::tm tm{};
  std::string s(v);
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  // In seconds: a date the clock's 64-bit nanoseconds cannot hold (year 4034, or 1000) overflowed
  // in from_time_t (found by fuzz/source_uri_fuzz.cpp). A date more than a day ahead waits a day,
  // as a delta of more than nine digits does.
  const int64_t at = static_cast<int64_t>(timegm(&tm));
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  constexpr int64_t kDay = 86400;
  if (at > now_ms / 1000 + kDay) return std::chrono::milliseconds(std::chrono::hours(24));
  if (at < now_ms / 1000 - kDay) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max<int64_t>(0, at * 1000 - now_ms));
}

Failure classify_http(long status, const http::Headers& headers, std::string_view context) {
  Failure f;
  f.http_status = status;
  std::string detail = "HTTP " + std::to_string(status);
  if (auto code = headers.get("X-Error-Code")) detail += " " + *code;
  if (auto code = headers.get("x-amz-error-code")) detail += " " + *code;
  f.message = std::string(context) + ": " + detail;
  if (auto ra = headers.get("Retry-After"))
    f.retry_after = parse_retry_after(*ra, std::chrono::system_clock::now());
  auto hub_code = headers.get("X-Error-Code");
  if (hub_code && (*hub_code == "RepoNotFound" || *hub_code == "EntryNotFound" ||
                   *hub_code == "RevisionNotFound")) {
    // The Hub answers 401 RepoNotFound for private repos without a token, to not leak them.
    f.cls = FailureClass::kNotFound;
    if (status == 401) f.message += " (or private: set HF_TOKEN)";
  } else if (status == 401 || status == 403) {
    f.cls = FailureClass::kAuth;
    if (hub_code && *hub_code == "GatedRepo")
      f.message += " (gated repository: accept its terms and set HF_TOKEN)";
  } else if (status == 404 || status == 410) {
    f.cls = FailureClass::kNotFound;
  } else if (status == 429) {
    f.cls = FailureClass::kRateLimited;
  } else if (status == 503 &&
             (f.retry_after || headers.get("x-amz-error-code").value_or("") == "SlowDown")) {
    f.cls = FailureClass::kRateLimited;  // S3 SlowDown and friends
  } else if (status == 408 || status == 504) {
    f.cls = FailureClass::kTimeout;
  } else if (status == 416) {
    f.cls = FailureClass::kChecksumMismatch;  // the object is shorter than the listing said
    f.message += " (range not satisfiable: the remote size changed)";
  } else if (status >= 500) {
    f.cls = FailureClass::kNetwork;
  } else {
    f.cls = FailureClass::kInternal;
  }
  return f;
}

Failure classify_transport(const http::Error& error, std::string_view context) {
  Failure f;
  f.message =
      std::string(context) + ": " + std::string(http::to_string(error.kind)) + ": " + error.message;
  switch (error.kind) {
    case http::ErrorKind::kTimeout:
      f.cls = FailureClass::kTimeout;
      break;
    case http::ErrorKind::kAborted:
      f.cls = FailureClass::kCancelled;
      break;
    case http::ErrorKind::kWrite:
      f.cls = FailureClass::kDiskFull;
      break;
    case http::ErrorKind::kTls:
      f.cls = FailureClass::kNetwork;
      f.permanent = true;  // certificate problems do not heal by waiting
      break;
    default:
      f.cls = FailureClass::kNetwork;
      break;
  }
  return f;
}

Failure classify_errno(int err, std::string_view context) {
  Failure f;
  f.message = std::string(context) + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG)
    f.cls = FailureClass::kDiskFull;
  else
    f.cls = FailureClass::kInternal;
  return f;
}

}  // namespace aim::fetch
