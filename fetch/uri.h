// Source URIs aim-fetch accepts:
//   hf://org/model[/path][@revision]  Hugging Face Hub (revision: branch, tag or commit; default
//                                  main; path: one file or directory of the repo, as AIM
//                                  discovery writes `hf://Qwen/Qwen3-32B/tokenizer.json`)
//   s3://bucket[/prefix]           S3 or an S3-compatible store
//   ngc://org/[team/]model[:version]  NGC model registry
//   https://host/path (and http:// for local test servers)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace aim::fetch {

enum class Scheme { kHuggingFace, kS3, kNgc, kHttps };

struct SourceUri {
  Scheme scheme = Scheme::kHttps;
  std::string repo;      // hf: "org/model"; ngc: "org/team/model" or "org/model"
  std::string revision;  // hf: after '@' ("main" when absent); ngc: after ':' (empty = latest)
  std::string path;      // hf: the file or directory inside the repo after org/model ("" = all)
  std::string bucket;    // s3
  std::string prefix;    // s3, without a leading '/'
  std::string ngc_org, ngc_team, ngc_model;
  std::string url;  // https/http: the URL as given
};

Result<SourceUri, std::string> parse_source_uri(std::string_view uri);

// A relative path from a remote listing, checked before anything touches the disk: no absolute
// paths, no "..", "." or empty segments, no backslashes or control characters. Returns the path
// unchanged when safe.
Result<std::string, std::string> safe_relative_path(std::string_view path);

// Drops the query string and any userinfo, so signed CDN URLs never reach a log.
std::string redact_url(std::string_view url);

// What in `uri` is a credential: "user information (user:password@)" or "the query parameter
// NAME" for a parameter of core/uri_credentials.h (the list the CRDs' rule refuses too); nullopt
// when nothing. The
// operator refuses such a source URI, which it would copy into a Job and show in the status.
std::optional<std::string> credential_in_uri(std::string_view uri);

// "scheme://host[:port]" of a URL (lower-cased scheme and host).
std::string url_origin(std::string_view url);
// A Location header resolved against the URL it answered (absolute, host-relative or relative).
std::string resolve_url(std::string_view base, std::string_view location);
// Percent-encodes a repo path for a URL, keeping '/' between segments.
std::string encode_path(std::string_view path);

}  // namespace aim::fetch
