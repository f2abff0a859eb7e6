// The admission rule of every image field (kImageReferencePattern, a CEL `matches` evaluated by
// the API server with RE2) accepts the references the registry client parses, and refuses the
// rest; it is stricter only where the client's go-containerregistry rules are lax beyond use (a
// URL scheme read as a registry host with an empty port). std::regex (ECMAScript) reads the
// pattern as RE2 does: it uses no syntax where the two differ.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "api/common.h"
#include "registry/reference.h"

namespace aim::api {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ImageReferencePattern, AcceptsExactlyWhatTheRegistryClientParses) {
  const std::regex pattern{std::string(kImageReferencePattern)};
  const std::vector<std::string> refs = {
      // valid
      "nginx", "nginx:1.25", "docker.io/nginx", "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
      "ghcr.io/amd/llama:1", "ghcr.io/amd/llama@" + kDigest, "ghcr.io/amd/llama:1@" + kDigest,
      "localhost:5000/aim/runtime:dev", "127.0.0.1:5201/open/model:v1", "[::1]:5000/x/y:z",
      "registry.example.com:443/a/b/c/d:TAG_1.2-rc", "a.b/cd", "my_org/my-model.v2:latest",
      // invalid
      "", "x", "ghcr.io/AMD/llama:1", "ghcr.io/amd/llama:", "ghcr.io/amd/llama@sha256:123",
      "ghcr.io/amd/llama@md5:" + std::string(32, 'a'), "ghcr.io/amd/ll ama:1",
      "ghcr.io/amd/llama:" + std::string(129, 't'), "Upper/case", "ghcr.io/amd/llama:bad/tag",
      "ghcr.io/amd/llama@" + kDigest + "@" + kDigest, "host:port/x/y", "ghcr.io/amd/x%2F..:1"};
  for (const auto& ref : refs) {
    const bool parsed = registry::parse_reference(ref).ok();
    EXPECT_EQ(std::regex_match(ref, pattern), parsed)
        << "'" << ref << "': the registry client " << (parsed ? "parses" : "refuses") << " it";
  }
  // Stricter than the client: it reads "https:" as a registry with an empty port and pulls from
  // nowhere; admission says what to write instead.
  for (const std::string ref : {"https://ghcr.io/amd/llama:1", "oci://ghcr.io/amd/llama"}) {
    EXPECT_FALSE(std::regex_match(ref, pattern)) << ref;
  }
}

}  // namespace
}  // namespace aim::api
