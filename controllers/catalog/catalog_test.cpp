// Catalog controllers: the pure planners (template and Job shapes, runtime-config checks,
// durations, Job/pod health) and reconciles over the fake API server (idle means no writes; the
// discovery-slot limit).
#include "controllers/catalog/catalog.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "controllers/catalog/internal.h"
#include "controllers/catalog/model_controller.h"
#include "controllers/catalog/model_source_controller.h"
#include "controllers/catalog/runtime_config_controller.h"
#include "controllers/catalog/template_controller.h"
#include "kube/informer.h"
#include "kube/testing/fake_client.h"

namespace aim::controllers::catalog {
namespace {

using kube::WatchEvent;
using namespace std::chrono_literals;

Json model(const std::string& name, const Json& deployments, const std::string& ns = "ns1") {
  Json m = {
      {"apiVersion", "aim.eai.amd.com/v1alpha1"},
      {"kind", ns.empty() ? "AIMClusterModel" : "AIMModel"},
      {"metadata", {{"name", name}, {"uid", "uid-" + name}}},
      {"spec",
       {{"image", "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5"},
        {"imagePullSecrets", Json::array({{{"name", "pull"}}})},
        {"serviceAccountName", "sa"},
        {"imageMetadata",
         {{"model",
           {{"canonicalName", "Qwen/Qwen3-32B"}, {"recommendedDeployments", deployments}}}}}}}};
  if (!ns.empty()) m["metadata"]["namespace"] = ns;
  return m;
}

// The templates `model` (JSON, as the cache holds it) plans from its spec.imageMetadata.
std::vector<Json> planned(const ModelScope& scope, const Json& model) {
  auto m = api::decode<api::AIMModel>(model);
  EXPECT_TRUE(m) << m.error;
  return m ? plan_templates(scope, *m.value, m.value->spec.image_metadata) : std::vector<Json>{};
}

TEST(CatalogPlanTemplates, OnePerRecommendedDeploymentWithTheReferenceNameAndShape) {
  Json deps = Json::array(
      {{{"gpuModel", "MI300X"}, {"gpuCount", 1}, {"metric", "latency"}, {"precision", "fp8"}},
       {{"gpuModel", ""}, {"gpuCount", 0}, {"metric", "throughput"}, {"profileId", "p1"}}});
  auto m = model("qwen-qwen3-32b", deps);
  auto plan = planned(ModelScope::namespaced(), m);
  ASSERT_EQ(plan.size(), 2u);
  // behavior.md §4.6 worked example.
  EXPECT_EQ(plan[0]["metadata"]["name"],
            "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-1x-mi300x-lat-fp8-c381");
  EXPECT_EQ(plan[0]["kind"], "AIMServiceTemplate");
  EXPECT_EQ(plan[0]["metadata"]["namespace"], "ns1");
  EXPECT_EQ(plan[0]["metadata"]["labels"]["aim.eai.amd.com/model"], "qwen-qwen3-32b");
  EXPECT_EQ(plan[0]["metadata"]["labels"]["aim.eai.amd.com/origin"], "auto-generated");
  EXPECT_EQ(plan[0]["spec"]["modelName"], "qwen-qwen3-32b");
  EXPECT_EQ(plan[0]["spec"]["serviceAccountName"], "sa");
  EXPECT_EQ(plan[0]["spec"]["imagePullSecrets"][0]["name"], "pull");
  EXPECT_EQ(plan[0]["spec"]["hardware"], (Json{{"gpu", {{"requests", 1}, {"model", "MI300X"}}}}));
  // No GPU block unless both model and count are set; empty fields are not copied.
  EXPECT_FALSE(plan[1]["spec"].contains("hardware"));
  EXPECT_FALSE(plan[1]["spec"].contains("precision"));
  EXPECT_EQ(plan[1]["spec"]["profileId"], "p1");
}

TEST(CatalogPlanTemplates, ClusterModelsMakeClusterTemplatesWithoutNamespace) {
  Json deps = Json::array({{{"gpuModel", "MI325X"}, {"gpuCount", 8}}});
  auto m = model("c", deps, "");
  auto plan = planned(ModelScope::cluster_scoped(), m);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0]["kind"], "AIMClusterServiceTemplate");
  EXPECT_FALSE(plan[0]["metadata"].contains("namespace"));
}

