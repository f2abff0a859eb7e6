#include "registry/client.h"

#include <algorithm>
#include <cctype>

#include "core/base64.h"
#include "core/json_fields.h"
#include "core/strings.h"
#include "registry/digest.h"

namespace aim::registry {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kAcceptManifests =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";
// Safety margin so a cached token is not used right as it expires.
constexpr std::chrono::seconds kTokenMargin{10};
constexpr std::size_t kBodyExcerpt = 300;

std::string strip_params(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

// "CODE: message; CODE: message" from a registry error body, else an excerpt of the body.
std::string registry_error_text(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("errors") &&
      doc["errors"].is_array()) {
    std::string out;
    for (const auto& e : doc["errors"]) {
      if (!e.is_object()) continue;
      if (!out.empty()) out += "; ";
      out += string_member(e, "code", "UNKNOWN");
      if (e.contains("message") && e["message"].is_string())
        out += ": " + e["message"].get<std::string>();
    }
    if (!out.empty()) return out;
  }
  std::string excerpt = body.substr(0, kBodyExcerpt);
  for (auto& c : excerpt) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return excerpt;
}

Error make_error(ErrorKind kind, std::string registry, std::string message, long status = 0) {
  Error e;
  e.kind = kind;
  e.registry = std::move(registry);
  e.message = std::move(message);
  e.http_status = status;
  return e;
}

Error transport_error(const std::string& registry, const http::Error& err) {
  Error e = make_error(ErrorKind::kUnreachable, registry,
                       "registry " + registry + " unreachable (" +
                           std::string(http::to_string(err.kind)) + "): " + err.message);
  e.transport = err.kind;
  return e;
}

bool platform_matches(const json& p, const Platform& want) {
  if (!p.is_object()) return false;
  if (string_member(p, "os") != want.os) return false;
  if (string_member(p, "architecture") != want.architecture) return false;
  if (!want.variant.empty() && string_member(p, "variant") != want.variant) return false;
  return true;
}

struct CachedToken {
  std::string token;
  Clock::time_point expires;
};

struct CacheEntry {
  std::list<std::string>::iterator position;
  std::string media_type;
  std::string body;
};

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kAuth:
      return "auth";
    case ErrorKind::kNotFound:
      return "not-found";
    case ErrorKind::kUnreachable:
      return "unreachable";
    case ErrorKind::kBadResponse:
      return "bad-response";
    case ErrorKind::kInvalidReference:
      return "invalid-reference";
  }
  return "unknown";
}

bool Manifest::is_index() const {
  return media_type == kOciIndex || media_type == kDockerList ||
         (json.is_object() && json.contains("manifests") && !json.contains("layers"));
}

std::string next_link(std::string_view header) {
  // <url>; rel="next", <url2>; rel="prev"
  std::size_t i = 0;
  while (i < header.size()) {
    auto open = header.find('<', i);
    if (open == std::string_view::npos) return "";
    auto close = header.find('>', open);
    if (close == std::string_view::npos) return "";
    std::string url(header.substr(open + 1, close - open - 1));
    auto next_entry = header.find('<', close);
    std::string params = ascii_lower(header.substr(close + 1, next_entry == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : next_entry - close - 1));
    if (params.find("rel=\"next\"") != std::string::npos ||
        params.find("rel=next") != std::string::npos) {
      return url;
    }
    if (next_entry == std::string_view::npos) return "";
    i = next_entry;
  }
  return "";
}

struct Client::Impl {
  ClientOptions opt;
  Keychain keychain;
  http::SessionPool pool;
  mutable std::mutex mu;
  std::list<std::string> lru;  // most recent first
  std::unordered_map<std::string, CacheEntry> cache;
  std::map<std::string, CachedToken> tokens;       // "<registry>|<scope>"
  std::map<std::string, std::string> auth_scheme;  // registry -> "basic" once learned
  std::size_t hits = 0;
  std::size_t token_fetches = 0;

  Impl(ClientOptions o, Keychain k)
      : opt(std::move(o)), keychain(std::move(k)), pool(opt.tls, opt.user_agent) {}

  std::string base_url(const std::string& registry) const {
    bool plain = opt.plain_http.count(registry) > 0 ||
                 (opt.plain_http_for_local && default_plain_http(registry));
    return (plain ? "http://" : "https://") + registry;
  }

