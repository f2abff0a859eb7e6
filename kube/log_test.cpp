#include "kube/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aim::kube::log {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(LogTest, JsonRecordHasFixedKeysThenFields) {
  auto line =
      format_record(Format::kJson, Level::kInfo, "controller.model", "reconciled",
                    {{"controller", "model"}}, {{"name", "x"}, {"attempt", 3}, {"ok", true}});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["logger"], "controller.model");
  EXPECT_EQ(j["msg"], "reconciled");
  EXPECT_EQ(j["controller"], "model");
  EXPECT_EQ(j["name"], "x");
  EXPECT_EQ(j["attempt"], 3);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["ts"].is_string());
  EXPECT_THAT(line, StartsWith("{\"ts\":"));
}

TEST(LogTest, JsonFieldsCannotOverwriteReservedKeys) {
  auto j = nlohmann::json::parse(
      format_record(Format::kJson, Level::kWarn, "l", "real", {}, {{"msg", "fake"}}));
  EXPECT_EQ(j["msg"], "real");
  EXPECT_EQ(j["field.msg"], "fake");
}

TEST(LogTest, TextRecordQuotesValuesWithSpaces) {
  auto line = format_record(Format::kText, Level::kError, "mgr", "failed", {},
                            {{"error", "connection refused"}, {"code", 7}, {"key", "ns/n"}});
  EXPECT_THAT(line, HasSubstr(" error mgr failed"));
  EXPECT_THAT(line, HasSubstr("error=\"connection refused\""));
  EXPECT_THAT(line, HasSubstr("code=7"));
  EXPECT_THAT(line, HasSubstr("key=ns/n"));
}

TEST(LogTest, ParsesLevelsAndFormats) {
  Level l{};
  EXPECT_TRUE(parse_level("DEBUG", l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(parse_level("warning", l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(parse_level("loud", l));
  Format f{};
  EXPECT_TRUE(parse_format("text", f));
  EXPECT_EQ(f, Format::kText);
  EXPECT_TRUE(parse_format("json", f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(parse_format("xml", f));
}

TEST(LogTest, LevelFilters) {
  init(Format::kJson, Level::kWarn);
  Logger lg("t");
  EXPECT_FALSE(lg.enabled(Level::kInfo));
  EXPECT_TRUE(lg.enabled(Level::kError));
  init(Format::kJson, Level::kInfo);
  EXPECT_TRUE(lg.enabled(Level::kInfo));
  EXPECT_EQ(lg.named("sub").name(), "t.sub");
}

}  // namespace
}  // namespace aim::kube::log