TEST(CatalogPlanTemplates, CustomModelGetsOneAutoTemplateOrOnePerCustomTemplate) {
  auto m = model("custom", Json::array());
  m["spec"]["modelSources"] = Json::array({{{"modelId", "org/m"}, {"sourceUri", "hf://org/m"}}});
  m["spec"]["custom"] = {{"hardware", {{"gpu", {{"requests", 1}, {"model", "MI300X"}}}}}};
  m["spec"]["env"] =
      Json::array({{{"name", "A"}, {"value", "1"}}, {{"name", "B"}, {"value", "2"}}});
  auto single = planned(ModelScope::namespaced(), m);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]["spec"]["type"], "unoptimized");
  EXPECT_EQ(single[0]["spec"]["modelSources"][0]["modelId"], "org/m");
  EXPECT_EQ(single[0]["spec"]["hardware"]["gpu"]["model"], "MI300X");
  EXPECT_EQ(single[0]["spec"]["env"].size(), 2u);

  m["spec"]["customTemplates"] =
      Json::array({{{"name", "fast"},
                    {"profile", {{"metric", "latency"}, {"precision", "fp8"}}},
                    {"hardware", {{"gpu", {{"requests", 4}}}}},
                    {"env", Json::array({{{"name", "B"}, {"value", "template"}}})}}});
  auto declared = planned(ModelScope::namespaced(), m);
  ASSERT_EQ(declared.size(), 1u);
  EXPECT_EQ(declared[0]["metadata"]["labels"]["aim.eai.amd.com/template.alias"], "fast");
  EXPECT_EQ(declared[0]["spec"]["metric"], "latency");
  // Hardware merged over custom.hardware: the template's count, the default model.
  EXPECT_EQ(declared[0]["spec"]["hardware"]["gpu"], (Json{{"requests", 4}, {"model", "MI300X"}}));
  // env: model env < template env, by name.
  EXPECT_EQ(declared[0]["spec"]["env"][1]["value"], "template");
  EXPECT_NE(declared[0]["metadata"]["name"], single[0]["metadata"]["name"]);

  // CPU: a template's non-zero fields win over custom.hardware.cpu, and become resources.
  m["spec"]["custom"]["hardware"]["cpu"] = {{"requests", "2"}};
  m["spec"]["customTemplates"][0]["hardware"]["cpu"] = {{"requests", "0"}, {"limits", "4"}};
  auto with_cpu = planned(ModelScope::namespaced(), m);
  ASSERT_EQ(with_cpu.size(), 1u);
  EXPECT_EQ(with_cpu[0]["spec"]["hardware"]["cpu"], (Json{{"requests", "2"}, {"limits", "4"}}));
  EXPECT_EQ(with_cpu[0]["spec"]["resources"],
            (Json{{"requests", {{"cpu", "2"}}}, {"limits", {{"cpu", "4"}}}}));

  auto cluster = planned(ModelScope::cluster_scoped(), m);
  EXPECT_FALSE(cluster[0]["spec"].contains("env")) << "cluster custom templates carry no env";
}

Json template_obj(const std::string& name, const Json& spec_extra = Json::object()) {
  Json t = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", "AIMServiceTemplate"},
            {"metadata", {{"name", name}, {"namespace", "ns1"}, {"uid", "uid-" + name}}},
            {"spec", {{"modelName", "qwen-qwen3-32b"}, {"metric", "latency"}}}};
  t["spec"].update(spec_extra);
  return t;
}

api::AIMServiceTemplate typed_template(const Json& j) {
  auto d = api::decode<api::AIMServiceTemplate>(j);
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : api::AIMServiceTemplate{};
}

api::AIMModelSpec model_spec(const Json& j) {
  auto d = api::decode<api::AIMModel>(j);
  EXPECT_TRUE(d) << d.error;
  return d ? d.value->spec : api::AIMModelSpec{};
}

TEST(CatalogDiscoveryJob, HasTheReferenceShape) {
  auto m = model_spec(model("qwen-qwen3-32b", Json::array()));
  auto t = typed_template(
      template_obj("tpl", {{"precision", "fp8"},
                           {"hardware", {{"gpu", {{"requests", 2}, {"model", "MI300X"}}}}},
                           {"env", Json::array({{{"name", "X"}, {"value", "y"}}})}}));
  Json job = discovery_job(TemplateScope::namespaced(), t, m, "ns1");
  EXPECT_EQ(job["metadata"]["name"].get<std::string>().rfind("discover-tpl-", 0), 0u);
  EXPECT_EQ(job["metadata"]["namespace"], "ns1");
  auto labels = job["metadata"]["labels"];
  EXPECT_EQ(labels["app.kubernetes.io/name"], "aim-discovery");
  EXPECT_EQ(labels["app.kubernetes.io/component"], "discovery");
  EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "aim-controller");
  EXPECT_EQ(labels["aim.eai.amd.com/template"], "tpl");
  EXPECT_EQ(job["spec"]["backoffLimit"], 0);
  EXPECT_EQ(job["spec"]["ttlSecondsAfterFinished"], 60);
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 900);  // DiscoveryOptions default
  EXPECT_EQ(discovery_job(TemplateScope::namespaced(), t, m, "ns1",
                          std::chrono::seconds(60))["spec"]["activeDeadlineSeconds"],
            60);
  // The pod carries what the operator's Job-pod watch selects.
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["aim.eai.amd.com/component"],
            "discovery");
  auto pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["serviceAccountName"], "sa");
  EXPECT_EQ(pod["imagePullSecrets"][0]["name"], "pull");
  EXPECT_EQ(pod["securityContext"]["runAsUser"], 65532);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  auto c = pod["containers"][0];
  EXPECT_EQ(c["name"], "discovery");
  EXPECT_FALSE(c.contains("command"));
  EXPECT_EQ(c["args"], Json::array({"dry-run", "--format=json"}));
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], Json::array({"ALL"}));
  std::vector<std::string> env;
  for (const auto& e : c["env"]) env.push_back(e["name"]);
  EXPECT_EQ(env, (std::vector<std::string>{"AIM_LOG_LEVEL_ROOT", "AIM_LOG_LEVEL", "X", "AIM_METRIC",
                                           "AIM_PRECISION", "AIM_GPU_MODEL", "AIM_GPU_COUNT"}));
  // Cluster templates: no template env, job in the operator namespace.
  Json cjob = discovery_job(TemplateScope::cluster_scoped(), t, m, "aim-system");
  EXPECT_EQ(cjob["metadata"]["namespace"], "aim-system");
  EXPECT_EQ(cjob["spec"]["template"]["spec"]["containers"][0]["env"].size(), 6u);
}

