#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace aim::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

struct FakeClock {
  TokenBucket::Clock::time_point now{};
  TokenBucket::NowFn fn() {
    return [this] { return now; };
  }
  void advance(milliseconds d) { now += d; }
};

TEST(TokenBucket, StartsFullAndAllowsBurst) {
  FakeClock clock;
  TokenBucket bucket(10, 3, clock.fn());
  EXPECT_TRUE(bucket.try_take());
  EXPECT_TRUE(bucket.try_take());
  EXPECT_TRUE(bucket.try_take());
  EXPECT_FALSE(bucket.try_take());
}

TEST(TokenBucket, RefillsAtQps) {
  FakeClock clock;
  TokenBucket bucket(4, 2, clock.fn());  // one token per 250 ms
  ASSERT_TRUE(bucket.try_take());
  ASSERT_TRUE(bucket.try_take());
  clock.advance(milliseconds(125));
  EXPECT_FALSE(bucket.try_take());
  clock.advance(milliseconds(125));
  EXPECT_TRUE(bucket.try_take());
  EXPECT_FALSE(bucket.try_take());
}

TEST(TokenBucket, NeverHoldsMoreThanBurst) {
  FakeClock clock;
  TokenBucket bucket(100, 5, clock.fn());
  clock.advance(milliseconds(60'000));
  EXPECT_DOUBLE_EQ(bucket.available(), 5);
}

TEST(TokenBucket, ReservationsQueueUpInOrder) {
  FakeClock clock;
  TokenBucket bucket(4, 1, clock.fn());  // one token per 250 ms
  EXPECT_EQ(bucket.reserve(), nanoseconds(0));
  EXPECT_EQ(bucket.reserve(), milliseconds(250));
  EXPECT_EQ(bucket.reserve(), milliseconds(500));
  EXPECT_DOUBLE_EQ(bucket.available(), -2);
  clock.advance(milliseconds(500));
  // The two waiters' tokens have now arrived; the next caller waits one more interval.
  EXPECT_EQ(bucket.reserve(), milliseconds(250));
}

TEST(TokenBucket, LongRunRateIsQps) {
  FakeClock clock;
  TokenBucket bucket(5, 10, clock.fn());
  int granted = 0;
  for (int tick = 0; tick < 1000; ++tick) {  // 10 s in 10 ms steps, trying every step
    if (bucket.try_take()) ++granted;
    clock.advance(milliseconds(10));
  }
  // The burst, then qps for the 9.99 s that follow; the refill is floating point, so the token
  // due exactly at a step boundary may land on either side of it.
  EXPECT_LE(granted, 10 + 50);
  EXPECT_GE(granted, 10 + 49 - 1);
}

TEST(TokenBucket, ZeroQpsMeansUnlimited) {
  TokenBucket bucket(0, 1);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.try_take());
  EXPECT_EQ(bucket.reserve(), nanoseconds(0));
}

TEST(TokenBucket, TakeReturnsAtOnceWithTokensAndHonoursCancel) {
  FakeClock clock;
  TokenBucket bucket(0.001, 1, clock.fn());  // the second token is ~17 minutes away
  EXPECT_TRUE(bucket.take());
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(bucket.take(&cancel));
  // The cancelled reservation was returned.
  EXPECT_DOUBLE_EQ(bucket.available(), 0);
}

}  // namespace
}  // namespace aim::kube
