#include "core/chrono.h"

#include <gtest/gtest.h>

#include <vector>

namespace aim {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(Rfc3339, ParsesWhatTheApiServerAndExecPluginsWrite) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-01-02T03:04:05Z"), 1767323045);
  EXPECT_EQ(parse_rfc3339("2026-01-02t03:04:05z"), 1767323045);
  EXPECT_EQ(parse_rfc3339("2026-01-02 03:04:05Z"), 1767323045);
  EXPECT_EQ(parse_rfc3339("2030-01-02T04:04:05.123+01:00"), 1893553445);  // offset honoured
  EXPECT_EQ(parse_rfc3339("2030-01-02T02:04:05.999999999-01:00"), 1893553445);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);  // a leap day
}

TEST(Rfc3339, RejectsEverythingElse) {
  for (const char* bad :
       {"", "2030-01-02", "2030-01-02T04:04:05", "2030-01-02T04:04:05+0100", "2030-13-02T04:04:05Z",
        "2030-00-02T04:04:05Z", "2030-02-30T04:04:05Z", "2023-02-29T00:00:00Z",
        "2030-01-02T24:00:00Z", "2030-01-02T04:60:05Z", "2030-01-02T04:04:61Z",
        "2030-01-02T04:04:05.Z", "2030-01-02T04:04:05Zjunk", "2030-01-02X04:04:05Z",
        "20301-01-02T04:04:05Z", "2030-01-02T04:04:05+25:00", "abcd-ef-ghTij:kl:mnZ"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

// Found by fuzz/chrono_fuzz.cpp: parse_rfc3339_time("0226-01-01T00:00:00.000000Z") overflowed
// int64 nanoseconds in system_clock::from_time_t (UBSan: signed integer overflow). Every caller
// turns the seconds into a system_clock time point, so times outside its range are rejected.
TEST(Rfc3339, RejectsTimesTheSystemClockCannotHold) {
  for (const char* bad :
       {"0226-01-01T00:00:00.000000Z", "0001-01-01T00:00:00Z", "1677-09-21T00:12:43Z",
        "2262-04-11T23:47:16Z", "9999-12-31T23:59:59Z", "2262-04-11T23:47:15-01:00"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
    EXPECT_FALSE(parse_rfc3339_time(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:15Z"), 9223372035);
  EXPECT_EQ(parse_rfc3339("1677-09-21T00:12:45Z"), -9223372035);
  EXPECT_EQ(parse_rfc3339_time("2262-04-11T23:47:15.999999Z"),
            std::chrono::system_clock::from_time_t(9223372035) + std::chrono::microseconds(999999));
}

TEST(Rfc3339, FormatsAsTheApiServerDoesAndRoundTrips) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1767323045), "2026-01-02T03:04:05Z");
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{1767323045}, int64_t{4102444799}})
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
}

TEST(Rfc3339, MicroTimeKeepsTheFractionAndRoundTrips) {
  auto t = std::chrono::system_clock::from_time_t(1767225600) + std::chrono::microseconds(123456);
  EXPECT_EQ(format_rfc3339_micro(t), "2026-01-01T00:00:00.123456Z");
  EXPECT_EQ(format_rfc3339_micro(std::chrono::system_clock::from_time_t(1767225600)),
            "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(parse_rfc3339_time("2026-01-01T00:00:00.123456Z"), t);
  EXPECT_EQ(parse_rfc3339_time("2026-01-01T00:00:00.123456789Z"), t);  // beyond micro: dropped
  EXPECT_EQ(parse_rfc3339_time("2026-01-01T00:00:00.5Z"),
            std::chrono::system_clock::from_time_t(1767225600) + std::chrono::milliseconds(500));
  EXPECT_EQ(parse_rfc3339_time("2026-01-01T00:00:00Z"),
            std::chrono::system_clock::from_time_t(1767225600));
  EXPECT_FALSE(parse_rfc3339_time("yesterday").has_value());
}

TEST(GoDuration, ParsesGosGrammar) {
  struct Case {
    const char* in;
    int64_t ns;
  } cases[] = {
      {"0", 0},
      {"-0", 0},
      {"0s", 0},
      {"1h", 3600'000'000'000},
      {"15m", 900'000'000'000},
      {"1h30m10s", 5410'000'000'000},
      {"1.5s", 1'500'000'000},
      {".5s", 500'000'000},
      {"5.s", 5'000'000'000},
      {"500ms", 500'000'000},
      {"2us", 2'000},
      {"2\xC2\xB5s", 2'000},
      {"7ns", 7},
      {"-2m", -120'000'000'000},
      {"+3s", 3'000'000'000},
      {"1h0.5m", 3630'000'000'000},
      {"9223372036854775807ns", 9223372036854775807},
  };
  for (const auto& c : cases) {
    auto d = parse_go_duration(c.in);
    ASSERT_TRUE(d.ok()) << c.in << ": " << d.error();
    EXPECT_EQ(d->count(), c.ns) << c.in;
  }
}

TEST(GoDuration, RejectsWhatGoRejectsWithAReason) {
  for (const std::string& bad : std::vector<std::string>{
           "", "abc", "soon", "10", "10x", "5d", "1..2s", ".s", ".h", "1.2.3s", "s", "-", "1h 2m",
           "9223372036854775808ns", "3000000h", std::string(40, '9') + "s"})
    EXPECT_FALSE(parse_go_duration(bad).ok()) << bad;
  EXPECT_EQ(parse_go_duration("10").error(), "invalid duration \"10\": missing unit");
  EXPECT_EQ(parse_go_duration("5d").error(), "invalid duration \"5d\": unknown unit \"d\"");
  EXPECT_EQ(parse_go_duration("").error(), "invalid duration \"\": empty");
}

TEST(GoDuration, FormatsAsGosStringAndRoundTrips) {
  EXPECT_EQ(format_go_duration(seconds(0)), "0s");
  EXPECT_EQ(format_go_duration(seconds(45)), "45s");
  EXPECT_EQ(format_go_duration(seconds(60)), "1m0s");
  EXPECT_EQ(format_go_duration(seconds(3600)), "1h0m0s");
  EXPECT_EQ(format_go_duration(seconds(3725)), "1h2m5s");
  EXPECT_EQ(format_go_duration(seconds(-90)), "-1m30s");
  EXPECT_EQ(format_go_duration(nanoseconds(1'500'000'000)), "1.5s");
  EXPECT_EQ(format_go_duration(nanoseconds(500'000'000)), "500ms");
  EXPECT_EQ(format_go_duration(nanoseconds(2'500)), "2.5\xC2\xB5s");
  EXPECT_EQ(format_go_duration(nanoseconds(7)), "7ns");
  for (const char* text : {"2m0s", "1h30m0s", "1.5s", "500ms", "45s", "-1m30s", "7ns"})
    EXPECT_EQ(format_go_duration(*parse_go_duration(text)), text);
}

}  // namespace
}  // namespace aim
