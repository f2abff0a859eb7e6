#include "kube/manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "http/client.h"
#include "kube/testing/fake_client.h"

namespace aim::kube {
namespace {

using testing::FakeClient;

const ResourceType kWidgets{"example.com", "v1", "widgets", "Widget", true};

template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

http::Response fetch(int port, const std::string& path) {
  http::Session s;
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  auto r = s.perform(req);
  return r.ok() ? r.value() : http::Response{};
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<FakeClient>();
    registry_ = metrics::make_registry();
    options_.metrics_bind_address = "127.0.0.1:0";
    options_.health_probe_bind_address = "localhost:0";
    options_.leader_election_namespace = "aim-system";
    options_.identity = "me";
    options_.registry = registry_.get();
  }
  std::shared_ptr<FakeClient> client_;
  std::unique_ptr<metrics::Registry> registry_;
  ManagerOptions options_;
};

TEST_F(ManagerTest, LeaderRunsControllersServesEndpointsAndReleasesOnStop) {
  Manager mgr(client_, options_);
  std::atomic<int> reconciles{0};
  mgr.controller("widget").for_type(kWidgets).complete([&](const Request&) -> ReconcileResult {
    ++reconciles;
    return Action::done();
  });
  client_->inject(kWidgets, WatchEvent::Type::kAdded,
                  Json{{"metadata", {{"namespace", "n"}, {"name", "w"}}}});
  aim::Result<void, std::string> result = Ok{};
  std::thread runner([&] { result = mgr.run(); });
  ASSERT_TRUE(mgr.wait_serving(std::chrono::seconds(30)));
  ASSERT_TRUE(eventually([&] { return reconciles.load() >= 1; }));
  EXPECT_TRUE(mgr.is_leader());
  ASSERT_TRUE(eventually([&] { return fetch(mgr.health_port(), "/readyz").status == 200; }));
  EXPECT_EQ(fetch(mgr.health_port(), "/healthz").status, 200);
  auto metrics = fetch(mgr.metrics_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body,
              ::testing::HasSubstr(
                  "controller_runtime_reconcile_total{controller=\"widget\",result=\"success\"}"));
  EXPECT_THAT(metrics.body,
              ::testing::HasSubstr("leader_election_master_status{name=\"aim-engine-leader\"} 1"));
  // The process and work-in-progress figures dashboards expect (issue 27).
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
        "process_start_time_seconds ", "workqueue_unfinished_work_seconds{name=\"widget\"} ",
        "workqueue_longest_running_processor_seconds{name=\"widget\"} "})
    EXPECT_THAT(metrics.body, ::testing::HasSubstr(name));
  EXPECT_NE(mgr.metrics_port(), mgr.health_port());
  auto lease = client_->get(types::leases(), "aim-system", "aim-engine-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease.value()["spec"]["holderIdentity"], "me");

  mgr.request_stop();
  runner.join();
  EXPECT_TRUE(result.ok());
  lease = client_->get(types::leases(), "aim-system", "aim-engine-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE(lease.value()["spec"].contains("holderIdentity"));
}

TEST_F(ManagerTest, StandbyKeepsCachesWarmButDoesNotReconcile) {
  // Another live leader holds the lease.
  ASSERT_TRUE(
      client_
          ->create(types::leases(),
                   Json{{"metadata", {{"namespace", "aim-system"}, {"name", "aim-engine-leader"}}},
                        {"spec", {{"holderIdentity", "other"}, {"leaseDurationSeconds", 3600}}}})
          .ok());
  Manager mgr(client_, options_);
  std::atomic<int> reconciles{0};
  Controller& c =
      mgr.controller("widget").for_type(kWidgets).complete([&](const Request&) -> ReconcileResult {
        ++reconciles;
        return Action::done();
      });
  client_->inject(kWidgets, WatchEvent::Type::kAdded,
                  Json{{"metadata", {{"namespace", "n"}, {"name", "w"}}}});
  std::thread runner([&] { (void)mgr.run(); });
  ASSERT_TRUE(mgr.wait_serving(std::chrono::seconds(30)));
  // Ready (caches synced) while standing by; the cache holds the object, the key is queued.
  ASSERT_TRUE(eventually([&] { return fetch(mgr.health_port(), "/readyz").status == 200; }));
  EXPECT_NE(c.cache().get("n/w"), nullptr);
  ASSERT_TRUE(eventually([&] { return !client_->actions("get", "leases").empty(); }));
  EXPECT_FALSE(mgr.is_leader());
  EXPECT_EQ(reconciles.load(), 0);
  EXPECT_EQ(c.queue().len(), 1u);
  mgr.request_stop();
  runner.join();
  auto lease = client_->get(types::leases(), "aim-system", "aim-engine-leader");
  EXPECT_EQ(lease.value()["spec"]["holderIdentity"], "other");  // untouched
}

TEST_F(ManagerTest, BadBindAddressFailsRun) {
  options_.metrics_bind_address = "nonsense";
  Manager mgr(client_, options_);
  auto r = mgr.run();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ::testing::HasSubstr("nonsense"));
  // Nothing will serve: a waiter learns it at once, not at its timeout.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(mgr.wait_serving(std::chrono::seconds(20)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

// Secure metrics with a reviewer that allows one token: TLS, 401/403/200, health stays plain.
class AllowOneToken final : public Reviewer {
 public:
  aim::Result<Authentication, std::string> authenticate(const std::string& token) override {
    if (token == "good" || token == "denied") return Authentication{true, {token + "-user"}};
    return Authentication{};
  }
  aim::Result<Authorization, std::string> authorize(const UserInfo& user, const std::string&,
                                                    const std::string&) override {
    return Authorization{user.username == "good-user", ""};
  }
};

TEST_F(ManagerTest, SecureMetricsAuthenticateOverTlsAndProbesStayPlain) {
  options_.leader_elect = false;
  options_.metrics_secure = true;
  options_.metrics_reviewer = std::make_shared<AllowOneToken>();
  Manager mgr(client_, options_);
  aim::Result<void, std::string> result = Ok{};
  std::thread runner([&] { result = mgr.run(); });
  ASSERT_TRUE(mgr.wait_serving(std::chrono::seconds(30)));
  http::TlsOptions skip;
  skip.insecure_skip_verify = true;
  http::Session s(skip);
  auto scrape = [&](const std::string& token) {
    http::Request req;
    req.url = "https://127.0.0.1:" + std::to_string(mgr.metrics_port()) + "/metrics";
    if (!token.empty()) req.headers = {{"Authorization", "Bearer " + token}};
    auto r = s.perform(req);
    return r.ok() ? r.value() : http::Response{};
  };
  EXPECT_EQ(scrape("").status, 401);
  EXPECT_EQ(scrape("unknown").status, 401);
  EXPECT_EQ(scrape("denied").status, 403);
  auto ok = scrape("good");
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, ::testing::HasSubstr("process_cpu_seconds_total "));
  EXPECT_EQ(fetch(mgr.metrics_port(), "/metrics").status, 0);  // no plain HTTP answer
  EXPECT_EQ(fetch(mgr.health_port(), "/healthz").status, 200);
  mgr.request_stop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result.error();
}

