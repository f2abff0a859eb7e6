#include "core/json_fields.h"

#include <gtest/gtest.h>

namespace aim {
namespace {

using nlohmann::json;

TEST(JsonFields, StringMemberReadsOnlyAStringOfAnObject) {
  EXPECT_EQ(string_member(json{{"name", "a"}}, "name"), "a");
  EXPECT_EQ(string_member(json{{"name", 7}}, "name", "none"), "none");
  EXPECT_EQ(string_member(json{{"other", "a"}}, "name"), "");
  EXPECT_EQ(string_member(json::array({"name"}), "name"), "");
  EXPECT_EQ(string_member(json("name"), "name"), "");
  EXPECT_EQ(find_string(json(nullptr), "name"), nullptr);
}

TEST(JsonFields, StringAtReadsTwoLevelsAndNeverThrows) {
  const json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", 5}}}};
  EXPECT_EQ(string_at(pod, "metadata", "name"), "p");
  EXPECT_EQ(string_at(pod, "metadata", "namespace"), "ns");
  EXPECT_EQ(string_at(pod, "metadata", "uid"), "");                       // not a string
  EXPECT_EQ(string_at(pod, "metadata", "labels"), "");                    // absent
  EXPECT_EQ(string_at(pod, "spec", "name"), "");                          // no first level
  EXPECT_EQ(string_at(json{{"metadata", "x"}}, "metadata", "name"), "");  // not an object
  EXPECT_EQ(string_at(json::array({1, 2}), "metadata", "name"), "");
  EXPECT_EQ(string_at(json(3), "metadata", "name"), "");
}

}  // namespace
}  // namespace aim
