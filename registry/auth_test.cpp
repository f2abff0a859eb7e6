#include "registry/auth.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/base64.h"

namespace aim::registry {
namespace {

TEST(Challenge, Bearer) {
  auto cs = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push")");
  ASSERT_EQ(cs.size(), 1U);
  EXPECT_EQ(cs[0].scheme, "bearer");
  EXPECT_EQ(cs[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(cs[0].param("service"), "registry.docker.io");
  EXPECT_EQ(cs[0].param("scope"), "repository:samalba/my-app:pull,push");
}

TEST(Challenge, BasicAndMultiple) {
  auto basic = parse_www_authenticate(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(basic.size(), 1U);
  EXPECT_EQ(basic[0].scheme, "basic");
  EXPECT_EQ(basic[0].param("realm"), "Registry Realm");

  auto two = parse_www_authenticate(
      R"(Basic realm="a, b", BEARER Realm="http://t/token", error=invalid_token)");
  ASSERT_EQ(two.size(), 2U);
  EXPECT_EQ(two[0].param("realm"), "a, b");
  EXPECT_EQ(two[1].scheme, "bearer");
  EXPECT_EQ(two[1].param("realm"), "http://t/token");
  EXPECT_EQ(two[1].param("error"), "invalid_token");

  auto escaped = parse_www_authenticate(R"(Bearer realm="x\"y")");
  EXPECT_EQ(escaped[0].param("realm"), "x\"y");
  EXPECT_TRUE(parse_www_authenticate("").empty());
}

TEST(Keychain, DockerConfigJson) {
  PullSecret s{"regcred",
               "kubernetes.io/dockerconfigjson",
               {{".dockerconfigjson",
                 R"({"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
                              "ghcr.io":{"username":"gh","password":"tok"},
                              "*.example.com":{"username":"w","password":"p"},
                              "registry.local:5000":{"registrytoken":"rt"}}})"}}};
  auto kc = keychain_from_pull_secrets({s});
  ASSERT_TRUE(kc) << kc.error();
  auto hub = kc->find("docker.io");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->username, "user");
  EXPECT_EQ(hub->password, "pass");
  EXPECT_EQ(kc->find("index.docker.io")->username, "user");
  EXPECT_EQ(kc->find("ghcr.io")->password, "tok");
  EXPECT_EQ(kc->find("a.example.com")->username, "w");
  EXPECT_FALSE(kc->find("a.b.example.com"));
  EXPECT_EQ(kc->find("registry.local:5000")->registry_token, "rt");
  EXPECT_FALSE(kc->find("quay.io"));
}

TEST(Keychain, LegacyDockerCfgAndOrder) {
  PullSecret legacy{
      "old", "kubernetes.io/dockercfg", {{".dockercfg", R"({"quay.io":{"auth":"YTpi"}})"}}};
  PullSecret later{
      "new",
      "kubernetes.io/dockerconfigjson",
      {{".dockerconfigjson", R"({"auths":{"quay.io":{"username":"second","password":"x"}}})"}}};
  auto kc = keychain_from_pull_secrets({legacy, later});
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_EQ(kc->find("quay.io")->username, "a");  // first secret wins
  EXPECT_EQ(kc->find("quay.io")->password, "b");
}

TEST(Keychain, BadSecretsNameTheSecretNotTheContent) {
  std::vector<PullSecret> bad = {
      {"opaque", "Opaque", {{"password", "hunter2"}}},
      {"nokey", "kubernetes.io/dockerconfigjson", {{".dockercfg", "{}"}}},
      {"garbage", "kubernetes.io/dockerconfigjson", {{".dockerconfigjson", "hunter2 not json"}}},
      {"badauth",
       "kubernetes.io/dockerconfigjson",
       {{".dockerconfigjson", R"({"auths":{"x.io":{"auth":"hunter2!"}}})"}}},
  };
  for (const auto& s : bad) {
    auto kc = keychain_from_pull_secrets({s});
    ASSERT_FALSE(kc) << s.name;
    EXPECT_NE(kc.error().find(s.name), std::string::npos) << kc.error();
    EXPECT_EQ(kc.error().find("hunter2"), std::string::npos) << kc.error();
  }
}

TEST(Keychain, HostNormalization) {
  EXPECT_EQ(normalize_registry_host("https://index.docker.io/v1/"), "index.docker.io");
  EXPECT_EQ(normalize_registry_host("registry-1.docker.io"), "index.docker.io");
  EXPECT_EQ(normalize_registry_host("http://Registry.Example.com:5000/path"),
            "registry.example.com:5000");
}

TEST(Keychain, DockerConfigFile) {
  std::string path = ::testing::TempDir() + "aim-registry-docker-config.json";
  {
    std::ofstream out(path);
    out << R"({"auths":{"ghcr.io":{"auth":"YTpi"}},"credsStore":"desktop"})";
  }
  auto kc = keychain_from_docker_config_file(path);
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_EQ(kc->find("ghcr.io")->username, "a");
  {
    std::ofstream out(path);
    out << "not json";
  }
  auto bad = keychain_from_docker_config_file(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find(path), std::string::npos);
  std::remove(path.c_str());
  auto missing = keychain_from_docker_config_file(path);
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
}

TEST(TokenResponse, Parse) {
  auto t = parse_token_response(R"({"token":"abc","expires_in":300})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "abc");
  EXPECT_EQ(t->expires_in, std::chrono::seconds(300));
  auto oauth = parse_token_response(R"({"access_token":"xyz"})");
  ASSERT_TRUE(oauth);
  EXPECT_EQ(oauth->token, "xyz");
  EXPECT_EQ(oauth->expires_in, std::chrono::seconds(60));
  EXPECT_FALSE(parse_token_response(R"({"expires_in":300})"));
  EXPECT_FALSE(parse_token_response("<html>"));
}

// Found by the registry_auth fuzzer: a lifetime of 305555555550 s overflowed std::chrono when the
// client turned it into a deadline (seconds to nanoseconds).
TEST(TokenResponse, ALifetimeIsCutToADay) {
  auto t = parse_token_response(R"({"token":"abc","expires_in":305555555550})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->expires_in, kMaxTokenLifetime);
  auto deadline = std::chrono::steady_clock::now() + t->expires_in;
  EXPECT_GT(deadline, std::chrono::steady_clock::now());
  auto day = parse_token_response(R"({"token":"abc","expires_in":86400})");
  ASSERT_TRUE(day);
  EXPECT_EQ(day->expires_in, std::chrono::hours(24));
}

}  // namespace
}  // namespace aim::registry
