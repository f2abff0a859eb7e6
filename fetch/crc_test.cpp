#include "fetch/crc.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/base64.h"
#include "fetch/digest.h"

namespace aim::fetch {
namespace {

constexpr std::string_view kCheck = "123456789";  // the catalogue's check input

TEST(Crc, CheckValuesOfTheCatalogue) {
  EXPECT_EQ(crc64nvme(0, kCheck.data(), kCheck.size()), 0xae8b14860a799888ull);
  EXPECT_EQ(crc32c(0, kCheck.data(), kCheck.size()), 0xe3069283u);
  EXPECT_EQ(crc32_ieee(0, kCheck.data(), kCheck.size()), 0xcbf43926u);
  EXPECT_EQ(crc64nvme(0, "", 0), 0u);
}

TEST(Crc, AnySplitGivesTheSameValue) {
  std::mt19937_64 rng(7);
  std::string data(100003, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const auto whole64 = crc64nvme(0, data.data(), data.size());
  const auto whole32c = crc32c(0, data.data(), data.size());
  for (size_t cut : {size_t{1}, size_t{7}, size_t{8}, size_t{4099}, data.size() - 3}) {
    EXPECT_EQ(crc64nvme(crc64nvme(0, data.data(), cut), data.data() + cut, data.size() - cut),
              whole64);
    EXPECT_EQ(crc32c(crc32c(0, data.data(), cut), data.data() + cut, data.size() - cut), whole32c);
  }
}

TEST(Crc, TheFastCrc64EqualsTheTablesAtEveryLengthAndOffset) {
  std::mt19937_64 rng(11);
  std::string data(70000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  // Every length around the 64- and 16-byte steps, at misaligned starts, from a running value.
  for (size_t start : {size_t{0}, size_t{1}, size_t{13}})
    for (size_t n = 0; n < 600; ++n)
      ASSERT_EQ(crc64nvme(0x1234, data.data() + start, n),
                crc64nvme_tables(0x1234, data.data() + start, n))
          << "start " << start << " length " << n;
  for (int i = 0; i < 50; ++i) {
    const size_t n = rng() % data.size();
    ASSERT_EQ(crc64nvme(0, data.data(), n), crc64nvme_tables(0, data.data(), n)) << n;
  }
}

TEST(Crc, DigestGivesTheBigEndianBytesS3Publishes) {
  // What S3 sends for "hello world": x-amz-checksum-crc32c: yZRlqg==, crc32: DUoRhQ==.
  Digest c(DigestAlgorithm::kCrc32c);
  c.update("hello ");
  c.update("world");
  EXPECT_EQ(c.hex(), hex_encode(*base64_decode("yZRlqg==")));
  Digest z(DigestAlgorithm::kCrc32);
  z.update("hello world");
  EXPECT_EQ(z.hex(), hex_encode(*base64_decode("DUoRhQ==")));
  Digest n(DigestAlgorithm::kCrc64Nvme);
  n.update(kCheck);
  EXPECT_EQ(n.hex(), "ae8b14860a799888");
}

TEST(Crc, OneFlippedBitChangesEveryCrc) {
  std::string data(4096, 'a');
  const auto a = crc64nvme(0, data.data(), data.size());
  const auto b = crc32c(0, data.data(), data.size());
  data[2048] ^= 0x10;
  EXPECT_NE(crc64nvme(0, data.data(), data.size()), a);
  EXPECT_NE(crc32c(0, data.data(), data.size()), b);
}

}  // namespace
}  // namespace aim::fetch
