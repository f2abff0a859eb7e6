// The failure taxonomy aim-fetch reports: a class with a stable name and exit code, so the
// operator (and people) can tell a missing token from a full disk without reading logs.
//
//   exit  class               meaning
//   0     -                   success
//   1     internal            a bug or an unexpected local condition
//   2     invalid_argument    bad URI or flags
//   3     auth                401/403: missing, wrong or insufficient credentials (gated repo)
//   4     not_found           repo, revision, bucket, object or file does not exist
//   5     rate_limited        429 (or 503 SlowDown) persisted through every retry
//   6     disk_full           ENOSPC, EDQUOT or EFBIG while writing
//   7     checksum_mismatch   bytes arrived but do not match the published checksum or size
//   8     timeout             stalled or timed out through every retry
//   9     network             connection, TLS, 5xx or protocol failures through every retry
//   10    unsafe_path         the remote listing names a path outside the destination
//   130   cancelled           SIGINT/SIGTERM
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/client.h"

namespace aim::fetch {

enum class FailureClass {
  kInternal,
  kInvalidArgument,
  kAuth,
  kNotFound,
  kRateLimited,
  kDiskFull,
  kChecksumMismatch,
  kTimeout,
  kNetwork,
  kUnsafePath,
  kCancelled,
};

struct Failure {
  FailureClass cls = FailureClass::kInternal;
  std::string message;  // never contains credentials or signed URLs
  long http_status = 0;
  std::optional<std::chrono::milliseconds> retry_after;  // from a Retry-After header
  bool permanent = false;  // a retryable class that retrying cannot fix (e.g. a bad certificate)

  bool retryable() const;
};

std::string_view to_string(FailureClass c);
int exit_code(FailureClass c);

// An HTTP status that is not a success. The Hub's X-Error-Code (RepoNotFound, EntryNotFound,
// RevisionNotFound, GatedRepo) and S3's error codes refine the message, not the class.
Failure classify_http(long status, const http::Headers& headers, std::string_view context);
Failure classify_transport(const http::Error& error, std::string_view context);
Failure classify_errno(int err, std::string_view context);

// Retry-After: delta seconds or an HTTP date (more than nine digits, or a date more than a day
// ahead, count as a day). `now` is injected for tests.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace aim::fetch