  // --- content cache, keyed by digest ---------------------------------------------------
  std::optional<CacheEntry> cache_get(const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(digest);
    if (it == cache.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second.position);
    ++hits;
    return it->second;
  }

  void cache_put(const std::string& digest, const std::string& media_type,
                 const std::string& body) {
    if (opt.cache_entries == 0) return;
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(digest); it != cache.end()) {
      lru.splice(lru.begin(), lru, it->second.position);
      return;
    }
    lru.push_front(digest);
    cache[digest] = CacheEntry{lru.begin(), media_type, body};
    while (cache.size() > opt.cache_entries) {
      cache.erase(lru.back());
      lru.pop_back();
    }
  }

  // --- authentication -------------------------------------------------------------------
  std::optional<std::string> cached_token(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = tokens.find(key);
    if (it == tokens.end()) return std::nullopt;
    if (Clock::now() >= it->second.expires) {
      tokens.erase(it);
      return std::nullopt;
    }
    return it->second.token;
  }

  Result<std::string, Error> fetch_token(const std::string& registry, const Challenge& challenge,
                                         const std::string& scope,
                                         const std::optional<Credential>& cred) {
    if (cred && !cred->registry_token.empty()) return cred->registry_token;
    std::string realm = challenge.param("realm");
    if (realm.rfind("http://", 0) != 0 && realm.rfind("https://", 0) != 0) {
      return fail(
          make_error(ErrorKind::kBadResponse, registry,
                     "registry " + registry + " sent a bearer challenge without a usable realm"));
    }
    http::Request req;
    req.timeout = opt.timeout;
    req.connect_timeout = opt.connect_timeout;
    std::string service = challenge.param("service");
    std::string want_scope = challenge.param("scope").empty() ? scope : challenge.param("scope");
    if (cred && !cred->identity_token.empty()) {
      req.method = "POST";
      req.url = realm;
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      req.body =
          "grant_type=refresh_token&client_id=aim-engine&service=" + http::url_encode(service) +
          "&scope=" + http::url_encode(want_scope) +
          "&refresh_token=" + http::url_encode(cred->identity_token);
    } else {
      req.url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
      req.url += "service=" + http::url_encode(service);
      if (!want_scope.empty()) req.url += "&scope=" + http::url_encode(want_scope);
      if (cred && !cred->username.empty()) {
        req.headers.emplace_back("Authorization",
                                 "Basic " + base64_encode(cred->username + ":" + cred->password));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++token_fetches;
    }
    auto resp = pool.perform(req);
    if (!resp) return fail(transport_error(registry, resp.error()));
    if (resp->status == 401 || resp->status == 403) {
      return fail(make_error(ErrorKind::kAuth, registry,
                             "token endpoint for " + registry + " refused the credentials (HTTP " +
                                 std::to_string(resp->status) + ")",
                             resp->status));
    }
    if (resp->status < 200 || resp->status >= 300) {
      return fail(make_error(
          ErrorKind::kBadResponse, registry,
          "token endpoint for " + registry + " answered HTTP " + std::to_string(resp->status),
          resp->status));
    }
    auto token = parse_token_response(resp->body);
    if (!token) return fail(make_error(ErrorKind::kBadResponse, registry, token.error()));
    auto lifetime = std::max(token->expires_in - kTokenMargin, std::chrono::seconds(1));
    std::lock_guard<std::mutex> lock(mu);
    tokens[registry + "|" + scope] = CachedToken{token->token, Clock::now() + lifetime};
    return token->token;
  }

  // GET `target` (a path under the registry, or an absolute URL) with authentication.
  Result<http::Response, Error> get(const std::string& registry, const std::string& target,
                                    const std::string& scope, std::string_view accept,
                                    bool follow_redirects) {
    const std::string token_key = registry + "|" + scope;
    std::optional<Credential> cred = keychain.find(registry);
    http::Request req;
    req.url = target.rfind("http", 0) == 0 ? target : base_url(registry) + target;
    req.timeout = opt.timeout;
    req.connect_timeout = opt.connect_timeout;
    req.follow_redirects = follow_redirects;

    for (int attempt = 0; attempt < 2; ++attempt) {
      req.headers.clear();
      if (!accept.empty()) req.headers.emplace_back("Accept", std::string(accept));
      bool basic_known = false;
      {
        std::lock_guard<std::mutex> lock(mu);
        basic_known = auth_scheme.count(registry) > 0 && auth_scheme[registry] == "basic";
      }
      if (auto t = cached_token(token_key)) {
        req.headers.emplace_back("Authorization", "Bearer " + *t);
      } else if (basic_known && cred && !cred->username.empty()) {
        req.headers.emplace_back("Authorization",
                                 "Basic " + base64_encode(cred->username + ":" + cred->password));
      }
      auto resp = pool.perform(req);
      if (!resp) return fail(transport_error(registry, resp.error()));
      if (resp->status != 401 || attempt == 1) return std::move(*resp);

      auto header = resp->headers.get("WWW-Authenticate");
      auto challenges = parse_www_authenticate(header.value_or(""));
      const Challenge* bearer = nullptr;
      const Challenge* basic = nullptr;
      for (const auto& c : challenges) {
        if (c.scheme == "bearer" && bearer == nullptr) bearer = &c;
        if (c.scheme == "basic" && basic == nullptr) basic = &c;
      }
      if (bearer != nullptr) {
        auto token = fetch_token(registry, *bearer, scope, cred);
        if (!token) return fail(std::move(token).error());
        std::lock_guard<std::mutex> lock(mu);
        if (tokens.count(token_key) == 0) {
          tokens[token_key] = CachedToken{*token, Clock::now() + std::chrono::seconds(60)};
        }
        continue;
      }
      if (basic != nullptr && cred && !cred->username.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        auth_scheme[registry] = "basic";
        continue;
      }
      return fail(
          make_error(ErrorKind::kAuth, registry,
                     "registry " + registry + " requires authentication and " +
                         (cred ? std::string("the credentials are not usable for its challenge")
                               : std::string("no credentials are configured for it")),
                     401));
    }
    return fail(make_error(ErrorKind::kBadResponse, registry, "unreachable"));
  }

  // Maps a non-2xx registry answer to an error.
  Error status_error(const std::string& registry, const http::Response& resp,
                     const std::string& what) {
    std::string detail = registry_error_text(resp.body);
    std::string msg =
        what + ": HTTP " + std::to_string(resp.status) + (detail.empty() ? "" : " " + detail);
    if (resp.status == 401 || resp.status == 403) {
      return make_error(ErrorKind::kAuth, registry, "access denied to " + msg, resp.status);
    }
    if (resp.status == 404)
      return make_error(ErrorKind::kNotFound, registry, "not found: " + msg, resp.status);
    return make_error(ErrorKind::kBadResponse, registry, msg, resp.status);
  }

  Result<Manifest, Error> manifest(const ImageReference& ref, const std::string& identifier) {
    const bool by_digest = identifier.find(':') != std::string::npos;
    if (by_digest) {
      if (auto hit = cache_get(identifier)) {
        Manifest m;
        m.media_type = hit->media_type;
        m.digest = identifier;
        m.body = hit->body;
        m.json = json::parse(m.body, nullptr, false);
        return m;
      }
    }
    std::string scope = "repository:" + ref.repository + ":pull";
    std::string what =
        "manifest " + ref.registry + "/" + ref.repository + (by_digest ? "@" : ":") + identifier;
    auto resp = get(ref.registry, "/v2/" + ref.repository + "/manifests/" + identifier, scope,
                    kAcceptManifests, true);
    if (!resp) return fail(std::move(resp).error());
    if (resp->status != 200) return fail(status_error(ref.registry, *resp, what));

    Manifest m;
    m.body = std::move(resp->body);
    m.digest = sha256_digest(m.body);
    std::string expected =
        by_digest ? identifier : resp->headers.get("Docker-Content-Digest").value_or("");
    if (!expected.empty()) {
      if (auto ok = verify_digest(expected, m.body); !ok) {
        return fail(make_error(ErrorKind::kBadResponse, ref.registry, what + ": " + ok.error()));
      }
      m.digest = expected;
    }
    m.json = json::parse(m.body, nullptr, false);
    if (m.json.is_discarded() || !m.json.is_object()) {
      return fail(
          make_error(ErrorKind::kBadResponse, ref.registry, what + " is not a JSON object"));
    }
    m.media_type = strip_params(resp->headers.get("Content-Type").value_or(""));
    if (m.media_type.empty() || m.media_type == "application/json" ||
        m.media_type == "text/plain") {
      m.media_type = string_member(m.json, "mediaType");
    }
    if (m.media_type != kDockerManifest && m.media_type != kOciManifest &&
        m.media_type != kDockerList && m.media_type != kOciIndex) {
      // An OCI manifest may omit mediaType; recognise it by shape.
      if (m.json.contains("manifests")) {
        m.media_type = std::string(kOciIndex);
      } else if (m.json.contains("config") && m.json.contains("layers")) {
        m.media_type = std::string(kOciManifest);
      } else {
        return fail(make_error(ErrorKind::kBadResponse, ref.registry,
                               what + " has unsupported media type \"" + m.media_type + "\""));
      }
    }
    cache_put(m.digest, m.media_type, m.body);
    return m;
  }

  Result<std::string, Error> blob(const ImageReference& ref, const std::string& digest) {
    if (auto hit = cache_get(digest)) return hit->body;
    if (!valid_digest(digest)) {
      return fail(make_error(ErrorKind::kBadResponse, ref.registry,
                             "malformed blob digest \"" + digest + "\""));
    }
    std::string what = "blob " + ref.registry + "/" + ref.repository + "@" + digest;
    auto resp = get(ref.registry, "/v2/" + ref.repository + "/blobs/" + digest,
                    "repository:" + ref.repository + ":pull", "", true);
    if (!resp) return fail(std::move(resp).error());
    if (resp->status != 200) return fail(status_error(ref.registry, *resp, what));
    if (auto ok = verify_digest(digest, resp->body); !ok) {
      return fail(make_error(ErrorKind::kBadResponse, ref.registry, what + ": " + ok.error()));
    }
    cache_put(digest, "", resp->body);
    return std::move(resp->body);
  }

  Result<std::vector<std::string>, Error> paged_list(const std::string& registry,
                                                     std::string target, const std::string& scope,
                                                     const char* field, const std::string& what) {
    std::vector<std::string> out;
    for (std::size_t page = 0; !target.empty(); ++page) {
      if (page >= opt.max_pages) {
        return fail(make_error(ErrorKind::kBadResponse, registry,
                               what + ": more than " + std::to_string(opt.max_pages) + " pages"));
      }
      auto resp = get(registry, target, scope, "application/json", false);
      if (!resp) return fail(std::move(resp).error());
      if (resp->status != 200) return fail(status_error(registry, *resp, what));
      json doc = json::parse(resp->body, nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) {
        return fail(make_error(ErrorKind::kBadResponse, registry,
                               what + ": response is not a JSON object"));
      }
      auto items = doc.find(field);
      if (items != doc.end() && !items->is_null()) {
        if (!items->is_array()) {
          return fail(make_error(ErrorKind::kBadResponse, registry,
                                 what + ": \"" + field + "\" is not a list"));
        }
        for (const auto& t : *items) {
          if (t.is_string()) out.push_back(t.get<std::string>());
        }
      }
      std::string next = next_link(resp->headers.get("Link").value_or(""));
      if (next.empty()) break;
      // Relative links resolve against the registry; absolute ones must stay on it.
      if (next.rfind("http", 0) == 0 && next.rfind(base_url(registry) + "/", 0) != 0) {
        return fail(make_error(ErrorKind::kBadResponse, registry,
                               what + ": pagination link leaves the registry"));
      }
      target = next;
    }
    return out;
  }
};

