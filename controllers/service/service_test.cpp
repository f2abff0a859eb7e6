// Unit tests of the AIMService controller over the fake API server. The informer caches are not
// started: each test fills them from the fake (sync()) so every reconcile sees a known world.
#include "controllers/service/service.h"

#include <gtest/gtest.h>

#include "controllers/service/internal.h"
#include "core/chrono.h"
#include "kube/testing/fake_client.h"

namespace aim::controllers::service {
namespace {

using kube::WatchEvent;

const std::string kNs = "team";

Json node(const std::string& name, const std::string& device_id) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"amd.com/gpu.device-id", device_id}}}}}};
}

Json model(const std::string& name, const std::string& image, bool cluster = false) {
  Json m = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", cluster ? "AIMClusterModel" : "AIMModel"},
            {"metadata", {{"name", name}}},
            {"spec", {{"image", image}}},
            {"status", {{"status", "Ready"}}}};
  if (!cluster) m["metadata"]["namespace"] = kNs;
  return m;
}

Json tmpl(const std::string& name, const std::string& model_name, const std::string& gpu,
          const std::string& precision, const std::string& status = "Ready") {
  return {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
          {"kind", "AIMServiceTemplate"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"spec",
           {{"modelName", model_name},
            {"metric", "latency"},
            {"precision", precision},
            {"hardware", {{"gpu", {{"requests", 1}, {"model", gpu}}}}}}},
          {"status",
           {{"status", status},
            {"profile",
             {{"metadata",
               {{"type", "optimized"},
                {"metric", "latency"},
                {"precision", precision},
                {"gpu", gpu},
                {"gpuCount", 1}}}}},
            {"resolvedHardware", {{"gpu", {{"requests", 1}, {"model", gpu}}}}},
            {"modelSources",
             {{{"modelId", "meta-llama/Llama-3.1-8B-Instruct"},
               {"sourceUri", "hf://meta-llama/Llama-3.1-8B-Instruct"},
               {"size", "16Gi"}}}}}}};
}

Json service(const std::string& name, const Json& spec) {
  return {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
          {"kind", "AIMService"},
          {"metadata", {{"name", name}, {"namespace", kNs}}},
          {"spec", spec}};
}

class ServiceReconcile : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx.client = fake;
    ctx.informers = &informers;
    ctx.clock = [] { return int64_t{1767225600}; };
    add_service_indexes(ctx);
    put(kube::types::nodes(), node("gpu-0", "74a1"));  // MI300X
  }

  Json put(const kube::ResourceType& type, Json obj) {
    return fake->inject(type, WatchEvent::Type::kAdded, std::move(obj));
  }

  // Copies the fake server's objects into the caches, as the informers would.
  void sync() {
    for (const auto& t :
         {types::aim_services(), types::aim_models(), types::aim_cluster_models(),
          types::aim_service_templates(), types::aim_cluster_service_templates(),
          types::aim_template_caches(), types::inference_services(), types::http_routes(),
          types::aim_runtime_configs(), types::aim_cluster_runtime_configs(),
          types::horizontal_pod_autoscalers(), types::core_events(), kube::types::nodes(),
          kube::types::pods(), kube::types::persistent_volume_claims()}) {
      ctx.cache(t).replace(fake->objects(t));
      ctx.cache(t).mark_synced();
    }
    // The controller reads InferenceService pods through its selected cache.
    kube::Store& pods = ctx.cache(kube::types::pods(), inference_pods_selector());
    pods.replace(fake->objects(kube::types::pods()));
    pods.mark_synced();
  }

  kube::ReconcileResult run(const std::string& name) {
    sync();
    return reconcile(ctx, {kNs, name});
  }

  // Reconciles until the finalizer is on, then once more (the first real pass).
  void settle(const std::string& name) {
    for (int i = 0; i < 4; ++i) {
      auto r = run(name);
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
    sync();
  }

  // The model "llama" with one Ready template `template_name` (MI300X, fp8) and the service
  // "chat" (caching Never), reconciled; the InferenceServices of the namespace.
  std::vector<Json> deploy_chat(const std::string& template_name) {
    put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
    put(types::aim_service_templates(), tmpl(template_name, "llama", "MI300X", "fp8"));
    put(types::aim_services(),
        service("chat", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}}));
    settle("chat");
    return fake->objects(types::inference_services(), kNs);
  }

  Json get(const kube::ResourceType& type, const std::string& name) {
    for (const auto& o : fake->objects(type, type.namespaced ? kNs : "")) {
      if (o["metadata"]["name"] == name) return o;
    }
    return nullptr;
  }

  std::vector<kube::testing::FakeClient::Action> writes() {
    std::vector<kube::testing::FakeClient::Action> out;
    for (const auto& a : fake->actions()) {
      if (a.verb != "get" && a.verb != "list" && a.verb != "watch") out.push_back(a);
    }
    return out;
  }

  Json condition(const Json& obj, const std::string& type) {
    for (const auto& c : obj["status"]["conditions"]) {
      if (c["type"] == type) return c;
    }
    return nullptr;
  }

  std::shared_ptr<kube::testing::FakeClient> fake = std::make_shared<kube::testing::FakeClient>();
  kube::InformerFactory informers{fake};
  Context ctx;
};

