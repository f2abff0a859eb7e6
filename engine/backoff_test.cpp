#include "engine/backoff.h"

#include <gtest/gtest.h>

#include "core/chrono.h"

namespace aim::engine {
namespace {

using std::chrono::seconds;

TEST(Backoff, Schedule) {
  const std::vector<std::pair<int, long>> cases = {{-1, 0},   {0, 0},    {1, 60},     {2, 120},
                                                   {3, 240},  {4, 480},  {5, 960},    {6, 1920},
                                                   {7, 3600}, {8, 3600}, {1000, 3600}};
  for (auto [attempts, want] : cases)
    EXPECT_EQ(discovery_backoff(attempts), seconds(want)) << attempts;
}

TEST(Backoff, GateAndTimer) {
  Clock::time_point t0{seconds(1'000'000)};
  DiscoveryState s{2, t0, "boom", "hash-a"};
  ASSERT_TRUE(discovery_retry_at(s, "hash-a"));
  EXPECT_EQ(*discovery_retry_at(s, "hash-a"), t0 + seconds(120));
  EXPECT_EQ(discovery_wait(s, "hash-a", t0 + seconds(30)), seconds(90));
  EXPECT_EQ(discovery_wait(s, "hash-a", t0 + std::chrono::milliseconds(30'500)),
            seconds(90));  // rounded up
  EXPECT_EQ(discovery_wait(s, "hash-a", t0 + seconds(120)), seconds(0));
  // A changed spec lifts the gate at once.
  EXPECT_FALSE(discovery_retry_at(s, "hash-b"));
  EXPECT_EQ(discovery_wait(s, "hash-b", t0), seconds(0));
  // No failures, no gate.
  EXPECT_FALSE(discovery_retry_at(DiscoveryState{}, ""));
}

TEST(Backoff, Messages) {
  EXPECT_EQ(discovery_wait_message(seconds(90), 2),
            "Waiting 1m30s before retry (attempt 2 failed)");
  EXPECT_EQ(format_go_duration(seconds(0)), "0s");
  EXPECT_EQ(format_go_duration(seconds(45)), "45s");
  EXPECT_EQ(format_go_duration(seconds(60)), "1m0s");
  EXPECT_EQ(format_go_duration(seconds(3600)), "1h0m0s");
  EXPECT_EQ(format_go_duration(seconds(3725)), "1h2m5s");
}

TEST(Backoff, RecordFailure) {
  Clock::time_point t0{seconds(1'000'000)};
  DiscoveryState s =
      record_discovery_failure({}, t0, t0 + seconds(5), "BackoffLimitExceeded", "h1");
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.last_attempt_time, t0 + seconds(5));
  EXPECT_EQ(s.spec_hash, "h1");
  EXPECT_EQ(s.last_failure_reason, "BackoffLimitExceeded");

  // The same failed job seen again does not count twice.
  DiscoveryState again =
      record_discovery_failure(s, t0, t0 + seconds(50), "BackoffLimitExceeded", "h1");
  EXPECT_EQ(again.attempts, 1);

  // A newer job counts.
  DiscoveryState next = record_discovery_failure(s, t0 + seconds(100), t0 + seconds(110), "", "h1");
  EXPECT_EQ(next.attempts, 2);
  EXPECT_EQ(next.last_failure_reason, "Unknown failure");

  // A spec change resets the count before counting.
  DiscoveryState changed =
      record_discovery_failure(next, t0 + seconds(200), t0 + seconds(210), "x", "h2");
  EXPECT_EQ(changed.attempts, 1);
  EXPECT_EQ(changed.spec_hash, "h2");
}

}  // namespace
}  // namespace aim::engine
