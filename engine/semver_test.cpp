#include "engine/semver.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

TEST(Semver, StrictParse) {
  for (const char* ok :
       {"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
        "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85"}) {
    EXPECT_TRUE(parse_semver(ok)) << ok;
  }
  for (const char* bad :
       {"", "1", "1.2", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-01", "1.2.3-a..b",
        "1.2.3+", "1.2.3+a_b", "a.b.c", "1.2.3.4", "latest"}) {
    EXPECT_FALSE(parse_semver(bad)) << bad;
  }
}

TEST(Semver, Precedence) {
  const std::vector<std::string> ordered = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                            "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                            "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                            "1.1.0",       "2.0.0"};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_LT(compare_semver(*parse_semver(ordered[i]), *parse_semver(ordered[i + 1])), 0)
        << ordered[i] << " < " << ordered[i + 1];
    EXPECT_GT(compare_semver(*parse_semver(ordered[i + 1]), *parse_semver(ordered[i])), 0);
  }
  EXPECT_EQ(compare_semver(*parse_semver("1.0.0+a"), *parse_semver("1.0.0+b")), 0);
}

struct RangeCase {
  std::string range, version;
  bool want;
};

TEST(Semver, Ranges) {
  const std::vector<RangeCase> cases = {
      {">=1.0.0", "1.0.0", true},
      {">=1.0.0", "0.9.9", false},
      {">1.0.0 <2.0.0", "1.5.0", true},
      {">1.0.0 <2.0.0", "2.0.0", false},
      {">= 1.0.0", "1.0.0", true},
      {"<=1.2.3", "1.2.3", true},
      {"1.2.3", "1.2.3", true},
      {"=1.2.3", "1.2.4", false},
      {"==1.2.3", "1.2.3", true},
      {"!=1.2.3", "1.2.4", true},
      {"!1.2.3", "1.2.3", false},
      {"<1.0.0 || >=3.0.0", "3.1.0", true},
      {"<1.0.0 || >=3.0.0", "2.0.0", false},
      {">=0.8.0", "0.8.1-rc1", true},
      {">=1.0.0", "1.0.0-rc1", false},
      {"1.x", "1.9.9", true},
      {"1.x", "2.0.0", false},
      {">1.x", "2.0.0", true},
      {">1.x", "1.9.0", false},
      {"<=1.2.x", "1.2.9", true},
      {"<=1.2.x", "1.3.0", false},
      {"1.2.x", "1.2.0", true},
      {"!=1.x", "3.0.0", false},  // blang quirk: "<1.0.0 >=2.0.0" matches nothing
  };
  for (const auto& c : cases) {
    auto r = parse_semver_range(c.range);
    ASSERT_TRUE(r) << c.range << ": " << r.error();
    EXPECT_EQ((*r)(*parse_semver(c.version)), c.want) << c.range << " vs " << c.version;
  }
}

TEST(Semver, RangeErrors) {
  for (const char* bad :
       {"", "~1.2.0", "^1.0.0", ">=1.0", "|| >1.0.0", ">1.0.0 ||", "latest", "=>1.0.0"}) {
    EXPECT_FALSE(parse_semver_range(bad)) << bad;
  }
}

}  // namespace
}  // namespace aim::engine