api::AIMRuntimeConfigSpec rc_spec(const Json& j) {
  auto d = api::decode<api::AIMRuntimeConfigSpec>(j);
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : api::AIMRuntimeConfigSpec{};
}

TEST(CatalogRuntimeConfig, InvalidGlobsAndNegativeHeadroom) {
  EXPECT_TRUE(runtime_config_problems(rc_spec(Json::object())).empty());
  EXPECT_TRUE(
      runtime_config_problems(rc_spec({{"labelPropagation", {{"match", {"team-*", "a[bc]"}}}}}))
          .empty());
  EXPECT_EQ(
      runtime_config_problems(rc_spec({{"labelPropagation", {{"match", {"team-[a"}}}}})).size(),
      1u);
  EXPECT_EQ(runtime_config_problems(rc_spec({{"storage", {{"pvcHeadroomPercent", -1}}}})).size(),
            1u);
}

TEST(CatalogHealth, JobStates) {
  auto health = [](const Json& job) {
    auto typed = api::decode<api::Job>(job);
    EXPECT_TRUE(typed) << typed.error;
    return job_health("J", typed ? &*typed.value : nullptr);
  };
  EXPECT_EQ(job_health("J", nullptr).reason, "JobNotFound");
  Json job = {
      {"status", {{"conditions", Json::array({{{"type", "Complete"}, {"status", "True"}}})}}}};
  EXPECT_EQ(health(job).state, engine::ComponentState::Ready);
  job["status"]["conditions"] =
      Json::array({{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}});
  auto h = health(job);
  EXPECT_EQ(h.state, engine::ComponentState::Failed);
  EXPECT_EQ(h.reason, "JobBackoffLimitExceeded");
  EXPECT_EQ(h.message, "Job failed");
  job["status"] = Json::object();
  EXPECT_EQ(health(job).reason, "JobRunning");
}

// A pod as the cache holds it, read as the inspector reads it.
api::Pod typed_pod(Json status) {
  auto d = api::decode<api::Pod>(Json{
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"status", status}});
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : api::Pod{};
}

TEST(CatalogHealth, PodStates) {
  EXPECT_EQ(pods_health("P", {}).reason, "NoPods");
  api::Pod pull =
      typed_pod({{"phase", "Pending"},
                 {"containerStatuses",
                  Json::array({{{"name", "discovery"},
                                {"state",
                                 {{"waiting",
                                   {{"reason", "ImagePullBackOff"},
                                    {"message", "pull access denied, unauthorized"}}}}}}})}});
  auto h = pods_health("P", {pull});
  EXPECT_EQ(h.reason, "ImagePullAuthFailure");
  EXPECT_EQ(h.state, engine::ComponentState::Failed);
  api::Pod failed = typed_pod(
      {{"phase", "Failed"},
       {"containerStatuses",
        Json::array(
            {{{"name", "discovery"},
              {"state",
               {{"terminated", {{"exitCode", 3}, {"reason", "Error"}, {"message", "boom"}}}}}}})}});
  h = pods_health("P", {failed});
  EXPECT_EQ(h.reason, "PodFailed");
  EXPECT_EQ(h.message, "Container discovery failed with exit code 3: boom");
  // The log decides the category; the matching line is the excerpt.
  h = pods_health("P", {failed}, [](const api::Pod&, const std::string& c) {
    EXPECT_EQ(c, "discovery");
    return std::string("loading\nOSError: [Errno 28] No space left on device\nbye\n");
  });
  EXPECT_EQ(h.reason, "StorageFull");
  EXPECT_EQ(h.state, engine::ComponentState::Failed);
  EXPECT_FALSE(h.error.has_value());
  EXPECT_NE(h.message.find("Log excerpt:\nOSError: [Errno 28] No space left on device"),
            std::string::npos);
  h = pods_health("P", {failed}, [](const api::Pod&, const std::string&) {
    return std::string("Cannot access gated repo for url https://hf.co/x\n");
  });
  EXPECT_EQ(h.reason, "AuthError");
  h = pods_health("P", {failed},
                  [](const api::Pod&, const std::string&) { return std::string("a\nb\nc\nd\n"); });
  EXPECT_EQ(h.reason, "PodFailed");
  EXPECT_NE(h.message.find("Log excerpt:\nb\nc\nd"), std::string::npos);
  // A pod that failed without a container to blame (evicted): the pod's own reason and message.
  h = pods_health("P", {typed_pod({{"phase", "Failed"},
                                   {"reason", "Evicted"},
                                   {"message", "The node was low on resource: memory."}})});
  EXPECT_EQ(h.reason, "PodEvicted");
  EXPECT_EQ(h.message, "The node was low on resource: memory.");
  api::Pod done = typed_pod({{"phase", "Succeeded"}});
  EXPECT_EQ(pods_health("P", {done}).reason, "PodsReady");
}

// ---- reconciles over the fake API server -------------------------------------------------------

