#include "kube/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/testing/fake_client.h"

namespace aim::kube {
namespace {

using std::chrono::seconds;
using testing::FakeClient;

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<FakeClient>();
    registry_ = metrics::make_registry();
  }
  std::unique_ptr<LeaderElector> elector(const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = "aim-system";
    c.lease_name = "aim-engine-leader";
    c.identity = id;
    c.registry = registry_.get();
    return std::make_unique<LeaderElector>(client_, c, clock_);
  }
  Json spec() {
    auto lease = client_->get(types::leases(), "aim-system", "aim-engine-leader");
    EXPECT_TRUE(lease.ok());
    return lease.ok() ? lease.value()["spec"] : Json();
  }

  std::shared_ptr<FakeClient> client_;
  std::unique_ptr<metrics::Registry> registry_;
  FakeClock clock_;
};

TEST_F(LeaderElectionTest, AcquiresAFreeLeaseByCreatingIt) {
  auto a = elector("a");
  EXPECT_TRUE(a->try_acquire_or_renew());
  auto s = spec();
  EXPECT_EQ(s["holderIdentity"], "a");
  EXPECT_EQ(s["leaseDurationSeconds"], 15);
  EXPECT_EQ(s["leaseTransitions"], 0);
  EXPECT_EQ(s["acquireTime"], format_micro_time(clock_.wall()));
  EXPECT_EQ(s["renewTime"], s["acquireTime"]);
}

TEST_F(LeaderElectionTest, RenewMovesRenewTimeAndKeepsAcquireTime) {
  auto a = elector("a");
  ASSERT_TRUE(a->try_acquire_or_renew());
  auto acquired = spec()["acquireTime"];
  clock_.advance(seconds(2));
  ASSERT_TRUE(a->try_acquire_or_renew());
  auto s = spec();
  EXPECT_EQ(s["acquireTime"], acquired);
  EXPECT_EQ(s["renewTime"], format_micro_time(clock_.wall()));
  EXPECT_EQ(s["leaseTransitions"], 0);
}

TEST_F(LeaderElectionTest, CandidateWaitsWhileTheLeaderRenews) {
  auto a = elector("a");
  auto b = elector("b");
  ASSERT_TRUE(a->try_acquire_or_renew());
  EXPECT_FALSE(b->try_acquire_or_renew());
  EXPECT_EQ(b->observed_holder(), "a");
  for (int i = 0; i < 20; ++i) {
    clock_.advance(seconds(10));
    ASSERT_TRUE(a->try_acquire_or_renew());
    EXPECT_FALSE(b->try_acquire_or_renew()) << "round " << i;
  }
  EXPECT_EQ(spec()["holderIdentity"], "a");
}

TEST_F(LeaderElectionTest, TakesOverALeaseThatWasNotRenewedForTheLeaseDuration) {
  auto a = elector("a");
  auto b = elector("b");
  ASSERT_TRUE(a->try_acquire_or_renew());
  ASSERT_FALSE(b->try_acquire_or_renew());  // b observes the record now
  clock_.advance(seconds(14));
  EXPECT_FALSE(b->try_acquire_or_renew());  // not expired yet
  clock_.advance(seconds(2));
  EXPECT_TRUE(b->try_acquire_or_renew());
  auto s = spec();
  EXPECT_EQ(s["holderIdentity"], "b");
  EXPECT_EQ(s["leaseTransitions"], 1);
  // The old leader cannot renew any more.
  EXPECT_FALSE(a->try_acquire_or_renew());
}

TEST_F(LeaderElectionTest, ExpiryIsJudgedFromLocalObservationNotTheRecordedRenewTime) {
  auto a = elector("a");
  ASSERT_TRUE(a->try_acquire_or_renew());
  // The record's renewTime is far in the past (skewed clocks), but b has only just seen it.
  clock_.advance(seconds(3600));
  auto b = elector("b");
  EXPECT_FALSE(b->try_acquire_or_renew());
  clock_.advance(seconds(16));
  EXPECT_TRUE(b->try_acquire_or_renew());
}

TEST_F(LeaderElectionTest, ReleaseClearsTheHolderSoAStandbyTakesOverAtOnce) {
  auto a = elector("a");
  auto b = elector("b");
  ASSERT_TRUE(a->try_acquire_or_renew());
  ASSERT_FALSE(b->try_acquire_or_renew());
  EXPECT_TRUE(a->release());
  auto s = spec();
  EXPECT_FALSE(s.contains("holderIdentity"));
  EXPECT_EQ(s["leaseDurationSeconds"], 1);
  EXPECT_TRUE(b->try_acquire_or_renew());  // no waiting
  EXPECT_EQ(spec()["holderIdentity"], "b");
  // Releasing a lease held by someone else changes nothing.
  EXPECT_TRUE(a->release());
  EXPECT_EQ(spec()["holderIdentity"], "b");
}

