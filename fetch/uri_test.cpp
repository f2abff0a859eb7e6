#include "fetch/uri.h"

#include <gtest/gtest.h>

namespace aim::fetch {
namespace {

TEST(ParseSourceUri, HuggingFaceWithAndWithoutRevision) {
  auto a = parse_source_uri("hf://meta-llama/Llama-3.3-70B-Instruct");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->scheme, Scheme::kHuggingFace);
  EXPECT_EQ(a->repo, "meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(a->revision, "main");
  auto b = parse_source_uri("hf://org/model@abcd12345");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->revision, "abcd12345");
  auto c = parse_source_uri("hf://gpt2");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->repo, "gpt2");
  auto d = parse_source_uri("hf://org/model@refs/pr/1");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->revision, "refs/pr/1");
}

// AIM discovery names one file of a repository (seed 002, engine/discovery_output_test).
TEST(ParseSourceUri, HuggingFaceFileOrDirectoryOfARepository) {
  auto a = parse_source_uri("hf://Qwen/Qwen3-32B/tokenizer.json");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->repo, "Qwen/Qwen3-32B");
  EXPECT_EQ(a->path, "tokenizer.json");
  EXPECT_EQ(a->revision, "main");
  auto b = parse_source_uri("hf://org/model/adapters/lora-1@v2");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->repo, "org/model");
  EXPECT_EQ(b->path, "adapters/lora-1");
  EXPECT_EQ(b->revision, "v2");
  EXPECT_EQ(parse_source_uri("hf://org/model")->path, "");
}

TEST(ParseSourceUri, RejectsBadHuggingFaceIds) {
  EXPECT_FALSE(parse_source_uri("hf://org/../etc").ok());
  EXPECT_FALSE(parse_source_uri("hf://a/b/c%2F..").ok());
  EXPECT_FALSE(parse_source_uri("hf://org%2F..%2F/m").ok());
  EXPECT_FALSE(parse_source_uri("hf://org/m/sub/../x").ok());
  EXPECT_FALSE(parse_source_uri("hf://org/model@").ok());
  EXPECT_FALSE(parse_source_uri("hf://org/mo del").ok());
  EXPECT_FALSE(parse_source_uri("hf://org/model@../x").ok());
}

TEST(ParseSourceUri, S3BucketAndPrefix) {
  auto a = parse_source_uri("s3://my-bucket/models/llama-70b");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme, Scheme::kS3);
  EXPECT_EQ(a->bucket, "my-bucket");
  EXPECT_EQ(a->prefix, "models/llama-70b");
  auto b = parse_source_uri("s3://bucket");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "");
  EXPECT_FALSE(parse_source_uri("s3://Bad_Bucket/x").ok());
  EXPECT_FALSE(parse_source_uri("s3://ab").ok());
}

TEST(ParseSourceUri, NgcWithTeamAndVersion) {
  auto a = parse_source_uri("ngc://nvidia/llama-70b");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ngc_org, "nvidia");
  EXPECT_EQ(a->ngc_team, "");
  EXPECT_EQ(a->ngc_model, "llama-70b");
  EXPECT_EQ(a->revision, "");
  auto b = parse_source_uri("ngc://nvidia/nemo/megatron:1.0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ngc_team, "nemo");
  EXPECT_EQ(b->ngc_model, "megatron");
  EXPECT_EQ(b->revision, "1.0");
  EXPECT_FALSE(parse_source_uri("ngc://justone").ok());
}

TEST(ParseSourceUri, HttpsAndUnknownSchemes) {
  auto a = parse_source_uri("https://example.com/models/model.tar.gz");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme, Scheme::kHttps);
  EXPECT_EQ(a->url, "https://example.com/models/model.tar.gz");
  EXPECT_FALSE(parse_source_uri("ftp://x/y").ok());
  EXPECT_FALSE(parse_source_uri("no-scheme").ok());
  EXPECT_FALSE(parse_source_uri("https:///path").ok());
}

TEST(SafeRelativePath, AcceptsOrdinaryPaths) {
  EXPECT_TRUE(safe_relative_path("config.json").ok());
  EXPECT_TRUE(safe_relative_path("sub/dir/model-00001-of-00002.safetensors").ok());
  EXPECT_TRUE(safe_relative_path("..hidden").ok());  // a name starting with dots is not ".."
}

TEST(SafeRelativePath, RejectsEscapes) {
  for (const char* bad : {"../etc/passwd", "a/../../b", "/etc/passwd", "a//b", "./a", "a/.",
                          "a\\..\\b", "", "a/..", ".."}) {
    EXPECT_FALSE(safe_relative_path(bad).ok()) << bad;
  }
  EXPECT_FALSE(safe_relative_path(std::string("a\nb")).ok());
}

TEST(RedactUrl, DropsQueryAndUserinfo) {
  EXPECT_EQ(redact_url("https://cdn.example/x/y?X-Amz-Signature=secret&t=1"),
            "https://cdn.example/x/y");
  EXPECT_EQ(redact_url("https://user:pass@host/p"), "https://host/p");
  EXPECT_EQ(redact_url("hf://org/model"), "hf://org/model");
}

TEST(Urls, OriginAndResolution) {
  EXPECT_EQ(url_origin("HTTP://Host:8080/a/b?c"), "http://host:8080");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "/cdn/x"), "http://h:1/cdn/x");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "http://other:2/y"), "http://other:2/y");
  EXPECT_EQ(resolve_url("http://h:1/a/b?q", "c"), "http://h:1/a/c");
  EXPECT_EQ(encode_path("dir/a b+c.bin"), "dir/a%20b%2Bc.bin");
}

TEST(CredentialInUri, UserInformationAndSignatureParametersAreNamedNotShown) {
  EXPECT_EQ(credential_in_uri("https://u:p@h/f"), "user information (user:password@)");
  EXPECT_EQ(credential_in_uri("hf://tok@org/m"), "user information (user:password@)");
  EXPECT_EQ(credential_in_uri("https://h/f?X-Amz-Signature=abc"),
            "the query parameter X-Amz-Signature");
  EXPECT_EQ(credential_in_uri("https://h/f?a=1&SIG=x"), "the query parameter SIG");
  EXPECT_EQ(credential_in_uri("https://h/f?access_token=x#frag"),
            "the query parameter access_token");
  EXPECT_FALSE(credential_in_uri("https://h/f"));
  EXPECT_FALSE(credential_in_uri("https://h/f?download=true&name=a@b"));
  EXPECT_FALSE(credential_in_uri("https://h/a@b/f"));  // '@' in the path, not before the host
  EXPECT_FALSE(credential_in_uri("hf://org/m@main"));
  EXPECT_FALSE(credential_in_uri("https://h/f?token"));  // a flag without a value
}

}  // namespace
}  // namespace aim::fetch