class CatalogReconcile : public ::testing::Test {
 protected:
  void SetUp() override {
    DiscoverySlots::instance().clear();
    ctx.client = fake;
    ctx.informers = &factory;
    ctx.clock = [this] { return now; };
    for (const auto& t :
         {types::aim_models(), types::aim_service_templates(), types::aim_runtime_configs(),
          types::aim_cluster_runtime_configs(), kube::types::jobs(), types::aim_cluster_models(),
          kube::types::nodes(), types::aim_template_caches()}) {
      (void)ctx.cache(t);
    }
    (void)job_pods(ctx);
    (void)secret_names(ctx);
    // The models' pull secret (model()), which discovery checks before its first Job.
    fake->inject(kube::types::secrets(), WatchEvent::Type::kAdded, pull_secret("pull"));
    factory.start();
    ASSERT_TRUE(factory.wait_for_sync(5s));
    settle(kube::types::secrets());
  }
  void TearDown() override { factory.stop(); }

  static Json pull_secret(const std::string& name,
                          const std::string& type = "kubernetes.io/dockerconfigjson") {
    return Json{{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", name}, {"namespace", "ns1"}}},
                {"type", type},
                {"data", {{".dockerconfigjson", "e30="}}}};
  }

  // Waits until the cache shows the fake server's version of every object of `type` (pods: of
  // the discovery pods, which the controllers cache through the Job-pod selector).
  void settle(const kube::ResourceType& type) {
    kube::Store& cache = type.resource == "pods"      ? job_pods(ctx)
                         : type.resource == "secrets" ? secret_names(ctx)
                                                      : ctx.cache(type);
    for (int i = 0; i < 500; ++i) {
      bool same = true;
      for (const auto& o : fake->objects(type)) {
        auto c = cache.get(namespace_of(o), name_of(o));
        if (!c || (*c)["metadata"]["resourceVersion"] != o["metadata"]["resourceVersion"]) {
          same = false;
        }
      }
      if (same) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "cache did not catch up for " << type.kind;
  }

  size_t writes() {
    size_t n = 0;
    for (const auto& a : fake->actions()) {
      if (a.verb != "get" && a.verb != "list" && a.verb != "watch") ++n;
    }
    return n;
  }

  int64_t now = 1767225600;
  std::shared_ptr<kube::testing::FakeClient> fake = std::make_shared<kube::testing::FakeClient>();
  kube::InformerFactory factory{fake};
  Context ctx;
};

TEST_F(CatalogReconcile, ModelCreatesTemplatesThenIdlesWithoutWrites) {
  Json deps = Json::array({{{"gpuModel", "MI300X"}, {"gpuCount", 1}, {"metric", "latency"}}});
  Json stored =
      fake->inject(types::aim_models(), WatchEvent::Type::kAdded, model("qwen-qwen3-32b", deps));
  settle(types::aim_models());
  auto scope = ModelScope::namespaced();
  kube::Request req{"ns1", "qwen-qwen3-32b"};
  ASSERT_TRUE(reconcile_model(ctx, scope, req).ok());
  auto templates = fake->objects(types::aim_service_templates(), "ns1");
  ASSERT_EQ(templates.size(), 1u);
  EXPECT_EQ(templates[0]["metadata"]["ownerReferences"][0]["uid"], stored["metadata"]["uid"]);
  EXPECT_EQ(templates[0]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "aim-model-controller");

  // Converge (the templates now exist, so the aggregate changes once), then prove idleness.
  for (int i = 0; i < 3; ++i) {
    settle(types::aim_models());
    settle(types::aim_service_templates());
    ASSERT_TRUE(reconcile_model(ctx, scope, req).ok());
  }
  settle(types::aim_models());
  fake->clear_actions();
  now += 30;  // time passing alone is no reason to write
  ASSERT_TRUE(reconcile_model(ctx, scope, req).ok());
  EXPECT_EQ(writes(), 0u) << "a reconcile that observed nothing new must not write";
  auto m = fake->objects(types::aim_models(), "ns1").at(0);
  EXPECT_EQ(m["status"]["status"], "Progressing");
  EXPECT_EQ(m["status"]["sourceType"], "Image");
}

TEST_F(CatalogReconcile, PausedObjectsAreNotTouched) {
  Json m = model("p", Json::array());
  m["metadata"]["annotations"] = {{"aim.eai.amd.com/reconciliation-paused", "true"}};
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded, m);
  settle(types::aim_models());
  fake->clear_actions();
  ASSERT_TRUE(reconcile_model(ctx, ModelScope::namespaced(), {"ns1", "p"}).ok());
  // One status write that only adds Paused=True (so the pause can be seen); nothing else.
  auto acts = fake->actions();
  std::erase_if(
      acts, [](const auto& a) { return a.verb == "get" || a.verb == "list" || a.verb == "watch"; });
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].resource, "aimmodels");
  const Json& conds = acts[0].body["status"]["conditions"];
  ASSERT_EQ(conds.size(), 1u) << acts[0].body.dump();
  EXPECT_EQ(conds[0]["type"], "Paused");
  EXPECT_EQ(conds[0]["status"], "True");
  EXPECT_EQ(conds[0]["reason"], "ReconciliationPaused");
  EXPECT_FALSE(acts[0].body["status"].contains("status"));
  // Written once: the next reconcile sees the condition and writes nothing.
  for (int i = 0; i < 200; ++i) {
    auto cached = ctx.cache(types::aim_models()).get("ns1", "p");
    if (cached && cached->contains("status")) break;
    std::this_thread::sleep_for(10ms);
  }
  fake->clear_actions();
  ASSERT_TRUE(reconcile_model(ctx, ModelScope::namespaced(), {"ns1", "p"}).ok());
  EXPECT_EQ(writes(), 0u);
  // Unpaused, the full reconcile drops the condition.
  Json live = *ctx.cache(types::aim_models()).get("ns1", "p");
  live["metadata"]["annotations"].erase("aim.eai.amd.com/reconciliation-paused");
  fake->inject(types::aim_models(), WatchEvent::Type::kModified, live);
  for (int i = 0; i < 200; ++i) {
    auto cached = ctx.cache(types::aim_models()).get("ns1", "p");
    if (cached &&
        !cached->at("metadata")["annotations"].contains("aim.eai.amd.com/reconciliation-paused"))
      break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(reconcile_model(ctx, ModelScope::namespaced(), {"ns1", "p"}).ok());
  Json after = fake->objects(types::aim_models(), "ns1").at(0);
  for (const auto& c : after["status"]["conditions"]) EXPECT_NE(c["type"], "Paused");
}

