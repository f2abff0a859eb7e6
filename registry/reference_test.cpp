#include "registry/reference.h"

#include <gtest/gtest.h>

namespace aim::registry {
namespace {

constexpr const char* kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(Reference, Parse) {
  struct Case {
    std::string in, registry, repository, tag, digest;
  };
  const std::vector<Case> cases = {
      {"nginx", "index.docker.io", "library/nginx", "latest", ""},
      {"nginx:1.25", "index.docker.io", "library/nginx", "1.25", ""},
      {"docker.io/nginx", "index.docker.io", "library/nginx", "latest", ""},
      {"amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", "index.docker.io",
       "amdenterpriseai/aim-qwen-qwen3-32b", "0.8.5", ""},
      {"ghcr.io/amd/llama-3-8b:v1.0.0", "ghcr.io", "amd/llama-3-8b", "v1.0.0", ""},
      {"localhost:5000/aim/x", "localhost:5000", "aim/x", "latest", ""},
      {"127.0.0.1:5101/aim/x:dev", "127.0.0.1:5101", "aim/x", "dev", ""},
      {"localhost/aim/x", "index.docker.io", "localhost/aim/x", "latest", ""},  // no '.' or ':'
      {"registry.example.com/a/b/c:1", "registry.example.com", "a/b/c", "1", ""},
      {std::string("ghcr.io/amd/x@") + kDigest, "ghcr.io", "amd/x", "", kDigest},
      {std::string("ghcr.io/amd/x:1.0@") + kDigest, "ghcr.io", "amd/x", "", kDigest},
      {std::string("busybox@") + kDigest, "index.docker.io", "library/busybox", "", kDigest},
  };
  for (const auto& c : cases) {
    auto r = parse_reference(c.in);
    ASSERT_TRUE(r) << c.in << ": " << r.error();
    EXPECT_EQ(r->registry, c.registry) << c.in;
    EXPECT_EQ(r->repository, c.repository) << c.in;
    EXPECT_EQ(r->tag, c.tag) << c.in;
    EXPECT_EQ(r->digest, c.digest) << c.in;
    EXPECT_EQ(r->identifier(), c.digest.empty() ? c.tag : c.digest);
  }
}

TEST(Reference, Rejects) {
  for (const char* bad : {"", "UPPER/case", "a", "repo:", "repo:bad tag", "ghcr.io/x@sha256:abc",
                          "ghcr.io/x@md5:00", "a@b@c", "repo:t@sha256:zz"}) {
    EXPECT_FALSE(parse_reference(bad)) << bad;
  }
}

TEST(Reference, RejectionsSayWhy) {
  EXPECT_EQ(parse_reference("registry.invalid/x:1").error(),
            "could not parse reference registry.invalid/x:1: repository must be between 2 and 255 "
            "characters in length: x");
  EXPECT_EQ(parse_reference("ghcr.io/x/y@md5:00").error(),
            "could not parse reference ghcr.io/x/y@md5:00: unsupported digest algorithm: md5:00");
  EXPECT_NE(parse_reference("repo:bad tag").error().find("tag can only contain"),
            std::string::npos);
}

TEST(Reference, Str) {
  EXPECT_EQ(parse_reference("nginx")->str(), "index.docker.io/library/nginx:latest");
  EXPECT_EQ(parse_reference(std::string("ghcr.io/a/b@") + kDigest)->str(),
            std::string("ghcr.io/a/b@") + kDigest);
}

// Found by the image_reference fuzzer: a Docker Hub name of 248-255 characters without a '/'
// parsed, but with its library/ prefix it printed a name over 255 that did not parse back.
TEST(Reference, ALongDockerHubNamePrintsToTextThatParsesBack) {
  for (std::size_t n : {246U, 247U, 248U, 255U}) {
    std::string name(n, 'k');
    auto ref = parse_reference(name + ":latest");
    if (!ref) {
      EXPECT_GT(n + 8, 255U) << n;
      EXPECT_NE(ref.error().find("library/ prefix"), std::string::npos) << ref.error();
      continue;
    }
    auto again = parse_reference(ref->str());
    ASSERT_TRUE(again) << n << ": " << again.error();
    EXPECT_EQ(again->repository, ref->repository);
  }
  EXPECT_TRUE(parse_reference(std::string(247, 'k')));
  EXPECT_FALSE(parse_reference(std::string(248, 'k')));
}

TEST(Reference, PlainHttpDefaults) {
  EXPECT_TRUE(default_plain_http("localhost:5000"));
  EXPECT_TRUE(default_plain_http("127.0.0.1:5101"));
  EXPECT_TRUE(default_plain_http("10.1.2.3"));
  EXPECT_TRUE(default_plain_http("192.168.0.9:80"));
  EXPECT_TRUE(default_plain_http("172.20.0.1"));
  EXPECT_TRUE(default_plain_http("registry.local"));
  EXPECT_TRUE(default_plain_http("[::1]:5000"));
  EXPECT_FALSE(default_plain_http("172.32.0.1"));
  EXPECT_FALSE(default_plain_http("ghcr.io"));
  EXPECT_FALSE(default_plain_http("index.docker.io"));
}

}  // namespace
}  // namespace aim::registry
