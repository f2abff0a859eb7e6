#include "registry/auth.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.h"
#include "core/json_fields.h"
#include "core/strings.h"

namespace aim::registry {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string read_token(std::string_view s, std::size_t& i) {
  std::size_t start = i;
  while (i < s.size() && is_token_char(s[i])) ++i;
  return std::string(s.substr(start, i - start));
}

std::string read_quoted(std::string_view s, std::size_t& i) {
  std::string out;
  ++i;  // opening quote
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i++]);
  }
  if (i < s.size()) ++i;  // closing quote
  return out;
}

bool wildcard_host_match(std::string_view pattern, std::string_view host) {
  // "*.example.com" matches exactly one more label: "a.example.com", not "a.b.example.com".
  if (pattern.substr(0, 2) != "*.") return pattern == host;
  std::string_view suffix = pattern.substr(1);
  if (host.size() <= suffix.size() || host.substr(host.size() - suffix.size()) != suffix)
    return false;
  std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos && !label.empty();
}

}  // namespace

std::string Challenge::param(std::string_view key) const {
  auto it = params.find(std::string(key));
  return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_www_authenticate(std::string_view s) {
  std::vector<Challenge> out;
  std::size_t i = 0;
  while (i < s.size()) {
    skip_space(s, i);
    while (i < s.size() && (s[i] == ',' || s[i] == ' ')) ++i;
    std::string scheme = read_token(s, i);
    if (scheme.empty()) break;
    Challenge c;
    c.scheme = ascii_lower(scheme);
    for (;;) {
      skip_space(s, i);
      std::size_t mark = i;
      std::string key = read_token(s, i);
      skip_space(s, i);
      if (key.empty() || i >= s.size() || s[i] != '=') {
        i = mark;  // the start of the next challenge (or the end)
        break;
      }
      ++i;
      skip_space(s, i);
      std::string value = (i < s.size() && s[i] == '"') ? read_quoted(s, i) : read_token(s, i);
      c.params[ascii_lower(key)] = value;
      skip_space(s, i);
      if (i < s.size() && s[i] == ',') ++i;
    }
    out.push_back(std::move(c));
    if (i < s.size() && !is_token_char(s[i]) && s[i] != ' ' && s[i] != ',') break;
  }
  return out;
}

std::string normalize_registry_host(std::string_view server) {
  std::string s(server);
  if (auto p = s.find("://"); p != std::string::npos) s.erase(0, p + 3);
  if (auto slash = s.find('/'); slash != std::string::npos) s.resize(slash);
  s = ascii_lower(s);
  if (s == "docker.io" || s == "index.docker.io" || s == "registry-1.docker.io" ||
      s == "registry.hub.docker.com") {
    return "index.docker.io";
  }
  return s;
}

void Keychain::add(std::string_view server, Credential credential) {
  entries_.push_back(Entry{normalize_registry_host(server), std::move(credential)});
}

std::optional<Credential> Keychain::find(std::string_view registry) const {
  std::string host = normalize_registry_host(registry);
  for (const auto& e : entries_) {
    if (e.host == host) return e.credential;
  }
  for (const auto& e : entries_) {
    if (wildcard_host_match(e.host, host)) return e.credential;
  }
  return std::nullopt;
}

Result<void, std::string> add_docker_config(Keychain& keychain, std::string_view text,
                                            bool has_auths_wrapper) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail(std::string("not a JSON object"));
  const nlohmann::json* auths = &doc;
  if (has_auths_wrapper) {
    auto it = doc.find("auths");
    if (it == doc.end() || !it->is_object()) return fail(std::string("no \"auths\" object"));
    auths = &*it;
  }
  for (const auto& [server, entry] : auths->items()) {
    if (!entry.is_object()) return fail("entry for " + server + " is not an object");
    Credential c;
    c.username = string_member(entry, "username");
    c.password = string_member(entry, "password");
    c.identity_token = string_member(entry, "identitytoken");
    c.registry_token = string_member(entry, "registrytoken");
    std::string auth = string_member(entry, "auth");
    if (!auth.empty()) {
      auto decoded = base64_decode(auth);
      if (!decoded) return fail("\"auth\" for " + server + " is not base64");
      auto colon = decoded->find(':');
      if (colon == std::string::npos)
        return fail("\"auth\" for " + server + " is not user:password");
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    keychain.add(server, std::move(c));
  }
  return Ok{};
}

Result<Keychain, std::string> keychain_from_pull_secrets(const std::vector<PullSecret>& secrets) {
  Keychain kc;
  for (const auto& s : secrets) {
    std::string key;
    bool wrapper = false;
    if (s.type == "kubernetes.io/dockerconfigjson") {
      key = ".dockerconfigjson";
      wrapper = true;
    } else if (s.type == "kubernetes.io/dockercfg") {
      key = ".dockercfg";
    } else {
      return fail("imagePullSecret \"" + s.name + "\" has type \"" + s.type +
                  "\", want kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg");
    }
    auto it = s.data.find(key);
    if (it == s.data.end())
      return fail("imagePullSecret \"" + s.name + "\" has no " + key + " key");
    auto added = add_docker_config(kc, it->second, wrapper);
    if (!added) return fail("imagePullSecret \"" + s.name + "\": " + added.error());
  }
  return kc;
}

Result<Keychain, std::string> keychain_from_docker_config_file(const std::string& path) {
  Keychain kc;
  std::ifstream in(path);
  if (!in) return kc;  // no file: anonymous
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail("cannot read docker config " + path);
  auto added = add_docker_config(kc, text.str(), true);
  if (!added) return fail("docker config " + path + ": " + added.error());
  return kc;
}

std::string default_docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/config.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home == nullptr ? "" : home) + "/.docker/config.json";
}

Result<BearerToken, std::string> parse_token_response(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(std::string("token response is not a JSON object"));
  BearerToken t;
  t.token = string_member(doc, "token");
  if (t.token.empty()) t.token = string_member(doc, "access_token");
  if (t.token.empty()) return fail(std::string("token response has no token"));
  if (auto e = doc.find("expires_in");
      e != doc.end() && e->is_number_integer() && e->get<long>() > 0) {
    t.expires_in = std::min(std::chrono::seconds(e->get<long>()), kMaxTokenLifetime);
  }
  return t;
}

}  // namespace aim::registry