TEST(ServiceHelpers, ModelNameForImageMatchesWorkedExample) {
  auto n = model_name_for_image("amdenterpriseai/aim-qwen-qwen3-32b:0.8.5");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "aim-qwen-qwen3-32b-0-8-5-cdc1fb22");
  EXPECT_FALSE(model_name_for_image("").ok());
}

TEST(ServiceHelpers, QuantityBytes) {
  EXPECT_EQ(quantity_bytes("16Gi"), int64_t{16} << 30);
  EXPECT_EQ(quantity_bytes("1.5G"), int64_t{1500000000});
  EXPECT_EQ(quantity_bytes(Json(1000)), 1000);
  EXPECT_EQ(quantity_bytes("12X"), std::nullopt);
  EXPECT_EQ(quantity_bytes(Json()), std::nullopt);
}

// Pods as the informer cache hands them to the inspector.
Pods pods_of(std::initializer_list<Json> pods) {
  std::vector<kube::ObjectPtr> raw;
  for (const auto& p : pods) raw.push_back(std::make_shared<const Json>(p));
  Pods out = typed_list<api::Pod>(raw);
  EXPECT_EQ(out.size(), pods.size()) << "a test pod does not read as a Pod";
  return out;
}

api::HTTPRoute route_of(const Json& route) {
  auto d = api::decode<api::HTTPRoute>(route);
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : api::HTTPRoute{};
}

// No silent stuck service (issue 27): what the scheduler and the kubelet say of a predictor pod
// becomes the Pods component's reason and message.
TEST(ServiceHelpers, StuckPredictorPodsSayWhy) {
  const int64_t now = 1767225600;  // 2026-01-01T00:00:00Z
  auto pod = [](const std::string& name, Json status) {
    return Json{{"metadata", {{"name", name}}}, {"status", std::move(status)}};
  };
  using S = engine::ComponentState;

  // Unschedulable: nothing during the grace period (a node may be scaling up), but a recheck at
  // its end; then the scheduler's message.
  Json pending =
      pod("p-1", {{"phase", "Pending"},
                  {"conditions",
                   {{{"type", "PodScheduled"},
                     {"status", "False"},
                     {"reason", "Unschedulable"},
                     {"lastTransitionTime", format_rfc3339(now - 10)},
                     {"message", "0/3 nodes are available: 3 Insufficient amd.com/gpu."}}}}});
  auto early = predictor_pods_health(pods_of({pending}), now);
  EXPECT_EQ(early.health.reason, "PodsPending");
  EXPECT_EQ(early.recheck_after, std::chrono::seconds(20));
  auto late = predictor_pods_health(pods_of({pending}), now + 20);
  EXPECT_EQ(late.health.reason, "Unschedulable");
  EXPECT_EQ(late.health.state, S::Degraded);
  EXPECT_NE(late.health.message.find("Pod p-1 cannot be scheduled: 0/3 nodes are available"),
            std::string::npos)
      << late.health.message;
  EXPECT_FALSE(late.health.error) << "the scheduler may still place it: nothing is blocked";
  EXPECT_EQ(pods_health(pods_of({pending})).reason, "PodsPending") << "no clock, no Unschedulable";

  // A crash-looping container, and one whose Secret is missing.
  Json crashing =
      pod("p-2", {{"phase", "Running"},
                  {"containerStatuses",
                   {{{"name", "kserve-container"},
                     {"restartCount", 5},
                     {"state",
                      {{"waiting",
                        {{"reason", "CrashLoopBackOff"},
                         {"message", "back-off 5m0s restarting failed container"}}}}}}}}});
  auto crash = predictor_pods_health(pods_of({crashing}), now).health;
  EXPECT_EQ(crash.reason, "CrashLoopBackOff");
  EXPECT_EQ(crash.state, S::Failed);
  EXPECT_NE(crash.message.find("Pod p-2"), std::string::npos) << crash.message;
  Json config = pod("p-3", {{"phase", "Pending"},
                            {"containerStatuses",
                             {{{"name", "kserve-container"},
                               {"state",
                                {{"waiting",
                                  {{"reason", "CreateContainerConfigError"},
                                   {"message", "secret \"hf-token\" not found"}}}}}}}}});
  auto cfg = predictor_pods_health(pods_of({config}), now).health;
  EXPECT_EQ(cfg.reason, "PodConfigError");
  EXPECT_NE(cfg.message.find("secret \"hf-token\" not found"), std::string::npos);

  // An evicted pod is news only while nothing replaced it.
  Json gone = pod("p-4", {{"phase", "Failed"},
                          {"reason", "Evicted"},
                          {"message", "The node was low on resource: memory."}});
  Json ready =
      pod("p-5", {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}});
  EXPECT_EQ(predictor_pods_health(pods_of({gone}), now).health.reason, "Evicted");
  EXPECT_EQ(predictor_pods_health(pods_of({gone, ready}), now).health.reason, "PodsReady");

  // A pod being deleted (a rollout's old one) is history.
  Json old = gone;
  old["metadata"]["deletionTimestamp"] = format_rfc3339(now);
  old["status"] = {{"phase", "Failed"}};
  EXPECT_EQ(predictor_pods_health(pods_of({old, ready}), now).health.reason, "PodsReady");
}