TEST_F(CatalogReconcile, NamespacedTemplateFallsBackToTheClusterModel) {
  Json cm = model("llama", Json::array(), "");
  cm["kind"] = "AIMClusterModel";
  cm["metadata"].erase("namespace");
  fake->inject(types::aim_cluster_models(), WatchEvent::Type::kAdded, cm);
  Json t = template_obj("llama-ovr-fp16");
  t["spec"]["modelName"] = "llama";
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kAdded, t);
  settle(types::aim_cluster_models());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "llama-ovr-fp16"}).ok());
  Json got = fake->objects(types::aim_service_templates(), "ns1").at(0);
  bool model_ready = false;
  for (const auto& c : got["status"]["conditions"]) {
    if (c["type"] == "ModelReady") model_ready = c["status"] == "True";
  }
  EXPECT_TRUE(model_ready) << got["status"].dump(2);
  // Without the cluster model the reference is missing, and the message names both kinds.
  fake->inject(types::aim_cluster_models(), WatchEvent::Type::kDeleted, cm);
  for (int i = 0; i < 200 && ctx.cache(types::aim_cluster_models()).size() > 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "llama-ovr-fp16"}).ok());
  got = fake->objects(types::aim_service_templates(), "ns1").at(0);
  EXPECT_EQ(got["status"]["status"], "Failed") << got["status"].dump(2);
  EXPECT_NE(got["status"].dump().find("AIMModel or AIMClusterModel"), std::string::npos);
}

TEST_F(CatalogReconcile, AGpuCountNoNodeCanHoldIsNotAvailableUntilABigEnoughNodeJoins) {
  auto node = [](const std::string& name, const std::string& gpus) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata", {{"name", name}, {"labels", {{"amd.com/gpu.device-id", "74a1"}}}}},
                {"status", {{"allocatable", {{"amd.com/gpu", gpus}, {"cpu", "128"}}}}}};
  };
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded,
               model("qwen-qwen3-32b", Json::array()));
  fake->inject(kube::types::nodes(), WatchEvent::Type::kAdded, node("gpu-a", "8"));
  fake->inject(
      types::aim_service_templates(), WatchEvent::Type::kAdded,
      template_obj("big", {{"hardware", {{"gpu", {{"requests", 20}, {"model", "MI300X"}}}}}}));
  settle(types::aim_models());
  settle(kube::types::nodes());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "big"}).ok());
  Json t = fake->objects(types::aim_service_templates(), "ns1").at(0);
  EXPECT_EQ(t["status"]["status"], "NotAvailable") << t["status"].dump(2);
  Json gpu;
  for (const auto& c : t["status"]["conditions"])
    if (c["type"] == "GPUReady") gpu = c;
  EXPECT_EQ(gpu["reason"], "GPUCountNotAvailable") << t["status"].dump(2);
  EXPECT_NE(gpu["message"].get<std::string>().find("largest MI300X node can allocate 8"),
            std::string::npos);
  // No discovery pod for a pod no node can hold.
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns1").empty());

  fake->inject(kube::types::nodes(), WatchEvent::Type::kAdded, node("gpu-b", "32"));
  settle(kube::types::nodes());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "big"}).ok());
  t = fake->objects(types::aim_service_templates(), "ns1").at(0);
  EXPECT_NE(t["status"]["status"], "NotAvailable") << t["status"].dump(2);
  for (const auto& c : t["status"]["conditions"]) {
    if (c["type"] == "GPUReady") {
      EXPECT_EQ(c["reason"], "GPUAvailable");
    }
  }
  EXPECT_EQ(fake->objects(kube::types::jobs(), "ns1").size(), 1u);
}

TEST_F(CatalogReconcile, DiscoveryWaitsForTheModelsPullSecret) {
  Json m = model("qwen-qwen3-32b", Json::array());
  m["spec"]["imagePullSecrets"] = Json::array({{{"name", "later"}}});
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded, m);
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kAdded, template_obj("t"));
  settle(types::aim_models());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"}).ok());
  Json t = fake->objects(types::aim_service_templates(), "ns1").at(0);
  Json pull;
  for (const auto& c : t["status"]["conditions"])
    if (c["type"] == "ImagePullSecretReady") pull = c;
  EXPECT_EQ(pull["reason"], "SecretNotFound") << t["status"].dump(2);
  EXPECT_NE(pull["message"].get<std::string>().find(
                "remove it from spec.imagePullSecrets of AIMModel \"qwen-qwen3-32b\""),
            std::string::npos);
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns1").empty());

  fake->inject(kube::types::secrets(), WatchEvent::Type::kAdded, pull_secret("later"));
  settle(kube::types::secrets());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"}).ok());
  EXPECT_EQ(fake->objects(kube::types::jobs(), "ns1").size(), 1u);
}

