// AIMService controller against the local control plane. Only the service controller runs: the
// tests create the models and templates and set their status as the catalog controllers would,
// and play KServe by setting the InferenceService's Ready condition (no KServe controller runs).
#include <gtest/gtest.h>

#include <set>

#include "controllers/service/internal.h"
#include "controllers/service/service.h"
#include "engine/service_names.h"
#include "test/support/operator_fixture.h"

namespace aim {
namespace {

using controllers::name_of;
using namespace controllers::types;
using testing::condition;
using testing::condition_is;
using testing::Json;
using testing::status_is;
using namespace std::chrono_literals;

const std::string kApi = "aim.eai.amd.com/v1alpha1";

const Json& field(const Json& obj, std::initializer_list<const char*> path) {
  static const Json kNull;
  const Json* cur = &obj;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return kNull;
    cur = &(*cur)[k];
  }
  return *cur;
}

Json env_of(const Json& container, const std::string& name) {
  for (const auto& e : container.value("env", Json::array())) {
    if (e.value("name", "") == name) return e.value("value", Json());
  }
  return nullptr;
}

class ServiceIT : public testing::OperatorTest {
 protected:
  void TearDown() override {
    // Remove the services while the controller still runs, so their finalizers go and the
    // namespaces can be deleted.
    if (manager_) {
      for (const auto& ns : mine_) {
        for (const auto& s : list(aim_services(), ns)) {
          remove(aim_services(), ns, name_of(s));
          wait_gone(aim_services(), ns, name_of(s), 30s);
        }
      }
    }
    OperatorTest::TearDown();
  }

  std::string ns(const std::string& prefix) {
    mine_.push_back(create_namespace(prefix));
    return mine_.back();
  }

  void start() {
    start_operator([](kube::Manager& m, const controllers::Context& c) {
      controllers::register_service_controllers(m, c);
    });
  }

  // An AIMModel (or AIMClusterModel when ns is empty), made Ready as the model controller would.
  void model(const std::string& ns, const std::string& name, const std::string& image) {
    Json m = {{"apiVersion", kApi},
              {"kind", ns.empty() ? "AIMClusterModel" : "AIMModel"},
              {"metadata", {{"name", name}}},
              {"spec", {{"image", image}}}};
    if (!ns.empty()) m["metadata"]["namespace"] = ns;
    apply(m);
    patch_status(ns.empty() ? aim_cluster_models() : aim_models(), ns, name, {{"status", "Ready"}});
  }

  // A template with the status the template controller would write.
  void template_(const std::string& ns, const std::string& name, const std::string& model_name,
                 const std::string& gpu, const std::string& precision,
                 const std::string& status = "Ready") {
    apply({{"apiVersion", kApi},
           {"kind", "AIMServiceTemplate"},
           {"metadata", {{"name", name}, {"namespace", ns}}},
           {"spec",
            {{"modelName", model_name},
             {"metric", "latency"},
             {"precision", precision},
             {"profileId", "prof-" + precision},
             {"env", {{{"name", "TEMPLATE_VAR"}, {"value", "t"}}}},
             {"hardware", {{"gpu", {{"requests", 2}, {"model", gpu}}}}}}}});
    set_template_status(ns, name, gpu, precision, status);
  }