TEST(ServiceHelpers, PodAndRouteInspectors) {
  EXPECT_EQ(pods_health(pods_of({})).reason, "NoPods");
  Json pod = {{"status",
               {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  EXPECT_EQ(pods_health(pods_of({pod})).state, engine::ComponentState::Ready);
  Json pulling = {
      {"status",
       {{"phase", "Pending"},
        {"containerStatuses",
         {{{"name", "kserve-container"},
           {"state",
            {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "unauthorized"}}}}}}}}}}};
  auto h = pods_health(pods_of({pulling}));
  EXPECT_EQ(h.state, engine::ComponentState::Failed);
  EXPECT_EQ(h.reason, "ImagePullAuthFailure");

  Json route = {
      {"status", {{"parents", {{{"conditions", {{{"type", "Accepted"}, {"status", "True"}}}}}}}}}};
  EXPECT_EQ(http_route_health(route_of(route)).reason, "HTTPRouteAccepted");
  EXPECT_EQ(http_route_health(route_of(Json::object())).reason, "HTTPRoutePending");
}

TEST_F(ServiceReconcile, ByNameCreatesIsvcAndSecondPassWritesNothing) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("llama-mi300x-fp8", "llama", "MI300X", "fp8"));
  put(types::aim_service_templates(), tmpl("llama-mi300x-fp16", "llama", "MI300X", "fp16"));
  put(types::aim_service_templates(), tmpl("llama-mi355x-fp4", "llama", "MI355X", "fp4"));
  put(types::aim_services(),
      service("chat", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}}));
  settle("chat");

  Json svc = get(types::aim_services(), "chat");
  ASSERT_FALSE(svc.is_null());
  EXPECT_EQ(svc["metadata"]["finalizers"][0], "aim.eai.amd.com/template-cache-cleanup");
  EXPECT_EQ(svc["status"]["status"], "Starting");
  EXPECT_EQ(svc["status"]["resolvedTemplate"]["name"], "llama-mi300x-fp8");
  EXPECT_EQ(svc["status"]["resolvedModel"]["name"], "llama");
  const Json& sel = svc["status"]["templateSelection"];
  EXPECT_EQ(sel["outcome"], "Selected");
  ASSERT_EQ(sel["candidates"].size(), 3u);
  bool saw_gpu_rejection = false;
  for (const auto& c : sel["candidates"]) {
    if (c["name"] == "llama-mi355x-fp4") {
      EXPECT_EQ(c["stage"], 4);
      saw_gpu_rejection = true;
    }
  }
  EXPECT_TRUE(saw_gpu_rejection);

  auto isvcs = fake->objects(types::inference_services(), kNs);
  ASSERT_EQ(isvcs.size(), 1u);
  const Json& isvc = isvcs[0];
  EXPECT_EQ(isvc["metadata"]["ownerReferences"][0]["kind"], "AIMService");
  const Json& c = isvc["spec"]["predictor"]["containers"][0];
  EXPECT_EQ(c["name"], "kserve-container");
  EXPECT_EQ(c["image"], "docker.io/amd/llama:1");
  EXPECT_EQ(c["resources"]["limits"]["amd.com/gpu"], "1");
  EXPECT_EQ(fake->objects(kube::types::persistent_volume_claims(), kNs).size(), 1u);
  EXPECT_TRUE(condition(svc, "InferenceServiceReady")["status"] == "False");

  fake->clear_actions();
  auto again = run("chat");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(writes().empty()) << "an idle reconcile wrote " << writes().size() << " times, first "
                                << writes()[0].verb << " " << writes()[0].resource;
}

