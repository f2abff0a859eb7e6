// Catalog controllers against the local control plane (KWOK-simulated pods, the simlogs
// ConfigMap for discovery output) and, where a test says so, the local test registries
// (tools/registry/registry.sh start; AIM_TEST_REGISTRY* from its env file).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <set>
#include <thread>

#include "controllers/catalog/catalog.h"
#include "controllers/service/service.h"
#include "core/base64.h"
#include "engine/template_naming.h"
#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace types = controllers::types;

// A dry-run result rendered per pod by simlogs from the pod's labels and env (the discovery Job
// sets AIM_METRIC / AIM_PRECISION / AIM_GPU_MODEL / AIM_GPU_COUNT from the template).
constexpr const char* kDryRunTemplate =
    R"([{"filename":"{{index .Labels "aim.eai.amd.com/template"}}.yaml",)"
    R"("profile":{"model":"org/model","quantized_model":"",)"
    R"("metadata":{"engine":"vllm","gpu":"{{default "MI300X" .Env.AIM_GPU_MODEL}}",)"
    R"("precision":"{{default "fp16" .Env.AIM_PRECISION}}","gpu_count":{{default "1" .Env.AIM_GPU_COUNT}},)"
    R"("metric":"{{default "latency" .Env.AIM_METRIC}}","type":"optimized"},)"
    R"("engine_args":{"tensor-parallel-size":{{default "1" .Env.AIM_GPU_COUNT}}},"env_vars":{"X":"1"}},)"
    R"("models":[{"name":"org/{{index .Labels "aim.eai.amd.com/template"}}","source":"hf://org/model","size_gb":16}]}])"
    "\n";

Json simlogs_config_map(const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", "dry-run-results"},
            {"namespace", ns},
            {"labels", {{"sim.aim.eai.amd.com/pod-logs", "true"}}}}},
          {"data",
           {{"selector", "app.kubernetes.io/component!=none,aim.eai.amd.com/template"},
            {"log", kDryRunTemplate}}}};
}

Json deployment(const std::string& gpu, int count, const std::string& metric,
                const std::string& precision) {
  return {{"gpuModel", gpu}, {"gpuCount", count}, {"metric", metric}, {"precision", precision}};
}

Json model(const std::string& ns, const std::string& name, const std::string& image,
           const Json& deployments) {
  Json m = {
      {"apiVersion", "aim.eai.amd.com/v1alpha1"},
      {"kind", ns.empty() ? "AIMClusterModel" : "AIMModel"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"image", image},
        {"imageMetadata",
         {{"model", {{"canonicalName", "org/" + name}, {"recommendedDeployments", deployments}}},
          {"oci", Json::object()}}}}}};
  if (!ns.empty()) m["metadata"]["namespace"] = ns;
  return m;
}

Json service_template(const std::string& ns, const std::string& name, const std::string& model_name,
                      const Json& hardware = nullptr) {
  Json t = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", "AIMServiceTemplate"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", {{"modelName", model_name}, {"metric", "latency"}, {"precision", "fp8"}}}};
  if (!hardware.is_null()) t["spec"]["hardware"] = hardware;
  return t;
}

std::string template_name(const std::string& model_name, const std::string& image,
                          const std::string& gpu, int count, const std::string& metric,
                          const std::string& precision) {
  engine::RecommendedDeployment d;
  d.gpu_model = gpu;
  d.gpu_count = count;
  d.metric = metric;
  d.precision = precision;
  return engine::recommended_template_name(model_name, image, d);
}

std::function<void(kube::Manager&, const controllers::Context&)> catalog(
    controllers::catalog::Options options = {}) {
  return [options](kube::Manager& m, const controllers::Context& c) {
    controllers::catalog::register_catalog_controllers(m, c, options);
  };
}

std::string resource_version(const Json& o) {
  return o["metadata"].value("resourceVersion", "");
}

kube::ResourceType Stage() {
  return *type_for("kwok.x-k8s.io/v1alpha1", "Stage");
}

bool discovered(const Json& t) {
  return condition_is(t, "Discovered", "True", "DiscoveryComplete");
}

class CatalogIT : public OperatorTest {};

// ---- models from imageMetadata, templates, discovery ------------------------------------------

