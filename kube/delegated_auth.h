// Authentication and authorization of the operator's own endpoints, delegated to the API server
// as controller-runtime's secure metrics serving does (filters.WithAuthenticationAndAuthorization):
// the request's bearer token is checked with a TokenReview (authentication.k8s.io/v1), the user
// it names with a SubjectAccessReview (authorization.k8s.io/v1) of the non-resource URL, e.g.
// {path: "/metrics", verb: "get"}. A scraper's ServiceAccount therefore needs a ClusterRole with
// nonResourceURLs ["/metrics"], verbs ["get"] (the chart's metrics-reader role).
//
// Decisions: no or unreadable Authorization header, or a token the API server does not
// authenticate: 401; authenticated but not allowed: 403; a review that failed (API server
// unreachable): 401 for authentication, 500 for authorization, as controller-runtime answers.
// Outcomes are cached by the token's SHA-256 (allowed for a minute, denied for 10 s; failures
// not at all), so a scraper costs two API calls a minute, not two per scrape. Tokens are never
// logged, stored or put in a response; logs name the user.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kube/clock.h"
#include "kube/http_server.h"

namespace aim::kube {

class Client;

struct UserInfo {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct Authentication {
  bool authenticated = false;
  UserInfo user;
};

struct Authorization {
  bool allowed = false;
  std::string reason;  // the authorizer's, for the log
};

// The two questions asked of the API server; an interface so that the decisions and the cache
// are tested with a fake.
class Reviewer {
 public:
  virtual ~Reviewer() = default;
  // Errors are failures to ask (transport, API status), not "not authenticated".
  virtual aim::Result<Authentication, std::string> authenticate(const std::string& token) = 0;
  virtual aim::Result<Authorization, std::string> authorize(const UserInfo& user,
                                                            const std::string& path,
                                                            const std::string& verb) = 0;
};

// TokenReview and SubjectAccessReview through the operator's client (RBAC: create on
// authentication.k8s.io tokenreviews and authorization.k8s.io subjectaccessreviews).
std::shared_ptr<Reviewer> make_api_server_reviewer(std::shared_ptr<Client> client);

// The token of "Authorization: Bearer <token>" (scheme case-insensitive), nullopt when the
// header is missing, has another scheme or an empty token.
std::optional<std::string> bearer_token(std::string_view authorization);

struct DelegatedAuthOptions {
  std::chrono::seconds allowed_ttl{60};
  std::chrono::seconds denied_ttl{10};
  std::size_t max_entries = 1024;  // beyond it, the entry that expires first goes
  Clock* clock = nullptr;          // Clock::real() when null
};

class DelegatedAuth {
 public:
  DelegatedAuth(std::shared_ptr<Reviewer> reviewer, DelegatedAuthOptions options = {});

  // nullopt when the request may proceed; otherwise the response to send (401, 403 or 500).
  std::optional<HttpResponse> check(const HttpRequest& request);
  // A handler that runs check() first.
  HttpServer::Handler protect(HttpServer::Handler handler);

  std::size_t cache_size() const;

 private:
  struct Entry {
    int status = 0;  // 200, 401 or 403
    std::string username;
    Clock::SteadyTime expires;
  };
  struct Decision {
    HttpResponse response;  // status 200: allowed
    std::string username;
    bool cacheable = false;  // false when a review failed
  };
  Decision decide(const std::string& token, const std::string& path, const std::string& verb);
  void remember(const std::string& key, Entry entry);

  std::shared_ptr<Reviewer> reviewer_;
  DelegatedAuthOptions options_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> cache_;  // key: sha256(token) + " " + verb + " " + path
};

}  // namespace aim::kube