TEST_F(CatalogReconcile, TemplateWaitsForASlotWhenTenDiscoveryJobsRun) {
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded,
               model("qwen-qwen3-32b", Json::array()));
  for (int i = 0; i < 10; ++i) {
    fake->inject(kube::types::jobs(), WatchEvent::Type::kAdded,
                 {{"apiVersion", "batch/v1"},
                  {"kind", "Job"},
                  {"metadata",
                   {{"name", "busy-" + std::to_string(i)},
                    {"namespace", "other"},
                    {"labels",
                     {{"app.kubernetes.io/name", "aim-discovery"},
                      {"app.kubernetes.io/component", "discovery"},
                      {"app.kubernetes.io/managed-by", "aim-controller"}}}}}});
  }
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kAdded, template_obj("waiting"));
  settle(types::aim_models());
  settle(kube::types::jobs());
  settle(types::aim_service_templates());
  auto r = reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "waiting"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind(), kube::Action::Kind::kRequeueAfter);
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns1").empty());
  auto t = fake->objects(types::aim_service_templates(), "ns1").at(0);
  bool waiting = false;
  for (const auto& c : t["status"]["conditions"]) {
    if (c["type"] == "Discovered") {
      waiting = c["message"].get<std::string>().find("discovery slot") != std::string::npos;
    }
  }
  EXPECT_TRUE(waiting) << t["status"].dump();

  // One job finishes: the template gets its Job.
  Json done = fake->objects(kube::types::jobs(), "other").at(0);
  done["status"] = {{"conditions", Json::array({{{"type", "Complete"}, {"status", "True"}}})}};
  fake->inject(kube::types::jobs(), WatchEvent::Type::kModified, done);
  settle(kube::types::jobs());
  settle(types::aim_service_templates());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "waiting"}).ok());
  EXPECT_EQ(fake->objects(kube::types::jobs(), "ns1").size(), 1u);
}

TEST_F(CatalogReconcile, FailedDiscoveryArmsATimerForTheEndOfTheBackoff) {
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded,
               model("qwen-qwen3-32b", Json::array()));
  Json t = template_obj("t");
  settle(types::aim_models());
  auto m = model_spec(model("qwen-qwen3-32b", Json::array()));
  auto naming = discovery_naming(TemplateScope::namespaced(), typed_template(t), &m);
  t["status"] = {{"discovery",
                  {{"attempts", 2},
                   {"lastAttemptTime", format_rfc3339(now - 30)},
                   {"specHash", engine::discovery_spec_hash(naming)}}}};
  fake->inject(types::aim_service_templates(), WatchEvent::Type::kAdded, t);
  settle(types::aim_service_templates());
  auto r = reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kind(), kube::Action::Kind::kRequeueAfter);
  EXPECT_EQ(r->after(), std::chrono::seconds(120 - 30));  // backoff(2) = 120 s
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns1").empty());
}

// One Shared template cache per template (issue 27): a namespaced template with caching enabled
// leaves a service's Shared cache of it alone, and makes its own only when there is none.
TEST_F(CatalogReconcile, ACachingTemplateMakesNoSecondSharedCache) {
  forget_created_shared_template_caches();
  fake->inject(types::aim_models(), WatchEvent::Type::kAdded,
               model("qwen-qwen3-32b", Json::array()));
  fake->inject(
      types::aim_service_templates(), WatchEvent::Type::kAdded,
      template_obj("t", {{"caching", {{"enabled", true}}},
                         {"modelSources", {{{"modelId", "org/m"}, {"sourceUri", "hf://org/m"}}}}}));
  Json service_cache = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                        {"kind", "AIMTemplateCache"},
                        {"metadata", {{"name", "t-from-a-service"}, {"namespace", "ns1"}}},
                        {"spec", {{"templateName", "t"}, {"mode", "Shared"}}}};
  fake->inject(types::aim_template_caches(), WatchEvent::Type::kAdded, service_cache);
  settle(types::aim_models());
  settle(types::aim_service_templates());
  settle(types::aim_template_caches());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"}).ok());
  ASSERT_EQ(fake->objects(types::aim_template_caches(), "ns1").size(), 1u);

  // A Dedicated cache of the template is a service's own: it does not count.
  service_cache["spec"]["mode"] = "Dedicated";
  fake->inject(types::aim_template_caches(), WatchEvent::Type::kModified, service_cache);
  settle(types::aim_template_caches());
  ASSERT_TRUE(reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"}).ok());
  auto caches = fake->objects(types::aim_template_caches(), "ns1");
  ASSERT_EQ(caches.size(), 2u);
  std::set<std::string> names;
  for (const auto& c : caches) names.insert(name_of(c));
  EXPECT_TRUE(names.contains("t"));
}