TEST_F(ManagerTest, SecureMetricsRefuseToShareTheProbeAddress) {
  options_.metrics_secure = true;
  options_.metrics_bind_address = "127.0.0.1:1";  // refused before anything binds
  options_.health_probe_bind_address = options_.metrics_bind_address;
  Manager mgr(client_, options_);
  auto r = mgr.run();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ::testing::HasSubstr("health probe address of their own"));
}

TEST_F(ManagerTest, WithoutLeaderElectionControllersStartAtOnce) {
  options_.leader_elect = false;
  options_.health_probe_bind_address = "0";
  Manager mgr(client_, options_);
  std::atomic<int> reconciles{0};
  mgr.controller("widget").for_type(kWidgets).complete([&](const Request&) -> ReconcileResult {
    ++reconciles;
    return Action::done();
  });
  client_->inject(kWidgets, WatchEvent::Type::kAdded,
                  Json{{"metadata", {{"namespace", "n"}, {"name", "w"}}}});
  std::thread runner([&] { (void)mgr.run(); });
  ASSERT_TRUE(eventually([&] { return reconciles.load() >= 1; }));
  EXPECT_EQ(mgr.health_port(), -1);
  EXPECT_TRUE(client_->actions("get", "leases").empty());
  mgr.request_stop();
  runner.join();
}

}  // namespace
}  // namespace aim::kube