TEST_F(CatalogIT, ModelFromImageMetadataCreatesTemplatesThatDiscoverAndTurnReady) {
  std::string ns = create_namespace("cat-model");
  apply(simlogs_config_map(ns));
  start_operator(catalog());
  const std::string image = "registry.example/aim/llama:1.0.0";
  apply(model(ns, "llama", image,
              Json::array({deployment("MI300X", 1, "latency", "fp8"),
                           deployment("MI300X", 2, "throughput", "fp16")})));
  std::string t1 = template_name("llama", image, "MI300X", 1, "latency", "fp8");
  std::string t2 = template_name("llama", image, "MI300X", 2, "throughput", "fp16");

  Json tpl = wait_for(
      types::aim_service_templates(), ns, t1,
      [](const Json& t) { return status_is(t, "Ready") && discovered(t); }, 90s,
      "template Ready and Discovered");
  ASSERT_FALSE(tpl.is_null());
  EXPECT_EQ(tpl["metadata"]["labels"]["aim.eai.amd.com/model"], "llama");
  EXPECT_EQ(tpl["metadata"]["labels"]["aim.eai.amd.com/origin"], "auto-generated");
  EXPECT_EQ(tpl["spec"]["hardware"]["gpu"]["requests"], 1);
  EXPECT_EQ(tpl["status"]["modelSources"][0]["modelId"], "org/" + t1);
  EXPECT_EQ(tpl["status"]["modelSources"][0]["size"], "16Gi");
  EXPECT_EQ(tpl["status"]["profile"]["metadata"]["metric"], "latency");
  EXPECT_EQ(tpl["status"]["profile"]["metadata"]["precision"], "fp8");
  EXPECT_EQ(tpl["status"]["hardwareSummary"], "1 x MI300X");
  EXPECT_EQ(tpl["status"]["resolvedModel"]["name"], "llama");
  auto affinity =
      tpl["status"]["resolvedNodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
         ["nodeSelectorTerms"][0]["matchExpressions"][0];
  EXPECT_EQ(affinity["values"], Json::array({"74a1", "74a9", "74b5", "74bd"}));

  // The discovery Job has the reference's name, labels, security context and args.
  std::string job_name = tpl["status"]["discoveryJob"]["name"];
  EXPECT_EQ(job_name.rfind("discover-", 0), 0u);
  Json job = get(kube::types::jobs(), ns, job_name);
  if (!job.is_null()) {  // the TTL controller may already have removed it
    auto labels = job["metadata"]["labels"];
    EXPECT_EQ(labels["app.kubernetes.io/name"], "aim-discovery");
    EXPECT_EQ(labels["app.kubernetes.io/component"], "discovery");
    EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "aim-controller");
    EXPECT_EQ(labels["aim.eai.amd.com/template"], t1);
    EXPECT_EQ(labels["aim.eai.amd.com/model"], "llama");
    EXPECT_EQ(job["spec"]["backoffLimit"], 0);
    EXPECT_EQ(job["spec"]["ttlSecondsAfterFinished"], 60);
    auto pod = job["spec"]["template"]["spec"];
    EXPECT_EQ(pod["securityContext"]["runAsUser"], 65532);
    EXPECT_EQ(pod["containers"][0]["args"], Json::array({"dry-run", "--format=json"}));
    EXPECT_EQ(pod["containers"][0]["image"], image);
  }

  Json tpl2 = wait_for(
      types::aim_service_templates(), ns, t2,
      [](const Json& t) { return status_is(t, "Ready") && discovered(t); }, 90s);
  EXPECT_EQ(tpl2["status"]["profile"]["metadata"]["gpuCount"], 2);
  EXPECT_EQ(tpl2["status"]["profile"]["metadata"]["metric"], "throughput");

  Json m = wait_for(
      types::aim_models(), ns, "llama",
      [](const Json& o) {
        return status_is(o, "Ready") &&
               condition_is(o, "ServiceTemplatesReady", "True", "AllTemplatesReady");
      },
      60s, "model Ready over its templates");
  EXPECT_EQ(m["status"]["sourceType"], "Image");
  EXPECT_TRUE(condition_is(m, "ImageMetadataReady", "True", "ImageMetadataFound"));
  EXPECT_EQ(m["status"]["imageMetadata"]["model"]["canonicalName"], "org/llama");

  // Idle means idle: once settled, nothing writes the model or the templates again.
  Json before_m = get(types::aim_models(), ns, "llama");
  Json before_t = get(types::aim_service_templates(), ns, t1);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(resource_version(get(types::aim_models(), ns, "llama")), resource_version(before_m));
  EXPECT_EQ(resource_version(get(types::aim_service_templates(), ns, t1)),
            resource_version(before_t));
}

TEST_F(CatalogIT, DiscoveryWithoutModelSourcesIsAFailureNotReady) {
  std::string ns = create_namespace("cat-empty");
  // No simlogs ConfigMap: the discovery pod succeeds with an empty log.
  start_operator(catalog());
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  apply(service_template(ns, "empty-out", "m"));
  Json t = wait_for(
      types::aim_service_templates(), ns, "empty-out",
      [](const Json& o) {
        return condition_is(o, "DiscoveryJobReady", "False", "DiscoveryOutputInvalid");
      },
      60s, "discovery output rejected");
  EXPECT_TRUE(status_is(t, "Failed")) << t["status"].dump(2);
  // The failed attempt's reason on every condition that speaks of it (not AwaitingDiscovery).
  EXPECT_TRUE(condition_is(t, "Discovered", "False", "DiscoveryOutputInvalid"))
      << t["status"].dump(2);
  EXPECT_TRUE(condition_is(t, "Ready", "False", "DiscoveryOutputInvalid")) << t["status"].dump(2);
  EXPECT_EQ(t["status"]["discovery"]["attempts"], 1);
  EXPECT_EQ(t["status"]["discovery"]["lastFailureCode"], "DiscoveryOutputInvalid");
}