  void set_template_status(const std::string& ns, const std::string& name, const std::string& gpu,
                           const std::string& precision, const std::string& status = "Ready") {
    Json st = Json::parse(R"({
      "profile": {"metadata": {"type": "optimized", "metric": "latency", "gpuCount": 2}},
      "resolvedHardware": {"gpu": {"requests": 2}},
      "resolvedNodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
          {"key": "amd.com/gpu.device-id", "operator": "In", "values": ["74a1", "74a9"]}]}]}},
      "modelSources": [{"size": "10Gi"}]})");
    st["status"] = status;
    st["profile"]["metadata"]["precision"] = precision;
    st["profile"]["metadata"]["gpu"] = gpu;
    st["resolvedHardware"]["gpu"]["model"] = gpu;
    st["modelSources"][0]["modelId"] = "org/model-" + precision;
    st["modelSources"][0]["sourceUri"] = "hf://org/model-" + precision;
    patch_status(aim_service_templates(), ns, name, st);
  }

  Json service(const std::string& ns, const std::string& name, const Json& spec,
               const Json& metadata_extra = Json::object()) {
    Json s = {{"apiVersion", kApi},
              {"kind", "AIMService"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec}};
    s["metadata"].update(metadata_extra);
    return apply(s);
  }

  std::string isvc_name(const std::string& svc, const std::string& ns) {
    return *engine::service_names::inference_service_name(svc, ns);
  }

  Json wait_isvc(const std::string& ns, const std::string& svc) {
    return wait_for(
        inference_services(), ns, isvc_name(svc, ns), [](const Json&) { return true; }, 60s,
        "the InferenceService");
  }

  void set_isvc_ready(const std::string& ns, const std::string& svc, bool ready) {
    Json cond = {{"type", "Ready"},
                 {"status", ready ? "True" : "False"},
                 {"lastTransitionTime", "2026-01-01T00:00:00Z"}};
    if (!ready) cond["message"] = "predictor unavailable";
    patch_status(inference_services(), ns, isvc_name(svc, ns),
                 {{"conditions", Json::array({cond})}});
  }

  std::vector<Json> events_for(const std::string& ns, const std::string& name) {
    std::vector<Json> out;
    for (const auto& e : list(kube::types::events(), ns)) {
      if (field(e, {"regarding", "name"}) == name) out.push_back(e);
    }
    return out;
  }

  std::vector<std::string> mine_;
};

// docs/bad-input.md row 7 (service pull secret missing, then of the wrong type): the
// InferenceService waits, and the Secret's creation (or fix) alone releases it.
TEST_F(ServiceIT, PullSecretsAreCheckedBeforeTheInferenceServiceExists) {
  const std::string n = ns("svc-pull");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "llama-mi300x-fp8", "llama", "MI300X", "fp8");
  start();
  service(n, "chat",
          {{"model", {{"name", "llama"}}},
           {"template", {{"name", "llama-mi300x-fp8"}}},
           {"caching", {{"mode", "Never"}}},
           {"imagePullSecrets", {{{"name", "regcred"}}}}});
  Json svc = wait_for(
      aim_services(), n, "chat",
      [](const Json& s) {
        return condition_is(s, "ImagePullSecretReady", "False", "SecretNotFound");
      },
      60s, "ImagePullSecretReady=False/SecretNotFound");
  EXPECT_TRUE(status_is(svc, "Failed")) << svc["status"].dump(2);
  EXPECT_TRUE(condition_is(svc, "ConfigValid", "False"));
  for (const char* type : {"ImagePullSecretReady", "Ready", "ConfigValid"}) {
    std::string msg = condition(svc, type).value("message", "");
    EXPECT_NE(msg.find("imagePullSecret \"regcred\" not found in namespace \"" + n +
                       "\": create it, or remove it from spec.imagePullSecrets"),
              std::string::npos)
        << type << ": " << msg;
  }
  EXPECT_TRUE(list(inference_services(), n).empty());

  // Created as a generic Secret, the kubelet would pull anonymously: still blocked, now saying so.
  apply_secret(n, "regcred", "Opaque", {{".dockerconfigjson", "{}"}});
  svc = wait_for(
      aim_services(), n, "chat",
      [](const Json& s) {
        return condition_is(s, "ImagePullSecretReady", "False", "InvalidPullSecret");
      },
      10s, "ImagePullSecretReady=False/InvalidPullSecret");
  EXPECT_NE(condition(svc, "Ready").value("message", "").find("kubernetes.io/dockerconfigjson"),
            std::string::npos);
  EXPECT_TRUE(list(inference_services(), n).empty());

  // A Secret's type is immutable: recreated, the service goes on by itself.
  remove(kube::types::secrets(), n, "regcred");
  wait_gone(kube::types::secrets(), n, "regcred", 30s);
  apply_pull_secret(n, "regcred");
  Json isvc = wait_isvc(n, "chat");
  EXPECT_EQ(field(isvc, {"spec", "predictor", "imagePullSecrets"})[0]["name"], "regcred");
  svc = wait_for(
      aim_services(), n, "chat", [](const Json& s) { return status_is(s, "Starting"); }, 30s,
      "Starting");
  EXPECT_TRUE(condition(svc, "ImagePullSecretReady").is_null()) << svc["status"].dump(2);
}

