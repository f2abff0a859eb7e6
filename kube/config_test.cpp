#include "kube/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/base64.h"

namespace aim::kube {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kube-config-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& content, bool executable = false) {
    std::string p = path_ + "/" + name;
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p) << content;
    if (executable) ::chmod(p.c_str(), 0755);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

std::string two_context_kubeconfig() {
  return R"(apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )" +
         aim::base64_encode(kCa) + R"(
    tls-server-name: kubernetes
- name: other
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: certs/ca.pem
contexts:
- name: admin
  context: {cluster: local, user: admin, namespace: team-a}
- name: robot
  context: {cluster: other, user: robot}
users:
- name: admin
  user:
    client-certificate-data: )" +
         aim::base64_encode(kCert) + R"(
    client-key-data: )" +
         aim::base64_encode(kKey) + R"(
- name: robot
  user:
    token: s3cr3t-token
    client-certificate: certs/robot.crt
    client-key: certs/robot.key
)";
}

TEST(Kubeconfig, CurrentContextWithInlineCaAndClientCertificate) {
  auto cfg = Config::from_kubeconfig_yaml(two_context_kubeconfig(), "/nowhere");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->context_name, "admin");
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(cfg->default_namespace, "team-a");
  EXPECT_EQ(cfg->tls.ca_pem, kCa);
  EXPECT_EQ(cfg->tls.client_cert_pem, kCert);
  EXPECT_EQ(cfg->tls.client_key_pem, kKey);
  EXPECT_EQ(cfg->tls.server_name, "kubernetes");
  EXPECT_TRUE(cfg->bearer_token.empty());
}

TEST(Kubeconfig, ExplicitContextWithFilesRelativeToTheKubeconfig) {
  TempDir dir;
  dir.write("certs/ca.pem", kCa);
  dir.write("certs/robot.crt", kCert);
  dir.write("certs/robot.key", kKey);
  std::string path = dir.write("config", two_context_kubeconfig());
  auto cfg = Config::from_kubeconfig(path, "robot");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->server, "https://10.0.0.1:6443");
  EXPECT_EQ(cfg->default_namespace, "default");
  EXPECT_EQ(cfg->tls.ca_file, dir.path() + "/certs/ca.pem");
  EXPECT_EQ(cfg->tls.client_cert_file, dir.path() + "/certs/robot.crt");
  EXPECT_EQ(cfg->tls.client_key_file, dir.path() + "/certs/robot.key");
  EXPECT_EQ(cfg->bearer_token, "s3cr3t-token");
  EXPECT_EQ(cfg->source, "kubeconfig " + path);
}

TEST(Kubeconfig, ReferencedFileMissingNamesTheFile) {
  TempDir dir;
  std::string path = dir.write("config", two_context_kubeconfig());
  auto cfg = Config::from_kubeconfig(path, "robot");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kConfig);
  EXPECT_EQ(cfg.error().describe(), "kubeconfig " + path + ": certificate-authority " + dir.path() +
                                        "/certs/ca.pem: no such file");
}

TEST(Kubeconfig, TokenFile) {
  TempDir dir;
  dir.write("token", "abc\n");
  std::string path = dir.write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h:1", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {tokenFile: token}}]
)");
  auto cfg = Config::from_kubeconfig(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->token_file, dir.path() + "/token");
  EXPECT_TRUE(cfg->tls.insecure_skip_verify);
}

TEST(Kubeconfig, ExecPluginSettings) {
  auto cfg = Config::from_kubeconfig_yaml(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h:1"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/get-token
      args: [--cluster, k]
      env: [{name: REGION, value: west}]
)",
                                          "/etc/kube");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  ASSERT_TRUE(cfg->exec.has_value());
  EXPECT_EQ(cfg->exec->command, "/etc/kube/bin/get-token");
  EXPECT_EQ(cfg->exec->args, (std::vector<std::string>{"--cluster", "k"}));
  EXPECT_EQ(cfg->exec->env.at("REGION"), "west");
  EXPECT_EQ(cfg->exec->api_version, "client.authentication.k8s.io/v1beta1");
}

TEST(Kubeconfig, MissingFile) {
  auto cfg = Config::from_kubeconfig("/x");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kConfig);
  EXPECT_EQ(cfg.error().describe(), "kubeconfig /x: no such file");
}

TEST(Kubeconfig, MalformedYaml) {
  TempDir dir;
  std::string path = dir.write("config", "clusters: [\n  - {name: a\n");
  auto cfg = Config::from_kubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kConfig);
  EXPECT_EQ(cfg.error().describe().rfind("kubeconfig " + path + ": malformed YAML at line", 0), 0u)
      << cfg.error().describe();
}