TEST_F(CatalogIT, FailedDiscoveryIsRetriedAfterBackoff) {
  std::string ns = create_namespace("cat-retry");
  std::string stage = "sim-fail-" + ns;
  apply(
      {{"apiVersion", "kwok.x-k8s.io/v1alpha1"},
       {"kind", "Stage"},
       {"metadata", {{"name", stage}}},
       {"spec",
        {{"resourceRef", {{"apiGroup", "v1"}, {"kind", "Pod"}}},
         {"selector",
          {{"matchLabels", {{"aim.eai.amd.com/template", "flaky"}}},
           {"matchExpressions",
            Json::array(
                {{{"key", ".metadata.namespace"}, {"operator", "In"}, {"values", {ns}}},
                 {{"key", ".metadata.deletionTimestamp"}, {"operator", "DoesNotExist"}},
                 {{"key", ".status.phase"}, {"operator", "In"}, {"values", {"Running"}}}})}}},
         {"weight", 1},
         {"delay", {{"durationMilliseconds", 300}}},
         {"next",
          {{"statusTemplate",
            "{{ $now := Now }}\ncontainerStatuses:\n{{ range .spec.containers }}\n- image: {{ "
            ".image "
            "| Quote }}\n  name: {{ .name | Quote }}\n  ready: false\n  restartCount: 0\n  state:\n"
            "    terminated: {exitCode: 3, reason: Error, message: simulated failure, finishedAt: "
            "{{ $now | Quote }}}\n{{ end }}\nphase: Failed\n"}}}}}});
  start_operator(catalog());
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  apply(service_template(ns, "flaky", "m"));
  Json failed = wait_for(
      types::aim_service_templates(), ns, "flaky",
      [](const Json& o) {
        return status_is(o, "Failed") && condition_is(o, "DiscoveryJobReady", "False", "PodFailed");
      },
      60s, "first discovery failed");
  EXPECT_EQ(failed["status"]["discovery"]["attempts"], 1);
  // The pod's own failure, not the Job's BackoffLimitExceeded, on every condition that speaks of
  // the attempt, with the time of the next one.
  EXPECT_EQ(failed["status"]["discovery"]["lastFailureCode"], "PodFailed");
  for (const auto& c : failed["status"]["conditions"]) {
    if (c["type"] != "Discovered" && c["type"] != "Ready") continue;
    EXPECT_EQ(c["reason"], "PodFailed") << c.dump();
    EXPECT_NE(c["message"].get<std::string>().find("exit code 3: simulated failure"),
              std::string::npos)
        << c.dump();
    EXPECT_NE(c["message"].get<std::string>().find(
                  "Next attempt at " +
                  failed["status"]["discovery"]["nextAttemptTime"].get<std::string>()),
              std::string::npos)
        << c.dump();
  }
  EXPECT_FALSE(failed["status"]["discovery"].value("specHash", "").empty());

  // The next attempt succeeds: no failing Stage, and a dry-run result to read.
  remove(Stage(), "", stage);
  apply(simlogs_config_map(ns));
  Json ready = wait_for(
      types::aim_service_templates(), ns, "flaky",
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 150s,
      "retried discovery succeeded");
  EXPECT_EQ(ready["status"]["discovery"]["attempts"], 1);
  // The retry Job was created once the 60 s backoff had passed, not before. (The first backoff
  // equals the Job TTL, so the template never shows the wait on its first retry.)
  Json job = get(kube::types::jobs(), ns, ready["status"]["discoveryJob"]["name"]);
  ASSERT_FALSE(job.is_null());
  auto seconds = [](const std::string& t) {
    std::tm tm{};
    strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return static_cast<int64_t>(timegm(&tm));
  };
  EXPECT_GE(seconds(job["metadata"]["creationTimestamp"]),
            seconds(failed["status"]["discovery"]["lastAttemptTime"]) + 60);
}

// The discovery pod cannot pull the model image (KWOK's aim-image-pull-fail Stage plays the
// kubelet for pods labelled sim.aim.eai.amd.com/image-pull=fail; the template's label reaches
// the pod through the runtime config's labelPropagation): the template reports ImagePullFailed
// with the kubelet's message on Ready and Discovered, with a Warning event. Once the pod can
// start (the label removed, as if the image had been pushed), discovery completes on its own.
TEST_F(CatalogIT, DiscoveryImagePullFailureIsReportedAndHealsWhenTheImageCanBePulled) {
  std::string ns = create_namespace("cat-pull");
  apply(simlogs_config_map(ns));
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMRuntimeConfig"},
         {"metadata", {{"name", "default"}, {"namespace", ns}}},
         {"spec",
          {{"labelPropagation", {{"enabled", true}, {"match", {"sim.aim.eai.amd.com/*"}}}}}}});
  start_operator(catalog());
  const std::string image = "registry.invalid/aim/missing:1.0.0";
  apply(model(ns, "m", image, Json::array()));
  Json t = service_template(ns, "pull", "m");
  t["metadata"]["labels"] = {{"sim.aim.eai.amd.com/image-pull", "fail"}};
  apply(t);
  Json stuck = wait_for(
      types::aim_service_templates(), ns, "pull",
      [](const Json& o) { return condition_is(o, "Ready", "False", "ImagePullFailed"); }, 60s,
      "Ready=False/ImagePullFailed");
  ASSERT_FALSE(stuck.is_null());
  EXPECT_TRUE(status_is(stuck, "Failed")) << stuck["status"].dump(2);
  EXPECT_TRUE(condition_is(stuck, "Discovered", "False", "ImagePullFailed"));
  EXPECT_TRUE(condition_is(stuck, "DiscoveryPodsReady", "False", "ImagePullFailed"));
  std::string msg = condition(stuck, "Discovered").value("message", "");
  EXPECT_NE(msg.find(image), std::string::npos) << msg;
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& e : list(types::core_events(), ns))
          if (e.value("reason", "") == "ImagePullFailed" && e.value("type", "") == "Warning")
            return true;
        return false;
      },
      30s, "a Warning event ImagePullFailed"));
  std::string job = stuck["status"]["discoveryJob"].value("name", "");
  EXPECT_GT(get(kube::types::jobs(), ns, job)["spec"].value("activeDeadlineSeconds", 0), 0);

  auto pods = list(kube::types::pods(), ns, "job-name=" + job);
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["metadata"]["labels"].value("aim.eai.amd.com/component", ""), "discovery");
  ASSERT_TRUE(client_
                  ->merge_patch(kube::types::pods(), ns, controllers::name_of(pods[0]),
                                Json{{"metadata",
                                      {{"labels", {{"sim.aim.eai.amd.com/image-pull", nullptr}}}}}})
                  .ok());
  Json ready = wait_for(
      types::aim_service_templates(), ns, "pull",
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 60s,
      "discovery completed once the image could be pulled");
  EXPECT_FALSE(ready["status"].contains("discovery") &&
               ready["status"]["discovery"].value("attempts", 0) > 0)
      << "the stuck pod was not counted as a failed attempt";
}

