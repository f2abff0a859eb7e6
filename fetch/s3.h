// S3 (and S3-compatible) source: ListObjectsV2 under a prefix, GetObject with Range, every
// request signed with SigV4 (UNSIGNED-PAYLOAD) unless no credentials are configured. Custom
// endpoints use path-style addressing by default.
//
// Verification: before a large object is fetched, a HEAD with `x-amz-checksum-mode: ENABLED`
// asks for its full-object checksum (SHA-256, CRC-64/NVME, CRC-32C or CRC-32, whichever it was
// uploaded with; current AWS SDKs add CRC-64/NVME by default, multipart uploads included). That
// costs a fraction of MD5, so when one is there the ETag's MD5 is not computed. Otherwise a
// single-part ETag (32 hex digits) is the object's MD5 and is verified; a multipart ETag
// ("…-N") is no content hash and only the size is checked.
#pragma once

#include <string>
#include <vector>

#include "fetch/credentials.h"
#include "fetch/source.h"
#include "fetch/uri.h"

namespace aim::fetch {

struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes
};

struct S3ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string next_token;
};

// Parses a ListObjectsV2 response body (XML); exposed for tests.
Result<S3ListPage, std::string> parse_list_objects_v2(const std::string& xml);

// The full-object checksum in a HEAD / GET response's x-amz-checksum-* headers, preferring
// SHA-256, then CRC-64/NVME, CRC-32C, CRC-32; composite (per-part) checksums do not count.
// Sets file.sha256 or file.checksum_algorithm / checksum and returns true when one was found.
bool take_s3_checksum(const http::Headers& headers, RemoteFile& file);

class S3Source final : public Source {
 public:
  S3Source(SourceUri uri, S3Config config) : uri_(std::move(uri)), config_(std::move(config)) {}

  Result<Listing, Failure> list(Transport& transport) override;
  Result<void, Failure> prepare(Transport& transport, RemoteFile& file) override;
  http::Request request(const RemoteFile& file, std::optional<ByteRange> range) override;

  // Builds a signed request for a key (empty key: the bucket) with a query; exposed for tests.
  http::Request signed_request(const std::string& method, const std::string& key,
                               const std::vector<std::pair<std::string, std::string>>& query,
                               std::vector<std::pair<std::string, std::string>> extra_headers,
                               std::chrono::system_clock::time_point now) const;

 private:
  Result<std::vector<S3Object>, Failure> list_prefix(Transport& transport,
                                                     const std::string& prefix);
  SourceUri uri_;
  S3Config config_;
};

}  // namespace aim::fetch
