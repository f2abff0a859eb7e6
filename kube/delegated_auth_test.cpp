#include "kube/delegated_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "kube/log.h"

namespace aim::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Tokens it knows authenticate as users; users in `allowed` may get any path.
class FakeReviewer final : public Reviewer {
 public:
  aim::Result<Authentication, std::string> authenticate(const std::string& token) override {
    ++authentications;
    if (fail_authentication) return fail(std::string("connection refused"));
    auto it = users.find(token);
    if (it == users.end()) return Authentication{};
    return Authentication{true, it->second};
  }
  aim::Result<Authorization, std::string> authorize(const UserInfo& user, const std::string& path,
                                                    const std::string& verb) override {
    ++authorizations;
    last_user = user;
    last_path = path;
    last_verb = verb;
    if (fail_authorization) return fail(std::string("503 from the API server"));
    return Authorization{allowed.contains(user.username), "RBAC"};
  }

  std::map<std::string, UserInfo> users;
  std::set<std::string> allowed;
  bool fail_authentication = false;
  bool fail_authorization = false;
  int authentications = 0;
  int authorizations = 0;
  UserInfo last_user;
  std::string last_path, last_verb;
};

HttpRequest request(const std::string& authorization, const std::string& method = "GET") {
  HttpRequest r;
  r.method = method;
  r.path = "/metrics";
  if (!authorization.empty()) r.headers.emplace_back("authorization", authorization);
  return r;
}

class DelegatedAuthTest : public ::testing::Test {
 protected:
  DelegatedAuthTest() {
    reviewer_->users["reader-token"] = {"system:serviceaccount:mon:prometheus",
                                        "uid-1",
                                        {"system:serviceaccounts", "system:authenticated"},
                                        {{"authentication.kubernetes.io/pod-name", {"p-0"}}}};
    reviewer_->users["other-token"] = {"system:serviceaccount:mon:other", "uid-2", {}, {}};
    reviewer_->allowed.insert("system:serviceaccount:mon:prometheus");
  }
  std::optional<HttpResponse> check(const std::string& authorization,
                                    const std::string& method = "GET") {
    return auth_.check(request(authorization, method));
  }

  std::shared_ptr<FakeReviewer> reviewer_ = std::make_shared<FakeReviewer>();
  FakeClock clock_;
  DelegatedAuth auth_{reviewer_,
                      {std::chrono::seconds(60), std::chrono::seconds(10), 1024, &clock_}};
};