TEST_F(CatalogIT, ThirtyTemplatesNeverRunMoreThanTenDiscoveryJobs) {
  std::string ns = create_namespace("cat-limit");
  apply(simlogs_config_map(ns));
  // Discovery pods take 3 s, so the limit is actually reached.
  std::string stage = "sim-slow-" + ns;
  apply(
      {{"apiVersion", "kwok.x-k8s.io/v1alpha1"},
       {"kind", "Stage"},
       {"metadata", {{"name", stage}}},
       {"spec",
        {{"resourceRef", {{"apiGroup", "v1"}, {"kind", "Pod"}}},
         {"selector",
          {{"matchExpressions",
            Json::array(
                {{{"key", ".metadata.namespace"}, {"operator", "In"}, {"values", {ns}}},
                 {{"key", ".metadata.deletionTimestamp"}, {"operator", "DoesNotExist"}},
                 {{"key", ".status.phase"}, {"operator", "In"}, {"values", {"Running"}}}})}}},
         {"weight", 1},
         {"delay", {{"durationMilliseconds", 3000}}},
         {"next",
          {{"statusTemplate",
            "{{ $now := Now }}\ncontainerStatuses:\n{{ range .spec.containers }}\n- image: {{ "
            ".image "
            "| Quote }}\n  name: {{ .name | Quote }}\n  ready: false\n  restartCount: 0\n  state:\n"
            "    terminated: {exitCode: 0, reason: Completed, finishedAt: {{ $now | Quote }}}\n"
            "{{ end }}\nphase: Succeeded\n"}}}}}});
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  start_operator(catalog());

  std::atomic<bool> stop{false};
  std::atomic<int> max_active{0};
  std::thread watcher([&] {
    while (!stop) {
      int active = 0;
      for (const auto& j : list(kube::types::jobs(), ns, "app.kubernetes.io/name=aim-discovery")) {
        bool finished = false;
        for (const auto& c : j["status"].value("conditions", Json::array())) {
          if ((c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True") {
            finished = true;
          }
        }
        if (!finished) ++active;
      }
      if (active > max_active) max_active = active;
      std::this_thread::sleep_for(50ms);
    }
  });
  for (int i = 0; i < 30; ++i) apply(service_template(ns, "t" + std::to_string(i), "m"));
  bool all_ready = eventually(
      [&] {
        int ready = 0;
        for (const auto& t : list(types::aim_service_templates(), ns)) {
          if (status_is(t, "Ready") && discovered(t)) ++ready;
        }
        return ready == 30;
      },
      240s, "30 templates Ready");
  stop = true;
  watcher.join();
  remove(Stage(), "", stage);
  EXPECT_TRUE(all_ready);
  std::cout << "most discovery Jobs active at once: " << max_active.load() << "\n";
  RecordProperty("max_active_discovery_jobs", max_active.load());
  EXPECT_LE(max_active.load(), 10);
  EXPECT_GE(max_active.load(), 1);
}

TEST_F(CatalogIT, TemplateForMissingGpuIsNotAvailableUntilSuchANodeAppears) {
  std::string ns = create_namespace("cat-gpu");
  apply(simlogs_config_map(ns));
  start_operator(catalog());
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  apply(service_template(ns, "mi100", "m", {{"gpu", {{"requests", 1}, {"model", "MI100"}}}}));
  Json t = wait_for(
      types::aim_service_templates(), ns, "mi100",
      [](const Json& o) {
        return status_is(o, "NotAvailable") &&
               condition_is(o, "GPUReady", "False", "GPUNotAvailable");
      },
      60s, "NotAvailable without an MI100 node");
  EXPECT_TRUE(list(kube::types::jobs(), ns).empty()) << "no discovery without the GPU";
  // The model's only template cannot run here: the model is NotAvailable too.
  wait_for(
      types::aim_models(), ns, "m",
      [](const Json& o) {
        return status_is(o, "NotAvailable") &&
               condition_is(o, "ServiceTemplatesReady", "False", "NoTemplatesAvailable");
      },
      30s, "model NotAvailable over its templates");

  std::string node = "kwok-mi100-" + ns;
  apply({{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata",
          {{"name", node},
           {"annotations", {{"kwok.x-k8s.io/node", "fake"}}},
           {"labels", {{"type", "kwok"}, {"amd.com/gpu.device-id", "738c"}}}}},
         {"spec", Json::object()}});
  Json ready = wait_for(
      types::aim_service_templates(), ns, "mi100",
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 90s,
      "Ready once an MI100 node exists");
  EXPECT_TRUE(condition_is(ready, "GPUReady", "True", "GPUAvailable"));
  EXPECT_EQ(
      ready["status"]["resolvedNodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
           ["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
      Json::array({"738c", "738e"}));
}

// docs/bad-input.md row 13 (GPU count above the largest node): the issue's case, a service whose
// overrides ask 20 GPUs of an explicit template, on a cluster whose MI300X nodes have 8. The
// derived template is NotAvailable, so is the service, and no pod is made; a node that can hold
// 20 releases both through the Node watch.
TEST_F(CatalogIT, AServiceAskingMoreGpusThanAnyNodeHasIsNotAvailableUntilSuchANodeJoins) {
  std::string ns = create_namespace("cat-gpus");
  apply(simlogs_config_map(ns));
  start_operator([](kube::Manager& m, const controllers::Context& c) {
    controllers::catalog::register_catalog_controllers(m, c, {});
    controllers::register_service_controllers(m, c);
  });
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  apply(service_template(ns, "base", "m", {{"gpu", {{"requests", 2}, {"model", "MI300X"}}}}));
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMService"},
         {"metadata", {{"name", "big"}, {"namespace", ns}}},
         {"spec",
          {{"model", {{"name", "m"}}},
           {"template", {{"name", "base"}}},
           {"caching", {{"mode", "Never"}}},
           {"overrides", {{"hardware", {{"gpu", {{"requests", 20}, {"model", "MI300X"}}}}}}}}}});
  Json svc = wait_for(
      types::aim_services(), ns, "big", [](const Json& o) { return status_is(o, "NotAvailable"); },
      90s, "service NotAvailable");
  std::string derived_name;
  for (const auto& t : list(types::aim_service_templates(), ns))
    if (controllers::name_of(t) != "base") derived_name = controllers::name_of(t);
  ASSERT_FALSE(derived_name.empty()) << "no derived template";
  Json t = wait_for(
      types::aim_service_templates(), ns, derived_name,
      [](const Json& o) { return condition_is(o, "GPUReady", "False", "GPUCountNotAvailable"); },
      30s, "GPUReady=False/GPUCountNotAvailable");
  EXPECT_TRUE(status_is(t, "NotAvailable"));
  std::string msg = condition(t, "GPUReady").value("message", "");
  EXPECT_NE(msg.find("Requires 20 amd.com/gpu in one pod, but the largest MI300X node can "
                     "allocate 8"),
            std::string::npos)
      << msg;
  EXPECT_NE(svc.dump().find("largest MI300X node can allocate 8"), std::string::npos)
      << "the service does not say why: " << svc["status"].dump(2);
  // No discovery pod for this template, and no InferenceService.
  for (const auto& j : list(kube::types::jobs(), ns))
    EXPECT_NE(j["metadata"]["labels"].value("aim.eai.amd.com/template", ""), derived_name);
  EXPECT_TRUE(list(types::inference_services(), ns).empty());

  std::string node = "kwok-mi300x-32-" + ns;
  apply({{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata",
          {{"name", node},
           {"annotations", {{"kwok.x-k8s.io/node", "fake"}}},
           {"labels", {{"type", "kwok"}, {"amd.com/gpu.device-id", "74a1"}}}}},
         {"spec", Json::object()}});
  patch_status(kube::types::nodes(), "", node,
               {{"capacity", {{"amd.com/gpu", "32"}}}, {"allocatable", {{"amd.com/gpu", "32"}}}});
  wait_for(
      types::aim_service_templates(), ns, derived_name,
      [](const Json& o) { return status_is(o, "Ready"); }, 90s, "derived template Ready");
  eventually([&] { return !list(types::inference_services(), ns).empty(); }, 60s,
             "the InferenceService once a 32-GPU node exists");
  svc = wait_for(
      types::aim_services(), ns, "big", [](const Json& o) { return status_is(o, "Starting"); }, 30s,
      "service Starting");
}

// docs/bad-input.md row 9 (discovery without the model's pull secret): a model whose labels are
// given inline (so nothing reads the registry) names a pull secret that does not exist; its
// template runs no discovery pod (which would sit in ImagePullBackOff) until the Secret exists.
TEST_F(CatalogIT, DiscoveryWaitsForTheModelsPullSecret) {
  std::string ns = create_namespace("cat-dpull");
  apply(simlogs_config_map(ns));
  start_operator(catalog());
  Json m = model(ns, "m", "registry.example/aim/m:1", Json::array());
  m["spec"]["imagePullSecrets"] = Json::array({{{"name", "regcred"}}});
  apply(m);
  apply(service_template(ns, "t", "m"));
  Json t = wait_for(
      types::aim_service_templates(), ns, "t",
      [](const Json& o) {
        return condition_is(o, "ImagePullSecretReady", "False", "SecretNotFound");
      },
      60s, "ImagePullSecretReady=False/SecretNotFound");
  EXPECT_TRUE(status_is(t, "Failed"));
  EXPECT_NE(condition(t, "ConfigValid")
                .value("message", "")
                .find("imagePullSecret \"regcred\" not found in namespace \"" + ns +
                      "\": create it, or remove it from spec.imagePullSecrets of AIMModel \"m\""),
            std::string::npos)
      << t["status"].dump(2);
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(list(kube::types::jobs(), ns).empty());
  apply_pull_secret(ns, "regcred");
  Json ready = wait_for(
      types::aim_service_templates(), ns, "t",
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 60s,
      "discovered once the Secret exists");
  EXPECT_TRUE(condition(ready, "ImagePullSecretReady").is_null());
  for (const auto& j : list(kube::types::jobs(), ns))
    EXPECT_EQ(j["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"], "regcred");
}

TEST_F(CatalogIT, PausedTemplateIsLeftAloneUntilResumed) {
  std::string ns = create_namespace("cat-pause");
  apply(simlogs_config_map(ns));
  start_operator(catalog());
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  Json t = service_template(ns, "held", "m");
  t["metadata"]["annotations"] = {{"aim.eai.amd.com/reconciliation-paused", "true"}};
  apply(t);
  // The model is reconciled (so the operator is working) while the template stays untouched.
  wait_for(
      types::aim_models(), ns, "m", [](const Json& o) { return o.contains("status"); }, 30s);
  // Untouched but for the Paused condition (status.status is the schema's default, Pending).
  wait_for(
      types::aim_service_templates(), ns, "held",
      [](const Json& o) { return condition_is(o, "Paused", "True", "ReconciliationPaused"); }, 30s,
      "Paused=True");
  std::this_thread::sleep_for(2s);
  Json held = get(types::aim_service_templates(), ns, "held");
  ASSERT_EQ(held["status"]["conditions"].size(), 1u) << held["status"].dump();
  EXPECT_EQ(held["status"].value("status", "Pending"), "Pending");
  EXPECT_FALSE(held["status"].contains("discovery"));
  EXPECT_TRUE(list(kube::types::jobs(), ns).empty());

  t["metadata"]["annotations"]["aim.eai.amd.com/reconciliation-paused"] = "false";
  apply(t);
  wait_for(
      types::aim_service_templates(), ns, "held",
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 60s,
      "resumed template discovers");
}

TEST_F(CatalogIT, TemplateWithInlineModelSourcesSkipsDiscovery) {
  std::string ns = create_namespace("cat-inline");
  start_operator(catalog());
  Json t = service_template(ns, "inline", "m", {{"gpu", {{"requests", 2}, {"model", "MI300X"}}}});
  t["spec"]["modelSources"] = Json::array({{{"modelId", "org/m"}, {"sourceUri", "hf://org/m"}}});
  apply(t);
  // Before its model exists the template is Failed with ReferenceNotFound, and recovers.
  wait_for(
      types::aim_service_templates(), ns, "inline",
      [](const Json& o) {
        return status_is(o, "Failed") &&
               condition_is(o, "ModelReady", "False", "ReferenceNotFound") &&
               condition_is(o, "ConfigValid", "False", "ReferenceNotFound");
      },
      30s, "missing model");
  apply(model(ns, "m", "registry.example/aim/m:1", Json::array()));
  Json ready = wait_for(
      types::aim_service_templates(), ns, "inline",
      [](const Json& o) { return status_is(o, "Ready"); }, 30s);
  EXPECT_TRUE(condition_is(ready, "Discovered", "True", "InlineModelSources"));
  EXPECT_EQ(ready["status"]["modelSources"][0]["modelId"], "org/m");
  EXPECT_EQ(ready["status"]["profile"]["metadata"]["gpuCount"], 2);
  EXPECT_EQ(ready["status"]["hardwareSummary"], "2 x MI300X");
  EXPECT_TRUE(list(kube::types::jobs(), ns).empty());
}

TEST_F(CatalogIT, NamespaceWithModelsAndTemplatesDeletesCleanly) {
  std::string ns = create_namespace("cat-delete");
  apply(simlogs_config_map(ns));
  start_operator(catalog());
  const std::string image = "registry.example/aim/d:1";
  apply(model(ns, "d", image, Json::array({deployment("MI300X", 1, "latency", "fp8")})));
  wait_for(
      types::aim_service_templates(), ns, template_name("d", image, "MI300X", 1, "latency", "fp8"),
      [](const Json& o) { return status_is(o, "Ready"); }, 60s);
  remove(kube::types::namespaces(), "", ns);
  EXPECT_TRUE(wait_gone(kube::types::namespaces(), "", ns, 90s));
}

TEST_F(CatalogIT, ClusterModelCreatesClusterTemplatesDiscoveredInTheOperatorNamespace) {
  Json cm = simlogs_config_map("aim-system");
  cm["metadata"]["name"] = "dry-run-results-" + random_suffix();
  apply(cm);
  start_operator(catalog());
  std::string name = "clm-" + random_suffix();
  const std::string image = "registry.example/aim/" + name + ":2.0";
  apply(model("", name, image, Json::array({deployment("MI350X", 1, "latency", "fp8")})));
  std::string tname = template_name(name, image, "MI350X", 1, "latency", "fp8");
  Json t = wait_for(
      types::aim_cluster_service_templates(), "", tname,
      [](const Json& o) { return status_is(o, "Ready") && discovered(o); }, 90s,
      "cluster template discovered");
  EXPECT_EQ(t["status"]["discoveryJob"]["namespace"], "aim-system");
  EXPECT_EQ(t["status"]["resolvedModel"]["name"], name);
  wait_for(
      types::aim_cluster_models(), "", name,
      [](const Json& o) {
        return status_is(o, "Ready") &&
               condition_is(o, "ClusterServiceTemplatesReady", "True", "AllTemplatesReady");
      },
      60s);
  remove(kube::types::config_maps(), "aim-system", cm["metadata"]["name"]);
  remove(types::aim_cluster_service_templates(), "", tname);  // not created through apply()
}

TEST_F(CatalogIT, RuntimeConfigsGetAStatus) {
  std::string ns = create_namespace("cat-rc");
  start_operator(catalog());
  // A name of its own: a cluster config "default" left by another suite must not matter.
  const std::string name = "rc-" + aim::testing::random_suffix();
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMRuntimeConfig"},
         {"metadata", {{"name", name}, {"namespace", ns}}},
         {"spec", {{"labelPropagation", {{"enabled", true}, {"match", {"team-[a"}}}}}}});
  Json rc = wait_for(
      types::aim_runtime_configs(), ns, name,
      [](const Json& o) { return !condition(o, "Ready").is_null(); }, 30s);
  EXPECT_TRUE(condition_is(rc, "Ready", "False", "InvalidConfig"));
  EXPECT_TRUE(condition_is(rc, "Resolved", "True", "NamespaceConfigOnly"));

  // A cluster config of the same name appears: the namespace config now merges over it.
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMClusterRuntimeConfig"},
         {"metadata", {{"name", name}}},
         {"spec", {{"storage", {{"pvcHeadroomPercent", 20}}}}}});
  wait_for(
      types::aim_runtime_configs(), ns, name,
      [](const Json& o) { return condition_is(o, "Resolved", "True", "MergedOverClusterConfig"); },
      30s, "Resolved=True/MergedOverClusterConfig");
  Json cl = wait_for(
      types::aim_cluster_runtime_configs(), "", name,
      [](const Json& o) { return !condition(o, "Ready").is_null(); }, 30s);
  EXPECT_TRUE(condition_is(cl, "Ready", "True"));
}

