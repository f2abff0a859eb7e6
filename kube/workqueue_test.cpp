#include "kube/workqueue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace aim::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

WorkQueue::Options opts(metrics::Registry& reg) {
  WorkQueue::Options o;
  o.registry = &reg;
  return o;
}

TEST(WorkQueueTest, DeduplicatesWaitingKeysAndKeepsOrder) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueueTest, KeyReaddedWhileProcessingIsQueuedAgainAfterDone) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  q.add("a");
  ASSERT_EQ(q.get(), "a");
  q.add("a");
  q.add("a");
  // Not handed out while a worker holds it.
  EXPECT_EQ(q.len(), 0u);
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueueTest, NeverTwoWorkersOnOneKey) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  std::mutex mu;
  std::map<std::string, int> active;
  std::atomic<int> violations{0};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        {
          std::lock_guard lock(mu);
          if (++active[*key] > 1) ++violations;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          --active[*key];
        }
        ++processed;
        q.done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.add("k" + std::to_string(i % 3));
  // Drain: wait until nothing is queued, then stop.
  while (q.len() > 0) std::this_thread::yield();
  q.shut_down();
  for (auto& t : workers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(processed.load(), 3);
}

TEST(WorkQueueTest, AddAfterDelaysAndEarlierTimeWins) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  q.add_after("a", seconds(3600));
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.delayed(), 1u);
  q.add_after("a", seconds(7200));  // later: ignored
  EXPECT_EQ(q.delayed(), 1u);
  q.add_after("a", milliseconds(1));  // earlier: replaces
  EXPECT_EQ(q.get(), "a");            // blocks until the delay passes
  EXPECT_EQ(q.delayed(), 0u);
}

TEST(WorkQueueTest, ZeroDelayAddsImmediately) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  q.add_after("a", Duration::zero());
  EXPECT_EQ(q.len(), 1u);
}

TEST(WorkQueueTest, ShutdownWakesBlockedWorkersAndIgnoresAdds) {
  auto reg = metrics::make_registry();
  WorkQueue q("t", opts(*reg));
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.get(); });
  q.shut_down();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  q.add("a");
  EXPECT_EQ(q.len(), 0u);
  EXPECT_TRUE(q.shutting_down());
}

TEST(WorkQueueTest, MetricsCountAddsDepthAndRetries) {
  auto reg = metrics::make_registry();
  WorkQueue q("myq", opts(*reg));
  q.add("a");
  q.add("a");
  q.add("b");
  auto text = reg->render();
  EXPECT_THAT(text, ::testing::HasSubstr("workqueue_adds_total{name=\"myq\"} 3\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("workqueue_depth{name=\"myq\"} 2\n"));
  auto k = q.get();
  q.done(*k);
  q.add_rate_limited("c");
  text = reg->render();
  EXPECT_THAT(text, ::testing::HasSubstr("workqueue_retries_total{name=\"myq\"} 1\n"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("workqueue_queue_duration_seconds_count{name=\"myq\"} 1\n"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("workqueue_work_duration_seconds_count{name=\"myq\"} 1\n"));
  EXPECT_EQ(q.num_requeues("c"), 1);
  q.forget("c");
  EXPECT_EQ(q.num_requeues("c"), 0);
}

// The gauges of work in progress, read at scrape time (client-go's names): a stuck worker shows.
TEST(WorkQueueTest, UnfinishedWorkAndTheLongestRunningProcessorAreReadWhenScraped) {
  auto reg = metrics::make_registry();
  WorkQueue q("slow", opts(*reg));
  auto value = [&](const std::string& name) {
    const std::string text = reg->render();
    const std::string series = name + "{name=\"slow\"} ";
    const auto at = text.find(series);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + series.size()));
  };
  EXPECT_EQ(value("workqueue_unfinished_work_seconds"), 0);
  q.add("a");
  q.add("b");
  auto a = q.get();
  std::this_thread::sleep_for(milliseconds(200));
  auto b = q.get();
  std::this_thread::sleep_for(milliseconds(100));
  const double longest = value("workqueue_longest_running_processor_seconds");
  const double unfinished = value("workqueue_unfinished_work_seconds");
  EXPECT_GE(longest, 0.3);
  EXPECT_LT(longest, 30.0);
  EXPECT_GE(unfinished, longest + 0.1) << "the sum over both keys in progress";
  q.done(*a);
  q.done(*b);
  EXPECT_EQ(value("workqueue_unfinished_work_seconds"), 0);
  EXPECT_EQ(value("workqueue_longest_running_processor_seconds"), 0);
}

TEST(RateLimiterTest, PerKeyExponentialBackoffDoublesFrom5msAndCapsAt1000s) {
  ItemExponentialRateLimiter l(milliseconds(5), seconds(1000));
  for (int n = 0; n < 18; ++n) {
    EXPECT_EQ(l.when("k"), milliseconds(5) * (1LL << n)) << "failure " << n;
  }
  // 5 ms * 2^18 = 1310.72 s > 1000 s
  EXPECT_EQ(l.when("k"), seconds(1000));
  for (int n = 0; n < 100; ++n) (void)l.when("k");  // no overflow at large exponents
  EXPECT_EQ(l.when("k"), seconds(1000));
  EXPECT_EQ(l.retries("k"), 120);
  // Keys are independent; forget resets.
  EXPECT_EQ(l.when("other"), milliseconds(5));
  l.forget("k");
  EXPECT_EQ(l.retries("k"), 0);
  EXPECT_EQ(l.when("k"), milliseconds(5));
}

TEST(RateLimiterTest, TokenBucketAllowsBurstThenSpacesAtQps) {
  FakeClock clock;
  BucketRateLimiter l(10, 100, clock);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(l.when("k" + std::to_string(i)), Duration::zero());
  // Empty: each reservation waits one more token interval (100 ms at 10 qps).
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(l.when("x")), milliseconds(100));
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(l.when("y")), milliseconds(200));
  // One second refills 10 tokens, 2 of which pay the debt.
  clock.advance(seconds(1));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(l.when("z"), Duration::zero()) << i;
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(l.when("z")), milliseconds(100));
  // A long idle period refills no more than the burst.
  clock.advance(seconds(3600));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(l.when("w"), Duration::zero());
  EXPECT_GT(l.when("w"), Duration::zero());
}

TEST(RateLimiterTest, DefaultControllerLimiterTakesTheMaximum) {
  FakeClock clock;
  auto l = default_controller_rate_limiter(clock);
  EXPECT_EQ(l->when("a"), milliseconds(5));
  EXPECT_EQ(l->when("a"), milliseconds(10));
  EXPECT_EQ(l->retries("a"), 2);
  // Drain the bucket with other keys: the bucket delay now dominates a fresh key's 5 ms.
  for (int i = 0; i < 200; ++i) (void)l->when("b" + std::to_string(i));
  EXPECT_GT(l->when("fresh"), seconds(1));
  l->forget("a");
  EXPECT_EQ(l->retries("a"), 0);
}

}  // namespace
}  // namespace aim::kube