TEST_F(LeaderElectionTest, ConcurrentCreateLetsOnlyOneWin) {
  auto a = elector("a");
  auto b = elector("b");
  // b's create fails as if a had created the lease between b's get and create.
  client_->fail_next("create", "leases", testing::api_error(ErrorCode::kAlreadyExists));
  EXPECT_FALSE(b->try_acquire_or_renew());
  EXPECT_TRUE(a->try_acquire_or_renew());
}

TEST_F(LeaderElectionTest, UpdateConflictMeansNotAcquired) {
  auto a = elector("a");
  ASSERT_TRUE(a->try_acquire_or_renew());
  client_->fail_next("update", "leases", testing::api_error(ErrorCode::kConflict));
  clock_.advance(seconds(2));
  EXPECT_FALSE(a->try_acquire_or_renew());
  EXPECT_TRUE(a->try_acquire_or_renew());
}

TEST_F(LeaderElectionTest, RunStepsDownWhenRenewalFailsPastTheDeadline) {
  auto a = elector("a");
  std::vector<std::string> calls;
  LeaderCallbacks cb;
  cb.on_started_leading = [&] {
    calls.push_back("started");
    EXPECT_TRUE(a->is_leader());
    // From now on every renewal fails.
    client_->fail_next("update", "leases", testing::api_error(ErrorCode::kServerError), 1000);
  };
  cb.on_stopped_leading = [&] { calls.push_back("stopped"); };
  std::atomic<bool> stop{false};
  auto start = clock_.steady();
  EXPECT_FALSE(a->run(stop, cb));  // lost, not stopped
  EXPECT_THAT(calls, ::testing::ElementsAre("started", "stopped"));
  EXPECT_FALSE(a->is_leader());
  EXPECT_GE(clock_.steady() - start, seconds(10));
  // Renewal was retried every retry period until the deadline.
  EXPECT_GE(client_->actions("update", "leases").size(), 4u);
}

TEST_F(LeaderElectionTest, RunSurvivesTransientRenewFailures) {
  auto a = elector("a");
  std::atomic<bool> stop{false};
  int renew_rounds = 0;
  LeaderCallbacks cb;
  cb.on_started_leading = [&] {
    // Two failures (4 s) stay within the 10 s renew deadline.
    client_->fail_next("update", "leases", testing::api_error(ErrorCode::kTimeout), 2);
  };
  cb.on_new_leader = [&](const std::string&) { ++renew_rounds; };
  std::thread stopper([&] {
    // Stop once a number of successful renewals happened after the failures.
    while (client_->actions("update", "leases").size() < 8) std::this_thread::yield();
    stop.store(true);
  });
  EXPECT_TRUE(a->run(stop, cb));
  stopper.join();
  EXPECT_EQ(renew_rounds, 1);
  // Released on the way out.
  EXPECT_FALSE(spec().contains("holderIdentity"));
}

TEST_F(LeaderElectionTest, RunWaitsForTheLeaderAndTakesOverAfterExpiry) {
  auto a = elector("a");
  ASSERT_TRUE(a->try_acquire_or_renew());  // a then "crashes": never renews again
  auto b = elector("b");
  std::atomic<bool> stop{false};
  std::vector<std::string> leaders;
  LeaderCallbacks cb;
  cb.on_new_leader = [&](const std::string& id) { leaders.push_back(id); };
  cb.on_started_leading = [&] { stop.store(true); };
  auto start = clock_.steady();
  EXPECT_TRUE(b->run(stop, cb));
  EXPECT_THAT(leaders, ::testing::ElementsAre("a", "b"));
  auto waited = clock_.steady() - start;
  EXPECT_GE(waited, seconds(15));
  EXPECT_LE(waited, seconds(15 + 2));
}

TEST_F(LeaderElectionTest, MasterStatusMetricFollowsLeadership) {
  auto a = elector("a");
  std::atomic<bool> stop{false};
  std::string during;
  LeaderCallbacks cb;
  cb.on_started_leading = [&] {
    during = registry_->render();
    stop.store(true);
  };
  a->run(stop, cb);
  EXPECT_THAT(during,
              ::testing::HasSubstr("leader_election_master_status{name=\"aim-engine-leader\"} 1"));
  EXPECT_THAT(registry_->render(),
              ::testing::HasSubstr("leader_election_master_status{name=\"aim-engine-leader\"} 0"));
}

}  // namespace
}  // namespace aim::kube