TEST_F(CatalogIT, CustomModelTemplatesSkipDiscoveryAndCachingTemplatesGetACache) {
  std::string ns = create_namespace("cat-custom");
  start_operator(catalog());
  Json m = model(ns, "custom", "registry.example/aim/base:1", Json::array());
  m["spec"]["modelSources"] =
      Json::array({{{"modelId", "org/custom"}, {"sourceUri", "hf://org/custom"}}});
  m["spec"]["custom"] = {{"hardware", {{"gpu", {{"requests", 1}, {"model", "MI300X"}}}}}};
  apply(m);
  std::string tname = "";
  ASSERT_TRUE(eventually(
      [&] {
        auto ts = list(types::aim_service_templates(), ns);
        if (ts.size() != 1) return false;
        tname = ts[0]["metadata"]["name"];
        return true;
      },
      30s, "one custom template"));
  Json t = wait_for(
      types::aim_service_templates(), ns, tname,
      [](const Json& o) { return status_is(o, "Ready"); }, 30s);
  EXPECT_TRUE(condition_is(t, "Discovered", "True", "InlineModelSources"));
  EXPECT_EQ(t["spec"]["type"], "unoptimized");
  EXPECT_EQ(t["status"]["modelSources"][0]["modelId"], "org/custom");
  Json ready = wait_for(
      types::aim_models(), ns, "custom", [](const Json& o) { return status_is(o, "Ready"); }, 30s);
  EXPECT_EQ(ready["status"]["sourceType"], "Custom");
  EXPECT_TRUE(list(kube::types::jobs(), ns).empty());

  // A namespaced template with caching enabled creates its AIMTemplateCache.
  Json cached = service_template(ns, "cached", "custom");
  cached["spec"]["modelSources"] = m["spec"]["modelSources"];
  cached["spec"]["caching"] = {{"enabled", true}};
  apply(cached);
  Json cache = wait_for(
      types::aim_template_caches(), ns, "cached", [](const Json&) { return true; }, 30s,
      "template cache created");
  EXPECT_EQ(cache["spec"]["templateName"], "cached");
  EXPECT_EQ(cache["spec"]["templateScope"], "Namespace");
  EXPECT_EQ(cache["metadata"]["ownerReferences"][0]["name"], "cached");
}

