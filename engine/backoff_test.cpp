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

TEST(Backoff, GoDurations) {
  EXPECT_EQ(format_go_duration(seconds(0)), "0s");
  EXPECT_EQ(format_go_duration(seconds(45)), "45s");
  EXPECT_EQ(format_go_duration(seconds(60)), "1m0s");
  EXPECT_EQ(format_go_duration(seconds(3600)), "1h0m0s");
  EXPECT_EQ(format_go_duration(seconds(3725)), "1h2m5s");
}

TEST(Backoff, RecordFailure) {
  Clock::time_point t0{seconds(1'000'000)};
  DiscoveryState s = record_discovery_failure({}, t0, t0 + seconds(5), "PodFailed",
                                              "Container discovery failed with exit code 3", "h1");
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.last_attempt_time, t0 + seconds(5));
  EXPECT_EQ(s.spec_hash, "h1");
  EXPECT_EQ(s.last_failure_code, "PodFailed");
  EXPECT_EQ(s.last_failure_reason, "Container discovery failed with exit code 3");

  // The same failed job seen again does not count twice, nor replaces what failed.
  DiscoveryState again =
      record_discovery_failure(s, t0, t0 + seconds(50), "JobBackoffLimitExceeded", "x", "h1");
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(again.last_failure_code, "PodFailed");

  // A newer job counts.
  DiscoveryState next =
      record_discovery_failure(s, t0 + seconds(100), t0 + seconds(110), "", "", "h1");
  EXPECT_EQ(next.attempts, 2);
  EXPECT_EQ(next.last_failure_reason, "Unknown failure");
  EXPECT_EQ(next.last_failure_code, "DiscoveryFailed");

  // A spec change resets the count before counting.
  DiscoveryState changed =
      record_discovery_failure(next, t0 + seconds(200), t0 + seconds(210), "x", "y", "h2");
  EXPECT_EQ(changed.attempts, 1);
  EXPECT_EQ(changed.spec_hash, "h2");
}

TEST(Backoff, FailedAndRetryingMessagesNameTheFailureAndTheNextAttempt) {
  Clock::time_point t0{seconds(1'767'225'600)};  // 2026-01-01T00:00:00Z
  DiscoveryState s = record_discovery_failure({}, t0, t0, "PodFailed", "exit code 3", "h");
  s = record_discovery_failure(s, t0 + seconds(1), t0 + seconds(60), "PodFailed", "exit code 3",
                               "h");
  auto at = discovery_retry_at(s, "h");  // 60 s after the second failure, plus 120 s
  ASSERT_TRUE(at);
  // An absolute time: the message, and so the status, stays the same while it waits.
  EXPECT_EQ(discovery_failed_message(s, at, t0 + seconds(61)),
            "Discovery attempt 2 failed: exit code 3. Next attempt at 2026-01-01T00:03:00Z");
  EXPECT_EQ(discovery_failed_message(s, at, t0 + seconds(170)),
            discovery_failed_message(s, at, t0 + seconds(61)));
  EXPECT_EQ(discovery_failed_message(s, at, t0 + seconds(180)),
            "Discovery attempt 2 failed: exit code 3. Next attempt now");
  // A message that ends a sentence gets no second period.
  DiscoveryState log = s;
  log.last_failure_reason = "Run with --help for more information.";
  EXPECT_EQ(discovery_failed_message(log, at, t0 + seconds(180)),
            "Discovery attempt 2 failed: Run with --help for more information. Next attempt now");
  EXPECT_EQ(discovery_retrying_message(s),
            "Discovery attempt 3 is running; attempt 2 failed: exit code 3");
}

}  // namespace
}  // namespace aim::engine
