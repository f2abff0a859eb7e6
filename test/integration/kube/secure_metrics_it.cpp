// The secure metrics endpoint against the real API server (issue 27 item 5): a Manager serves
// /metrics over TLS and asks kube-apiserver a TokenReview and a SubjectAccessReview per caller.
// The Manager's client is a ServiceAccount that holds only the chart's rules for it (create
// tokenreviews, create subjectaccessreviews), so the chart's RBAC is tested too. Callers are two
// ServiceAccounts with tokens from the TokenRequest API, one bound to a metrics-reader
// ClusterRole (nonResourceURLs ["/metrics"], verbs ["get"]) as the chart's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "http/client.h"
#include "kube/manager.h"
#include "test/integration/kube/fixture.h"

namespace aim::kube::integration {
namespace {

const ResourceType kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole",
                                 false};
const ResourceType kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                        "ClusterRoleBinding", false};
const ResourceType kSubjectAccessReviews{"authorization.k8s.io", "v1", "subjectaccessreviews",
                                         "SubjectAccessReview", false};

class SecureMetricsIT : public KubeIntegration {
 protected:
  void TearDown() override {
    if (client_) {
      for (const auto& name : bindings_)
        if (auto r = client_->remove(kClusterRoleBindings, {}, name); !r.ok())
          std::cerr << "deleting ClusterRoleBinding " << name << ": " << r.error().describe()
                    << "\n";
      for (const auto& name : cluster_roles_)
        if (auto r = client_->remove(kClusterRoles, {}, name); !r.ok())
          std::cerr << "deleting ClusterRole " << name << ": " << r.error().describe() << "\n";
    }
    KubeIntegration::TearDown();
  }

  std::string service_account(const std::string& name) {
    auto r = client_->create(types::service_accounts(),
                             {{"apiVersion", "v1"},
                              {"kind", "ServiceAccount"},
                              {"metadata", {{"name", name}, {"namespace", ns_}}}});
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return "system:serviceaccount:" + ns_ + ":" + name;
  }

  // A token from the TokenRequest API (create on serviceaccounts/<name>/token). The dynamic
  // client creates in a collection, so the subresource path is given as the resource.
  std::string token(const std::string& sa) {
    ResourceType token_of{"", "v1", "serviceaccounts/" + sa + "/token", "TokenRequest", true};
    auto r = client_->create(token_of, {{"apiVersion", "authentication.k8s.io/v1"},
                                        {"kind", "TokenRequest"},
                                        {"metadata", {{"namespace", ns_}}},
                                        {"spec", {{"expirationSeconds", 600}}}});
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() ? (*r)["status"].value("token", "") : "";
  }

  // A ClusterRole with these rules, bound to the ServiceAccount.
  void grant(const std::string& sa, const Json& rules) {
    const std::string name = "aim-it-" + ns_ + "-" + sa;
    auto role = client_->create(kClusterRoles, {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                                                {"kind", "ClusterRole"},
                                                {"metadata", {{"name", name}}},
                                                {"rules", rules}});
    ASSERT_TRUE(role.ok()) << role.error().describe();
    cluster_roles_.push_back(name);
    auto binding = client_->create(
        kClusterRoleBindings,
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRoleBinding"},
         {"metadata", {{"name", name}}},
         {"roleRef",
          {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", name}}},
         {"subjects", {{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns_}}}}});
    ASSERT_TRUE(binding.ok()) << binding.error().describe();
    bindings_.push_back(name);
  }

  // Until the API server's RBAC cache has the new binding (a denial would be cached 10 s).
  bool allowed(const std::string& user, const Json& attributes) {
    return eventually(
        [&] {
          Json spec = {{"user", user}, {"groups", {"system:serviceaccounts"}}};
          spec.update(attributes);
          auto r =
              client_->create(kSubjectAccessReviews, {{"apiVersion", "authorization.k8s.io/v1"},
                                                      {"kind", "SubjectAccessReview"},
                                                      {"spec", spec}});
          return r.ok() && (*r)["status"].value("allowed", false);
        },
        30s);
  }

