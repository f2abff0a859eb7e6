#include "core/base64.h"

#include <gtest/gtest.h>

namespace aim {
namespace {

TEST(Base64, EncodesWithPadding) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string s;
  for (int i = 0; i < 300; ++i) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
    s.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64, DecodeToleratesWhitespaceMissingPaddingAndUrlAlphabet) {
  EXPECT_EQ(base64_decode("YWJj\nZA=="), std::optional<std::string>("abcd"));
  EXPECT_EQ(base64_decode("YWJjZA"), std::optional<std::string>("abcd"));
  EXPECT_EQ(base64_decode("-_8"), base64_decode("+/8"));
}

TEST(Base64, DecodeRejectsGarbage) {
  EXPECT_FALSE(base64_decode("a$bc").has_value());
  EXPECT_FALSE(base64_decode("ab=c").has_value());
  EXPECT_FALSE(base64_decode("a").has_value());
  EXPECT_FALSE(base64_decode("YQ===").has_value());
}

}  // namespace
}  // namespace aim