// ---- registry-backed models --------------------------------------------------------------------

class CatalogRegistryIT : public CatalogIT {
 protected:
  void SetUp() override {
    CatalogIT::SetUp();
    if (IsSkipped()) return;
    const char* open = std::getenv("AIM_TEST_REGISTRY");
    if (open == nullptr || *open == '\0') {
      GTEST_SKIP() << "AIM_TEST_REGISTRY is unset: start tools/registry/registry.sh and source "
                      "its env file";
    }
    open_ = open;
    const char* basic = std::getenv("AIM_TEST_REGISTRY_BASIC");
    basic_ = basic ? basic : "";
  }

  Json pull_secret(const std::string& ns, const std::string& name, const std::string& registry,
                   const std::string& user, const std::string& password) {
    Json cfg = {{"auths",
                 {{registry,
                   {{"username", user},
                    {"password", password},
                    {"auth", base64_encode(user + ":" + password)}}}}}};
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"type", "kubernetes.io/dockerconfigjson"},
            {"data", {{".dockerconfigjson", base64_encode(cfg.dump())}}}};
  }

  Json registry_model(const std::string& ns, const std::string& name, const std::string& image,
                      const std::string& secret = {}) {
    Json m = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
              {"kind", "AIMModel"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", {{"image", image}}}};
    if (!secret.empty()) m["spec"]["imagePullSecrets"] = Json::array({{{"name", secret}}});
    return m;
  }

  std::string open_, basic_;
};

