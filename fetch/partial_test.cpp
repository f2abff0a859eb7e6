#include "fetch/partial.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace aim::fetch {
namespace {

TEST(PlanRanges, SplitsAndKeepsTheTail) {
  auto r = plan_ranges(10, 4);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], (ByteRange{0, 4}));
  EXPECT_EQ(r[1], (ByteRange{4, 8}));
  EXPECT_EQ(r[2], (ByteRange{8, 10}));
  EXPECT_EQ(plan_ranges(8, 4).size(), 2u);
  EXPECT_EQ(plan_ranges(3, 4).size(), 1u);
}

TEST(PlanRanges, EmptyFileAndNoChunkingGiveOneRange) {
  EXPECT_EQ(plan_ranges(0, 4), (std::vector<ByteRange>{{0, 0}}));
  EXPECT_EQ(plan_ranges(100, 0), (std::vector<ByteRange>{{0, 100}}));
}

TEST(PartialState, TracksProgressAndCompletion) {
  auto s = PartialState::fresh("a/b.bin", 10, "sha256:x", 4);
  EXPECT_EQ(s.done.size(), 3u);
  EXPECT_FALSE(s.complete());
  s.done = {4, 2, 2};
  EXPECT_EQ(s.bytes_done(), 8u);
  EXPECT_FALSE(s.complete());
  s.done[1] = 4;
  EXPECT_TRUE(s.complete());
}

TEST(PartialState, RoundTripsThroughJsonAndDisk) {
  auto s = PartialState::fresh("model.safetensors", 1000, "sha256:abc", 300);
  s.done = {300, 17, 0, 5};
  auto dir =
      std::filesystem::temp_directory_path() / ("fetch-partial-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "x.part.json";
  ASSERT_TRUE(save_state(file, s).ok());
  auto back = load_state(file);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->path, s.path);
  EXPECT_EQ(back->done, s.done);
  EXPECT_TRUE(back->matches(1000, "sha256:abc", 300));
  EXPECT_FALSE(back->matches(1001, "sha256:abc", 300));
  EXPECT_FALSE(back->matches(1000, "sha256:other", 300));
  EXPECT_FALSE(back->matches(1000, "sha256:abc", 200));
  std::filesystem::remove_all(dir);
}

TEST(PartialState, RejectsInconsistentRecords) {
  EXPECT_FALSE(PartialState::from_json("not json").ok());
  EXPECT_FALSE(
      PartialState::from_json(
          R"({"version":1,"path":"a","size":10,"identity":"i","chunkSize":4,"done":[4,4]})")
          .ok());
  EXPECT_FALSE(
      PartialState::from_json(
          R"({"version":1,"path":"a","size":10,"identity":"i","chunkSize":4,"done":[5,0,0]})")
          .ok());
  EXPECT_FALSE(
      PartialState::from_json(
          R"({"version":2,"path":"a","size":10,"identity":"i","chunkSize":4,"done":[0,0,0]})")
          .ok());
  EXPECT_TRUE(
      PartialState::from_json(
          R"({"version":1,"path":"a","size":10,"identity":"i","chunkSize":4,"done":[4,0,2]})")
          .ok());
}

}  // namespace
}  // namespace aim::fetch
