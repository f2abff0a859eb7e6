#include "engine/quantity.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

TEST(QuantityValue, SuffixesAndNumbers) {
  EXPECT_EQ(quantity_value("16Gi"), 17179869184);
  EXPECT_EQ(quantity_value("1.5G"), 1500000000);
  EXPECT_EQ(quantity_value("192G"), 192000000000);
  EXPECT_EQ(quantity_value("16106127360"), 16106127360);
  EXPECT_EQ(quantity_value("1500m"), 2);  // rounded up, as Quantity.Value()
  EXPECT_EQ(quantity_value("+1Ki"), 1024);
  EXPECT_EQ(quantity_value(" 2Mi "), 2097152);
  EXPECT_EQ(quantity_value(json(1000)), 1000);
  EXPECT_EQ(quantity_value(json(1.2)), 2);
  EXPECT_EQ(quantity_value("8Ei"), std::nullopt);  // beyond int64
}

// Found by fuzz/quantity_fuzz.cpp: the JSON number 9223192238622286222 was accepted but its
// text, as binary_si_quantity prints it, was rejected (the text path stopped at 9.2e18). The bound
// is now int64 itself for text, numbers and floats alike.
TEST(QuantityValue, TheWholeInt64RangeAsTextAndNumber) {
  EXPECT_EQ(quantity_value(json(9223192238622286222LL)), 9223192238622286222LL);
  EXPECT_EQ(quantity_value("9223192238622286222"), 9223192238622286222LL);
  EXPECT_EQ(quantity_value("9223372036854775807"), 9223372036854775807LL);
  EXPECT_EQ(quantity_value("9223372036854775808"), std::nullopt);
  EXPECT_EQ(quantity_value("8191Pi"), 8191LL << 50);
  EXPECT_EQ(quantity_value("8192Pi"), std::nullopt);                     // 2^63
  EXPECT_EQ(quantity_value(json(9.2233720368547758e18)), std::nullopt);  // 2^63 as a double
  EXPECT_EQ(quantity_value(json(9.2e18)), 9200000000000000000LL);
}

TEST(QuantityValue, Malformed) {
  for (const char* bad : {"", "Gi", "1.2.3", "12XB", "-1", ".", "1 Gi"}) {
    EXPECT_EQ(quantity_value(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(quantity_value(json(-5)), std::nullopt);
  EXPECT_EQ(quantity_value(json::object()), std::nullopt);
}

}  // namespace
}  // namespace aim::engine
