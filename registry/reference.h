// Image references, parsed the way go-containerregistry's non-strict `name.ParseReference` does
// (behavior.md §4.1, §4.11): no registry means Docker Hub (`index.docker.io`; `docker.io` is
// rewritten to it), a single-segment Docker Hub name gets `library/`, no tag means `latest`, a
// first segment is a registry only when it contains '.' or ':' ("localhost" alone is a
// repository), and `repo:tag@sha256:<64 hex>` pins the digest (the tag is dropped).
//
// Pure; no network. Lives in its own small library (aim_image_ref) so that engine/ can use it
// without linking the HTTP client.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace aim::registry {

inline constexpr std::string_view kDockerHubRegistry = "index.docker.io";
inline constexpr std::string_view kDockerHubAlias = "docker.io";

struct ImageReference {
  std::string registry;    // e.g. "ghcr.io", "127.0.0.1:5000", "index.docker.io"
  std::string repository;  // e.g. "amd/llama", "library/nginx"
  std::string tag;         // empty when the reference is by digest
  std::string digest;      // "sha256:<hex>" when pinned

  // What goes after /manifests/: the digest when pinned, else the tag.
  const std::string& identifier() const { return digest.empty() ? tag : digest; }
  bool is_docker_hub() const { return registry == kDockerHubRegistry; }
  // "registry/repository:tag" or "registry/repository@digest".
  std::string str() const;
};

Result<ImageReference, std::string> parse_reference(std::string_view ref);

// A repository ("registry/name" or "name"), with the same registry and library/ rules.
struct RepositoryName {
  std::string registry;
  std::string repository;
};
Result<RepositoryName, std::string> parse_repository(std::string_view name);

// Whether go-containerregistry would talk plain HTTP to this registry by default: localhost
// and loopback addresses, *.local / *.localhost, and RFC 1918 private addresses.
bool default_plain_http(std::string_view registry);

}  // namespace aim::registry
