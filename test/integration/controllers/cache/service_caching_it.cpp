// AIMService caching modes end to end: the service controller and the cache controllers run
// together, the model is really downloaded by aim-fetch (DownloadRunner plays the download pods,
// the test Hub plays huggingface.co) and the test plays only the catalog (model and template
// status) and KServe (none needed: the InferenceService spec is what is checked).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "controllers/cache/cache.h"
#include "controllers/catalog/catalog.h"
#include "controllers/service/service.h"
#include "engine/service_names.h"
#include "test/integration/controllers/cache/download_runner.h"
#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace fs = std::filesystem;
using namespace controllers::types;

// The repository root, from the build (not __FILE__: the compiler cache makes that relative).
const fs::path kRepo = AIM_TEST_SOURCE_ROOT;
const std::string kApi = "aim.eai.amd.com/v1alpha1";

std::set<std::string> mounts_of(const Json& isvc) {
  std::set<std::string> out;
  if (!isvc.is_object()) return out;
  for (auto& c : isvc["spec"]["predictor"].value("containers", Json::array()))
    for (auto& m : c.value("volumeMounts", Json::array())) out.insert(m.value("mountPath", ""));
  return out;
}

std::set<std::string> claims_of(const Json& isvc) {
  std::set<std::string> out;
  if (!isvc.is_object()) return out;
  for (auto& v : isvc["spec"]["predictor"].value("volumes", Json::array()))
    if (v.contains("persistentVolumeClaim"))
      out.insert(v["persistentVolumeClaim"].value("claimName", ""));
  return out;
}