TEST_F(ServiceReconcile, BetterTemplateLaterKeepsTheRunningChoiceAndSaysWhy) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("llama-mi300x-fp16", "llama", "MI300X", "fp16"));
  put(types::aim_service_templates(),
      tmpl("llama-mi300x-fp8", "llama", "MI300X", "fp8", "Progressing"));
  put(types::aim_services(),
      service("chat", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", "Never"}}}}));
  settle("chat");
  Json svc = get(types::aim_services(), "chat");
  ASSERT_EQ(svc["status"]["resolvedTemplate"]["name"], "llama-mi300x-fp16");

  // fp8 (preferred by precision) turns Ready: the service keeps fp16 (no rollout), and the
  // explanation is refreshed rather than left saying fp8 is "not Ready".
  Json fp8 = get(types::aim_service_templates(), "llama-mi300x-fp8");
  fp8["status"]["status"] = "Ready";
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kModified, fp8);
  settle("chat");
  svc = get(types::aim_services(), "chat");
  EXPECT_EQ(svc["status"]["resolvedTemplate"]["name"], "llama-mi300x-fp16");
  const Json& sel = svc["status"]["templateSelection"];
  EXPECT_EQ(sel["chosen"], "llama-mi300x-fp16");
  ASSERT_EQ(sel["candidates"].size(), 2u);
  EXPECT_EQ(sel["candidates"][0]["name"], "llama-mi300x-fp16");
  EXPECT_EQ(sel["candidates"][0]["status"], "chosen");
  EXPECT_EQ(sel["candidates"][1]["name"], "llama-mi300x-fp8");
  EXPECT_EQ(sel["candidates"][1]["stage"], 6);
  EXPECT_NE(sel["candidates"][1]["reason"].get<std::string>().find("running choice is kept"),
            std::string::npos);
}

TEST_F(ServiceReconcile, RunningWhenTheInferenceServiceIsReadyAndDegradedWhenItDrops) {
  auto isvcs = deploy_chat("llama-mi300x-fp8");
  ASSERT_EQ(isvcs.size(), 1u);
  Json isvc = isvcs[0];
  isvc["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
  fake->inject(types::inference_services(), WatchEvent::Type::kModified, isvc);
  settle("chat");
  EXPECT_EQ(get(types::aim_services(), "chat")["status"]["status"], "Running");

  isvc = fake->objects(types::inference_services(), kNs)[0];
  isvc["status"]["conditions"] = {{{"type", "Ready"}, {"status", "False"}}};
  fake->inject(types::inference_services(), WatchEvent::Type::kModified, isvc);
  settle("chat");
  Json svc = get(types::aim_services(), "chat");
  EXPECT_EQ(svc["status"]["status"], "Degraded");
  EXPECT_EQ(condition(svc, "InferenceServiceReady")["reason"], "RuntimeDegraded");
  settle("chat");  // stays Degraded on the next passes
  EXPECT_EQ(get(types::aim_services(), "chat")["status"]["status"], "Degraded");

  isvc = fake->objects(types::inference_services(), kNs)[0];
  isvc["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
  fake->inject(types::inference_services(), WatchEvent::Type::kModified, isvc);
  settle("chat");
  EXPECT_EQ(get(types::aim_services(), "chat")["status"]["status"], "Running");
}

TEST_F(ServiceReconcile, AmbiguousSelectionFailsNamingTheTiedTemplates) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("a-fp8", "llama", "MI300X", "fp8"));
  put(types::aim_service_templates(), tmpl("b-fp8", "llama", "MI300X", "fp8"));
  put(types::aim_services(), service("chat", {{"model", {{"name", "llama"}}}}));
  settle("chat");
  Json svc = get(types::aim_services(), "chat");
  EXPECT_EQ(svc["status"]["status"], "Failed");
  Json c = condition(svc, "TemplateReady");
  EXPECT_EQ(c["reason"], "TemplateSelectionAmbiguous");
  EXPECT_NE(c["message"].get<std::string>().find("a-fp8"), std::string::npos);
  EXPECT_EQ(svc["status"]["templateSelection"]["outcome"], "Ambiguous");
  EXPECT_TRUE(fake->objects(types::inference_services(), kNs).empty());
}