// The race the informer cannot close: two controllers of the process create before either
// creation shows in the cache. The second finds the first's in the process's own record.
TEST_F(CatalogReconcile, ASharedCacheJustCreatedIsNotCreatedTwice) {
  forget_created_shared_template_caches();
  int created = 0;
  auto create = [&] {
    ++created;
    return true;  // created, but the informer has not shown it yet
  };
  EXPECT_TRUE(create_shared_template_cache_once(ctx, "ns1", "t", create));
  EXPECT_TRUE(create_shared_template_cache_once(ctx, "ns1", "t", create));
  EXPECT_EQ(created, 1);
  EXPECT_TRUE(create_shared_template_cache_once(ctx, "ns1", "other", create));
  EXPECT_EQ(created, 2) << "another template has a cache of its own";
  // One that never shows (deleted at once) does not block a new one for long.
  now += 31;
  EXPECT_TRUE(create_shared_template_cache_once(ctx, "ns1", "t", create));
  EXPECT_EQ(created, 3);
  // A failed create records nothing.
  forget_created_shared_template_caches();
  EXPECT_FALSE(create_shared_template_cache_once(ctx, "ns1", "t", [] { return false; }));
  EXPECT_TRUE(create_shared_template_cache_once(ctx, "ns1", "t", create));
  EXPECT_EQ(created, 4);
}

// A template whose discovery Job exists (created by a first reconcile).
class TemplateDiscovery : public CatalogReconcile {
 protected:
  void SetUp() override {
    CatalogReconcile::SetUp();
    fake->inject(types::aim_models(), WatchEvent::Type::kAdded,
                 model("qwen-qwen3-32b", Json::array()));
    fake->inject(types::aim_service_templates(), WatchEvent::Type::kAdded, template_obj("t"));
    ASSERT_TRUE(reconcile().ok());
    ASSERT_EQ(fake->objects(kube::types::jobs(), "ns1").size(), 1u);
  }
  kube::ReconcileResult reconcile() {
    for (const auto& t : {types::aim_models(), types::aim_service_templates(), kube::types::jobs(),
                          kube::types::pods()})
      settle(t);
    return reconcile_template(ctx, TemplateScope::namespaced(), {"ns1", "t"}, discovery);
  }
  Json job() { return fake->objects(kube::types::jobs(), "ns1").at(0); }
  Json tmpl() { return fake->objects(types::aim_service_templates(), "ns1").at(0); }
  Json cond(const std::string& type) {
    Json t = tmpl();
    for (const auto& c : t["status"]["conditions"])
      if (c["type"] == type) return c;
    return Json();
  }
  Json pod(Json status) {
    std::string name = job()["metadata"]["name"];
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name + "-p"},
              {"namespace", "ns1"},
              {"creationTimestamp", format_rfc3339(now)},
              {"labels",
               {{"job-name", name},
                {"aim.eai.amd.com/template", "t"},
                {"aim.eai.amd.com/service-template.name", "t"},
                {"aim.eai.amd.com/component", "discovery"}}}}},
            {"spec", {{"containers", {{{"name", "discovery"}, {"image", "img:1"}}}}}},
            {"status", std::move(status)}};
  }
  DiscoveryOptions discovery;
};

TEST_F(TemplateDiscovery, AnImagePullFailureIsReportedAndClearsWhenThePodRuns) {
  EXPECT_EQ(job()["spec"]["activeDeadlineSeconds"], 900);
  Json p = pod({{"phase", "Pending"},
                {"containerStatuses",
                 {{{"name", "discovery"},
                   {"image", "img:1"},
                   {"state",
                    {{"waiting",
                      {{"reason", "ErrImagePull"},
                       {"message", "failed to pull image \"img:1\": not found"}}}}}}}}});
  fake->inject(kube::types::pods(), WatchEvent::Type::kAdded, p);
  ASSERT_TRUE(reconcile().ok());
  EXPECT_EQ(tmpl()["status"]["status"], "Failed");
  EXPECT_EQ(cond("Ready")["reason"], "ImagePullFailed");
  EXPECT_EQ(cond("DiscoveryPodsReady")["reason"], "ImagePullFailed");
  EXPECT_EQ(cond("Discovered")["reason"], "ImagePullFailed");
  EXPECT_NE(cond("Discovered")["message"].get<std::string>().find("img:1"), std::string::npos);

  p["status"] = {{"phase", "Running"}};
  fake->inject(kube::types::pods(), WatchEvent::Type::kModified, p);
  ASSERT_TRUE(reconcile().ok());
  EXPECT_EQ(cond("Discovered")["reason"], "AwaitingDiscovery");
  EXPECT_NE(tmpl()["status"]["status"], "Failed");
}

TEST_F(TemplateDiscovery, UnschedulableAfterTheGracePeriod) {
  discovery.unschedulable_grace = std::chrono::seconds(30);
  fake->inject(kube::types::pods(), WatchEvent::Type::kAdded,
               pod({{"phase", "Pending"},
                    {"conditions",
                     {{{"type", "PodScheduled"},
                       {"status", "False"},
                       {"reason", "Unschedulable"},
                       {"lastTransitionTime", format_rfc3339(now)},
                       {"message", "0/2 nodes are available"}}}}}));
  auto r = reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind(), kube::Action::Kind::kRequeueAfter);
  EXPECT_EQ(r->after(), std::chrono::seconds(30));
  EXPECT_EQ(cond("Discovered")["reason"], "AwaitingDiscovery");
  now += 30;
  ASSERT_TRUE(reconcile().ok());
  EXPECT_EQ(tmpl()["status"]["status"], "Degraded");
  EXPECT_EQ(cond("Ready")["reason"], "Unschedulable");
  EXPECT_EQ(cond("Discovered")["reason"], "Unschedulable");
}