class ServiceCachingIT : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (IsSkipped()) return;
    aim_fetch_ = find_aim_fetch();
    if (aim_fetch_.empty()) GTEST_SKIP() << "aim-fetch binary not found";
    work_ = fs::temp_directory_path() / ("aim-svc-cache-it-" + random_suffix());
    fs::path repo = work_ / "hf" / "org" / "model-fp8";
    fs::create_directories(repo);
    std::ofstream(repo / "config.json") << "{\"model_type\":\"llama\"}";
    std::ofstream(repo / "model.safetensors") << std::string(90000, 'm');
    hf_ = std::make_unique<TestServer>(
        std::vector<std::string>{"python3", (kRepo / "test/servers/model_server.py").string(), "hf",
                                 "--root", (work_ / "hf").string(), "--port", "0"},
        work_.string());
    if (!hf_->ok()) GTEST_SKIP() << "Hub test server did not start (python3 needed)";
    ns_ = create_namespace("svc-caching");
    // Volumes for the claims of this test (no storage class: there is no default class).
    for (int i = 0; i < 4; ++i)
      apply(Json{{"apiVersion", "v1"},
                 {"kind", "PersistentVolume"},
                 {"metadata", {{"name", ns_ + "-pv" + std::to_string(i)}}},
                 {"spec",
                  {{"capacity", {{"storage", "100Gi"}}},
                   {"accessModes", {"ReadWriteMany", "ReadWriteOnce"}},
                   {"storageClassName", ""},
                   {"persistentVolumeReclaimPolicy", "Retain"},
                   {"hostPath", {{"path", "/tmp/" + ns_ + std::to_string(i)}}}}}});
    // Catalog: a Ready model and template whose model source is on the test Hub.
    apply(Json{{"apiVersion", kApi},
               {"kind", "AIMModel"},
               {"metadata", {{"name", "llama"}, {"namespace", ns_}}},
               {"spec", {{"image", "docker.io/amd/llama:1.0"}}}});
    patch_status(aim_models(), ns_, "llama", {{"status", "Ready"}});
    apply(Json{{"apiVersion", kApi},
               {"kind", "AIMServiceTemplate"},
               {"metadata", {{"name", "t"}, {"namespace", ns_}}},
               {"spec",
                {{"modelName", "llama"},
                 {"metric", "latency"},
                 {"precision", "fp8"},
                 {"profileId", "prof-fp8"},
                 {"hardware", {{"gpu", {{"requests", 1}, {"model", "MI300X"}}}}}}}});
    Json st = Json::parse(R"({
      "status": "Ready",
      "profile": {"metadata": {"type": "optimized", "metric": "latency", "gpuCount": 1,
                               "precision": "fp8", "gpu": "MI300X"}},
      "resolvedHardware": {"gpu": {"requests": 1, "model": "MI300X"}},
      "modelSources": [{"modelId": "org/model-fp8", "sourceUri": "hf://org/model-fp8", "size": "1Mi"}],
      "conditions": [{"type": "Ready", "status": "True", "reason": "AllComponentsReady",
                      "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]})");
    patch_status(aim_service_templates(), ns_, "t", st);
    start_operator([](kube::Manager& m, const controllers::Context& c) {
      controllers::CacheOptions opts;
      opts.download_pod_labels = {{"sim.aim.eai.amd.com/runner", "external"}};
      controllers::register_cache_controllers(m, c, opts);
      controllers::register_service_controllers(m, c);
    });
  }
  void TearDown() override {
    if (manager_) {
      for (const auto& s : list(aim_services(), ns_)) {
        remove(aim_services(), ns_, s["metadata"].value("name", ""));
        wait_gone(aim_services(), ns_, s["metadata"].value("name", ""), 30s);
      }
      for (const auto& c : list(aim_template_caches(), ns_)) {
        remove(aim_template_caches(), ns_, c["metadata"].value("name", ""));
        wait_gone(aim_template_caches(), ns_, c["metadata"].value("name", ""), 30s);
      }
    }
    runner_.reset();
    hf_.reset();
    OperatorTest::TearDown();
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  void start_downloads() {
    runner_ = std::make_unique<DownloadRunner>(
        client_, ns_, aim_fetch_, (work_ / "runner").string(),
        std::map<std::string, std::string>{
            {"HF_ENDPOINT", "http://127.0.0.1:" + std::to_string(hf_->port())}});
  }

  Json service(const std::string& name, const std::string& mode) {
    return apply(Json{{"apiVersion", kApi},
                      {"kind", "AIMService"},
                      {"metadata", {{"name", name}, {"namespace", ns_}}},
                      {"spec", {{"model", {{"name", "llama"}}}, {"caching", {{"mode", mode}}}}}});
  }
  std::string isvc(const std::string& svc) {
    return *engine::service_names::inference_service_name(svc, ns_);
  }

  std::string aim_fetch_;
  fs::path work_;
  std::string ns_;
  std::unique_ptr<TestServer> hf_;
  std::unique_ptr<DownloadRunner> runner_;
};

TEST_F(ServiceCachingIT, AlwaysWaitsForTheDownloadedCacheThenMountsIt) {
  service("always", "Always");
  const std::string cache = engine::service_names::shared_template_cache_name("t", ns_);
  wait_for(
      aim_template_caches(), ns_, cache, [](const Json&) { return true; }, 60s,
      "the shared template cache");
  // Downloads are held (no runner yet): no InferenceService while the cache is not Ready.
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(get(inference_services(), ns_, isvc("always")).is_null());
  start_downloads();
  auto c = wait_for(
      aim_template_caches(), ns_, cache, [](const Json& o) { return status_is(o, "Ready"); }, 120s,
      "the cache Ready after the real download");
  auto is = wait_for(
      inference_services(), ns_, isvc("always"), [](const Json&) { return true; }, 60s,
      "the InferenceService");
  EXPECT_TRUE(mounts_of(is).count("/workspace/cache/org/model-fp8")) << is["spec"].dump();
  std::string pvc = c["status"]["artifacts"].begin().value().value("persistentVolumeClaim", "");
  EXPECT_TRUE(claims_of(is).count(pvc)) << pvc;
  ASSERT_FALSE(runner_->runs().empty());
  EXPECT_EQ(runner_->runs().back().exit_code, 0);
}

TEST_F(ServiceCachingIT, AutoDeploysAtOnceAndSwitchesToTheCacheWhenReady) {
  service("auto", "Auto");
  auto is = wait_for(
      inference_services(), ns_, isvc("auto"), [](const Json&) { return true; }, 60s,
      "the InferenceService before any download");
  EXPECT_TRUE(mounts_of(is).count("/workspace/cache")) << is["spec"].dump();  // service PVC
  start_downloads();
  const std::string cache = engine::service_names::shared_template_cache_name("t", ns_);
  auto c = wait_for(
      aim_template_caches(), ns_, cache, [](const Json& o) { return status_is(o, "Ready"); }, 120s,
      "the cache Ready");
  std::string pvc = c["status"]["artifacts"].begin().value().value("persistentVolumeClaim", "");
  is = wait_for(
      inference_services(), ns_, isvc("auto"),
      [&](const Json& o) { return claims_of(o).count(pvc) > 0; }, 60s,
      "the InferenceService switched to the cache PVC");
  EXPECT_TRUE(mounts_of(is).count("/workspace/cache/org/model-fp8"));
}

TEST_F(ServiceCachingIT, NeverUsesAServicePvcAndNoCache) {
  start_downloads();
  service("never", "Never");
  auto is = wait_for(
      inference_services(), ns_, isvc("never"), [](const Json&) { return true; }, 60s,
      "the InferenceService");
  EXPECT_TRUE(mounts_of(is).count("/workspace/cache")) << is["spec"].dump();
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(list(aim_template_caches(), ns_).empty());
  EXPECT_TRUE(list(aim_artifacts(), ns_).empty());
  EXPECT_TRUE(runner_->runs().empty());
}

// One Shared cache per template (issue 27). A Shared service over a template has its cache; then
// the template enables caching itself: the template controller, which used to add a second cache
// named after the template, finds the service's and leaves it the only one. The template
// controller runs for real here (inline model sources: no discovery), beside the service's.
TEST_F(ServiceCachingIT, ACachingTemplateAndASharedServiceShareOneTemplateCache) {
  stop_operator();
  start_operator([](kube::Manager& m, const controllers::Context& c) {
    controllers::catalog::Options only_templates;
    only_templates.models = only_templates.runtime_configs = only_templates.model_sources = false;
    controllers::catalog::register_catalog_controllers(m, c, only_templates);
    controllers::register_service_controllers(m, c);
  });
  auto tmpl = [&](bool caching) {
    Json spec = {
        {"modelName", "llama"},
        {"metric", "latency"},
        {"precision", "fp8"},
        {"caching", {{"enabled", caching}}},
        {"modelSources",
         {{{"modelId", "org/model-fp8"}, {"sourceUri", "hf://org/model-fp8"}, {"size", "1Mi"}}}}};
    return apply(Json{{"apiVersion", kApi},
                      {"kind", "AIMServiceTemplate"},
                      {"metadata", {{"name", "tc"}, {"namespace", ns_}}},
                      {"spec", spec}});
  };
  tmpl(false);
  wait_for(
      aim_service_templates(), ns_, "tc", [](const Json& o) { return status_is(o, "Ready"); }, 60s,
      "the template Ready from its inline sources");
  apply(Json{{"apiVersion", kApi},
             {"kind", "AIMService"},
             {"metadata", {{"name", "shared"}, {"namespace", ns_}}},
             {"spec",
              {{"model", {{"name", "llama"}}},
               {"template", {{"name", "tc"}}},
               {"caching", {{"mode", "Shared"}}}}}});
  const std::string cache = engine::service_names::shared_template_cache_name("tc", ns_);
  wait_for(
      aim_template_caches(), ns_, cache, [](const Json&) { return true; }, 60s,
      "the service's Shared cache of the template");

  Json enabled = tmpl(true);
  const int64_t generation = enabled["metadata"].value("generation", int64_t{0});
  wait_for(
      aim_service_templates(), ns_, "tc",
      [&](const Json& o) {
        for (const auto& c : o["status"].value("conditions", Json::array()))
          if (c.value("type", "") == "Ready")
            return c.value("observedGeneration", int64_t{0}) >= generation &&
                   c.value("status", "") == "True";
        return false;
      },
      60s, "the template reconciled with caching enabled");
  std::this_thread::sleep_for(2s);  // a second cache, if one were made, would be there by now
  std::vector<std::string> caches;
  for (const auto& c : list(aim_template_caches(), ns_))
    if (c["spec"].value("templateName", "") == "tc") caches.push_back(c["metadata"]["name"]);
  EXPECT_EQ(caches, std::vector<std::string>{cache});
}

}  // namespace
}  // namespace aim::testing
