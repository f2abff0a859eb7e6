#include "fetch/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "fetch/digest.h"

namespace aim::fetch {
namespace {

TEST(ContentDigest, IsOrderIndependentAndSensitiveToEveryField) {
  std::vector<ManifestEntry> a{{"b.bin", 2, "bb"}, {"a.json", 1, "aa"}};
  std::vector<ManifestEntry> b{{"a.json", 1, "aa"}, {"b.bin", 2, "bb"}};
  EXPECT_EQ(content_digest(a), content_digest(b));
  EXPECT_EQ(content_digest(a), "sha256:" + sha256_hex("a.json\t1\taa\nb.bin\t2\tbb\n"));
  auto c = b;
  c[1].size = 3;
  EXPECT_NE(content_digest(c), content_digest(b));
  c = b;
  c[0].sha256 = "ab";
  EXPECT_NE(content_digest(c), content_digest(b));
  c = b;
  c[0].path = "a2.json";
  EXPECT_NE(content_digest(c), content_digest(b));
}

TEST(ManifestJson, ListsFilesSortedWithTheDigest) {
  auto j =
      nlohmann::json::parse(manifest_json("hf://o/m", "abc", {{"z", 1, "zz"}, {"a", 2, "aa"}}));
  EXPECT_EQ(j["revision"], "abc");
  EXPECT_EQ(j["files"][0]["path"], "a");
  EXPECT_EQ(j["totalBytes"], 3);
  EXPECT_EQ(j["digest"], content_digest({{"z", 1, "zz"}, {"a", 2, "aa"}}));
}

TEST(Digests, KnownValues) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Digest md5(DigestAlgorithm::kMd5);
  md5.update("abc");
  EXPECT_EQ(md5.hex(), "900150983cd24fb0d6963f7d28e17f72");
  // git hash-object of "hello\n" is ce013625030ba8dba906f756967f9e9ca394464a.
  Digest sha1(DigestAlgorithm::kSha1);
  sha1.update(git_blob_header(6));
  sha1.update("hello\n");
  EXPECT_EQ(sha1.hex(), "ce013625030ba8dba906f756967f9e9ca394464a");
}

std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename());
  return out;
}

// The temporary file lives in the staging directory, never among the model's files: a run killed
// between writing it and the rename (or a rename that fails) leaves nothing a runtime would load.
TEST(WriteManifest, WritesThroughTheStagingDirectoryAndLeavesNothingElseInDest) {
  namespace fs = std::filesystem;
  fs::path dest = fs::path(::testing::TempDir()) / "write-manifest-dest";
  fs::remove_all(dest);
  fs::create_directories(dest);
  std::ofstream(dest / "model.bin") << "x";
  const fs::path staging = dest / ".aim-fetch";

  ASSERT_TRUE(write_manifest(dest, staging, "hf://o/m", "abc", {{"model.bin", 1, "aa"}}).ok());
  std::ifstream in(dest / kManifestName);
  EXPECT_EQ(nlohmann::json::parse(in)["revision"], "abc");
  EXPECT_EQ(names_in(dest), (std::set<std::string>{"model.bin", kManifestName, ".aim-fetch"}));
  EXPECT_TRUE(names_in(staging).empty());

  // A rename that cannot happen (a directory holds the manifest's name) is an error, and the
  // temporary file is still not in DEST.
  fs::remove(dest / kManifestName);
  fs::create_directories(dest / kManifestName / "occupied");
  auto r = write_manifest(dest, staging, "hf://o/m", "abc", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("cannot rename manifest"), std::string::npos);
  EXPECT_EQ(names_in(dest), (std::set<std::string>{"model.bin", kManifestName, ".aim-fetch"}));
  fs::remove_all(dest);
}

}  // namespace
}  // namespace aim::fetch