TEST_F(CatalogRegistryIT, ModelFromALabelledImageCreatesTheRecommendedTemplates) {
  std::string ns = create_namespace("cat-reg");
  start_operator(catalog());
  std::string image = open_ + "/aim/llama-3-8b:1.0.0";
  apply(registry_model(ns, "llama", image));
  Json m = wait_for(
      types::aim_models(), ns, "llama",
      [](const Json& o) { return condition_is(o, "ImageMetadataReady", "True"); }, 60s,
      "metadata read from the registry");
  auto deps = m["status"]["imageMetadata"]["model"]["recommendedDeployments"];
  ASSERT_TRUE(deps.is_array() && !deps.empty());
  for (const auto& d : deps) {
    std::string name =
        template_name("llama", image, d.value("gpuModel", ""), d.value("gpuCount", 0),
                      d.value("metric", ""), d.value("precision", ""));
    EXPECT_TRUE(eventually([&] { return !get(types::aim_service_templates(), ns, name).is_null(); },
                           30s, "template " + name));
  }
}

TEST_F(CatalogRegistryIT, PrivateImageWithAValidAndWithAWrongPullSecret) {
  if (basic_.empty()) GTEST_SKIP() << "AIM_TEST_REGISTRY_BASIC is unset";
  std::string ns = create_namespace("cat-priv");
  const char* user = std::getenv("AIM_TEST_REGISTRY_USER");
  const char* password = std::getenv("AIM_TEST_REGISTRY_PASSWORD");
  ASSERT_TRUE(user && password);
  apply(pull_secret(ns, "good", basic_, user, password));
  apply(pull_secret(ns, "bad", basic_, user, "not-the-password"));
  start_operator(catalog());
  std::string image = basic_ + "/aim/llama-3-8b:1.0.0";
  apply(registry_model(ns, "good", image, "good"));
  apply(registry_model(ns, "bad", image, "bad"));
  wait_for(
      types::aim_models(), ns, "good",
      [](const Json& o) { return condition_is(o, "ImageMetadataReady", "True"); }, 60s,
      "valid secret reads the labels");
  Json bad = wait_for(
      types::aim_models(), ns, "bad",
      [](const Json& o) { return condition_is(o, "ImageMetadataReady", "False"); }, 60s,
      "wrong secret is refused");
  EXPECT_EQ(condition(bad, "ImageMetadataReady")["reason"], "ImagePullAuthFailure");
  EXPECT_TRUE(status_is(bad, "Failed"));
  EXPECT_EQ(
      condition(bad, "ImageMetadataReady")["message"].get<std::string>().find("not-the-password"),
      std::string::npos);
  apply(registry_model(ns, "missing", image, "no-such-secret"));
  Json missing = wait_for(
      types::aim_models(), ns, "missing",
      [](const Json& o) { return condition_is(o, "ImageMetadataReady", "False"); }, 60s);
  EXPECT_EQ(condition(missing, "ImageMetadataReady")["reason"], "SecretNotFound");
  EXPECT_NE(condition(missing, "Ready")["message"].get<std::string>().find(
                "imagePullSecret \"no-such-secret\" not found in namespace \"" + ns + "\""),
            std::string::npos)
      << missing["status"].dump(2);
  // docs/bad-input.md row 8 (model pull secret missing): its creation alone (a watch on Secret
  // metadata, no retry timer) lets the model read its labels.
  apply(pull_secret(ns, "no-such-secret", basic_, user, password));
  wait_for(
      types::aim_models(), ns, "missing",
      [](const Json& o) { return condition_is(o, "ImageMetadataReady", "True"); }, 15s,
      "the model reads its labels once the Secret exists");
}

