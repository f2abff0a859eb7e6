#include "registry/digest.h"

#include <gtest/gtest.h>

namespace aim::registry {
namespace {

TEST(Digest, Sha256) {
  EXPECT_EQ(sha256_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, Verify) {
  EXPECT_TRUE(verify_digest(
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc"));
  auto mismatch = verify_digest(
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abd");
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("digest mismatch"), std::string::npos);
  EXPECT_TRUE(
      verify_digest("sha512:"
                    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1"
                    "a836ba3c23a3feebbd"
                    "454d4423643ce80e2a9ac94fa54ca49f",
                    "abc"));
  EXPECT_FALSE(verify_digest("md5:900150983cd24fb0d6963f7d28e17f72", "abc"));
  EXPECT_FALSE(verify_digest(
      "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "abc"));
  EXPECT_FALSE(verify_digest("sha256:abc", "abc"));
  EXPECT_FALSE(valid_digest("ba7816bf"));
}

}  // namespace
}  // namespace aim::registry
