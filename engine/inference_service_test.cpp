#include "engine/inference_service.h"

#include <gtest/gtest.h>

#include "engine/service_golden.h"

namespace aim::engine {
namespace {

using nlohmann::json;
using testing::expect_golden;

json ev(const std::string& n, const std::string& v) {
  return json{{"name", n}, {"value", v}};
}

json affinity() {
  return json{
      {"requiredDuringSchedulingIgnoredDuringExecution",
       {{"nodeSelectorTerms",
         json::array(
             {{{"matchExpressions",
                json::array({{{"key", "amd.com/gpu.device-id"},
                              {"operator", "In"},
                              {"values", json::array({"74a1", "74a9", "74b5", "74bd"})}}})}}})}}}};
}

// A namespace template on one MI300X, a Ready template cache with two models, fixed replicas.
InferenceServiceInput base_input() {
  InferenceServiceInput in;
  in.service_name = "qwen-chat";
  in.service_namespace = "ml-team";
  in.replicas = 2;
  in.image_pull_secrets = json::array({{{"name", "registry-credentials"}}});
  in.service_account = "inference";
  in.service_resources = json{{"limits", {{"memory", "128Gi"}}}};
  in.image = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5";
  in.template_name = "Qwen3-32B.MI300X";
  in.template_model_name = "qwen-qwen3-32b";
  in.profile_metric = "latency";
  in.profile_precision = "fp8";
  in.template_resources = json{{"requests", {{"cpu", "6"}}}};
  in.gpu_count = 1;
  in.node_affinity = affinity();
  in.env.runtime_config_env = json::array({ev("HF_HOME", "/tmp/hf")});
  in.env.profile_id = "vllm-mi300x-fp8-tp1-latency";
  in.env.metric = "latency";
  in.env.precision = "fp8";
  in.env.template_env = json::array({ev("AIM_ENGINE_ARGS", R"({"max-model-len":8192})")});
  in.env.service_env = json::array({ev("AIM_ENGINE_ARGS", R"({"enforce-eager":true})")});
  in.storage.kind = ModelStorage::Kind::TemplateCache;
  in.storage.mounts = {
      {"hf-qwen-qwen3-32b-0123456789", "hf-qwen-qwen3-32b-0123456789-cache-abcd1234",
       "Qwen/Qwen3-32B"},
      {"hf-qwen-draft-9876543210", "hf-qwen-draft-9876543210-cache-1234abcd", "Qwen/../Draft"}};
  return in;
}

TEST(RenderInferenceService, GoldenFixedReplicasTemplateCache) {
  auto r = render_inference_service(base_input());
  ASSERT_TRUE(r.ok()) << r.error();
  expect_golden(*r, "isvc_fixed_template_cache.json");
}

TEST(RenderInferenceService, GoldenAutoscaling) {
  auto in = base_input();
  in.replicas.reset();
  in.min_replicas = 2;
  in.autoscaling = json{
      {"metrics", json::array({{{"type", "PodMetric"},
                                {"podmetric",
                                 {{"metric",
                                   {{"backend", "opentelemetry"},
                                    {"serverAddress", "keda-otel-scaler.keda.svc:4317"},
                                    {"metricNames", json::array({"vllm:num_requests_running"})},
                                    {"query", "sum(vllm:num_requests_running)"},
                                    {"operationOverTime", "last_one"}}},
                                  {"target", {{"type", "Value"}, {"value", "8"}}}}}}})}};
  auto r = render_inference_service(in);
  ASSERT_TRUE(r.ok()) << r.error();
  expect_golden(*r, "isvc_autoscaling.json");
}

TEST(RenderInferenceService, GoldenServicePvcCpuOnly) {
  auto in = base_input();
  in.gpu_count = 0;
  in.node_affinity = nullptr;
  in.image_pull_secrets = nullptr;
  in.service_account.clear();
  in.profile_metric.clear();
  in.profile_precision.clear();
  in.storage =
      ModelStorage{ModelStorage::Kind::ServicePvc, {}, "qwen-chat-model-cache-1a2b3c4d", nullptr};
  auto r = render_inference_service(in);
  ASSERT_TRUE(r.ok()) << r.error();
  expect_golden(*r, "isvc_service_pvc_cpu.json");
}

TEST(RenderInferenceService, KeyFacts) {
  auto r = render_inference_service(base_input());
  ASSERT_TRUE(r.ok());
  const json& o = *r;
  EXPECT_EQ(o["metadata"]["name"], "qwen-chat-a04542d9");
  EXPECT_EQ(o["metadata"]["labels"]["aim.eai.amd.com/template"], "qwen3-32b.mi300x");
  EXPECT_EQ(o["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"], "none");
  const json& p = o["spec"]["predictor"];
  EXPECT_EQ(p["minReplicas"], 2);
  EXPECT_EQ(p["maxReplicas"], 2);
  const json& c = p["containers"][0];
  EXPECT_EQ(c["name"], "kserve-container");
  EXPECT_EQ(c["ports"][0]["containerPort"], 8000);
  EXPECT_EQ(c["resources"]["requests"]["amd.com/gpu"], "1");
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "6");       // template over the GPU default
  EXPECT_EQ(c["resources"]["limits"]["memory"], "128Gi");  // service over the GPU default
  EXPECT_EQ(c["volumeMounts"][0], (json{{"name", "dshm"}, {"mountPath", "/dev/shm"}}));
  EXPECT_EQ(c["volumeMounts"][1]["mountPath"], "/workspace/cache/Qwen/Qwen3-32B");
  EXPECT_EQ(c["volumeMounts"][2]["mountPath"], "/workspace/cache/Qwen/Draft");
  EXPECT_EQ(p["volumes"][0]["emptyDir"]["sizeLimit"], "8Gi");
}

TEST(RenderInferenceService, ReplicaTable) {
  struct Case {
    std::optional<int32_t> replicas, min, max;
    bool autoscaling;
    int want_min, want_max;
    std::string klass;
  } cases[] = {
      {std::nullopt, std::nullopt, std::nullopt, false, 1, 1, "none"},
      {3, std::nullopt, std::nullopt, false, 3, 3, "none"},
      {3, 2, std::nullopt, false, 2, 2, "keda"},  // min set: autoscaling, max = min
      {3, std::nullopt, 5, false, 1, 5, "keda"},
      {3, 2, 6, false, 2, 6, "keda"},
      {std::nullopt, std::nullopt, std::nullopt, true, 1, 1, "keda"},
  };
  for (const auto& c : cases) {
    auto in = base_input();
    in.replicas = c.replicas;
    in.min_replicas = c.min;
    in.max_replicas = c.max;
    if (c.autoscaling) in.autoscaling = json{{"metrics", json::array()}};
    auto r = render_inference_service(in);
    ASSERT_TRUE(r.ok());
    const json& p = (*r)["spec"]["predictor"];
    EXPECT_EQ(p["minReplicas"], c.want_min);
    EXPECT_EQ(p["maxReplicas"], c.want_max);
    const json& a = (*r)["metadata"]["annotations"];
    EXPECT_EQ(a["serving.kserve.io/autoscalerClass"], c.klass);
    if (c.klass == "keda") {
      EXPECT_EQ(a["sidecar.opentelemetry.io/inject"], "qwen-chat-a04542d9-predictor");
      EXPECT_EQ(a["prometheus.kserve.io/port"], "8000");
    } else {
      EXPECT_FALSE(a.contains("sidecar.opentelemetry.io/inject"));
    }
    EXPECT_EQ(p.contains("autoScaling"), c.autoscaling);
  }
}

TEST(RenderInferenceService, LiveStorageKeepsVolumes) {
  auto first = render_inference_service(base_input());
  ASSERT_TRUE(first.ok());
  auto in = base_input();
  in.storage = ModelStorage{ModelStorage::Kind::Live, {}, "", *first};
  in.replicas = 4;  // everything else is re-rendered
  auto second = render_inference_service(in);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["spec"]["predictor"]["volumes"], (*first)["spec"]["predictor"]["volumes"]);
  EXPECT_EQ((*second)["spec"]["predictor"]["containers"][0]["volumeMounts"],
            (*first)["spec"]["predictor"]["containers"][0]["volumeMounts"]);
  EXPECT_EQ((*second)["spec"]["predictor"]["minReplicas"], 4);
}