TEST_F(CatalogRegistryIT, UnreachableRegistryDegradesTheModel) {
  std::string ns = create_namespace("cat-unreach");
  start_operator(catalog());
  apply(registry_model(ns, "far", "127.0.0.1:1/aim/llama-3-8b:1.0.0"));
  Json m = wait_for(
      types::aim_models(), ns, "far",
      [](const Json& o) {
        return status_is(o, "Degraded") && condition_is(o, "ImageMetadataReady", "False");
      },
      60s, "Degraded with ImageMetadataReady=False");
  EXPECT_TRUE(condition_is(m, "DependenciesReachable", "False", "InfrastructureError"));
}

TEST_F(CatalogRegistryIT, ModelSourceCreatesModelsForMatchingTagsOncePerInterval) {
  std::string name = "src-" + random_suffix();
  start_operator(catalog());
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMClusterModelSource"},
         {"metadata", {{"name", name}}},
         {"spec",
          {{"registry", open_},
           {"syncInterval", "1h"},
           {"filters",
            Json::array({{{"image", open_ + "/aim/tagged"}, {"versions", {">=1.0.0"}}}})}}}});
  Json src = wait_for(
      types::aim_cluster_model_sources(), "", name,
      [](const Json& o) { return o.contains("status") && o["status"].contains("lastSyncTime"); },
      60s);
  std::set<std::string> images;
  for (const auto& m :
       list(types::aim_cluster_models(), "", "aim.eai.amd.com/model-source=" + name)) {
    images.insert(m["spec"]["image"].get<std::string>());
  }
  EXPECT_EQ(images,
            (std::set<std::string>{open_ + "/aim/tagged:1.0.0", open_ + "/aim/tagged:1.1.0-rc1",
                                   open_ + "/aim/tagged:1.2.0", open_ + "/aim/tagged:v2.0.0"}));
  // Models it created re-queue it; no second sync within the interval.
  std::this_thread::sleep_for(3s);
  Json later = get(types::aim_cluster_model_sources(), "", name);
  EXPECT_EQ(later["status"]["lastSyncTime"], src["status"]["lastSyncTime"]);
  for (const auto& m :
       list(types::aim_cluster_models(), "", "aim.eai.amd.com/model-source=" + name)) {
    remove(types::aim_cluster_models(), "", m["metadata"]["name"]);
  }
}

TEST_F(CatalogRegistryIT, ModelSourceWildcardExclusionsAndMaxModels) {
  std::string name = "src-" + random_suffix();
  start_operator(catalog());
  apply({{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMClusterModelSource"},
         {"metadata", {{"name", name}}},
         {"spec",
          {{"maxModels", 4},
           {"filters", Json::array({{{"image", open_ + "/aim/tagged"}, {"versions", {">=1.0.0"}}},
                                    {{"image", open_ + "/aim/*"},
                                     {"exclude", {"aim/tagged", "aim/multiarch", "aim/plain"}},
                                     {"versions", {"=1.0.0"}}}})}}}});
  Json src = wait_for(
      types::aim_cluster_model_sources(), "", name,
      [](const Json& o) { return o.contains("status") && o["status"].contains("lastSyncTime"); },
      60s);
  // 4 tagged images + llama-3-8b:1.0.0 from the wildcard match; the cap keeps 4.
  EXPECT_EQ(src["status"]["availableModels"], 5);
  EXPECT_EQ(src["status"]["discoveredModels"], 4);
  EXPECT_EQ(src["status"]["modelsLimitReached"], true);
  EXPECT_TRUE(condition_is(src, "MaxModelsLimitReached", "True", "LimitReached"));
  EXPECT_TRUE(condition_is(src, "FiltersReady", "True", "AllFiltersSucceeded"));
  auto models = list(types::aim_cluster_models(), "", "aim.eai.amd.com/model-source=" + name);
  EXPECT_EQ(models.size(), 4u);
  for (const auto& m : models) {
    EXPECT_EQ(m["metadata"]["annotations"]["aim.eai.amd.com/source-repository"], "aim/tagged");
    EXPECT_EQ(m["metadata"]["labels"]["aim.eai.amd.com/origin"], "auto-generated");
    remove(types::aim_cluster_models(), "", m["metadata"]["name"]);
  }
}

}  // namespace
}  // namespace aim::testing
