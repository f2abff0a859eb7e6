#include "fetch/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/strings.h"
#include "fetch/digest.h"
#include "http/client.h"

namespace aim::fetch {
namespace {

// Trim and collapse runs of spaces, as the canonical header rules ask.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string aws_uri_encode(std::string_view s, bool encode_slash) {
  return http::url_encode(s, !encode_slash);
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query)
    enc.emplace_back(aws_uri_encode(k, true), aws_uri_encode(v, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Result sign_v4(const SigV4Request& request, const AwsCredentials& credentials,
                    std::string_view region, std::string_view service, std::string_view date) {
  SigV4Result r;
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("host", request.host);
  headers.emplace_back("x-amz-date", std::string(date));
  if (!credentials.session_token.empty())
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  for (const auto& [k, v] : request.headers)
    headers.emplace_back(ascii_lower(k), canonical_value(v));
  std::sort(headers.begin(), headers.end());

  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += k;
  }
  std::string path = request.path.empty() ? "/" : request.path;
  r.canonical_request = request.method + "\n" + aws_uri_encode(path, false) + "\n" +
                        canonical_query(request.query) + "\n" + canonical_headers + "\n" +
                        signed_headers + "\n" + request.payload_hash;

  const std::string day(date.substr(0, 8));
  const std::string scope =
      day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(date) + "\n" + scope + "\n" +
                     sha256_hex(r.canonical_request);

  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, day);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  r.signature = hex_encode(hmac_sha256(key, r.string_to_sign));
  r.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                    ", SignedHeaders=" + signed_headers + ", Signature=" + r.signature;

  r.headers.emplace_back("Authorization", r.authorization);
  r.headers.emplace_back("X-Amz-Date", std::string(date));
  if (!credentials.session_token.empty())
    r.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  return r;
}

}  // namespace aim::fetch
