#include "fetch/s3.h"

#include <cctype>

#include "core/base64.h"

namespace aim::fetch {
namespace {

bool is_md5_hex(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

http::Request S3Source::signed_request(
    const std::string& method, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& query,
    std::vector<std::pair<std::string, std::string>> extra,
    std::chrono::system_clock::time_point now) const {
  std::string scheme_host, host, path;
  if (config_.endpoint.empty()) {
    host = config_.path_style || uri_.bucket.find('.') != std::string::npos
               ? "s3." + config_.region + ".amazonaws.com"
               : uri_.bucket + ".s3." + config_.region + ".amazonaws.com";
    scheme_host = "https://" + host;
  } else {
    scheme_host = config_.endpoint;
    host = scheme_host.substr(scheme_host.find("://") + 3);
    if (!config_.path_style) {
      host = uri_.bucket + "." + host;
      scheme_host = scheme_host.substr(0, scheme_host.find("://") + 3) + host;
    }
  }
  bool bucket_in_path = config_.path_style ||
                        (config_.endpoint.empty() && uri_.bucket.find('.') != std::string::npos);
  path = bucket_in_path ? "/" + uri_.bucket + (key.empty() ? "" : "/" + key) : "/" + key;

  http::Request req;
  req.method = method;
  std::string q = canonical_query(query);
  req.url = scheme_host + aws_uri_encode(path, false) + (q.empty() ? "" : "?" + q);
  extra.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  if (!config_.credentials.empty()) {
    SigV4Request sr;
    sr.method = method;
    sr.host = host;
    sr.path = path;
    sr.query = query;
    sr.headers = extra;
    sr.payload_hash = "UNSIGNED-PAYLOAD";
    auto signed_req = sign_v4(sr, config_.credentials, config_.region, "s3", amz_date(now));
    for (auto& h : signed_req.headers) req.headers.push_back(std::move(h));
  }
  for (auto& h : extra) req.headers.push_back(std::move(h));
  return req;
}

Result<std::vector<S3Object>, Failure> S3Source::list_prefix(Transport& transport,
                                                             const std::string& prefix) {
  std::vector<S3Object> out;
  std::string token;
  for (int page = 0; page < 100000; ++page) {
    std::vector<std::pair<std::string, std::string>> q{{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) q.emplace_back("continuation-token", token);
    auto r = transport.call(
        [&] { return signed_request("GET", "", q, {}, std::chrono::system_clock::now()); },
        "s3://" + uri_.bucket + "/" + prefix, [](long st) { return st >= 200 && st < 300; });
    if (!r.ok()) return fail(r.error());
    auto p = parse_list_objects_v2(r->body);
    if (!p.ok()) return fail(Failure{FailureClass::kNetwork, "s3 listing: " + p.error()});
    for (auto& o : p->objects) out.push_back(std::move(o));
    if (!p->truncated || p->next_token.empty()) break;
    token = p->next_token;
  }
  return out;
}

Result<Listing, Failure> S3Source::list(Transport& transport) {
  std::string prefix = uri_.prefix;
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  auto objs = list_prefix(transport, prefix);
  if (!objs.ok()) return fail(objs.error());
  std::string strip = prefix;
  if (objs->empty() && !uri_.prefix.empty() && uri_.prefix.back() != '/') {
    // s3://bucket/path/file.bin names one object.
    auto single = list_prefix(transport, uri_.prefix);
    if (!single.ok()) return fail(single.error());
    for (auto& o : *single)
      if (o.key == uri_.prefix) objs->push_back(o);
    auto slash = uri_.prefix.rfind('/');
    strip = slash == std::string::npos ? "" : uri_.prefix.substr(0, slash + 1);
  }
  if (objs->empty())
    return fail(Failure{FailureClass::kNotFound,
                        "s3://" + uri_.bucket + "/" + uri_.prefix + ": no objects"});
  Listing l;
  for (auto& o : *objs) {
    if (!o.key.empty() && o.key.back() == '/') continue;  // "folder" markers
    RemoteFile f;
    f.path = o.key.substr(strip.size());
    f.size = o.size;
    if (is_md5_hex(o.etag)) f.md5 = o.etag;
    f.identity = "etag:" + o.etag;
    f.url = o.key;  // the key; request() signs per attempt
    l.files.push_back(std::move(f));
  }
  return l;
}

bool take_s3_checksum(const http::Headers& headers, RemoteFile& file) {
  auto type = headers.get("x-amz-checksum-type").value_or("FULL_OBJECT");
  if (type != "FULL_OBJECT") return false;
  for (DigestAlgorithm a : {DigestAlgorithm::kSha256, DigestAlgorithm::kCrc64Nvme,
                            DigestAlgorithm::kCrc32c, DigestAlgorithm::kCrc32}) {
    auto value = headers.get("x-amz-checksum-" + std::string(digest_name(a)));
    if (!value) continue;
    auto raw = base64_decode(*value);  // a composite value ("…-3") does not decode
    if (!raw || raw->size() != digest_size(a)) continue;
    if (a == DigestAlgorithm::kSha256) {
      file.sha256 = hex_encode(*raw);
    } else {
      file.checksum_algorithm = a;
      file.checksum = hex_encode(*raw);
    }
    return true;
  }
  return false;
}

Result<void, Failure> S3Source::prepare(Transport& transport, RemoteFile& file) {
  auto r = transport.call(
      [&] {
        return signed_request("HEAD", file.url, {}, {{"x-amz-checksum-mode", "ENABLED"}},
                              std::chrono::system_clock::now());
      },
      "s3://" + uri_.bucket + "/" + file.url);
  // Best effort: without an answer the object is still verified by its ETag (or size).
  if (r.ok() && take_s3_checksum(r->headers, file)) file.md5.clear();
  return Ok{};
}

http::Request S3Source::request(const RemoteFile& file, std::optional<ByteRange> range) {
  std::vector<std::pair<std::string, std::string>> extra;
  if (range)
    extra.emplace_back(
        "range", "bytes=" + std::to_string(range->begin) + "-" + std::to_string(range->end - 1));
  return signed_request("GET", file.url, {}, std::move(extra), std::chrono::system_clock::now());
}

}  // namespace aim::fetch
