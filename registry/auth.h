// Registry credentials and authentication challenges: the `WWW-Authenticate` header of a 401
// (RFC 7235 challenges; `Basic realm=...`, `Bearer realm=...,service=...,scope=...`), the token
// endpoint's answer, and a keychain built from Kubernetes image pull secrets
// (`kubernetes.io/dockerconfigjson` and the legacy `kubernetes.io/dockercfg`), matched by
// registry host the way the kubelet does (Docker Hub aliases, `*.` wildcards).
//
// Pure; no network. Credentials never appear in error messages.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aim::registry {

struct Challenge {
  std::string scheme;                         // lowercased: "basic", "bearer", ...
  std::map<std::string, std::string> params;  // keys lowercased: realm, service, scope, error
  std::string param(std::string_view key) const;
};

// Every challenge in one header value, in order. Malformed text yields what parsed so far.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

struct Credential {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (Docker's "identitytoken")
  std::string registry_token;  // a bearer token to use as is ("registrytoken")
  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

// The data of one image pull secret, values already base64-decoded (as the API returns them
// decoded through the client): type plus the `.dockerconfigjson` / `.dockercfg` entry.
struct PullSecret {
  std::string name;
  std::string type;  // kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg
  std::map<std::string, std::string> data;
};

// Credentials by registry, in the order the secrets were given (first match wins).
class Keychain {
 public:
  // `server` as written in a docker config: "https://index.docker.io/v1/", "ghcr.io",
  // "registry.example.com:5000", "*.example.com", "http://host/path".
  void add(std::string_view server, Credential credential);
  // Anonymous access when nothing matches.
  std::optional<Credential> find(std::string_view registry) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string host;  // normalized, may start with "*."
    Credential credential;
  };
  std::vector<Entry> entries_;
};

// Builds a keychain from pull secrets. A secret of another type, or without the expected key,
// or with malformed JSON is an error naming the secret (not its content).
Result<Keychain, std::string> keychain_from_pull_secrets(const std::vector<PullSecret>& secrets);

// Adds the entries of one docker config JSON (`{"auths": {...}}` when `has_auths_wrapper`,
// else the legacy `{server: {...}}` map).
Result<void, std::string> add_docker_config(Keychain& keychain, std::string_view json,
                                            bool has_auths_wrapper);

// The operator's own Docker config file (`$DOCKER_CONFIG/config.json`, else
// `~/.docker/config.json`), used when a model names no pull secrets. A missing file is an empty
// keychain (anonymous access); an unreadable or malformed one is an error naming the path.
Result<Keychain, std::string> keychain_from_docker_config_file(const std::string& path);
std::string default_docker_config_path();

// The registry host a docker-config server key names ("https://index.docker.io/v1/" ->
// "index.docker.io"); Docker Hub aliases map to index.docker.io.
std::string normalize_registry_host(std::string_view server);

// A token endpoint's answer ({"token"|"access_token", "expires_in", "issued_at"}). A lifetime
// above kMaxTokenLifetime is cut to it: the token is fetched again a day later at the latest, and
// a deadline computed from any answer stays in std::chrono's range.
inline constexpr std::chrono::seconds kMaxTokenLifetime{24 * 60 * 60};
struct BearerToken {
  std::string token;
  std::chrono::seconds expires_in{60};
};
Result<BearerToken, std::string> parse_token_response(std::string_view body);

}  // namespace aim::registry
