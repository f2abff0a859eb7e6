#include "fetch/manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace aim::fetch