TEST_F(ServiceIT, ByNameSelectsRendersTheInferenceServiceAndRunsWhenReady) {
  const std::string n = ns("svc-name");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "llama-mi300x-fp8", "llama", "MI300X", "fp8");
  template_(n, "llama-mi300x-fp16", "llama", "MI300X", "fp16");
  template_(n, "llama-mi355x-fp4", "llama", "MI355X", "fp4");  // no MI355X node
  template_(n, "llama-mi300x-bf16-pending", "llama", "MI300X", "bf16", "Pending");
  apply_pull_secret(n, "regcred");
  start();
  service(n, "chat",
          {{"model", {{"name", "llama"}}},
           {"caching", {{"mode", "Never"}}},
           {"env", {{{"name", "TEMPLATE_VAR"}, {"value", "svc"}}, {{"name", "B"}, {"value", "1"}}}},
           {"imagePullSecrets", {{{"name", "regcred"}}}},
           {"serviceAccountName", "inference"},
           {"resources", {{"limits", {{"memory", "200Gi"}}}}}});

  Json svc = wait_for(
      aim_services(), n, "chat", [](const Json& s) { return status_is(s, "Starting"); }, 60s,
      "Starting");
  EXPECT_EQ(field(svc, {"status", "resolvedTemplate", "name"}), "llama-mi300x-fp8");
  EXPECT_EQ(field(svc, {"status", "resolvedTemplate", "scope"}), "Namespace");
  EXPECT_EQ(field(svc, {"status", "resolvedModel", "name"}), "llama");
  EXPECT_TRUE(condition_is(svc, "TemplateReady", "True", "Resolved"));
  EXPECT_TRUE(condition_is(svc, "ModelReady", "True", "ModelResolved"));
  EXPECT_EQ(field(svc, {"status", "runtime", "replicas"}), "1");

  // The choice is explained in an event naming the rejections.
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& e : events_for(n, "chat")) {
          if (e.value("reason", "") == "TemplateSelected") return true;
        }
        return false;
      },
      30s, "a TemplateSelected event"));
  for (const auto& e : events_for(n, "chat")) {
    if (e.value("reason", "") != "TemplateSelected") continue;
    std::string note = e.value("note", "");
    EXPECT_NE(note.find("selected llama-mi300x-fp8"), std::string::npos) << note;
    EXPECT_NE(note.find("not Ready"), std::string::npos) << note;
  }

  Json isvc = wait_isvc(n, "chat");
  EXPECT_EQ(field(isvc, {"metadata", "ownerReferences"})[0]["kind"], "AIMService");
  EXPECT_EQ(field(isvc, {"metadata", "annotations", "serving.kserve.io/autoscalerClass"}), "none");
  EXPECT_EQ(field(isvc, {"metadata", "labels", "aim.eai.amd.com/template"}), "llama-mi300x-fp8");
  EXPECT_EQ(field(isvc, {"metadata", "labels", "aim.eai.amd.com/precision"}), "fp8");
  const Json& pred = field(isvc, {"spec", "predictor"});
  EXPECT_EQ(pred["minReplicas"], 1);
  EXPECT_EQ(pred["maxReplicas"], 1);
  EXPECT_EQ(pred["serviceAccountName"], "inference");
  EXPECT_EQ(pred["imagePullSecrets"][0]["name"], "regcred");
  EXPECT_EQ(
      field(pred, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                   "nodeSelectorTerms"})[0]["matchExpressions"][0]["values"],
      Json({"74a1", "74a9"}));
  const Json& c = pred["containers"][0];
  EXPECT_EQ(c["name"], "kserve-container");
  EXPECT_EQ(c["image"], "docker.io/amd/llama:1.0");
  EXPECT_EQ(c["ports"][0]["containerPort"], 8000);
  EXPECT_EQ(env_of(c, "AIM_CACHE_PATH"), "/workspace/cache");
  EXPECT_EQ(env_of(c, "AIM_PRECISION"), "fp8");
  EXPECT_EQ(env_of(c, "AIM_METRIC"), "latency");
  EXPECT_EQ(env_of(c, "AIM_PROFILE_ID"), "prof-fp8");
  EXPECT_EQ(env_of(c, "TEMPLATE_VAR"), "svc");  // service env wins over template env
  std::vector<std::string> env_names;
  for (const auto& e : c["env"]) env_names.push_back(e["name"]);
  EXPECT_TRUE(std::is_sorted(env_names.begin(), env_names.end()));
  EXPECT_EQ(field(c, {"resources", "limits", "amd.com/gpu"}), "2");
  EXPECT_EQ(field(c, {"resources", "requests", "cpu"}), "8");
  EXPECT_EQ(field(c, {"resources", "limits", "memory"}), "200Gi");  // service resources win
  std::set<std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts.insert(m["mountPath"]);
  EXPECT_TRUE(mounts.count("/dev/shm"));
  EXPECT_TRUE(mounts.count("/workspace/cache"));  // caching Never: the service PVC
  EXPECT_EQ(list(kube::types::persistent_volume_claims(), n).size(), 1u);

  set_isvc_ready(n, "chat", true);
  svc = wait_for(
      aim_services(), n, "chat", [](const Json& s) { return status_is(s, "Running"); }, 60s,
      "Running");
  EXPECT_TRUE(condition_is(svc, "Ready", "True"));

  // Idle: nothing changes on the service while nothing changes around it.
  const std::string rv = field(svc, {"metadata", "resourceVersion"});
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(field(get(aim_services(), n, "chat"), {"metadata", "resourceVersion"}), rv);

  set_isvc_ready(n, "chat", false);
  svc = wait_for(
      aim_services(), n, "chat", [](const Json& s) { return status_is(s, "Degraded"); }, 60s,
      "Degraded after the InferenceService lost Ready");
  EXPECT_TRUE(condition_is(svc, "InferenceServiceReady", "False", "RuntimeDegraded"));
}

