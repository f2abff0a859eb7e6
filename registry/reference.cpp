#include "registry/reference.h"

#include <array>
#include <cstdint>
#include <vector>

namespace aim::registry {
namespace {

constexpr std::string_view kTagChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
constexpr std::string_view kRepoChars = "abcdefghijklmnopqrstuvwxyz0123456789_-./";

bool only(std::string_view s, std::string_view set) {
  return s.find_first_not_of(set) == std::string_view::npos;
}

Result<void, std::string> check_element(std::string_view what, std::string_view s,
                                        std::string_view chars, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) {
    return fail(std::string(what) + " must be between " + std::to_string(min) + " and " +
                std::to_string(max) + " characters in length: " + std::string(s));
  }
  if (!only(s, chars)) {
    return fail(std::string(what) + " can only contain the characters `" + std::string(chars) +
                "`: " + std::string(s));
  }
  return Ok{};
}

// Go's url.Parse("//" + name).Host == name, approximately: a host name or IP literal, an
// optional numeric port, nothing else.
bool valid_registry(std::string_view name) {
  if (name.empty()) return true;
  std::string_view host = name;
  std::string_view port;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !only(rest.substr(1), "0123456789"))) return false;
    return true;
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (!only(port, "0123456789")) return false;
  }
  return !host.empty() &&
         only(host,
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_~%!$&'()*+,;=");
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

Result<ImageReference, std::string> parse_tag(std::string_view name) {
  std::string_view base = name;
  std::string tag;
  auto parts = split(name, ':');
  if (parts.size() > 1 && parts.back().find('/') == std::string_view::npos) {
    base = name.substr(0, name.size() - parts.back().size() - 1);
    tag = std::string(parts.back());
    if (tag.empty()) return fail(std::string(name) + " must specify a tag name after the colon");
  }
  if (!tag.empty()) {
    auto ok = check_element("tag", tag, kTagChars, 1, 128);
    if (!ok) return fail(ok.error());
  }
  auto repo = parse_repository(base);
  if (!repo) return fail(repo.error());
  ImageReference ref;
  ref.registry = repo->registry;
  ref.repository = repo->repository;
  ref.tag = tag.empty() ? "latest" : tag;
  return ref;
}

Result<ImageReference, std::string> parse_digest(std::string_view name) {
  auto parts = split(name, '@');
  if (parts.size() != 2) {
    return fail(
        "a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: " +
        std::string(name));
  }
  std::string_view base = parts[0];
  std::string_view dig = parts[1];
  constexpr std::string_view kPrefix = "sha256:";
  if (dig.substr(0, kPrefix.size()) != kPrefix) {
    return fail("unsupported digest algorithm: " + std::string(dig));
  }
  std::string_view hex = dig.substr(kPrefix.size());
  if (hex.size() != 64 || !only(hex, "0123456789abcdef")) {
    return fail("invalid checksum digest format: " + std::string(dig));
  }
  // "repo:tag@digest": the tag is accepted and dropped.
  std::string repo_text(base);
  if (auto tagged = parse_tag(base); tagged) {
    repo_text = tagged->registry + "/" + tagged->repository;
  }
  auto repo = parse_repository(repo_text);
  if (!repo) return fail(repo.error());
  ImageReference ref;
  ref.registry = repo->registry;
  ref.repository = repo->repository;
  ref.digest = std::string(dig);
  return ref;
}

bool parse_ipv4(std::string_view host, std::array<int, 4>& out) {
  auto parts = split(host, '.');
  if (parts.size() != 4) return false;
  for (std::size_t i = 0; i < 4; ++i) {
    if (parts[i].empty() || parts[i].size() > 3 || !only(parts[i], "0123456789")) return false;
    out[i] = std::stoi(std::string(parts[i]));
    if (out[i] > 255) return false;
  }
  return true;
}

}  // namespace

std::string ImageReference::str() const {
  std::string out = registry + "/" + repository;
  if (!digest.empty()) return out + "@" + digest;
  return out + ":" + tag;
}

Result<RepositoryName, std::string> parse_repository(std::string_view name) {
  if (name.empty()) return fail(std::string("a repository name must be specified"));
  std::string registry;
  std::string repo(name);
  auto slash = name.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos) {
      registry = std::string(first);
      repo = std::string(name.substr(slash + 1));
    }
  }
  auto ok = check_element("repository", repo, kRepoChars, 2, 255);
  if (!ok) return fail(ok.error());
  if (!valid_registry(registry)) {
    return fail("registries must be valid RFC 3986 URI authorities: " + registry);
  }
  if (registry.empty() || registry == kDockerHubAlias) registry = std::string(kDockerHubRegistry);
  if (registry == kDockerHubRegistry && repo.find('/') == std::string::npos) {
    // The name the reference prints must parse again: with its prefix it is still at most 255.
    repo = "library/" + repo;
    if (repo.size() > 255) {
      return fail(
          "repository must be between 2 and 255 characters in length with Docker Hub's "
          "library/ prefix: " +
          repo);
    }
  }
  return RepositoryName{registry, repo};
}

Result<ImageReference, std::string> parse_reference(std::string_view ref) {
  auto tagged = parse_tag(ref);
  if (tagged) return tagged;
  auto digested = parse_digest(ref);
  if (digested) return digested;
  // Say why: the digest form's reason when the reference has an '@', else the tag form's (e.g.
  // "repository must be between 2 and 255 characters in length: x").
  const std::string& why =
      ref.find('@') != std::string_view::npos ? digested.error() : tagged.error();
  return fail("could not parse reference " + std::string(ref) + ": " + why);
}

bool default_plain_http(std::string_view registry) {
  std::string_view host = registry;
  if (host.substr(0, 1) == "[") {
    auto close = host.find(']');
    std::string_view inner = host.substr(1, close == std::string_view::npos ? 0 : close - 1);
    return inner == "::1";
  }
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  if (host == "localhost") return true;
  auto ends_with = [&](std::string_view suffix) {
    return host.size() >= suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  };
  if (ends_with(".local") || ends_with(".localhost")) return true;
  std::array<int, 4> ip{};
  if (!parse_ipv4(host, ip)) return false;
  return ip[0] == 127 || ip[0] == 10 || (ip[0] == 172 && ip[1] >= 16 && ip[1] <= 31) ||
         (ip[0] == 192 && ip[1] == 168);
}

}  // namespace aim::registry
