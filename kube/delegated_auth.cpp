#include "kube/delegated_auth.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/digest.h"
#include "core/strings.h"
#include "kube/client.h"
#include "kube/log.h"
#include "kube/resource.h"

namespace aim::kube {
namespace {

const ResourceType kTokenReviews{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview",
                                 false};
const ResourceType kSubjectAccessReviews{"authorization.k8s.io", "v1", "subjectaccessreviews",
                                         "SubjectAccessReview", false};

class ApiServerReviewer final : public Reviewer {
 public:
  explicit ApiServerReviewer(std::shared_ptr<Client> client) : client_(std::move(client)) {}

  aim::Result<Authentication, std::string> authenticate(const std::string& token) override {
    Json review = {{"apiVersion", kTokenReviews.api_version()},
                   {"kind", kTokenReviews.kind},
                   {"spec", {{"token", token}}}};
    auto r = client_->create(kTokenReviews, review);
    if (!r) return fail("TokenReview: " + r.error().describe());
    const Json status = r->value("status", Json::object());
    Authentication out;
    out.authenticated = status.value("authenticated", false);
    if (!out.authenticated) return out;
    const Json user = status.value("user", Json::object());
    out.user.username = user.value("username", "");
    out.user.uid = user.value("uid", "");
    for (const auto& g : user.value("groups", Json::array()))
      if (g.is_string()) out.user.groups.push_back(g.get<std::string>());
    const Json extra = user.value("extra", Json::object());  // items() keeps no temporary alive
    for (const auto& [key, values] : extra.items()) {
      auto& list = out.user.extra[key];
      for (const auto& v : values)
        if (v.is_string()) list.push_back(v.get<std::string>());
    }
    return out;
  }

  aim::Result<Authorization, std::string> authorize(const UserInfo& user, const std::string& path,
                                                    const std::string& verb) override {
    Json spec = {{"user", user.username},
                 {"groups", user.groups},
                 {"nonResourceAttributes", {{"path", path}, {"verb", verb}}}};
    if (!user.uid.empty()) spec["uid"] = user.uid;
    if (!user.extra.empty()) spec["extra"] = user.extra;
    Json review = {{"apiVersion", kSubjectAccessReviews.api_version()},
                   {"kind", kSubjectAccessReviews.kind},
                   {"spec", spec}};
    auto r = client_->create(kSubjectAccessReviews, review);
    if (!r) return fail("SubjectAccessReview: " + r.error().describe());
    const Json status = r->value("status", Json::object());
    Authorization out;
    out.allowed = status.value("allowed", false) && !status.value("denied", false);
    out.reason = status.value("reason", "");
    if (auto e = status.value("evaluationError", ""); !e.empty())
      out.reason += (out.reason.empty() ? "" : "; ") + e;
    return out;
  }

 private:
  std::shared_ptr<Client> client_;
};

HttpResponse text(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

}  // namespace

std::shared_ptr<Reviewer> make_api_server_reviewer(std::shared_ptr<Client> client) {
  return std::make_shared<ApiServerReviewer>(std::move(client));
}

std::optional<std::string> bearer_token(std::string_view authorization) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  authorization = trim(authorization);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      (authorization[kScheme.size()] != ' ' && authorization[kScheme.size()] != '\t'))
    return std::nullopt;
  std::string_view token = trim(authorization.substr(kScheme.size()));
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

DelegatedAuth::DelegatedAuth(std::shared_ptr<Reviewer> reviewer, DelegatedAuthOptions options)
    : reviewer_(std::move(reviewer)),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : Clock::real()) {}

std::size_t DelegatedAuth::cache_size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

std::optional<HttpResponse> DelegatedAuth::check(const HttpRequest& request) {
  auto token = bearer_token(request.header("authorization"));
  if (!token) return text(401, "Unauthorized");
  const std::string verb = ascii_lower(request.method);
  const std::string key = sha256_hex(*token) + " " + verb + " " + request.path;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > clock_.steady()) {
      if (it->second.status == 200) return std::nullopt;
      if (it->second.status == 401) return text(401, "Unauthorized");
      return text(403, fmt::format("Authorization denied for user {}", it->second.username));
    }
  }
  Decision d = decide(*token, request.path, verb);
  log::Logger log("metrics");
  if (d.cacheable) {
    const auto ttl = d.response.status == 200 ? options_.allowed_ttl : options_.denied_ttl;
    remember(key, {d.response.status, d.username, clock_.steady() + ttl});
  }
  if (d.response.status == 200) {
    log.debug("metrics request authorized", {{"user", d.username}, {"path", request.path}});
    return std::nullopt;
  }
  log.info("metrics request denied",
           {{"status", d.response.status}, {"user", d.username}, {"path", request.path}});
  return d.response;
}

DelegatedAuth::Decision DelegatedAuth::decide(const std::string& token, const std::string& path,
                                              const std::string& verb) {
  auto authn = reviewer_->authenticate(token);
  if (!authn) {
    // The error is the client's (status and message of the API server), never the token.
    log::Logger("metrics").warn("authentication failed", {{"error", authn.error()}});
    return {text(401, "Authentication failed"), "", false};
  }
  if (!authn->authenticated) return {text(401, "Unauthorized"), "", true};
  const std::string& user = authn->user.username;
  auto authz = reviewer_->authorize(authn->user, path, verb);
  if (!authz) {
    log::Logger("metrics").warn("authorization failed", {{"user", user}, {"error", authz.error()}});
    return {text(500, fmt::format("Authorization for user {} failed", user)), user, false};
  }
  if (!authz->allowed)
    return {text(403, fmt::format("Authorization denied for user {}", user)), user, true};
  return {{200, "", ""}, user, true};
}

void DelegatedAuth::remember(const std::string& key, Entry entry) {
  std::lock_guard lock(mu_);
  if (cache_.size() >= options_.max_entries && !cache_.contains(key)) {
    const auto now = clock_.steady();
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (cache_.size() >= options_.max_entries) {
      auto first = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      });
      cache_.erase(first);
    }
  }
  cache_[key] = std::move(entry);
}

HttpServer::Handler DelegatedAuth::protect(HttpServer::Handler handler) {
  return [this, handler = std::move(handler)](const HttpRequest& request) {
    if (auto denied = check(request)) return *denied;
    return handler(request);
  };
}

}  // namespace aim::kube
