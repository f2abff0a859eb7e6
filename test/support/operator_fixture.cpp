#include "test/support/operator_fixture.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <random>

#include "api/kinds.h"
#include "api/yaml.h"
#include "kube/config.h"

namespace aim::testing {

std::string random_suffix() {
  static std::mt19937 rng(std::random_device{}());
  static const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s += chars[rng() % 36];
  return s;
}

std::optional<kube::ResourceType> type_for(const std::string& api_version,
                                           const std::string& kind) {
  if (const auto* entry = api::find_kind(api_version, kind)) {
    return controllers::resource_type(*entry->info);
  }
  static const std::vector<kube::ResourceType> known = {
      kube::types::namespaces(),
      kube::types::nodes(),
      kube::types::pods(),
      kube::types::secrets(),
      kube::types::config_maps(),
      kube::types::service_accounts(),
      kube::types::persistent_volume_claims(),
      kube::types::jobs(),
      kube::types::storage_classes(),
      kube::types::csi_storage_capacities(),
      {"", "v1", "persistentvolumes", "PersistentVolume", false},
      {"kwok.x-k8s.io", "v1alpha1", "stages", "Stage", false},
      {"admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
       "ValidatingAdmissionPolicy", false},
      {"admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
       "ValidatingAdmissionPolicyBinding", false},
      controllers::types::inference_services(),
      controllers::types::http_routes(),
      controllers::types::horizontal_pod_autoscalers(),
      controllers::types::dynamo_models(),
  };
  for (const auto& t : known) {
    if (t.api_version() == api_version && t.kind == kind) return t;
  }
  return std::nullopt;
}

bool status_is(const Json& object, std::string_view value) {
  return object.is_object() && object.contains("status") && object["status"].is_object() &&
         object["status"].value("status", "") == value;
}

Json condition(const Json& object, std::string_view type) {
  if (!object.is_object() || !object.contains("status")) return nullptr;
  for (const auto& c : object["status"].value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

bool condition_is(const Json& object, std::string_view type, std::string_view status,
                  std::string_view reason) {
  Json c = condition(object, type);
  if (c.is_null() || c.value("status", "") != status) return false;
  return reason.empty() || c.value("reason", "") == reason;
}

namespace {

// Splits "a:b:c" (a PATH-like list) into its non-empty parts.
std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// An exclusive flock on "<kubeconfig>.lock"; -1 when another process holds it (or on error).
int try_lock(const std::string& kubeconfig) {
  int fd = ::open((kubeconfig + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ClusterLease::ClusterLease() {
  std::vector<std::string> candidates;
  if (const char* list = std::getenv("AIM_IT_KUBECONFIGS"); list != nullptr) {
    candidates = split_list(list);
  }
  if (candidates.empty()) {
    const char* kc = std::getenv("KUBECONFIG");
    if (kc == nullptr || *kc == '\0') return;
    candidates.emplace_back(kc);
  }
  // Two operators must never reconcile one cluster at once: take the first control plane no other
  // test process holds, and wait while all of them are taken. The kernel drops the lock when the
  // process ends, however it ends.
  for (;;) {
    for (const auto& kc : candidates) {
      fd_ = try_lock(kc);
      if (fd_ >= 0) {
        kubeconfig_ = kc;
        return;
      }
    }
    std::this_thread::sleep_for(100ms);
  }
}

ClusterLease::~ClusterLease() {
  if (fd_ >= 0) ::close(fd_);
}

void OperatorTest::SetUp() {
  lease_ = std::make_unique<ClusterLease>();
  if (lease_->kubeconfig().empty()) {
    GTEST_SKIP() << "KUBECONFIG is not set; start tools/cluster/cluster.sh";
  }
  // Everything below (the client, kubectl and helpers the test starts) talks to that cluster.
  ::setenv("KUBECONFIG", lease_->kubeconfig().c_str(), 1);
  auto cfg = kube::Config::load();
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  auto c = kube::Client::create(*cfg);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  client_ = *c;
  ctx_.client = client_;
  ctx_.operator_namespace = controllers::detect_operator_namespace();
}

void OperatorTest::TearDown() {
  stop_operator();
  if (!client_) return;
  for (const auto& [type, name] : cluster_objects_) {
    auto r = client_->remove(type, "", name);
    if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound)) {
      std::cerr << "deleting " << type.kind << " " << name << ": " << r.error().describe() << "\n";
    }
  }
  for (const auto& ns : namespaces_) {
    auto r = client_->remove(kube::types::namespaces(), "", ns);
    if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound)) {
      std::cerr << "deleting namespace " << ns << ": " << r.error().describe() << "\n";
    }
  }
}

std::string OperatorTest::create_namespace(const std::string& prefix) {
  std::string ns = prefix + "-" + random_suffix();
  auto r =
      client_->create(kube::types::namespaces(),
                      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  EXPECT_TRUE(r.ok()) << r.error().describe();
  namespaces_.push_back(ns);
  return ns;
}

void OperatorTest::start_operator(const Registration& registration) {
  kube::ManagerOptions options;
  options.metrics_bind_address = "0";
  options.health_probe_bind_address = "0";
  options.leader_elect = false;
  manager_ = std::make_unique<kube::Manager>(client_, options);
  ctx_.informers = &manager_->informers();
  ctx_.manager = manager_.get();
  registration(*manager_, ctx_);
  manager_thread_ = std::thread([this] {
    auto r = manager_->run();
    if (!r.ok()) std::cerr << "manager stopped: " << r.error() << "\n";
  });
  ASSERT_TRUE(eventually([this] { return manager_->ready(); }, 60s, "the manager's caches sync"));
}

void OperatorTest::stop_operator() {
  if (!manager_) return;
  manager_->request_stop();
  if (manager_thread_.joinable()) manager_thread_.join();
  manager_.reset();
  ctx_.informers = nullptr;
  ctx_.manager = nullptr;
}

Json OperatorTest::apply(const Json& object) {
  auto type = type_for(object.value("apiVersion", ""), object.value("kind", ""));
  if (!type) {
    ADD_FAILURE() << "no resource type known for " << object.value("apiVersion", "") << " "
                  << object.value("kind", "");
    return nullptr;
  }
  auto created = client_->create(*type, object);
  if (created) {
    if (!type->namespaced) cluster_objects_.emplace_back(*type, controllers::name_of(*created));
    return *created;
  }
  if (!created.error().is(kube::ErrorCode::kAlreadyExists)) {
    ADD_FAILURE() << "creating " << type->kind << " " << controllers::name_of(object) << ": "
                  << created.error().describe();
    return nullptr;
  }
  auto applied = client_->apply(*type, object, {"aim-integration-test", true});
  if (!applied) {
    ADD_FAILURE() << "applying " << type->kind << " " << controllers::name_of(object) << ": "
                  << applied.error().describe();
    return nullptr;
  }
  return *applied;
}

Json OperatorTest::apply_secret(const std::string& ns, const std::string& name,
                                const std::string& type, const Json& string_data) {
  return apply(Json{{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"type", type},
                    {"stringData", string_data}});
}

Json OperatorTest::apply_pull_secret(const std::string& ns, const std::string& name) {
  return apply_secret(ns, name, "kubernetes.io/dockerconfigjson",
                      {{".dockerconfigjson", R"({"auths":{"registry.test":{"auth":"dTpw"}}})"}});
}

std::vector<Json> OperatorTest::apply_yaml(const std::string& yaml) {
  auto docs = api::parse_yaml(yaml);
  EXPECT_TRUE(docs.error.empty()) << docs.error;
  std::vector<Json> out;
  for (const auto& d : docs.documents) out.push_back(apply(d));
  return out;
}

Json OperatorTest::get(const kube::ResourceType& type, const std::string& ns,
                       const std::string& name) {
  auto got = client_->get(type, ns, name);
  if (got) return *got;
  if (!got.error().is(kube::ErrorCode::kNotFound)) {
    ADD_FAILURE() << "reading " << type.kind << " " << ns << "/" << name << ": "
                  << got.error().describe();
  }
  return nullptr;
}

std::vector<Json> OperatorTest::list(const kube::ResourceType& type, const std::string& ns,
                                     const std::string& label_selector) {
  kube::ListOptions options;
  options.label_selector = label_selector;
  auto got = client_->list(type, ns, options);
  if (!got) {
    ADD_FAILURE() << "listing " << type.kind << ": " << got.error().describe();
    return {};
  }
  return got->items;
}

Json OperatorTest::patch_status(const kube::ResourceType& type, const std::string& ns,
                                const std::string& name, const Json& status_patch) {
  auto r = client_->merge_patch(type, ns, name, {{"status", status_patch}}, "status");
  if (!r) {
    ADD_FAILURE() << "patching status of " << type.kind << " " << name << ": "
                  << r.error().describe();
    return nullptr;
  }
  return *r;
}

void OperatorTest::remove(const kube::ResourceType& type, const std::string& ns,
                          const std::string& name) {
  auto r = client_->remove(type, ns, name);
  if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound)) {
    ADD_FAILURE() << "deleting " << type.kind << " " << name << ": " << r.error().describe();
  }
}

Json OperatorTest::wait_for(const kube::ResourceType& type, const std::string& ns,
                            const std::string& name, const std::function<bool(const Json&)>& pred,
                            std::chrono::seconds timeout, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Json last;
  while (true) {
    auto got = client_->get(type, ns, name);
    last = got ? *got : Json(nullptr);
    if (got && pred(*got)) return *got;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "timed out after " << timeout.count() << " s waiting for " << type.kind << " "
                << (ns.empty() ? "" : ns + "/") << name << (what.empty() ? "" : ": " + what)
                << "\nlast state: " << (last.is_null() ? "absent" : last.dump(2));
  return nullptr;
}

bool OperatorTest::eventually(const std::function<bool()>& pred, std::chrono::seconds timeout,
                              const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "timed out after " << timeout.count() << " s waiting for " << what;
  return false;
}

bool OperatorTest::wait_gone(const kube::ResourceType& type, const std::string& ns,
                             const std::string& name, std::chrono::seconds timeout) {
  return eventually(
      [&] {
        auto got = client_->get(type, ns, name);
        return !got && got.error().is(kube::ErrorCode::kNotFound);
      },
      timeout, type.kind + " " + name + " to be deleted");
}

}  // namespace aim::testing