TEST_F(ServiceReconcile, ByImageCreatesAnUnownedModelAndTwoMatchesFailClearly) {
  put(types::aim_services(), service("img", {{"model", {{"image", "ghcr.io/amd/llama:v1"}}}}));
  settle("img");
  auto models = fake->objects(types::aim_models(), kNs);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["spec"]["image"], "ghcr.io/amd/llama:v1");
  EXPECT_EQ(models[0]["metadata"]["labels"]["aim.eai.amd.com/origin"], "auto-generated");
  EXPECT_FALSE(models[0]["metadata"].contains("ownerReferences"));
  // The created model is found on the next pass; it has no status yet (no model controller here).
  EXPECT_EQ(condition(get(types::aim_services(), "img"), "ModelReady")["reason"], "ModelNotReady");

  put(types::aim_cluster_models(), model("other", "ghcr.io/amd/llama:v1", true));
  settle("img");
  Json svc = get(types::aim_services(), "img");
  EXPECT_EQ(svc["status"]["status"], "Failed");
  Json c = condition(svc, "ModelReady");
  EXPECT_EQ(c["reason"], "MultipleModelsFound");
  EXPECT_NE(c["message"].get<std::string>().find("other (cluster)"), std::string::npos);
}

// An image reference the model controller could not pull creates nothing and says why.
TEST_F(ServiceReconcile, AnInvalidImageReferenceCreatesNoModelAndSaysWhy) {
  for (const char* image : {"ghcr.io/AMD/Llama:1", "llama:bad tag", "ghcr.io/x@sha256:abc"}) {
    const std::string name = "bad-" + std::to_string(std::string(image).size());
    put(types::aim_services(), service(name, {{"model", {{"image", image}}}}));
    settle(name);
    EXPECT_TRUE(fake->objects(types::aim_models(), kNs).empty()) << image;
    Json svc = get(types::aim_services(), name);
    EXPECT_EQ(svc["status"]["status"], "Failed") << image;
    Json c = condition(svc, "ModelReady");
    EXPECT_EQ(c["reason"], "InvalidImageReference") << image;
    EXPECT_NE(c.value("message", "").find("spec.model.image is not a valid image reference"),
              std::string::npos)
        << c.dump();
  }
  // The same for the base image of a custom model.
  Json custom = {
      {"baseImage", "ghcr.io/amd/Base:1"},
      {"modelSources", {{{"modelId", "org/m"}, {"sourceUri", "s3://bucket/m"}, {"size", "1Gi"}}}},
      {"hardware", {{"gpu", {{"requests", 1}}}}}};
  put(types::aim_services(), service("custom", {{"model", {{"custom", custom}}}}));
  settle("custom");
  EXPECT_TRUE(fake->objects(types::aim_models(), kNs).empty());
  Json c = condition(get(types::aim_services(), "custom"), "ModelReady");
  EXPECT_EQ(c["reason"], "InvalidImageReference");
  EXPECT_NE(c.value("message", "").find("spec.model.custom.baseImage is not a valid image"),
            std::string::npos)
      << c.dump();
}