// No silent stuck service (issue 27): the predictor pod cannot be scheduled (a node selector no
// node matches, so the real kube-scheduler marks it Unschedulable; the test plays the KServe
// Deployment that would create it). Inside the 30 s grace the service only waits; then it says
// Unschedulable with the scheduler's message, and once the pod is gone it says so no more.
// Issue 25 step 4: what the operator stops setting leaves the child. The service's
// aim.eai.amd.com/ labels are copied to its InferenceService; once one is removed from the
// service, the API server removes it from the InferenceService too (the operator's apply owns
// it), and with it the operator's record of what it applied changes.
TEST_F(ServiceIT, ALabelRemovedFromAServiceLeavesItsInferenceService) {
  const std::string n = ns("svc-label");
  const std::string key = "aim.eai.amd.com/team";
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "llama-mi300x-fp8", "llama", "MI300X", "fp8");
  start();
  service(n, "chat", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}},
          {{"labels", {{key, "search"}}}});
  Json isvc = wait_for(
      inference_services(), n, isvc_name("chat", n),
      [&](const Json& i) {
        return field(i, {"metadata", "labels"}).value(key, "") == "search";
      },
      60s, "the service's label on its InferenceService");
  const std::string hash =
      field(isvc, {"metadata", "annotations"}).value("aim.eai.amd.com/applied-hash", "");
  EXPECT_FALSE(hash.empty());

  auto patched = client_->merge_patch(aim_services(), n, "chat",
                                      {{"metadata", {{"labels", {{key, nullptr}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  isvc = wait_for(
      inference_services(), n, isvc_name("chat", n),
      [&](const Json& i) {
        return !field(i, {"metadata", "labels"}).contains(key);
      },
      60s, "the label gone from the InferenceService");
  EXPECT_NE(field(isvc, {"metadata", "annotations"}).value("aim.eai.amd.com/applied-hash", ""),
            hash);
  EXPECT_EQ(field(isvc, {"metadata", "labels"}).value("aim.eai.amd.com/managed-by", ""),
            "aim-engine")
      << "what the operator still sets stays";
}

TEST_F(ServiceIT, APredictorPodThatCannotBeScheduledIsReportedAfterTheGracePeriod) {
  const std::string n = ns("svc-stuck");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "llama-mi300x-fp8", "llama", "MI300X", "fp8");
  start();
  service(n, "stuck", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}});
  wait_isvc(n, "stuck");
  const std::string pod = "stuck-predictor-" + testing::random_suffix();
  apply(
      {{"apiVersion", "v1"},
       {"kind", "Pod"},
       {"metadata",
        {{"name", pod},
         {"namespace", n},
         {"labels", {{"serving.kserve.io/inferenceservice", isvc_name("stuck", n)}}}}},
       {"spec",
        {{"nodeSelector", {{"it.aim.eai.amd.com/no-such-node", "true"}}},
         {"containers", {{{"name", "kserve-container"}, {"image", "docker.io/amd/llama:1.0"}}}}}}});
  const auto created = std::chrono::steady_clock::now();
  Json svc = wait_for(
      aim_services(), n, "stuck",
      [](const Json& s) { return condition_is(s, "Ready", "False", "Unschedulable"); }, 90s,
      "Ready=False/Unschedulable");
  ASSERT_FALSE(svc.is_null());
  EXPECT_GE(std::chrono::steady_clock::now() - created, 25s) << "reported inside the grace period";
  EXPECT_TRUE(status_is(svc, "Degraded")) << svc["status"].dump(2);
  std::string message;
  for (const auto& c : svc["status"]["conditions"])
    if (c.value("type", "") == "Ready") message = c.value("message", "");
  EXPECT_NE(message.find("Pod " + pod + " cannot be scheduled"), std::string::npos) << message;
  EXPECT_NE(message.find("node(s) didn't match"), std::string::npos) << message;

  remove(kube::types::pods(), n, pod);
  wait_for(
      aim_services(), n, "stuck",
      [](const Json& s) {
        for (const auto& c : s["status"].value("conditions", Json::array()))
          if (c.value("reason", "") == "Unschedulable") return false;
        return true;
      },
      60s, "no Unschedulable once the pod is gone");
}

TEST_F(ServiceIT, SelectionExplanationIsRecordedInStatus) {
  const std::string n = ns("svc-explain");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "a-fp8", "llama", "MI300X", "fp8");
  template_(n, "b-fp8", "llama", "MI300X", "fp8");
  template_(n, "c-fp4", "llama", "MI355X", "fp4");
  start();
  service(n, "tie", {{"model", {{"name", "llama"}}}});
  Json svc = wait_for(
      aim_services(), n, "tie", [](const Json& s) { return status_is(s, "Failed"); }, 60s,
      "Failed");
  Json c = condition(svc, "TemplateReady");
  EXPECT_EQ(c.value("reason", ""), "TemplateSelectionAmbiguous");
  EXPECT_NE(c.value("message", "").find("a-fp8"), std::string::npos);
  EXPECT_TRUE(list(inference_services(), n).empty());
  // status.templateSelection (extension): needs the CRD to keep the field.
  const Json& sel = field(svc, {"status", "templateSelection"});
  ASSERT_TRUE(sel.is_object())
      << "status.templateSelection was dropped: the AIMService CRD does not declare it yet";
  EXPECT_EQ(sel["outcome"], "Ambiguous");
  ASSERT_EQ(sel["candidates"].size(), 3u);
  EXPECT_EQ(sel["candidates"][2]["name"], "c-fp4");
  EXPECT_EQ(sel["candidates"][2]["stage"], 4);
}

TEST_F(ServiceIT, ByImageCreatesAModelAndTwoMatchingModelsFail) {
  const std::string n = ns("svc-image");
  const std::string image = "ghcr.io/amd/aim-test-" + testing::random_suffix() + ":0.1";
  start();
  service(n, "img", {{"model", {{"image", image}}}, {"serviceAccountName", "sa"}});
  auto model_name = controllers::service::model_name_for_image(image);
  ASSERT_TRUE(model_name.ok());
  Json m = wait_for(
      aim_models(), n, *model_name, [](const Json&) { return true; }, 60s,
      "the auto-created AIMModel");
  EXPECT_EQ(field(m, {"spec", "image"}), image);
  EXPECT_EQ(field(m, {"spec", "serviceAccountName"}), "sa");
  EXPECT_EQ(field(m, {"metadata", "labels", "aim.eai.amd.com/origin"}), "auto-generated");
  EXPECT_TRUE(field(m, {"metadata", "ownerReferences"}).is_null());

  // A second model with the same image makes the choice ambiguous.
  const std::string cluster_model = "aim-test-dup-" + testing::random_suffix();
  model("", cluster_model, image);
  Json svc = wait_for(
      aim_services(), n, "img", [](const Json& s) { return status_is(s, "Failed"); }, 60s,
      "Failed");
  Json c = condition(svc, "ModelReady");
  EXPECT_EQ(c.value("reason", ""), "MultipleModelsFound");
  EXPECT_NE(c.value("message", "").find(cluster_model + " (cluster)"), std::string::npos);
  EXPECT_NE(c.value("message", "").find(*model_name), std::string::npos);
}

TEST_F(ServiceIT, ExplicitTemplateAndOverridesShareOneDerivedTemplate) {
  const std::string n = ns("svc-ovr");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "base", "llama", "MI300X", "fp16");
  start();
  service(n, "plain",
          {{"model", {{"name", "llama"}}},
           {"template", {{"name", "base"}}},
           {"caching", {{"mode", "Never"}}}});
  Json plain = wait_isvc(n, "plain");
  EXPECT_EQ(field(plain, {"metadata", "labels", "aim.eai.amd.com/template"}), "base");

  Json ovr = {{"model", {{"name", "llama"}}},
              {"template", {{"name", "base"}}},
              {"overrides", {{"precision", "fp8"}}},
              {"caching", {{"mode", "Never"}}}};
  service(n, "one", ovr);
  std::string derived;
  ASSERT_TRUE(eventually(
      [&] {
        auto l = list(aim_service_templates(), n, "aim.eai.amd.com/origin=derived");
        if (l.size() == 1) derived = name_of(l[0]);
        return l.size() == 1;
      },
      60s, "one derived template"));
  EXPECT_EQ(derived.rfind("base-ovr-fp8-", 0), 0u) << derived;
  service(n, "two", ovr);
  wait_for(
      aim_services(), n, "two",
      [](const Json& s) { return condition_is(s, "TemplateReady", "False", "TemplateNotReady"); },
      60s, "the second service waits for the same derived template");
  Json t = get(aim_service_templates(), n, derived);
  EXPECT_EQ(field(t, {"spec", "precision"}), "fp8");
  EXPECT_TRUE(field(t, {"metadata", "ownerReferences"}).is_null());

  set_template_status(n, derived, "MI300X", "fp8");
  for (const std::string s : {"one", "two"}) {
    Json isvc = wait_isvc(n, s);
    EXPECT_EQ(field(isvc, {"metadata", "labels", "aim.eai.amd.com/template"}), derived);
  }
  EXPECT_EQ(list(aim_service_templates(), n, "aim.eai.amd.com/origin=derived").size(), 1u);
}

