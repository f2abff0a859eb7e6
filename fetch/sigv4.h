// AWS Signature Version 4 (header form) for S3 and S3-compatible stores. Pure: the caller
// supplies the clock reading, so the published AWS test vectors reproduce exactly.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aim::fetch {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (STS)
  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

struct SigV4Request {
  std::string method = "GET";
  std::string host;        // as sent in the Host header (with ":port" when not the scheme default)
  std::string path = "/";  // decoded path; encoded here (each segment, '/' kept)
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers to sign (e.g. range)
  std::string payload_hash;  // hex sha256 of the body, or "UNSIGNED-PAYLOAD"
};

struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;
  // Headers the request must carry: Authorization, X-Amz-Date, X-Amz-Security-Token (when set).
  std::vector<std::pair<std::string, std::string>> headers;
};

SigV4Result sign_v4(const SigV4Request& request, const AwsCredentials& credentials,
                    std::string_view region, std::string_view service,
                    std::string_view amz_date);  // "YYYYMMDDTHHMMSSZ"

std::string amz_date(std::chrono::system_clock::time_point t);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, '/' kept when
// encode_slash is false (paths), everything else %XX upper-case.
std::string aws_uri_encode(std::string_view s, bool encode_slash);

// The query string that matches sign_v4's canonical query (sorted, encoded).
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace aim::fetch