TEST(BearerTokenTest, Parses) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("  BEARER \t abc.def-ghi  "), "abc.def-ghi");
  EXPECT_EQ(bearer_token(""), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer   "), std::nullopt);
  EXPECT_EQ(bearer_token("Bearerabc"), std::nullopt);
  EXPECT_EQ(bearer_token("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(bearer_token("Bearer a b"), std::nullopt);
}

TEST_F(DelegatedAuthTest, NoTokenIs401WithoutAsking) {
  auto r = check("");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(check("Basic dXNlcjpwYXNz")->status, 401);
  EXPECT_EQ(reviewer_->authentications, 0);
}

TEST_F(DelegatedAuthTest, UnknownTokenIs401) {
  auto r = check("Bearer nobody-token");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(reviewer_->authorizations, 0);
}

TEST_F(DelegatedAuthTest, AuthenticatedButNotAllowedIs403NamingTheUser) {
  auto r = check("Bearer other-token");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_THAT(r->body, HasSubstr("system:serviceaccount:mon:other"));
  EXPECT_THAT(r->body, Not(HasSubstr("other-token")));
}

TEST_F(DelegatedAuthTest, AllowedPassesTheReviewedUserToTheAuthorizer) {
  EXPECT_EQ(check("Bearer reader-token"), std::nullopt);
  EXPECT_EQ(reviewer_->last_path, "/metrics");
  EXPECT_EQ(reviewer_->last_verb, "get");
  EXPECT_EQ(reviewer_->last_user.username, "system:serviceaccount:mon:prometheus");
  EXPECT_EQ(reviewer_->last_user.uid, "uid-1");
  EXPECT_THAT(reviewer_->last_user.groups,
              ::testing::ElementsAre("system:serviceaccounts", "system:authenticated"));
  EXPECT_EQ(reviewer_->last_user.extra.at("authentication.kubernetes.io/pod-name"),
            std::vector<std::string>{"p-0"});
  check("Bearer reader-token", "HEAD");
  EXPECT_EQ(reviewer_->last_verb, "head");  // the method, lower case, as controller-runtime
}

TEST_F(DelegatedAuthTest, AllowedIsCachedForAMinute) {
  EXPECT_EQ(check("Bearer reader-token"), std::nullopt);
  clock_.advance(std::chrono::seconds(59));
  EXPECT_EQ(check("Bearer reader-token"), std::nullopt);
  EXPECT_EQ(reviewer_->authentications, 1);
  EXPECT_EQ(reviewer_->authorizations, 1);
  // Access revoked: still allowed until the entry expires, then denied.
  reviewer_->allowed.clear();
  clock_.advance(std::chrono::seconds(2));
  EXPECT_EQ(check("Bearer reader-token")->status, 403);
  EXPECT_EQ(reviewer_->authentications, 2);
}

TEST_F(DelegatedAuthTest, DeniedIsCachedForTenSeconds) {
  EXPECT_EQ(check("Bearer other-token")->status, 403);
  EXPECT_EQ(check("Bearer nobody-token")->status, 401);
  clock_.advance(std::chrono::seconds(9));
  EXPECT_EQ(check("Bearer other-token")->status, 403);
  EXPECT_EQ(check("Bearer nobody-token")->status, 401);
  EXPECT_EQ(reviewer_->authentications, 2);
  // Access granted: allowed once the denial expired.
  reviewer_->allowed.insert("system:serviceaccount:mon:other");
  clock_.advance(std::chrono::seconds(2));
  EXPECT_EQ(check("Bearer other-token"), std::nullopt);
}

TEST_F(DelegatedAuthTest, FailedReviewsAreNotCached) {
  reviewer_->fail_authentication = true;
  EXPECT_EQ(check("Bearer reader-token")->status, 401);
  reviewer_->fail_authentication = false;
  EXPECT_EQ(check("Bearer reader-token"), std::nullopt);
  EXPECT_EQ(reviewer_->authentications, 2);

  reviewer_->fail_authorization = true;
  auto r = check("Bearer other-token");
  EXPECT_EQ(r->status, 500);
  EXPECT_THAT(r->body, HasSubstr("system:serviceaccount:mon:other"));
  reviewer_->fail_authorization = false;
  EXPECT_EQ(check("Bearer other-token")->status, 403);
  EXPECT_EQ(reviewer_->authorizations, 3);
}

TEST_F(DelegatedAuthTest, CacheIsBounded) {
  DelegatedAuth small(reviewer_, {std::chrono::seconds(60), std::chrono::seconds(10), 2, &clock_});
  for (int i = 0; i < 5; ++i) small.check(request("Bearer token-" + std::to_string(i)));
  EXPECT_EQ(small.cache_size(), 2u);
  // The latest entries stay: asking again for the last token costs nothing.
  const int before = reviewer_->authentications;
  small.check(request("Bearer token-4"));
  EXPECT_EQ(reviewer_->authentications, before);
}

TEST_F(DelegatedAuthTest, ProtectRunsTheHandlerOnlyWhenAllowed) {
  int calls = 0;
  auto handler = auth_.protect([&](const HttpRequest&) {
    ++calls;
    return HttpResponse{200, "text/plain", "m 1\n"};
  });
  EXPECT_EQ(handler(request("")).status, 401);
  EXPECT_EQ(handler(request("Bearer other-token")).status, 403);
  EXPECT_EQ(calls, 0);
  auto ok = handler(request("Bearer reader-token"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "m 1\n");
  EXPECT_EQ(calls, 1);
}

TEST_F(DelegatedAuthTest, TokensNeverReachTheLog) {
  log::init(log::Format::kJson, log::Level::kDebug);
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  check("Bearer reader-token");
  check("Bearer other-token");
  check("Bearer nobody-token");
  reviewer_->fail_authentication = true;
  check("Bearer failing-token");
  std::string out =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  log::init(log::Format::kJson, log::Level::kInfo);
  EXPECT_THAT(out, HasSubstr("system:serviceaccount:mon:other"));  // the log names users
  for (const char* token : {"reader-token", "other-token", "nobody-token", "failing-token"})
    EXPECT_THAT(out, Not(HasSubstr(token)));
}

}  // namespace
}  // namespace aim::kube
