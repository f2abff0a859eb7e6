#include "fetch/failure.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "fetch/transport.h"

namespace aim::fetch {
namespace {

http::Headers headers(std::initializer_list<std::pair<std::string, std::string>> kv) {
  http::Headers h;
  for (auto& [k, v] : kv) h.add(k, v);
  return h;
}

TEST(ClassifyHttp, MapsStatusesToClasses) {
  EXPECT_EQ(classify_http(401, {}, "x").cls, FailureClass::kAuth);
  EXPECT_EQ(classify_http(403, {}, "x").cls, FailureClass::kAuth);
  EXPECT_EQ(classify_http(404, {}, "x").cls, FailureClass::kNotFound);
  EXPECT_EQ(classify_http(429, {}, "x").cls, FailureClass::kRateLimited);
  EXPECT_EQ(classify_http(500, {}, "x").cls, FailureClass::kNetwork);
  EXPECT_EQ(classify_http(504, {}, "x").cls, FailureClass::kTimeout);
  EXPECT_EQ(classify_http(503, headers({{"Retry-After", "3"}}), "x").cls,
            FailureClass::kRateLimited);
  EXPECT_EQ(classify_http(503, headers({{"x-amz-error-code", "SlowDown"}}), "x").cls,
            FailureClass::kRateLimited);
  EXPECT_EQ(classify_http(503, {}, "x").cls, FailureClass::kNetwork);
}

TEST(ClassifyHttp, HubErrorCodesRefineTheClass) {
  auto f = classify_http(401, headers({{"X-Error-Code", "RepoNotFound"}}), "hf org/m");
  EXPECT_EQ(f.cls, FailureClass::kNotFound);
  EXPECT_NE(f.message.find("RepoNotFound"), std::string::npos);
  EXPECT_EQ(classify_http(404, headers({{"X-Error-Code", "RevisionNotFound"}}), "x").cls,
            FailureClass::kNotFound);
  auto g = classify_http(403, headers({{"X-Error-Code", "GatedRepo"}}), "x");
  EXPECT_EQ(g.cls, FailureClass::kAuth);
  EXPECT_NE(g.message.find("gated"), std::string::npos);
}

TEST(ClassifyHttp, RetryableClasses) {
  EXPECT_TRUE(classify_http(429, {}, "x").retryable());
  EXPECT_TRUE(classify_http(502, {}, "x").retryable());
  EXPECT_FALSE(classify_http(403, {}, "x").retryable());
  EXPECT_FALSE(classify_http(404, {}, "x").retryable());
}

TEST(ClassifyErrno, DiskFullVariants) {
  EXPECT_EQ(classify_errno(ENOSPC, "w").cls, FailureClass::kDiskFull);
  EXPECT_EQ(classify_errno(EDQUOT, "w").cls, FailureClass::kDiskFull);
  EXPECT_EQ(classify_errno(EFBIG, "w").cls, FailureClass::kDiskFull);
  EXPECT_EQ(classify_errno(EACCES, "w").cls, FailureClass::kInternal);
}

TEST(ClassifyTransport, TimeoutsAndNetwork) {
  EXPECT_EQ(classify_transport({http::ErrorKind::kTimeout, "stall"}, "x").cls,
            FailureClass::kTimeout);
  EXPECT_EQ(classify_transport({http::ErrorKind::kConnect, "refused"}, "x").cls,
            FailureClass::kNetwork);
  auto tls = classify_transport({http::ErrorKind::kTls, "bad cert"}, "x");
  EXPECT_EQ(tls.cls, FailureClass::kNetwork);
  EXPECT_FALSE(tls.retryable());
  EXPECT_TRUE(classify_transport({http::ErrorKind::kConnect, "refused"}, "x").retryable());
}

TEST(ExitCodes, AreDistinctPerClass) {
  std::set<int> codes;
  for (auto c : {FailureClass::kInternal, FailureClass::kInvalidArgument, FailureClass::kAuth,
                 FailureClass::kNotFound, FailureClass::kRateLimited, FailureClass::kDiskFull,
                 FailureClass::kChecksumMismatch, FailureClass::kTimeout, FailureClass::kNetwork,
                 FailureClass::kUnsafePath, FailureClass::kCancelled})
    EXPECT_TRUE(codes.insert(exit_code(c)).second) << to_string(c);
  EXPECT_EQ(to_string(FailureClass::kDiskFull), "disk_full");
}

TEST(RetryAfter, SecondsAndHttpDates) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("120", now), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_FALSE(parse_retry_after("soon", now).has_value());
  EXPECT_FALSE(parse_retry_after("", now).has_value());
}

// Found by fuzz/source_uri_fuzz.cpp: a date the clock cannot hold overflowed int64 nanoseconds in
// system_clock::from_time_t (UBSan: signed integer overflow). Far dates now wait a day or not at
// all.
TEST(RetryAfter, DatesFarAheadOrBehind) {
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("Wed, 2 Oct 4034 07:28:30 GMT", now),
            std::chrono::milliseconds(std::chrono::hours(24)));
  EXPECT_EQ(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now),
            std::chrono::milliseconds(std::chrono::hours(24)));
  EXPECT_EQ(parse_retry_after("Thu, 22 Oct 2015 07:28:01 GMT", now),
            std::chrono::milliseconds(std::chrono::hours(24)));
  EXPECT_EQ(parse_retry_after("Wed, 2 Oct 1000 07:28:30 GMT", now), std::chrono::milliseconds(0));
  auto later = now + std::chrono::milliseconds(250);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", later),
            std::chrono::milliseconds(29750));
}

TEST(Backoff, HonoursRetryAfterAndGrowsOtherwise) {
  RetryPolicy p;
  p.base = std::chrono::milliseconds(100);
  p.cap = std::chrono::milliseconds(1000);
  std::mt19937_64 rng(42);
  Failure ra{FailureClass::kRateLimited, "429"};
  ra.retry_after = std::chrono::milliseconds(2000);
  for (int i = 0; i < 20; ++i) {
    auto d = backoff_delay(p, 1, ra, rng);
    EXPECT_GE(d.count(), 2000);
    EXPECT_LE(d.count(), 2200);
  }
  Failure net{FailureClass::kNetwork, "reset"};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    long long full = std::min<long long>(1000, 100LL << (attempt - 1));
    for (int i = 0; i < 20; ++i) {
      auto d = backoff_delay(p, attempt, net, rng).count();
      EXPECT_GE(d, full / 2) << attempt;
      EXPECT_LE(d, full) << attempt;
    }
  }
  ra.retry_after = std::chrono::hours(2);
  EXPECT_LE(backoff_delay(p, 1, ra, rng), p.max_retry_after + p.max_retry_after / 10);
}

}  // namespace
}  // namespace aim::fetch
