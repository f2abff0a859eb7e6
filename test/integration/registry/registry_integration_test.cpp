// The registry client against the real CNCF Distribution registry, in three modes started by
// tools/registry/registry.sh: open, htpasswd (Basic) and token (htpasswd + Bearer JWTs). The
// images are pushed by tools/registry/cmd/aim-registry-push. Skipped unless AIM_TEST_REGISTRY
// and friends are set (run.sh beside this file does all of it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <set>

#include "core/base64.h"
#include "registry/client.h"
#include "registry/image_metadata.h"
#include "test/support/loopback_server.h"

namespace aim::registry {
namespace {

struct Mode {
  const char* name;
  const char* env;  // host:port of this mode's registry
  bool needs_auth;
};

// Test names and failure output show the mode by name.
void PrintTo(const Mode& m, std::ostream* os) {
  *os << m.name;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

class RegistryIntegration : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    host_ = env_or_empty(GetParam().env);
    if (host_.empty())
      GTEST_SKIP() << GetParam().env << " is not set (run test/integration/registry/run.sh)";
    user_ = env_or_empty("AIM_TEST_REGISTRY_USER");
    password_ = env_or_empty("AIM_TEST_REGISTRY_PASSWORD");
  }

  // Credentials the way the operator gets them: from a kubernetes.io/dockerconfigjson secret.
  Keychain keychain(const std::string& password) const {
    std::string auths = R"({"auths":{")" + host_ + R"(":{"auth":")" +
                        base64_encode(user_ + ":" + password) + R"("}}})";
    auto kc = keychain_from_pull_secrets(
        {PullSecret{"regcred", "kubernetes.io/dockerconfigjson", {{".dockerconfigjson", auths}}}});
    EXPECT_TRUE(kc) << kc.error();
    return kc ? *kc : Keychain{};
  }

  Client client() const { return Client(ClientOptions{}, keychain(password_)); }

  std::string host_, user_, password_;
};

TEST_P(RegistryIntegration, LabelledImage) {
  Client c(ClientOptions{}, keychain(password_));
  auto info = c.inspect(host_ + "/aim/llama-3-8b:1.0.0");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->manifest_media_type, "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_TRUE(info->index_digest.empty());
  EXPECT_EQ(info->config.architecture, "amd64");
  auto md = image_metadata_from_labels(info->config.labels);
  ASSERT_TRUE(md) << md.error();
  EXPECT_EQ((*md)["model"]["canonicalName"], "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ((*md)["model"]["family"], "llama");
  ASSERT_EQ((*md)["model"]["recommendedDeployments"].size(), 2U);
  EXPECT_EQ((*md)["model"]["recommendedDeployments"][1]["gpuCount"], 8);
  EXPECT_EQ((*md)["model"]["recommendedDeployments"][1]["profileId"], "p-8x");
  EXPECT_EQ((*md)["oci"]["vendor"], "Meta");
  EXPECT_EQ((*md)["model"]["tags"], nlohmann::json({"chat", "llama", "instruct"}));

  // The same image by digest: the content-addressed cache answers the config.
  auto pinned = c.inspect(host_ + "/aim/llama-3-8b@" + info->manifest_digest);
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(pinned->config.digest, info->config.digest);
  EXPECT_GE(c.cache_hits(), 1U);
}

TEST_P(RegistryIntegration, MultiArchIndexResolvesToAmd64) {
  Client c = client();
  auto info = c.inspect(host_ + "/aim/multiarch:1.0.0");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->index_digest.empty());
  EXPECT_NE(info->index_digest, info->manifest_digest);
  EXPECT_EQ(info->manifest_media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(info->config.architecture, "amd64");
  EXPECT_EQ(info->config.labels.at("org.opencontainers.image.title"), "amd64 variant");

  ClientOptions arm;
  arm.platform.architecture = "arm64";
  auto arm_info = Client(arm, keychain(password_)).inspect(host_ + "/aim/multiarch:1.0.0");
  ASSERT_TRUE(arm_info) << arm_info.error().message;
  EXPECT_EQ(arm_info->config.labels.at("org.opencontainers.image.title"), "arm64 variant");
}

TEST_P(RegistryIntegration, ImageWithoutLabels) {
  auto info = client().inspect(host_ + "/aim/plain:1.0.0");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->config.labels.empty());
  auto md = image_metadata_from_labels(info->config.labels);
  ASSERT_TRUE(md);
  EXPECT_TRUE((*md)["model"].empty());
  EXPECT_FALSE(md->contains("originalLabels"));
}

TEST_P(RegistryIntegration, TagListingPaginates) {
  Client c = client();
  auto paged = c.list_tags(host_, "aim/tagged", 2);
  ASSERT_TRUE(paged) << paged.error().message;
  std::set<std::string> want = {"0.9.0", "1.0.0", "1.1.0-rc1", "1.2.0", "v2.0.0", "latest", "dev"};
  EXPECT_EQ(std::set<std::string>(paged->begin(), paged->end()), want);
  EXPECT_EQ(paged->size(), want.size());  // no page repeated
  auto whole = c.list_tags(host_, "aim/tagged");
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(*whole, *paged);
}

TEST_P(RegistryIntegration, Catalog) {
  auto repos = client().catalog(host_, 1);
  ASSERT_TRUE(repos) << repos.error().message;
  std::set<std::string> got(repos->begin(), repos->end());
  for (const char* r : {"aim/llama-3-8b", "aim/multiarch", "aim/plain", "aim/tagged"}) {
    EXPECT_EQ(got.count(r), 1U) << r;
  }
}

TEST_P(RegistryIntegration, MissingImageIsNotFound) {
  Client c = client();
  auto tag = c.inspect(host_ + "/aim/llama-3-8b:9.9.9");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().kind, ErrorKind::kNotFound) << tag.error().message;
  auto repo = c.inspect(host_ + "/aim/does-not-exist:1.0.0");
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().kind, ErrorKind::kNotFound) << repo.error().message;
}

TEST_P(RegistryIntegration, WrongPasswordIsAnAuthError) {
  if (!GetParam().needs_auth) GTEST_SKIP() << "this registry needs no credentials";
  const std::string wrong = "definitely-wrong-password";
  auto r = Client(ClientOptions{}, keychain(wrong)).inspect(host_ + "/aim/llama-3-8b:1.0.0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kAuth) << r.error().message;
  EXPECT_EQ(r.error().message.find(wrong), std::string::npos);

  auto anonymous = Client().inspect(host_ + "/aim/llama-3-8b:1.0.0");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().kind, ErrorKind::kAuth) << anonymous.error().message;

  auto tags = Client(ClientOptions{}, keychain(wrong)).list_tags(host_, "aim/tagged");
  ASSERT_FALSE(tags);
  EXPECT_EQ(tags.error().kind, ErrorKind::kAuth);
}

TEST_P(RegistryIntegration, UnreachablePort) {
  int port = 0;
  {
    testing::LoopbackServer closed(
        [](const testing::ServerRequest&) { return testing::ServerResponse{}; });
    port = closed.port();
  }
  auto r = client().inspect("127.0.0.1:" + std::to_string(port) + "/aim/llama-3-8b:1.0.0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnreachable);
}

INSTANTIATE_TEST_SUITE_P(Modes, RegistryIntegration,
                         ::testing::Values(Mode{"open", "AIM_TEST_REGISTRY", false},
                                           Mode{"basic", "AIM_TEST_REGISTRY_BASIC", true},
                                           Mode{"token", "AIM_TEST_REGISTRY_TOKEN", true}),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace aim::registry