TEST(Kubeconfig, MissingContextClusterOrUser) {
  auto no_ctx = Config::from_kubeconfig_yaml(two_context_kubeconfig(), "/", "staging");
  ASSERT_FALSE(no_ctx.ok());
  EXPECT_EQ(no_ctx.error().describe(), "kubeconfig: context \"staging\" not found");

  auto no_current = Config::from_kubeconfig_yaml("clusters: []\n", "/");
  ASSERT_FALSE(no_current.ok());
  EXPECT_NE(no_current.error().message.find("no current-context"), std::string::npos);

  auto no_cluster = Config::from_kubeconfig_yaml(R"(
current-context: c
contexts: [{name: c, context: {cluster: gone, user: u}}]
)",
                                                 "/");
  ASSERT_FALSE(no_cluster.ok());
  EXPECT_NE(no_cluster.error().message.find("cluster \"gone\", which is not defined"),
            std::string::npos);

  auto no_user = Config::from_kubeconfig_yaml(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h:1"}}]
contexts: [{name: c, context: {cluster: k, user: nobody}}]
)",
                                              "/");
  ASSERT_FALSE(no_user.ok());
  EXPECT_NE(no_user.error().message.find("user \"nobody\", which is not defined"),
            std::string::npos);
}

TEST(Kubeconfig, ErrorsNeverQuoteSecrets) {
  auto cfg = Config::from_kubeconfig_yaml(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h:1"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {token: hunter2-token, client-certificate-data: "eA==", client-key-data: "hunter2!!key"}}]
)",
                                          "/");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("client-key-data is not valid base64"), std::string::npos);
  EXPECT_EQ(cfg.error().describe().find("hunter2"), std::string::npos);
}

TEST(Kubeconfig, UnsupportedAuthProvider) {
  auto cfg = Config::from_kubeconfig_yaml(R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://h:1"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {auth-provider: {name: gcp}}}]
)",
                                          "/");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("auth-provider \"gcp\""), std::string::npos);
}

class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(InCluster, ReadsServiceAccountDirectory) {
  TempDir dir;
  dir.write("token", "sa-token");
  dir.write("ca.crt", kCa);
  dir.write("namespace", "aim-system\n");
  EnvGuard host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  EnvGuard port("KUBERNETES_SERVICE_PORT", "443");
  auto cfg = Config::in_cluster(dir.path());
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
  EXPECT_EQ(cfg->token_file, dir.path() + "/token");
  EXPECT_EQ(cfg->tls.ca_file, dir.path() + "/ca.crt");
  EXPECT_EQ(cfg->default_namespace, "aim-system");
}

TEST(InCluster, Ipv6HostIsBracketed) {
  TempDir dir;
  dir.write("token", "t");
  EnvGuard host("KUBERNETES_SERVICE_HOST", "fd00::1");
  EnvGuard port("KUBERNETES_SERVICE_PORT", "443");
  auto cfg = Config::in_cluster(dir.path());
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(cfg->server, "https://[fd00::1]:443");
}

TEST(InCluster, OutsideAPodIsAClearError) {
  EnvGuard host("KUBERNETES_SERVICE_HOST", nullptr);
  auto cfg = Config::in_cluster("/nonexistent");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);

  EnvGuard h2("KUBERNETES_SERVICE_HOST", "10.0.0.1");
  EnvGuard p2("KUBERNETES_SERVICE_PORT", "443");
  auto no_token = Config::in_cluster("/nonexistent");
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.error().describe(), "in-cluster config: /nonexistent/token: no such file");
}

TEST(Load, UsesKubeconfigEnvironmentVariable) {
  TempDir dir;
  std::string path = dir.write("kc", two_context_kubeconfig());
  EnvGuard kc("KUBECONFIG", ("/does/not/exist:" + path).c_str());
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->context_name, "admin");

  auto explicit_missing = Config::load("/also/missing");
  ASSERT_FALSE(explicit_missing.ok());
  EXPECT_EQ(explicit_missing.error().describe(), "kubeconfig /also/missing: no such file");
}

TEST(Load, KubeconfigListOfMissingFilesNamesTheFirst) {
  EnvGuard kc("KUBECONFIG", "/missing/a:/missing/b");
  auto cfg = Config::load();
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().describe(), "kubeconfig /missing/a: no such file");
}

