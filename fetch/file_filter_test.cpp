#include "fetch/file_filter.h"

#include <gtest/gtest.h>

namespace aim::fetch {
namespace {

Listing listing_of(std::vector<std::string> paths) {
  Listing l;
  for (auto& p : paths) l.files.push_back(RemoteFile{.path = std::move(p)});
  return l;
}

std::vector<std::string> paths_of(const Listing& l) {
  std::vector<std::string> out;
  for (const auto& f : l.files) out.push_back(f.path);
  return out;
}

const std::vector<std::string> kRepo = {"config.json",
                                        "model-00001-of-00002.safetensors",
                                        "model-00002-of-00002.safetensors",
                                        "gguf/m-Q4_K_M.gguf",
                                        "gguf/m-Q8_0.gguf",
                                        "adapters/lora/adapter.bin",
                                        "original/consolidated.pth",
                                        "README.md"};

TEST(FileFilter, NoPatternsSelectEverything) {
  FileFilter f;
  EXPECT_TRUE(f.empty());
  for (const auto& p : kRepo) EXPECT_TRUE(f.selects(p)) << p;
}

TEST(FileFilter, StarCrossesDirectoriesLikeHuggingFaceHub) {
  FileFilter f{.include = {"*.gguf"}};
  auto l = listing_of(kRepo);
  ASSERT_TRUE(apply_filter(l, f, "hf://org/m").ok());
  EXPECT_EQ(paths_of(l), (std::vector<std::string>{"gguf/m-Q4_K_M.gguf", "gguf/m-Q8_0.gguf"}));
}

TEST(FileFilter, OneFileAndADirectoryByTrailingSlash) {
  FileFilter f{.include = {"gguf/m-Q4_K_M.gguf", "adapters/"}};
  auto l = listing_of(kRepo);
  ASSERT_TRUE(apply_filter(l, f, "hf://org/m").ok());
  EXPECT_EQ(paths_of(l),
            (std::vector<std::string>{"gguf/m-Q4_K_M.gguf", "adapters/lora/adapter.bin"}));
}

TEST(FileFilter, ExcludeWinsOverInclude) {
  FileFilter f{.include = {"*.safetensors", "*.json"}, .exclude = {"*-00002-*"}};
  auto l = listing_of(kRepo);
  ASSERT_TRUE(apply_filter(l, f, "hf://org/m").ok());
  EXPECT_EQ(paths_of(l),
            (std::vector<std::string>{"config.json", "model-00001-of-00002.safetensors"}));
}

TEST(FileFilter, ExcludeAloneDropsADirectory) {
  FileFilter f{.exclude = {"original/*", "*.md"}};
  auto l = listing_of(kRepo);
  ASSERT_TRUE(apply_filter(l, f, "hf://org/m").ok());
  EXPECT_EQ(l.files.size(), kRepo.size() - 2);
  for (const auto& p : paths_of(l)) EXPECT_NE(p.rfind("original/", 0), 0u) << p;
}

TEST(FileFilter, CharacterClassesAndQuestionMarks) {
  FileFilter f{.include = {"gguf/m-Q[48]_?.gguf"}};
  EXPECT_TRUE(f.selects("gguf/m-Q8_0.gguf"));
  EXPECT_FALSE(f.selects("gguf/m-Q4_K_M.gguf"));
}

TEST(FileFilter, NothingSelectedIsNotFoundAndSaysWhy) {
  FileFilter f{.include = {"*.ggfu"}};
  auto l = listing_of(kRepo);
  auto r = apply_filter(l, f, "hf://org/m");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kNotFound);
  EXPECT_EQ(r.error().message, "no file of hf://org/m matches include *.ggfu (8 files listed)");
}

TEST(FileFilter, DescribeNamesBothLists) {
  FileFilter f{.include = {"*.gguf", "*.json"}, .exclude = {"*Q2*"}};
  EXPECT_EQ(f.describe(), "include *.gguf, *.json; exclude *Q2*");
}

TEST(FileFilter, BadPatternsAreRejectedWithTheReason) {
  EXPECT_TRUE(check_pattern("*.safetensors").ok());
  EXPECT_TRUE(check_pattern("gguf/m-Q[48]_0.gguf").ok());
  EXPECT_TRUE(check_pattern("literal\\[bracket").ok());
  EXPECT_EQ(check_pattern("").error(), "a file pattern must not be empty");
  EXPECT_EQ(check_pattern("m-[Q4.gguf").error(), "file pattern 'm-[Q4.gguf' has an unclosed '['");
  EXPECT_NE(check_pattern("a\nb").error().find("control character"), std::string::npos);
  EXPECT_NE(check_pattern(std::string(1025, 'a')).error().find("longer than 1024"),
            std::string::npos);
}

}  // namespace
}  // namespace aim::fetch