TEST_F(ServiceIT, HttpRouteAndBadPathTemplate) {
  const std::string n = ns("svc-route");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "t", "llama", "MI300X", "fp8");
  start();
  Json routing = {{"enabled", true},
                  {"gatewayRef", {{"name", "gw"}, {"namespace", "gateways"}}},
                  {"pathTemplate", "/{.metadata.namespace}/{.metadata.labels['team']}"},
                  {"annotations", {{"example.com/a", "svc"}}}};
  service(n, "routed",
          {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}, {"routing", routing}},
          {{"labels", {{"team", "Blue"}}}});
  const std::string route_name = engine::service_names::http_route_name("routed", n);
  Json route = wait_for(
      http_routes(), n, route_name, [](const Json&) { return true; }, 60s, "the HTTPRoute");
  EXPECT_EQ(field(route, {"spec", "parentRefs"})[0]["name"], "gw");
  const Json& rule = field(route, {"spec", "rules"})[0];
  EXPECT_EQ(rule["matches"][0]["path"]["value"], "/" + n + "/blue");
  EXPECT_EQ(rule["backendRefs"][0]["name"], isvc_name("routed", n) + "-predictor");
  EXPECT_EQ(rule["backendRefs"][0]["port"], 80);
  EXPECT_EQ(field(route, {"metadata", "annotations", "example.com/a"}), "svc");
  wait_for(
      aim_services(), n, "routed",
      [&](const Json& s) {
        return field(s, {"status", "routing", "path"}) == "/" + n + "/blue";
      },
      60s, "status.routing.path");

  routing["pathTemplate"] = "/{.metadata.labels['missing']}";
  service(n, "badpath",
          {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}, {"routing", routing}});
  Json svc = wait_for(
      aim_services(), n, "badpath", [](const Json& s) { return status_is(s, "Degraded"); }, 60s,
      "Degraded");
  EXPECT_TRUE(condition_is(svc, "HTTPRouteReady", "False", "PathTemplateInvalid"));
  // It still serves inside the cluster.
  wait_isvc(n, "badpath");
}

