// Shared fixture of the client integration suites: a client from $KUBECONFIG, the test CRD
// widgets.test.aim.dev (installed and waited for), a fresh namespace per test (deleted after).
// Without KUBECONFIG every test is skipped.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "kube/client.h"

namespace aim::kube::integration {

using namespace std::chrono_literals;

inline const ResourceType kWidgets{"test.aim.dev", "v1", "widgets", "Widget", true};

// A self-signed CA that did not sign the cluster's serving certificate.
inline const char* kWrongCa = R"(-----BEGIN CERTIFICATE-----
MIIDHTCCAgWgAwIBAgIUOmnCejv15Bhiu0y7zITGxifIjGEwDQYJKoZIhvcNAQEL
BQAwHTEbMBkGA1UEAwwSbm90LXRoZS1jbHVzdGVyLWNhMCAXDTI2MTEyMzIxNDcz
NloYDzIxMjYxMDMwMjE0NzM2WjAdMRswGQYDVQQDDBJub3QtdGhlLWNsdXN0ZXIt
Y2EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCWQdMHCGnbDJcFr7C7
9yaPKquCDg+XZKR22UJ8hAFVDOxWkt3I+DjMofwvDAi1wYFtoTHA4PmotwImHk6b
j5bzqI936bAMdtVKy2j/1+lGPrqzyEIBRTKuh2J1ocXb6xLTT2OHwmyuP0Eyzo6N
cDXXiuouIzQ1FspNt03iPoSi1ry7prhatnsEccCemk/mmIG3Oj4qFdLF7VgA/cUF
qui4sK8KfPmnDcw8U3OBhvsFVXM4lAr+qvR7xv36KoyfDwVNKq73KLwTjtpIKNM1
XMMC3f8+jhM5XRWmwIge5kjPwoxHHwcwcVfKd6/yZvzJaykdPa5O3uJrniEOKx2P
j7nhAgMBAAGjUzBRMB0GA1UdDgQWBBTQsaCXQs8yMg5HU0ZBUvkYu607FjAfBgNV
HSMEGDAWgBTQsaCXQs8yMg5HU0ZBUvkYu607FjAPBgNVHRMBAf8EBTADAQH/MA0G
CSqGSIb3DQEBCwUAA4IBAQBWP1SqAuaZM/eLrhvCo/H8Uq1SIBkIb1wp8rz/zYhJ
sVjoWPH+MoJmQIlr3S1LRul2O4OQ6zxtjCJRkKz7sJ7334qlTHrjyCAJ3Ar0EXfp
tZApZnM0j4+NjR0nqOG8JtvoUkRmeLCQbGtVRw8qzk1yu8LSCNf0l35PIhbfP5y4
Oz7VvhqcNISsYIqjicZThVwA8Vw+IW24zknyo33+5qerCzT/14nhlkckOISu8hq7
oXhI572swczu+uz0/f0XzupnXq1uH850BOywRSzG+xrxsUfcmImNX/qmYinifPm8
JkdZptWIwCwpIQvOO91z8kQm2gPbcsoP2trdyDeBb/a8
-----END CERTIFICATE-----
)";

inline const char* kWidgetCrd = R"({
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {"name": "widgets.test.aim.dev"},
  "spec": {
    "group": "test.aim.dev",
    "scope": "Namespaced",
    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
    "versions": [{
      "name": "v1", "served": true, "storage": true,
      "subresources": {"status": {}},
      "schema": {"openAPIV3Schema": {
        "type": "object",
        "properties": {
          "spec": {"type": "object", "properties": {
            "size": {"type": "integer", "minimum": 0},
            "color": {"type": "string"},
            "owner": {"type": "string"}}},
          "status": {"type": "object", "properties": {
            "phase": {"type": "string"},
            "observed": {"type": "integer"}}}}}}
    }]
  }
})";

// Runs tools/cluster/cluster.sh with an argument (tests run from the repository root); true on
// success. The cluster's state directory is the kubeconfig's unless AIM_CLUSTER_DIR says.
inline bool cluster(const std::string& verb) {
  if (!std::getenv("AIM_CLUSTER_DIR")) {
    if (const char* kc = std::getenv("KUBECONFIG"))
      ::setenv("AIM_CLUSTER_DIR", std::filesystem::path(kc).parent_path().c_str(), 1);
  }
  std::string cmd = "tools/cluster/cluster.sh " + verb + " >/dev/null";
  return std::system(cmd.c_str()) == 0;
}

inline std::string random_suffix() {
  static std::mt19937 rng(std::random_device{}());
  static const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += chars[rng() % 36];
  return s;
}

inline Json widget(const std::string& ns, const std::string& name, int size) {
  return {{"apiVersion", "test.aim.dev/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"size", size}, {"color", "red"}}}};
}

template <typename F>
bool eventually(F&& condition, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return condition();
}

class KubeIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* kc = std::getenv("KUBECONFIG");
    if (!kc || !*kc) return;
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
    auto c = Client::create(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().describe();
    client_ = *c;
    auto version = client_->server_version();
    ASSERT_TRUE(version.ok()) << version.error().describe();
    std::cout << "kube-apiserver version: " << version->value("gitVersion", "?") << std::endl;

    auto crd = client_->apply(types::custom_resource_definitions(), Json::parse(kWidgetCrd),
                              {"aim-kube-integration", true});
    ASSERT_TRUE(crd.ok()) << crd.error().describe();
    bool established = eventually(
        [] {
          auto got = client_->get(types::custom_resource_definitions(), {}, "widgets.test.aim.dev");
          if (!got.ok()) return false;
          for (const auto& c : (*got)["status"].value("conditions", Json::array()))
            if (c.value("type", "") == "Established" && c.value("status", "") == "True")
              return true;
          return false;
        },
        60s);
    ASSERT_TRUE(established) << "CRD widgets.test.aim.dev did not become Established";
    // Discovery may lag behind Established for a moment.
    ASSERT_TRUE(eventually([] { return client_->list(kWidgets, "default").ok(); }, 30s));
  }

  static void TearDownTestSuite() { client_.reset(); }

  void SetUp() override {
    if (!client_) GTEST_SKIP() << "KUBECONFIG is not set; start tools/cluster/cluster.sh";
    ns_ = "kube-it-" + random_suffix();
    auto r = client_->create(
        types::namespaces(),
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }

  void TearDown() override {
    if (client_ && !ns_.empty()) {
      auto r = client_->remove(types::namespaces(), {}, ns_);
      if (!r.ok())
        std::cerr << "deleting namespace " << ns_ << ": " << r.error().describe() << "\n";
    }
  }

  static inline std::shared_ptr<Client> client_;
  std::string ns_;
};

}  // namespace aim::kube::integration
