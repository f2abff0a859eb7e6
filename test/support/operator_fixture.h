// OperatorTest: the gtest fixture of the controller integration suites. The reconcilers run
// in-process in a kube::Manager against the local control plane ($KUBECONFIG; every test is
// skipped without it).
//
//   class ModelIT : public aim::testing::OperatorTest {};
//   TEST_F(ModelIT, CreatesTemplates) {
//     std::string ns = create_namespace("model");
//     start_operator([](kube::Manager& m, const controllers::Context& c) {
//       controllers::register_catalog_controllers(m, c);
//     });
//     apply_yaml("apiVersion: aim.eai.amd.com/v1alpha1\nkind: AIMModel\n...");
//     auto tpl = wait_for(types::aim_service_templates(), ns, "x",
//                         [](const Json& t) { return status_is(t, "Ready"); });
//   }
//
// Namespaces made by create_namespace() and cluster-scoped objects made through apply() are
// deleted in TearDown (after the manager stops, so nothing re-creates them).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controllers/framework.h"
#include "kube/client.h"
#include "kube/manager.h"

namespace aim::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// "abc123": six random lower-case letters and digits.
std::string random_suffix();

// The ResourceType of apiVersion + kind for the kinds the suites use (AIM kinds, core, batch,
// KServe, Gateway API, KWOK Stage, DynamoModel); nullopt for anything else.
std::optional<kube::ResourceType> type_for(const std::string& api_version, const std::string& kind);

// status.status == value.
bool status_is(const Json& object, std::string_view value);
// The condition of that type in status.conditions, or null.
Json condition(const Json& object, std::string_view type);
bool condition_is(const Json& object, std::string_view type, std::string_view status,
                  std::string_view reason = {});

// The control plane one test uses, held exclusively for the test's lifetime. The candidates are
// $AIM_IT_KUBECONFIGS (colon-separated kubeconfig paths; scripts/test.sh starts two clusters so
// that `ctest -j2` runs two operator tests at once), else $KUBECONFIG. Each is locked with flock
// on "<kubeconfig>.lock"; a test waits while every candidate is taken.
class ClusterLease {
 public:
  ClusterLease();
  ~ClusterLease();
  ClusterLease(const ClusterLease&) = delete;
  ClusterLease& operator=(const ClusterLease&) = delete;
  // Empty when there is no cluster to use.
  const std::string& kubeconfig() const { return kubeconfig_; }

 private:
  int fd_ = -1;
  std::string kubeconfig_;
};

class OperatorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A fresh namespace "<prefix>-<random>", deleted in TearDown.
  std::string create_namespace(const std::string& prefix);

  using Registration = std::function<void(kube::Manager&, const controllers::Context&)>;
  // Starts a manager (no leader election, no metrics/health servers) with the controllers that
  // `registration` adds, and waits until its caches have synced.
  void start_operator(const Registration& registration);
  void stop_operator();

  // Creates the object, or server-side applies it (field manager "aim-integration-test", force)
  // when it exists. Cluster-scoped objects are remembered and deleted in TearDown.
  Json apply(const Json& object);
  // apply() of a Secret of `type` with `string_data` (key -> plain value).
  Json apply_secret(const std::string& ns, const std::string& name, const std::string& type,
                    const Json& string_data);
  // A Secret the kubelet accepts as an imagePullSecret (type kubernetes.io/dockerconfigjson).
  Json apply_pull_secret(const std::string& ns, const std::string& name);
  // apply() for every document of a YAML stream; returns the applied objects.
  std::vector<Json> apply_yaml(const std::string& yaml);
  // The object, or null when it does not exist (other errors fail the test).
  Json get(const kube::ResourceType& type, const std::string& ns, const std::string& name);
  std::vector<Json> list(const kube::ResourceType& type, const std::string& ns,
                         const std::string& label_selector = {});
  // Merge-patches status (as a controller that is not running in this test would write it).
  Json patch_status(const kube::ResourceType& type, const std::string& ns, const std::string& name,
                    const Json& status_patch);
  void remove(const kube::ResourceType& type, const std::string& ns, const std::string& name);

  // Polls (every 100 ms) until the object exists and `pred` holds; returns it. On timeout the
  // test fails with `what` and the last state of the object, and null is returned.
  Json wait_for(const kube::ResourceType& type, const std::string& ns, const std::string& name,
                const std::function<bool(const Json&)>& pred, std::chrono::seconds timeout = 60s,
                const std::string& what = {});
  // Polls until `pred()` holds; false (and a test failure naming `what`) on timeout.
  bool eventually(const std::function<bool()>& pred, std::chrono::seconds timeout,
                  const std::string& what);
  // Polls until the object is gone.
  bool wait_gone(const kube::ResourceType& type, const std::string& ns, const std::string& name,
                 std::chrono::seconds timeout = 60s);

  std::shared_ptr<kube::Client> client_;
  controllers::Context ctx_;
  std::unique_ptr<kube::Manager> manager_;

 private:
  std::unique_ptr<ClusterLease> lease_;  // held until the fixture is destroyed, after TearDown
  std::thread manager_thread_;
  std::vector<std::string> namespaces_;
  std::vector<std::pair<kube::ResourceType, std::string>> cluster_objects_;
};

}  // namespace aim::testing