TEST(RenderInferenceService, NamespaceTooLong) {
  auto in = base_input();
  in.service_namespace = std::string(43, 'n');
  EXPECT_FALSE(render_inference_service(in).ok());
}

TEST(InferenceResources, Table) {
  EXPECT_EQ(inference_resources(0, "", nullptr, nullptr), json::object());
  // A CPU request without a CPU limit gets the request as its limit (KServe's webhook would
  // otherwise add a 1-CPU limit below the request).
  EXPECT_EQ(inference_resources(2, "", nullptr, nullptr),
            (json{{"requests", {{"cpu", "8"}, {"memory", "64Gi"}, {"amd.com/gpu", "2"}}},
                  {"limits", {{"memory", "96Gi"}, {"amd.com/gpu", "2"}, {"cpu", "8"}}}}));
  EXPECT_EQ(inference_resources(1, "amd.com/xgpu", nullptr, json{{"limits", {{"cpu", "2"}}}}),
            (json{{"requests", {{"cpu", "4"}, {"memory", "32Gi"}, {"amd.com/xgpu", "1"}}},
                  {"limits", {{"memory", "48Gi"}, {"amd.com/xgpu", "1"}, {"cpu", "2"}}}}));
  EXPECT_EQ(inference_resources(0, "", json{{"requests", {{"cpu", "1"}}}}, nullptr),
            (json{{"requests", {{"cpu", "1"}}}, {"limits", {{"cpu", "1"}}}}));
  EXPECT_EQ(inference_resources(0, "", nullptr, json{{"limits", {{"memory", "1Gi"}}}}),
            (json{{"limits", {{"memory", "1Gi"}}}}));
}

TEST(CacheMountPath, Table) {
  EXPECT_EQ(cache_mount_path("org/model"), "/workspace/cache/org/model");
  EXPECT_EQ(cache_mount_path("../../etc"), "/workspace/cache/etc");
  EXPECT_EQ(cache_mount_path("a//b/./c/"), "/workspace/cache/a/b/c");
}

}  // namespace
}  // namespace aim::engine
