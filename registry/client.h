// The OCI Distribution client: reads manifests, image configs (and their labels), tag lists
// and the repository catalog from a registry, over the one HTTP wrapper (http/client.h).
//
// * Authentication: anonymous first; on a 401 the `WWW-Authenticate` challenge decides: Basic
//   sends the keychain's credentials, Bearer fetches a token from the realm (with the
//   credentials, if any) and caches it per registry and scope until shortly before it expires.
// * Multi-platform images: an OCI index or Docker manifest list resolves to the first entry for
//   the configured platform (linux/amd64 by default, as go-containerregistry does).
// * Integrity: a manifest fetched by digest, or whose `Docker-Content-Digest` header is given,
//   and every blob must hash to its digest (sha256/sha512), else kBadResponse.
// * A bounded LRU cache holds content fetched by digest (manifests and config blobs), so repeat
//   inspections of an unchanged tag cost one manifest request.
// * Errors are values, classified: kAuth, kNotFound, kUnreachable (connect/DNS/TLS/timeout),
//   kBadResponse, kInvalidReference. Messages never contain credentials or tokens.
//
// Thread-safe: connections come from a SessionPool; caches are guarded by a mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "http/client.h"
#include "registry/auth.h"
#include "registry/reference.h"

namespace aim::registry {

enum class ErrorKind {
  kAuth,              // 401/403 after authenticating, or the token endpoint refused
  kNotFound,          // 404, MANIFEST_UNKNOWN / NAME_UNKNOWN, or no manifest for the platform
  kUnreachable,       // connection refused, DNS, TLS, timeout
  kBadResponse,       // anything the protocol does not allow (bad JSON, digest mismatch, 5xx...)
  kInvalidReference,  // the image string does not parse
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kBadResponse;
  long http_status = 0;                      // the registry's status when there was one
  std::optional<http::ErrorKind> transport;  // set for kUnreachable
  std::string registry;
  std::string message;
};

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;  // matched only when set
};

struct ClientOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  Platform platform;
  // Registries spoken to over plain HTTP. Also, unless disabled, the registries
  // default_plain_http() names (loopback, private addresses, *.local).
  std::set<std::string> plain_http;
  bool plain_http_for_local = true;
  std::size_t cache_entries = 256;  // content by digest
  std::size_t max_pages = 1000;     // tag-list / catalog pagination guard
  http::TlsOptions tls;
  std::string user_agent = "aim-engine";
};

struct Manifest {
  std::string media_type;
  std::string digest;  // of `body`
  std::string body;
  nlohmann::json json;
  bool is_index() const;
};

struct ImageConfig {
  std::string digest;
  std::string os;
  std::string architecture;
  std::map<std::string, std::string> labels;  // config.Labels
  nlohmann::json raw;
};

struct ImageInfo {
  ImageReference reference;
  std::string index_digest;     // set when the reference named an index / manifest list
  std::string manifest_digest;  // the image manifest used (the platform's, for an index)
  std::string manifest_media_type;
  ImageConfig config;
};

class Client {
 public:
  explicit Client(ClientOptions options = {}, Keychain keychain = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Resolves the reference (index -> platform manifest) and reads the image config.
  Result<ImageInfo, Error> inspect(std::string_view image);
  Result<ImageInfo, Error> inspect(const ImageReference& ref);

  // The manifest the reference names, as stored (an index stays an index).
  Result<Manifest, Error> fetch_manifest(const ImageReference& ref);

  // Every tag of the repository, following `Link: <...>; rel="next"` pages. `page_size` 0 lets
  // the registry choose.
  Result<std::vector<std::string>, Error> list_tags(std::string_view registry,
                                                    std::string_view repository,
                                                    std::size_t page_size = 0);

  // /v2/_catalog, paginated the same way.
  Result<std::vector<std::string>, Error> catalog(std::string_view registry,
                                                  std::size_t page_size = 0);

  // Observability for tests and metrics.
  std::size_t cache_hits() const;
  std::size_t token_fetches() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A `Link` header's rel="next" target, or empty.
std::string next_link(std::string_view link_header);

}  // namespace aim::registry