TEST_F(ServiceReconcile, OverridesCreateOneSharedDerivedTemplate) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("base", "llama", "MI300X", "fp16"));
  Json spec = {{"model", {{"name", "llama"}}},
               {"template", {{"name", "base"}}},
               {"overrides", {{"precision", "fp8"}}}};
  put(types::aim_services(), service("one", spec));
  put(types::aim_services(), service("two", spec));
  settle("one");
  settle("two");
  std::vector<Json> derived;
  for (const auto& t : fake->objects(types::aim_service_templates(), kNs)) {
    if (label(t, "aim.eai.amd.com/origin") == "derived") derived.push_back(t);
  }
  ASSERT_EQ(derived.size(), 1u);
  const std::string name = derived[0]["metadata"]["name"];
  EXPECT_EQ(name.rfind("base-ovr-fp8-", 0), 0u) << name;
  EXPECT_EQ(derived[0]["spec"]["precision"], "fp8");
  EXPECT_FALSE(derived[0]["metadata"].contains("ownerReferences"));
  Json c = condition(get(types::aim_services(), "two"), "TemplateReady");
  EXPECT_EQ(c["reason"], "TemplateNotReady");
  EXPECT_NE(c["message"].get<std::string>().find(name), std::string::npos);

  // Ready, the derived template serves its services but is no candidate for automatic
  // selection: an auto service of the same model still gets the base.
  Json d = derived[0];
  d["status"] = tmpl("x", "llama", "MI300X", "fp8")["status"];
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kModified, d);
  put(types::aim_services(), service("auto", {{"model", {{"name", "llama"}}}}));
  settle("auto");
  settle("two");
  EXPECT_EQ(get(types::aim_services(), "auto")["status"]["resolvedTemplate"]["name"], "base");
  EXPECT_EQ(get(types::aim_services(), "auto")["status"]["templateSelection"]["candidates"].size(),
            1u);
  EXPECT_EQ(get(types::aim_services(), "two")["status"]["resolvedTemplate"]["name"], name);
}

TEST_F(ServiceReconcile, PausedServiceIsLeftAlone) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("t", "llama", "MI300X", "fp8"));
  Json svc = service("p", {{"model", {{"name", "llama"}}}});
  svc["metadata"]["finalizers"] = {"aim.eai.amd.com/template-cache-cleanup"};
  svc["metadata"]["annotations"]["aim.eai.amd.com/reconciliation-paused"] = "true";
  put(types::aim_services(), svc);
  fake->clear_actions();
  settle("p");
  // Only the one status write that adds Paused=True; no child, no finalizer change.
  auto w = writes();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].resource, "aimservices");
  Json st = get(types::aim_services(), "p")["status"];
  ASSERT_EQ(st["conditions"].size(), 1u) << st.dump();
  EXPECT_EQ(st["conditions"][0]["type"], "Paused");
  EXPECT_EQ(st["conditions"][0]["reason"], "ReconciliationPaused");
  EXPECT_FALSE(st.contains("status"));
}

TEST_F(ServiceReconcile, AutoCachingDeploysAtOnceThenSwitchesToTheReadyCacheOnce) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("t", "llama", "MI300X", "fp8"));
  put(types::aim_services(), service("auto", {{"model", {{"name", "llama"}}}}));
  settle("auto");
  auto caches = fake->objects(types::aim_template_caches(), kNs);
  ASSERT_EQ(caches.size(), 1u);
  EXPECT_EQ(caches[0]["spec"]["mode"], "Shared");
  EXPECT_EQ(caches[0]["spec"]["templateScope"], "Namespace");
  EXPECT_FALSE(caches[0]["metadata"].contains("ownerReferences"));
  auto pvcs = fake->objects(kube::types::persistent_volume_claims(), kNs);
  ASSERT_EQ(pvcs.size(), 1u);
  // 16Gi of model plus 10% headroom, rounded up to whole GiB.
  EXPECT_EQ(pvcs[0]["spec"]["resources"]["requests"]["storage"], "18Gi");
  ASSERT_EQ(fake->objects(types::inference_services(), kNs).size(), 1u);
  Json svc = get(types::aim_services(), "auto");
  EXPECT_EQ(svc["status"]["status"], "Starting");
  EXPECT_EQ(condition(svc, "CacheReady")["status"], "False");

  fake->clear_actions();
  ASSERT_TRUE(run("auto").ok());
  EXPECT_TRUE(writes().empty());

  Json cache = caches[0];
  cache["status"] = {{"status", "Ready"},
                     {"artifacts",
                      {{"a1",
                        {{"name", "a1"},
                         {"uid", "u"},
                         {"model", "meta-llama/Llama-3.1-8B-Instruct"},
                         {"status", "Ready"},
                         {"persistentVolumeClaim", "a1-cache-0000"}}}}}};
  fake->inject(types::aim_template_caches(), WatchEvent::Type::kModified, cache);
  fake->clear_actions();
  settle("auto");
  EXPECT_EQ(fake->actions("apply", "inferenceservices").size(), 1u);
  Json isvc = fake->objects(types::inference_services(), kNs)[0];
  bool cache_mount = false;
  for (const auto& m : isvc["spec"]["predictor"]["containers"][0]["volumeMounts"]) {
    if (m["mountPath"] == "/workspace/cache/meta-llama/Llama-3.1-8B-Instruct") cache_mount = true;
  }
  EXPECT_TRUE(cache_mount);
  svc = get(types::aim_services(), "auto");
  EXPECT_EQ(svc["status"]["cache"]["templateCacheRef"]["name"], cache["metadata"]["name"]);
  // The service PVC is released once the InferenceService has moved to the cache.
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), kNs).empty());
  fake->clear_actions();
  ASSERT_TRUE(run("auto").ok());
  EXPECT_TRUE(writes().empty());
}