  std::vector<std::string> cluster_roles_;
  std::vector<std::string> bindings_;
};

TEST_F(SecureMetricsIT, OnlyAuthorizedServiceAccountsScrapeOverTls) {
  // The operator's identity: only the rules the chart adds with metrics.secure.
  const std::string op_user = service_account("operator");
  grant("operator", Json::parse(R"([
      {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
      {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"],
       "verbs": ["create"]}])"));
  const std::string reader_user = service_account("reader");
  grant("reader", Json::parse(R"([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])"));
  const std::string stranger_user = service_account("stranger");
  ASSERT_TRUE(allowed(op_user, {{"resourceAttributes",
                                 {{"group", "authorization.k8s.io"},
                                  {"resource", "subjectaccessreviews"},
                                  {"verb", "create"}}}}));
  ASSERT_TRUE(
      allowed(reader_user, {{"nonResourceAttributes", {{"path", "/metrics"}, {"verb", "get"}}}}));

  Config op_config = client_->config();
  op_config.tls.client_cert_file.clear();
  op_config.tls.client_cert_pem.clear();
  op_config.tls.client_key_file.clear();
  op_config.tls.client_key_pem.clear();
  op_config.exec.reset();
  op_config.username.clear();
  op_config.password.clear();
  op_config.bearer_token = token("operator");
  auto op_client = Client::create(op_config);
  ASSERT_TRUE(op_client.ok()) << op_client.error().describe();

  auto registry = metrics::make_registry();
  ManagerOptions options;
  options.metrics_bind_address = "127.0.0.1:0";
  options.health_probe_bind_address = "127.0.0.1:0";
  options.leader_elect = false;
  options.metrics_secure = true;
  options.registry = registry.get();
  Manager mgr(*op_client, options);
  aim::Result<void, std::string> result = Ok{};
  std::thread runner([&] { result = mgr.run(); });
  if (!mgr.wait_serving(30s)) {
    mgr.request_stop();
    runner.join();
    FAIL() << "the manager did not serve: " << (result.ok() ? "timeout" : result.error());
  }

  http::TlsOptions skip;  // the certificate is self-signed (no --metrics-cert-dir)
  skip.insecure_skip_verify = true;
  http::Session session(skip);
  auto scrape = [&](const std::string& scheme, const std::string& bearer) {
    http::Request req;
    req.url = scheme + "://127.0.0.1:" + std::to_string(mgr.metrics_port()) + "/metrics";
    req.timeout = 30s;
    if (!bearer.empty()) req.headers = {{"Authorization", "Bearer " + bearer}};
    return session.perform(req);
  };

  auto none = scrape("https", "");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->status, 401);

  auto invalid = scrape("https", "not-a-token");
  ASSERT_TRUE(invalid.ok()) << invalid.error().message;
  EXPECT_EQ(invalid->status, 401);

  auto stranger = scrape("https", token("stranger"));
  ASSERT_TRUE(stranger.ok()) << stranger.error().message;
  EXPECT_EQ(stranger->status, 403);
  EXPECT_THAT(stranger->body, ::testing::HasSubstr(stranger_user));

  const std::string reader_token = token("reader");
  auto reader = scrape("https", reader_token);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->status, 200) << reader->body;
  EXPECT_THAT(reader->body, ::testing::HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(reader->headers.get("content-type").value_or(""),
              ::testing::HasSubstr("text/plain; version=0.0.4"));

  // Again within the cache's minute: still allowed (the unit tests count the API calls).
  auto again = scrape("https", reader_token);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->status, 200);

  // TLS only: a plain HTTP request on the metrics port gets no HTTP answer.
  auto plain = scrape("http", reader_token);
  EXPECT_FALSE(plain.ok() && plain->status != 0);

  mgr.request_stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result.error();
}

}  // namespace
}  // namespace aim::kube::integration
