// A Source knows one protocol: how to list what a URI names (with sizes and published checksums)
// and how to build the request for a byte range of one file. Everything else (parallelism,
// retries, resume, verification, atomic placement) is the Downloader's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "fetch/digest.h"
#include "fetch/failure.h"
#include "fetch/partial.h"
#include "fetch/transport.h"
#include "http/client.h"

namespace aim::fetch {

struct RemoteFile {
  std::string path;  // relative path in the destination (checked by safe_relative_path)
  std::uint64_t size = 0;
  bool size_known = true;
  bool ranges = true;    // the server honours Range for this file
  std::string sha256;    // expected content sha256 (hex), when published
  std::string md5;       // expected content MD5 (hex), e.g. a single-part S3 ETag
  std::string git_sha1;  // expected git blob id, e.g. a Hub file stored in git
  // Another published full-object checksum (an S3 CRC): the algorithm and its hex value.
  std::optional<DigestAlgorithm> checksum_algorithm;
  std::string checksum;
  std::string identity;   // what the bytes belong to; a change discards partial downloads
  std::string url;        // where the bytes are; a source may rewrite it in prepare()
  bool send_auth = true;  // credentials go only to the source's own origin
  // Where `url` was resolved from, when it is a short-lived signed location (a CDN redirect).
  // An auth failure on `url` then re-resolves from here instead of failing the download.
  std::string resolved_from;
};

struct Listing {
  std::string revision;  // resolved revision (Hub commit sha, NGC version), if the protocol has one
  std::vector<RemoteFile> files;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual Result<Listing, Failure> list(Transport& transport) = 0;
  // Called before a file is split into ranges (sources may resolve redirects or sizes here).
  virtual Result<void, Failure> prepare(Transport&, RemoteFile&) { return Ok{}; }
  virtual http::Request request(const RemoteFile& file, std::optional<ByteRange> range) = 0;
};

// Environment lookups go through this, so credential discovery is testable without setenv.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

}  // namespace aim::fetch