TEST_F(TemplateDiscovery, ADeadlineExceededJobIsADiscoveryTimeout) {
  Json j = job();
  j["status"] = {{"conditions",
                  {{{"type", "Failed"},
                    {"status", "True"},
                    {"reason", "DeadlineExceeded"},
                    {"message", "Job was active longer than specified deadline"}}}}};
  fake->inject(kube::types::jobs(), WatchEvent::Type::kModified, j);
  ASSERT_TRUE(reconcile().ok());
  EXPECT_EQ(tmpl()["status"]["status"], "Failed");
  EXPECT_EQ(cond("Ready")["reason"], "DiscoveryTimeout");
  EXPECT_EQ(cond("DiscoveryJobReady")["reason"], "DiscoveryTimeout");
  EXPECT_EQ(cond("Discovered")["reason"], "DiscoveryTimeout");
  EXPECT_NE(cond("Discovered")["message"].get<std::string>().find("900 s"), std::string::npos);
  EXPECT_EQ(tmpl()["status"]["discovery"]["attempts"], 1);  // a failed attempt, backoff applies
}

// A discovery whose container cannot start (issue 27): the template says Failed with the pod's
// reason and message on DiscoveryJobReady, Discovered and Ready, with the attempt count and the
// time of the next attempt; the same once the Job's TTL has removed the Job; no new Job before
// the backoff ends; then a retry, which names the failure it retries.
TEST_F(TemplateDiscovery, AFailedDiscoverySaysOneThingBeforeAndAfterItsJobIsGone) {
  Json j = job();
  j["metadata"]["creationTimestamp"] = format_rfc3339(now);
  j["status"] = {{"conditions",
                  {{{"type", "Failed"},
                    {"status", "True"},
                    {"reason", "BackoffLimitExceeded"},
                    {"message", "Job has reached the specified backoff limit"}}}}};
  fake->inject(kube::types::jobs(), WatchEvent::Type::kModified, j);
  Json p = pod({{"phase", "Failed"},
                {"containerStatuses",
                 {{{"name", "discovery"},
                   {"image", "img:1"},
                   {"state",
                    {{"terminated",
                      {{"exitCode", 128},
                       {"reason", "StartError"},
                       {"message", "exec: \"/entrypoint\": no such file or directory"}}}}}}}}});
  fake->inject(kube::types::pods(), WatchEvent::Type::kAdded, p);
  now += 5;
  ASSERT_TRUE(reconcile().ok());
  auto says = [&] {
    std::vector<std::string> out{tmpl()["status"]["status"]};
    for (const char* type : {"DiscoveryJobReady", "Discovered", "Ready"})
      out.push_back(std::string(type) + " " + cond(type)["status"].get<std::string>() + " " +
                    cond(type)["reason"].get<std::string>() + ": " +
                    cond(type)["message"].get<std::string>());
    return out;
  };
  const auto with_job = says();
  EXPECT_EQ(with_job[0], "Failed");
  const std::string next = format_rfc3339(now + 60);  // backoff(1) after the failure was seen
  for (size_t i = 1; i < with_job.size(); ++i) {
    EXPECT_EQ(with_job[i].find(" False PodFailed: "), with_job[i].find(' ')) << with_job[i];
    EXPECT_NE(with_job[i].find("Discovery attempt 1 failed: Container discovery failed with exit "
                               "code 128: exec: \"/entrypoint\": no such file"),
              std::string::npos)
        << with_job[i];
    EXPECT_NE(with_job[i].find("Next attempt at " + next), std::string::npos) << with_job[i];
  }
  Json d = tmpl()["status"]["discovery"];
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_EQ(d["lastFailureCode"], "PodFailed");
  EXPECT_EQ(d["nextAttemptTime"], next);
  EXPECT_TRUE(cond("DiscoveryPodsReady").is_null()) << "one component speaks for the attempt";

  // The Job's TTL removes it and its pod: nothing changes, and no new Job before the backoff ends.
  fake->inject(kube::types::pods(), WatchEvent::Type::kDeleted, p);
  fake->inject(kube::types::jobs(), WatchEvent::Type::kDeleted, job());
  for (int i = 0; i < 200 && !ctx.cache(kube::types::jobs()).list("ns1").empty(); ++i)
    std::this_thread::sleep_for(10ms);
  now += 30;
  const size_t writes_before = writes();
  auto r = reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(says(), with_job);
  EXPECT_EQ(writes(), writes_before) << "an unchanged status is not written again";
  EXPECT_EQ(r->kind(), kube::Action::Kind::kRequeueAfter);
  EXPECT_EQ(r->after(), std::chrono::seconds(30));
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns1").empty());

  // The backoff ends: a retry, and while it runs Discovered names the failure it retries.
  now += 30;
  ASSERT_TRUE(reconcile().ok());
  ASSERT_EQ(fake->objects(kube::types::jobs(), "ns1").size(), 1u);
  ASSERT_TRUE(reconcile().ok());
  EXPECT_NE(tmpl()["status"]["status"], "Failed");
  EXPECT_EQ(cond("Discovered")["reason"], "PodFailed");
  EXPECT_EQ(cond("Discovered")["message"].get<std::string>().rfind(
                "Discovery attempt 2 is running; attempt 1 failed: Container discovery failed", 0),
            0u)
      << cond("Discovered").dump();
}

}  // namespace
}  // namespace aim::controllers::catalog