TEST_F(ServiceIT, NotAvailableTemplateAndPausedService) {
  const std::string n = ns("svc-na");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "na", "llama", "MI355X", "fp4", "NotAvailable");
  template_(n, "ok", "llama", "MI300X", "fp8");
  start();
  service(n, "na", {{"model", {{"name", "llama"}}}, {"template", {{"name", "na"}}}});
  Json svc = wait_for(
      aim_services(), n, "na", [](const Json& s) { return status_is(s, "NotAvailable"); }, 60s,
      "NotAvailable");
  EXPECT_TRUE(condition_is(svc, "TemplateReady", "False", "TemplateNotReady"));

  service(n, "paused", {{"model", {{"name", "llama"}}}, {"template", {{"name", "ok"}}}},
          {{"annotations", {{"aim.eai.amd.com/reconciliation-paused", "true"}}}});
  // The finalizer goes on first (as in the reference), then nothing happens.
  wait_for(
      aim_services(), n, "paused",
      [](const Json& s) {
        return !field(s, {"metadata", "finalizers"}).is_null();
      },
      30s, "the finalizer");
  // Nothing else happens, except that the service says it is paused: one condition, Paused.
  Json paused = wait_for(
      aim_services(), n, "paused",
      [](const Json& s) { return condition_is(s, "Paused", "True", "ReconciliationPaused"); }, 30s,
      "Paused=True");
  std::this_thread::sleep_for(2s);
  paused = get(aim_services(), n, "paused");
  EXPECT_EQ(field(paused, {"status", "conditions"}).size(), 1u) << paused["status"].dump();
  EXPECT_TRUE(list(inference_services(), n).empty());

  apply({{"apiVersion", kApi},
         {"kind", "AIMService"},
         {"metadata",
          {{"name", "paused"},
           {"namespace", n},
           {"annotations", {{"aim.eai.amd.com/reconciliation-paused", "false"}}}}},
         {"spec", {{"model", {{"name", "llama"}}}, {"template", {{"name", "ok"}}}}}});
  wait_for(
      aim_services(), n, "paused",
      [](const Json& s) { return condition_is(s, "TemplateReady", "True"); }, 60s,
      "resumed after the pause");
}