Client::Client(ClientOptions options, Keychain keychain)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(keychain))) {}

Client::~Client() = default;

Result<Manifest, Error> Client::fetch_manifest(const ImageReference& ref) {
  return impl_->manifest(ref, ref.identifier());
}

Result<ImageInfo, Error> Client::inspect(std::string_view image) {
  auto ref = parse_reference(image);
  if (!ref) {
    return fail(
        make_error(ErrorKind::kInvalidReference, "",
                   "invalid image reference \"" + std::string(image) + "\": " + ref.error()));
  }
  return inspect(*ref);
}

Result<ImageInfo, Error> Client::inspect(const ImageReference& ref) {
  ImageInfo info;
  info.reference = ref;
  auto m = impl_->manifest(ref, ref.identifier());
  if (!m) return fail(std::move(m).error());
  // An index may (rarely) point at another index; follow at most a few levels.
  for (int depth = 0; m->is_index(); ++depth) {
    if (depth == 0) info.index_digest = m->digest;
    if (depth >= 3) {
      return fail(
          make_error(ErrorKind::kBadResponse, ref.registry, "image index nesting is too deep"));
    }
    const json* chosen = nullptr;
    if (m->json.contains("manifests") && m->json["manifests"].is_array()) {
      for (const auto& d : m->json["manifests"]) {
        if (d.is_object() && platform_matches(d.value("platform", json()), impl_->opt.platform)) {
          chosen = &d;
          break;
        }
      }
    }
    if (chosen == nullptr || !(*chosen).contains("digest") || !(*chosen)["digest"].is_string()) {
      const auto& p = impl_->opt.platform;
      return fail(make_error(ErrorKind::kNotFound, ref.registry,
                             "no manifest for platform " + p.os + "/" + p.architecture +
                                 (p.variant.empty() ? "" : "/" + p.variant) + " in " + ref.str()));
    }
    std::string child = (*chosen)["digest"].get<std::string>();
    if (!valid_digest(child)) {
      return fail(
          make_error(ErrorKind::kBadResponse, ref.registry, "index entry has a malformed digest"));
    }
    m = impl_->manifest(ref, child);
    if (!m) return fail(std::move(m).error());
  }
  info.manifest_digest = m->digest;
  info.manifest_media_type = m->media_type;

  const json& cfg = m->json.contains("config") ? m->json["config"] : json();
  if (!cfg.is_object() || !cfg.contains("digest") || !cfg["digest"].is_string()) {
    return fail(make_error(ErrorKind::kBadResponse, ref.registry,
                           "manifest of " + ref.str() + " has no config"));
  }
  info.config.digest = cfg["digest"].get<std::string>();
  auto body = impl_->blob(ref, info.config.digest);
  if (!body) return fail(std::move(body).error());
  json doc = json::parse(*body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(make_error(ErrorKind::kBadResponse, ref.registry,
                           "image config of " + ref.str() + " is not JSON"));
  }
  info.config.os = string_member(doc, "os");
  info.config.architecture = string_member(doc, "architecture");
  if (doc.contains("config") && doc["config"].is_object()) {
    const json& c = doc["config"];
    if (c.contains("Labels") && c["Labels"].is_object()) {
      for (const auto& [k, v] : c["Labels"].items()) {
        if (v.is_string()) info.config.labels[k] = v.get<std::string>();
      }
    }
  }
  info.config.raw = std::move(doc);
  return info;
}