TEST_F(ServiceReconcile, AutoscalingSetsKedaAnnotationsAndReadsTheHpa) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("t", "llama", "MI300X", "fp8"));
  put(types::aim_services(), service("scaled", {{"model", {{"name", "llama"}}},
                                                {"caching", {{"mode", "Never"}}},
                                                {"minReplicas", 2},
                                                {"maxReplicas", 5}}));
  settle("scaled");
  Json isvc = fake->objects(types::inference_services(), kNs).at(0);
  EXPECT_EQ(isvc["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"], "keda");
  EXPECT_EQ(isvc["spec"]["predictor"]["minReplicas"], 2);
  EXPECT_EQ(isvc["spec"]["predictor"]["maxReplicas"], 5);
  Json svc = get(types::aim_services(), "scaled");
  EXPECT_EQ(condition(svc, "HPAReady")["reason"], "HPANotFound");

  put(kube::ResourceType(types::horizontal_pod_autoscalers()),
      {{"apiVersion", "autoscaling/v2"},
       {"kind", "HorizontalPodAutoscaler"},
       {"metadata",
        {{"name", "keda-hpa-" + isvc["metadata"]["name"].get<std::string>() + "-predictor"},
         {"namespace", kNs}}},
       {"spec", {{"minReplicas", 2}, {"maxReplicas", 5}}},
       {"status", {{"currentReplicas", 3}, {"desiredReplicas", 4}}}});
  settle("scaled");
  svc = get(types::aim_services(), "scaled");
  EXPECT_EQ(svc["status"]["runtime"]["replicas"], "3/4 (2-5)");
  EXPECT_FALSE(svc["status"].contains("resolvedRuntimeConfig"));  // no config at all

  put(types::aim_cluster_runtime_configs(),
      {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
       {"kind", "AIMClusterRuntimeConfig"},
       {"metadata", {{"name", "default"}}},
       {"spec", {{"env", {{{"name", "RC"}, {"value", "1"}}}}}}});
  settle("scaled");
  svc = get(types::aim_services(), "scaled");
  EXPECT_EQ(svc["status"]["resolvedRuntimeConfig"]["scope"], "Cluster");
  EXPECT_EQ(condition(svc, "RuntimeConfigReady")["status"], "True");
}

TEST_F(ServiceReconcile, CustomModelIsCreatedOnceAndReused) {
  Json custom = {
      {"baseImage", "ghcr.io/amd/aim-base:1"},
      {"modelSources", {{{"modelId", "org/m"}, {"sourceUri", "s3://bucket/m"}, {"size", "1Gi"}}}},
      {"hardware", {{"gpu", {{"requests", 1}}}}}};
  put(types::aim_services(), service("c1", {{"model", {{"custom", custom}}}}));
  settle("c1");
  auto models = fake->objects(types::aim_models(), kNs);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["metadata"]["labels"]["aim.eai.amd.com/custom-model"], "true");
  EXPECT_EQ(models[0]["metadata"]["labels"]["aim.eai.amd.com/service"], "c1");
  EXPECT_EQ(models[0]["spec"]["custom"]["hardware"]["gpu"]["requests"], 1);
  EXPECT_EQ(models[0]["metadata"]["name"].get<std::string>().rfind("org-m-", 0), 0u);
  put(types::aim_services(), service("c2", {{"model", {{"custom", custom}}}}));
  settle("c2");
  EXPECT_EQ(fake->objects(types::aim_models(), kNs).size(), 1u);
  EXPECT_EQ(condition(get(types::aim_services(), "c2"), "ModelReady")["reason"], "ModelNotReady");
}