TEST_F(ServiceIT, CachingModesAndFinalizerCleanup) {
  const std::string n = ns("svc-cache");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "t", "llama", "MI300X", "fp8");
  start();

  // Dedicated: a service-owned cache; no InferenceService until it is Ready.
  Json ded =
      service(n, "ded", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Dedicated"}}}});
  const std::string ded_cache = engine::service_names::dedicated_template_cache_name(
      "t", "ded", field(ded, {"metadata", "uid"}).get<std::string>());
  Json cache = wait_for(
      aim_template_caches(), n, ded_cache, [](const Json&) { return true; }, 60s,
      "the dedicated template cache");
  EXPECT_EQ(field(cache, {"spec", "mode"}), "Dedicated");
  EXPECT_EQ(field(cache, {"spec", "templateName"}), "t");
  EXPECT_EQ(field(cache, {"metadata", "ownerReferences"})[0]["name"], "ded");
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(get(inference_services(), n, isvc_name("ded", n)).is_null());
  patch_status(aim_template_caches(), n, ded_cache,
               {{"status", "Ready"},
                {"artifacts",
                 {{"org-model-fp8-abc",
                   {{"uid", "u1"},
                    {"name", "org-model-fp8-abc"},
                    {"model", "org/model-fp8"},
                    {"status", "Ready"},
                    {"persistentVolumeClaim", "org-model-fp8-abc-cache-1234"}}}}}});
  Json isvc = wait_isvc(n, "ded");
  std::set<std::string> mounts;
  for (const auto& m : field(isvc, {"spec", "predictor"})["containers"][0]["volumeMounts"])
    mounts.insert(m["mountPath"]);
  EXPECT_TRUE(mounts.count("/workspace/cache/org/model-fp8"));
  wait_for(
      aim_services(), n, "ded",
      [](const Json& s) {
        return !field(s, {"status", "cache", "templateCacheRef", "name"}).is_null();
      },
      30s, "status.cache.templateCacheRef");

  // Auto (the default): deploys at once from a service PVC, and asks for a shared cache.
  service(n, "auto", {{"model", {{"name", "llama"}}}});
  const std::string shared = engine::service_names::shared_template_cache_name("t", n);
  Json sc = wait_for(
      aim_template_caches(), n, shared, [](const Json&) { return true; }, 60s,
      "the shared template cache");
  EXPECT_TRUE(field(sc, {"metadata", "ownerReferences"}).is_null());
  EXPECT_EQ(field(sc, {"metadata", "labels", "aim.eai.amd.com/service"}), "auto");
  wait_isvc(n, "auto");

  // Deleting the service removes the caches it made that are not Ready.
  remove(aim_services(), n, "auto");
  EXPECT_TRUE(wait_gone(aim_services(), n, "auto", 30s));
  EXPECT_TRUE(wait_gone(aim_template_caches(), n, shared, 30s));
}

TEST_F(ServiceIT, NamespaceDeletionIsNotBlocked) {
  const std::string n = ns("svc-nsdel");
  model(n, "llama", "docker.io/amd/llama:1.0");
  template_(n, "t", "llama", "MI300X", "fp8");
  start();
  service(n, "a", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}});
  service(n, "b", {{"model", {{"name", "llama"}}}});
  wait_isvc(n, "a");
  set_isvc_ready(n, "a", true);
  wait_for(
      aim_services(), n, "a", [](const Json& s) { return status_is(s, "Running"); }, 60s,
      "Running");
  remove(kube::types::namespaces(), "", n);
  EXPECT_TRUE(wait_gone(kube::types::namespaces(), "", n, 120s))
      << "namespace deletion must not be blocked by the service finalizer";
}

}  // namespace
}  // namespace aim
