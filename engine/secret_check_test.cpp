#include "engine/secret_check.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using Json = nlohmann::json;

Json secret(const std::string& type, Json data) {
  Json s{{"metadata", {{"name", "regcred"}}}, {"data", std::move(data)}};
  if (!type.empty()) s["type"] = type;
  return s;
}

TEST(PullSecret, DockerConfigJsonWithItsKeyIsFine) {
  EXPECT_FALSE(check_pull_secret(
      secret("kubernetes.io/dockerconfigjson", {{".dockerconfigjson", "eyJhdXRocyI6e319"}})));
  EXPECT_FALSE(check_pull_secret(secret("kubernetes.io/dockercfg", {{".dockercfg", "e30="}})));
}

TEST(PullSecret, AnOpaqueSecretIsIgnoredByTheKubeletAndSaysSo) {
  auto p = check_pull_secret(secret("", {{".dockerconfigjson", "eyJhdXRocyI6e319"}}));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reason, "InvalidPullSecret");
  EXPECT_NE(p->message.find("imagePullSecret \"regcred\" has type Opaque"), std::string::npos)
      << p->message;
  EXPECT_NE(p->message.find("kubectl create secret docker-registry"), std::string::npos);
  auto tls = check_pull_secret(secret("kubernetes.io/tls", {{"tls.crt", "x"}}));
  ASSERT_TRUE(tls);
  EXPECT_NE(tls->message.find("has type kubernetes.io/tls"), std::string::npos);
}

TEST(PullSecret, TheTypedKeyMustHoldAValue) {
  auto p = check_pull_secret(secret("kubernetes.io/dockercfg", {{".dockercfg", ""}}));
  ASSERT_TRUE(p);
  EXPECT_NE(p->message.find("has no value in key .dockercfg; it has .dockercfg (empty)"),
            std::string::npos)
      << p->message;
}

TEST(CredentialsSecret, EachSchemeNeedsTheVariablesAimFetchReads) {
  EXPECT_FALSE(check_credentials_secret(secret("", {{"HF_TOKEN", "aGZf"}}), "hf"));
  EXPECT_FALSE(check_credentials_secret(secret("", {{"HUGGING_FACE_HUB_TOKEN", "aGZf"}}), "hf"));
  EXPECT_FALSE(check_credentials_secret(
      secret("", {{"AWS_ACCESS_KEY_ID", "QUs="}, {"AWS_SECRET_ACCESS_KEY", "U0s="}}), "s3"));
  EXPECT_FALSE(check_credentials_secret(secret("", {{"NGC_CLI_API_KEY", "bmc="}}), "ngc"));
  // https: a bearer token or a whole signed URL (never in the URI itself).
  EXPECT_FALSE(check_credentials_secret(secret("", {{"HTTPS_TOKEN", "eA=="}}), "https"));
  EXPECT_FALSE(check_credentials_secret(secret("", {{"AIM_SIGNED_URL", "eA=="}}), "http"));
  auto https = check_credentials_secret(secret("", {{"token", "eA=="}}), "https");
  ASSERT_TRUE(https);
  EXPECT_NE(https->message.find("lacks HTTPS_TOKEN or AIM_SIGNED_URL"), std::string::npos)
      << https->message;
  // Custom downloaders take no credentials from fixed variables.
  EXPECT_FALSE(check_credentials_secret(secret("", Json::object()), "myscheme"));
}

TEST(CredentialsSecret, NamesWhatIsMissingAndWhatIsThereButNoValue) {
  auto p = check_credentials_secret(secret("", {{"token", "c2VjcmV0LXZhbHVl"}}), "hf");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->reason, "MissingSecretKey");
  EXPECT_EQ(p->message,
            "credentials Secret \"regcred\" lacks HF_TOKEN or HUGGING_FACE_HUB_TOKEN, which a "
            "hf:// download reads; it has token. Add the key, or remove "
            "spec.credentialsSecretRef for a public source");
  EXPECT_EQ(p->message.find("c2VjcmV0LXZhbHVl"), std::string::npos);
  auto s3 = check_credentials_secret(secret("", {{"AWS_ACCESS_KEY_ID", "QUs="}}), "s3");
  ASSERT_TRUE(s3);
  EXPECT_NE(s3->message.find("lacks AWS_SECRET_ACCESS_KEY, which"), std::string::npos)
      << s3->message;
  auto none = check_credentials_secret(secret("", Json::object()), "s3");
  ASSERT_TRUE(none);
  EXPECT_NE(none->message.find("lacks AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            std::string::npos)
      << none->message;
  EXPECT_NE(none->message.find("it has no keys"), std::string::npos);
}

TEST(CredentialsSecret, AnEmptyValueCountsAsMissing) {
  auto p = check_credentials_secret(secret("", {{"NGC_API_KEY", ""}}), "ngc");
  ASSERT_TRUE(p);
  EXPECT_NE(p->message.find("it has NGC_API_KEY (empty)"), std::string::npos) << p->message;
}

}  // namespace
}  // namespace aim::engine