TEST_F(ServiceReconcile, MissingNamedRuntimeConfigBlocksApplies) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("t", "llama", "MI300X", "fp8"));
  put(types::aim_services(),
      service("rc", {{"model", {{"name", "llama"}}}, {"runtimeConfigName", "gold"}}));
  settle("rc");
  Json svc = get(types::aim_services(), "rc");
  EXPECT_EQ(svc["status"]["status"], "Failed");
  EXPECT_EQ(condition(svc, "RuntimeConfigReady")["status"], "False");
  EXPECT_TRUE(fake->objects(types::inference_services(), kNs).empty());
}

TEST_F(ServiceReconcile, AWarningEventOnItsInferenceServiceFailsTheService) {
  auto isvcs = deploy_chat("llama-mi300x-fp8");
  ASSERT_EQ(isvcs.size(), 1u);
  const Json& isvc = isvcs[0];
  auto warning = [&](const std::string& name, const std::string& uid) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", kNs}}},
                {"involvedObject",
                 {{"kind", "InferenceService"},
                  {"name", isvc["metadata"]["name"]},
                  {"namespace", kNs},
                  {"uid", uid}}},
                {"reason", "InternalError"},
                {"message", "admission webhook denied the request"},
                {"type", "Warning"}};
  };
  // About an earlier InferenceService of the same name: not this one's problem.
  put(types::core_events(), warning("old", "another-uid"));
  settle("chat");
  EXPECT_EQ(get(types::aim_services(), "chat")["status"]["status"], "Starting");

  put(types::core_events(), warning("now", isvc["metadata"]["uid"]));
  settle("chat");
  Json svc = get(types::aim_services(), "chat");
  EXPECT_EQ(svc["status"]["status"], "Failed");
  EXPECT_NE(svc.dump().find("admission webhook denied the request"), std::string::npos)
      << svc["status"].dump();
}

TEST_F(ServiceReconcile, SpecChangeReappliesTheInferenceServiceOnce) {
  deploy_chat("t");
  Json svc = get(types::aim_services(), "chat");
  svc["spec"]["env"] = {{{"name", "EXTRA"}, {"value", "1"}}};
  fake->inject(types::aim_services(), WatchEvent::Type::kModified, svc);
  fake->clear_actions();
  settle("chat");
  EXPECT_EQ(fake->actions("apply", "inferenceservices").size(), 1u);
  const Json isvc = fake->objects(types::inference_services(), kNs).at(0);
  bool found = false;
  for (const auto& e : isvc["spec"]["predictor"]["containers"][0]["env"]) {
    if (e["name"] == "EXTRA") found = true;
  }
  EXPECT_TRUE(found);
}

TEST_F(ServiceReconcile, RoutingOnCreatesTheRouteAndOffRemovesIt) {
  put(types::aim_models(), model("llama", "docker.io/amd/llama:1"));
  put(types::aim_service_templates(), tmpl("t", "llama", "MI300X", "fp8"));
  put(types::aim_services(),
      service("r", {{"model", {{"name", "llama"}}},
                    {"caching", {{"mode", "Never"}}},
                    {"routing", {{"enabled", true}, {"gatewayRef", {{"name", "gw"}}}}}}));
  settle("r");
  ASSERT_EQ(fake->objects(types::http_routes(), kNs).size(), 1u);
  Json svc = get(types::aim_services(), "r");
  EXPECT_EQ(condition(svc, "HTTPRouteReady")["reason"], "HTTPRoutePending");
  EXPECT_EQ(svc["status"]["routing"]["path"],
            "/" + kNs + "/" + svc["metadata"]["uid"].get<std::string>());

  svc["spec"]["routing"]["enabled"] = false;
  fake->inject(types::aim_services(), WatchEvent::Type::kModified, svc);
  settle("r");
  EXPECT_TRUE(fake->objects(types::http_routes(), kNs).empty());
  svc = get(types::aim_services(), "r");
  EXPECT_TRUE(condition(svc, "HTTPRouteReady").is_null());
  EXPECT_FALSE(svc["status"].contains("routing"));
}

}  // namespace
}  // namespace aim::controllers::service