Result<std::vector<std::string>, Error> Client::list_tags(std::string_view registry,
                                                          std::string_view repository,
                                                          std::size_t page_size) {
  auto name = parse_repository(std::string(registry) + "/" + std::string(repository));
  if (registry.empty()) name = parse_repository(repository);
  if (!name) {
    return fail(
        make_error(ErrorKind::kInvalidReference, std::string(registry),
                   "invalid repository \"" + std::string(repository) + "\": " + name.error()));
  }
  std::string target = "/v2/" + name->repository + "/tags/list";
  if (page_size > 0) target += "?n=" + std::to_string(page_size);
  return impl_->paged_list(name->registry, target, "repository:" + name->repository + ":pull",
                           "tags", "tags of " + name->registry + "/" + name->repository);
}

Result<std::vector<std::string>, Error> Client::catalog(std::string_view registry,
                                                        std::size_t page_size) {
  std::string reg(registry);
  if (reg.empty() || reg == kDockerHubAlias) reg = std::string(kDockerHubRegistry);
  std::string target = "/v2/_catalog";
  if (page_size > 0) target += "?n=" + std::to_string(page_size);
  return impl_->paged_list(reg, target, "registry:catalog:*", "repositories", "catalog of " + reg);
}

std::size_t Client::cache_hits() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->hits;
}

std::size_t Client::token_fetches() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->token_fetches;
}

}  // namespace aim::registry
