#include "core/digest.h"

#include <gtest/gtest.h>

namespace aim {
namespace {

TEST(Digest, KnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha512_hex("abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(hex_encode(std::string("\x00\x7f\x80\xff", 4)), "007f80ff");
  EXPECT_EQ(hex_encode(""), "");
}

}  // namespace
}  // namespace aim