// The exec plugin tests run small shell scripts as the plugin.
TEST(ExecCredential, RunsPluginAndParsesStatus) {
  TempDir dir;
  std::string script = dir.write("plugin.sh", R"(#!/bin/sh
# Echo back what the client passed, so the test can check args, env and exec info.
case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 3;; esac
cat <<JSON
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
 "status":{"token":"tok-$1-$REGION","expirationTimestamp":"2030-01-02T03:04:05Z"}}
JSON
)",
                                 true);
  ExecCredentialConfig exec{
      script, {"first"}, {{"REGION", "west"}}, "client.authentication.k8s.io/v1"};
  auto cred = run_exec_credential(exec);
  ASSERT_TRUE(cred.ok()) << cred.error().describe();
  EXPECT_EQ(cred->token, "tok-first-west");
  ASSERT_TRUE(cred->expiry.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*cred->expiry), 1893553445);
}

TEST(ExecCredential, ClientCertificateData) {
  TempDir dir;
  std::string script = dir.write("plugin.sh", R"(#!/bin/sh
printf '%s' '{"kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'
)",
                                 true);
  auto cred = run_exec_credential({script, {}, {}, "client.authentication.k8s.io/v1"});
  ASSERT_TRUE(cred.ok()) << cred.error().describe();
  EXPECT_EQ(cred->client_cert_pem, "CERT");
  EXPECT_EQ(cred->client_key_pem, "KEY");
  EXPECT_TRUE(cred->token.empty());
  EXPECT_FALSE(cred->expiry.has_value());
}

// Found by fuzz/kubeconfig_fuzz.cpp: an expirationTimestamp the system clock cannot hold (year
// 1013) overflowed int64 nanoseconds in system_clock::from_time_t (UBSan: signed integer
// overflow). parse_rfc3339 now rejects such times, so the credential is refused.
TEST(ExecCredential, ExpiryOutsideTheClocksRangeIsRejected) {
  for (const char* when : {"1013-12-07T10:00:00Z", "9999-12-31T23:59:59Z"}) {
    auto cred = parse_exec_credential(
        std::string(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)") +
        R"("status":{"token":"t0k","expirationTimestamp":")" + when + R"("}})");
    ASSERT_FALSE(cred.ok()) << when;
    EXPECT_EQ(cred.error(), "expirationTimestamp is not an RFC 3339 time");
  }
  auto ok = parse_exec_credential(
      R"({"kind":"ExecCredential","status":{"token":"t0k","expirationTimestamp":"2262-01-01T00:00:00Z"}})");
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->token, "t0k");
  EXPECT_EQ(ok->expiry, std::chrono::system_clock::from_time_t(9214646400));
}

// Found by fuzz/kubeconfig_fuzz.cpp: a kind that is not a string threw nlohmann's type_error out
// of the decoder ("type must be string, but is number"), which ended the process.
TEST(ExecCredential, KindThatIsNotAStringIsNotAnExecCredential) {
  for (
      const char* out :
      {R"({"kind":5,"status":{"token":"t"}})",
       R"({"kind":["ExecCredential"],"status":{"token":"t"}})",
       R"({"kind":null,"status":{"token":"t"}})",
       // the fuzzer's own input
       R"({"apiVersion":"client.hautentiUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUcatio/v0","kind":{"apiVersion":"client.a00Z"}})"}) {
    auto cred = parse_exec_credential(out);
    ASSERT_FALSE(cred.ok()) << out;
    EXPECT_EQ(cred.error(), "output is not an ExecCredential") << out;
  }
}

TEST(ExecCredential, FailuresAreClearAndQuoteNoOutput) {
  TempDir dir;
  std::string failing = dir.write("fail.sh", "#!/bin/sh\necho secret-ish >&2\nexit 4\n", true);
  auto f = run_exec_credential({failing, {}, {}, ""});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().describe(), "exec credential plugin " + failing + ": exited with status 4");

  std::string garbage = dir.write("garbage.sh", "#!/bin/sh\necho token=abc123\n", true);
  auto g = run_exec_credential({garbage, {}, {}, ""});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().describe().find("abc123"), std::string::npos);
  EXPECT_NE(g.error().message.find("not JSON"), std::string::npos);

  auto missing = run_exec_credential({dir.path() + "/nope", {}, {}, ""});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no such file"), std::string::npos);

  std::string slow = dir.write("slow.sh", "#!/bin/sh\nexec sleep 30\n", true);
  auto s = run_exec_credential({slow, {}, {}, ""}, std::chrono::milliseconds(200));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("did not finish"), std::string::npos);
}

}  // namespace
}  // namespace aim::kube
