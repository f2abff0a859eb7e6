// AIMTemplateCache against the local control plane: Shared and Dedicated artifacts per model
// source, status aggregated over them, and the artifactcleanup finalizer. The template's status
// is written by the test (no catalog controller runs here).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "controllers/cache/cache.h"
#include "controllers/cache/template_cache.h"
#include "test/integration/controllers/cache/download_runner.h"
#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace fs = std::filesystem;
namespace types = controllers::types;

// The repository root, from the build (not __FILE__: the compiler cache makes that relative).
const fs::path kRepo = AIM_TEST_SOURCE_ROOT;

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

class TemplateCacheIT : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (IsSkipped()) return;
    aim_fetch_ = find_aim_fetch();
    if (aim_fetch_.empty()) GTEST_SKIP() << "aim-fetch binary not found (build target aim-fetch)";
    work_ = fs::temp_directory_path() / ("aim-tc-it-" + random_suffix());
    fs::create_directories(work_);
    ns_ = create_namespace("tcache");
    sc_ = "aim-it-" + ns_;
    for (int i = 0; i < 3; ++i)
      apply(Json{{"apiVersion", "v1"},
                 {"kind", "PersistentVolume"},
                 {"metadata", {{"name", ns_ + "-pv" + std::to_string(i)}}},
                 {"spec",
                  {{"capacity", {{"storage", "20Gi"}}},
                   {"accessModes", {"ReadWriteMany"}},
                   {"storageClassName", sc_},
                   {"persistentVolumeReclaimPolicy", "Retain"},
                   {"hostPath", {{"path", "/tmp/" + ns_ + std::to_string(i)}}}}}});
    fs::path root = work_ / "hf";
    write_file(root / "org/tiny/config.json", "{\"a\":1}");
    write_file(root / "org/tiny/model.bin", std::string(70000, 'x'));
    write_file(root / "org/gated/config.json", "{}");
    hf_ = std::make_unique<TestServer>(
        std::vector<std::string>{"python3", (kRepo / "test/servers/model_server.py").string(), "hf",
                                 "--root", root.string(), "--gated", "org/gated", "--port", "0"},
        work_.string());
    if (!hf_->ok()) GTEST_SKIP() << "Hub test server did not start (python3 needed)";
    controllers::CacheOptions opts;
    opts.download_pod_labels = {{"sim.aim.eai.amd.com/runner", "external"}};
    opts.status_interval_seconds = 1;
    start_operator([opts](kube::Manager& m, const controllers::Context& c) {
      controllers::register_cache_controllers(m, c, opts);
    });
    runner_ =
        std::make_unique<DownloadRunner>(client_, ns_, aim_fetch_, (work_ / "runner").string());
  }
  void TearDown() override {
    // Delete the caches while the controller still runs, so that their finalizers go and the
    // namespace can be deleted.
    if (manager_) {
      for (const auto& c : list(controllers::types::aim_template_caches(), ns_)) {
        remove(controllers::types::aim_template_caches(), ns_, c["metadata"].value("name", ""));
        wait_gone(controllers::types::aim_template_caches(), ns_, c["metadata"].value("name", ""),
                  30s);
      }
    }
    runner_.reset();
    hf_.reset();
    OperatorTest::TearDown();
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  // A Ready AIMServiceTemplate whose status lists the given model sources.
  void make_template(const std::string& name, const Json& sources) {
    apply(Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
               {"kind", "AIMServiceTemplate"},
               {"metadata", {{"name", name}, {"namespace", ns_}}},
               {"spec", {{"modelName", "m"}}}});
    patch_status(types::aim_service_templates(), ns_, name,
                 Json{{"status", "Ready"},
                      {"modelSources", sources},
                      {"conditions",
                       {{{"type", "Ready"},
                         {"status", "True"},
                         {"reason", "AllComponentsReady"},
                         {"message", ""},
                         {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}});
  }

  Json cache(const std::string& name, const std::string& tpl, const std::string& mode) {
    return Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMTemplateCache"},
                {"metadata", {{"name", name}, {"namespace", ns_}}},
                {"spec",
                 {{"templateName", tpl},
                  {"templateScope", "Namespace"},
                  {"mode", mode},
                  {"storageClassName", sc_},
                  {"env",
                   {{{"name", "HF_ENDPOINT"},
                     {"value", "http://127.0.0.1:" + std::to_string(hf_->port())}}}}}}};
  }

  std::string aim_fetch_;
  fs::path work_;
  std::string ns_, sc_;
  std::unique_ptr<TestServer> hf_;
  std::unique_ptr<DownloadRunner> runner_;
};

TEST_F(TemplateCacheIT, SharedArtifactsAreReusedAndCleanupDeletesOnlyUnreadyOnes) {
  make_template("tpl", Json::array({{{"modelId", "org/tiny"}, {"sourceUri", "hf://org/tiny"}},
                                    {{"modelId", "org/gated"}, {"sourceUri", "hf://org/gated"}}}));
  apply(cache("c1", "tpl", "Shared"));
  auto c1 = wait_for(
      types::aim_template_caches(), ns_, "c1",
      [](const Json& o) {
        return o.contains("status") && o["status"].contains("artifacts") &&
               o["status"]["artifacts"].size() == 2 && status_is(o, "Failed");
      },
      120s, "c1 tracks two artifacts, one failed");
  // Worst artifact wins: the gated one failed its size check without a token.
  EXPECT_TRUE(condition_is(c1, "ArtifactsReady", "False")) << c1["status"].dump(2);
  EXPECT_NE(
      condition(c1, "ArtifactsReady").value("message", "").find("One or more caches are not ready"),
      std::string::npos);
  auto arts = list(types::aim_artifacts(), ns_);
  ASSERT_EQ(arts.size(), 2u);
  std::string tiny, gated;
  for (auto& a : arts) {
    EXPECT_FALSE(a["metadata"].contains("ownerReferences"));  // Shared: unowned
    auto& l = a["metadata"]["labels"];
    EXPECT_EQ(l.value("template-created", ""), "true");
    EXPECT_EQ(l.value("aim.eai.amd.com/template.name", ""), "tpl");
    EXPECT_EQ(l.value("aim.eai.amd.com/template.scope", ""), "Namespace");
    EXPECT_EQ(l.value("aim.eai.amd.com/template-cache.name", ""), "c1");
    EXPECT_EQ(a["spec"].value("storageClassName", ""), sc_);
    (a["spec"].value("sourceUri", "") == "hf://org/tiny" ? tiny : gated) = a["metadata"]["name"];
  }
  ASSERT_FALSE(tiny.empty());
  ASSERT_FALSE(gated.empty());
  auto t = wait_for(
      types::aim_artifacts(), ns_, tiny, [](const Json& o) { return status_is(o, "Ready"); }, 120s,
      "tiny Ready");
  // The cache's controller sees the artifact's new status through its watch, a moment later.
  c1 = wait_for(
      types::aim_template_caches(), ns_, "c1",
      [&](const Json& o) {
        return o.contains("status") && o["status"].contains("artifacts") &&
               o["status"]["artifacts"].contains(tiny) &&
               o["status"]["artifacts"][tiny].value("status", "") == "Ready";
      },
      60s, "c1 reports tiny Ready");
  EXPECT_EQ(c1["status"]["artifacts"][tiny].value("status", ""), "Ready");
  EXPECT_EQ(c1["status"]["artifacts"][tiny].value("model", ""), "org/tiny");
  EXPECT_EQ(c1["status"]["artifacts"][tiny].value("persistentVolumeClaim", ""),
            t["status"].value("persistentVolumeClaim", ""));
  EXPECT_TRUE(c1["metadata"].contains("finalizers"));

  // A second Shared cache of the same template reuses both artifacts.
  apply(cache("c2", "tpl", "Shared"));
  wait_for(
      types::aim_template_caches(), ns_, "c2",
      [](const Json& o) {
        return o.contains("status") && o["status"].contains("artifacts") &&
               o["status"]["artifacts"].size() == 2;
      },
      60s, "c2 tracks the same two artifacts");
  EXPECT_EQ(list(types::aim_artifacts(), ns_).size(), 2u);

  // Deleting c1: its finalizer deletes the artifacts it created that are not Ready. c2 still
  // needs the gated source and hears of the deletion (it lists the artifact), so it makes the
  // artifact again: the one c1 made (its uid) is gone, not the name.
  const std::string gated_uid =
      get(types::aim_artifacts(), ns_, gated)["metadata"].value("uid", "");
  remove(types::aim_template_caches(), ns_, "c1");
  EXPECT_TRUE(wait_gone(types::aim_template_caches(), ns_, "c1"));
  bool replaced = false;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       !replaced && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(200ms)) {
    Json now = get(types::aim_artifacts(), ns_, gated);
    replaced = now.is_null() || now["metadata"].value("uid", "") != gated_uid;
  }
  EXPECT_TRUE(replaced) << "the unready artifact c1 made was not deleted";
  EXPECT_TRUE(status_is(get(types::aim_artifacts(), ns_, tiny), "Ready"));
}

// Two caches of one source share its artifact (Shared mode). The artifact's events go to the
// cache its labels name; a cache that found it still without a status waited forever before
// (bench/operator: two templates of one model, 49 services never got an InferenceService). Made
// deterministic here: the artifact is another cache's and held without a status (paused) until
// c1 has seen it.
TEST_F(TemplateCacheIT, ASharedArtifactAnotherCacheMadeIsPickedUpOnceItHasAStatus) {
  make_template("tpl", Json::array({{{"modelId", "org/tiny"}, {"sourceUri", "hf://org/tiny"}}}));
  const Json c1 = cache("c1", "tpl", "Shared");
  auto typed_cache = api::decode<api::AIMTemplateCache>(c1);
  ASSERT_TRUE(typed_cache) << typed_cache.error;
  api::ModelSource src;
  src.model_id = "org/tiny";
  src.source_uri = "hf://org/tiny";
  Json artifact =
      controllers::template_cache::artifact_for_source(*typed_cache.value, src, 0, "Namespace");
  artifact["metadata"]["labels"]["aim.eai.amd.com/template-cache.name"] = "other";
  artifact["metadata"]["annotations"] = {{"aim.eai.amd.com/reconciliation-paused", "true"}};
  const std::string name = artifact["metadata"].value("name", "");
  apply(artifact);
  apply(c1);
  auto waiting = wait_for(
      types::aim_template_caches(), ns_, "c1",
      [](const Json& o) { return condition_is(o, "ArtifactsReady", "False"); }, 60s,
      "c1 waiting for the artifact");
  EXPECT_EQ(list(types::aim_artifacts(), ns_).size(), 1u) << "c1 made no second artifact";

  auto resumed = client_->merge_patch(
      types::aim_artifacts(), ns_, name,
      {{"metadata", {{"annotations", {{"aim.eai.amd.com/reconciliation-paused", nullptr}}}}}});
  ASSERT_TRUE(resumed.ok()) << resumed.error().describe();
  auto ready = wait_for(
      types::aim_template_caches(), ns_, "c1", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "c1 Ready on the other cache's artifact");
  EXPECT_EQ(ready["status"]["artifacts"].begin().value().value("name", ""), name);
}

TEST_F(TemplateCacheIT, DedicatedArtifactsAreOwnedAndTheCacheGoesReady) {
  make_template("tpl", Json::array({{{"modelId", "org/tiny"}, {"sourceUri", "hf://org/tiny"}}}));
  apply(cache("shared", "tpl", "Shared"));
  apply(cache("mine", "tpl", "Dedicated"));
  auto c = wait_for(
      types::aim_template_caches(), ns_, "mine",
      [](const Json& o) { return status_is(o, "Ready"); }, 120s, "Dedicated cache Ready");
  EXPECT_TRUE(condition_is(c, "ArtifactsReady", "True", "AllCachesReady"));
  ASSERT_EQ(c["status"]["artifacts"].size(), 1u);
  std::string name = c["status"]["artifacts"].begin().value().value("name", "");
  auto a = get(types::aim_artifacts(), ns_, name);
  ASSERT_TRUE(a["metadata"].contains("ownerReferences")) << a.dump(2);
  EXPECT_EQ(a["metadata"]["ownerReferences"][0].value("uid", ""), c["metadata"].value("uid", ""));
  EXPECT_EQ(a["status"].value("mode", ""), "Dedicated");
  // The Shared cache of the same template has its own, unowned artifact.
  auto s = wait_for(
      types::aim_template_caches(), ns_, "shared",
      [](const Json& o) { return status_is(o, "Ready"); }, 120s, "Shared cache Ready");
  std::string shared_name = s["status"]["artifacts"].begin().value().value("name", "");
  EXPECT_NE(shared_name, name);
  EXPECT_EQ(get(types::aim_artifacts(), ns_, shared_name)["status"].value("mode", ""), "Shared");

  // Idle: a second reconcile (the template's status touched) writes nothing.
  std::string rv = c["metadata"].value("resourceVersion", "");
  patch_status(types::aim_service_templates(), ns_, "tpl", Json{{"status", "Ready"}});
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(get(types::aim_template_caches(), ns_, "mine")["metadata"].value("resourceVersion", ""),
            rv);
}

// A model source without modelId (documented as optional, derived from the hf:// URI) gives an
// artifact with the derived id. Before, the cache sent `modelId: ""`, the API server answered 422
// and the cache retried forever with no status, condition or event.
TEST_F(TemplateCacheIT, ModelSourceWithoutModelIdGetsTheIdDerivedFromTheUri) {
  make_template("tpl", Json::array({{{"sourceUri", "hf://org/tiny"}}}));
  apply(cache("c1", "tpl", "Shared"));
  auto c = wait_for(
      types::aim_template_caches(), ns_, "c1", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "the cache goes Ready");
  ASSERT_EQ(c["status"]["artifacts"].size(), 1u);
  const auto& entry = c["status"]["artifacts"].begin().value();
  EXPECT_EQ(entry.value("model", ""), "org/tiny");
  auto a = get(types::aim_artifacts(), ns_, entry.value("name", ""));
  EXPECT_EQ(a["spec"].value("modelId", ""), "org/tiny") << a["spec"].dump();
}

// When the API server rejects the artifact the cache builds (here an admission policy, as a
// cluster's policy engine would; an operator bug gives the same 422), the cache says so: a
// DependenciesReachable=False condition naming the artifact and the server's reason, and a
// Warning event. Once the policy goes, the cache creates the artifact by itself.
TEST_F(TemplateCacheIT, ARejectedArtifactIsReportedOnTheCacheAndRetried) {
  const std::string policy = "aim-it-deny-" + ns_;
  apply(Json{{"apiVersion", "admissionregistration.k8s.io/v1"},
             {"kind", "ValidatingAdmissionPolicy"},
             {"metadata", {{"name", policy}}},
             {"spec",
              {{"failurePolicy", "Fail"},
               {"matchConstraints",
                {{"resourceRules",
                  {{{"apiGroups", {"aim.eai.amd.com"}},
                    {"apiVersions", {"v1alpha1"}},
                    {"operations", {"CREATE"}},
                    {"resources", {"aimartifacts"}}}}}}},
               {"validations",
                {{{"expression", "object.spec.sourceUri != 'hf://org/tiny'"},
                  {"message", "org/tiny may not be cached in this namespace"},
                  {"reason", "Invalid"}}}}}}});
  apply(Json{
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicyBinding"},
      {"metadata", {{"name", policy}}},
      {"spec",
       {{"policyName", policy},
        {"validationActions", {"Deny"}},
        {"matchResources",
         {{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", ns_}}}}}}}}}});
  // The policy is in force once such an artifact is refused (a probe that got through is
  // deleted again).
  int probes = 0;
  ASSERT_TRUE(eventually(
      [&] {
        Json probe{
            {"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", "AIMArtifact"},
            {"metadata", {{"name", "probe-" + std::to_string(++probes)}, {"namespace", ns_}}},
            {"spec", {{"sourceUri", "hf://org/tiny"}}}};
        auto r = client_->create(types::aim_artifacts(), probe);
        if (r.ok()) remove(types::aim_artifacts(), ns_, probe["metadata"]["name"]);
        return !r.ok() && r.error().is(kube::ErrorCode::kInvalid);
      },
      30s, "the admission policy rejects the artifact"));
  for (int i = 1; i < probes; ++i)
    EXPECT_TRUE(wait_gone(types::aim_artifacts(), ns_, "probe-" + std::to_string(i)));

  make_template("tpl", Json::array({{{"modelId", "org/tiny"}, {"sourceUri", "hf://org/tiny"}}}));
  apply(cache("c1", "tpl", "Shared"));
  auto c = wait_for(
      types::aim_template_caches(), ns_, "c1",
      [](const Json& o) { return condition_is(o, "DependenciesReachable", "False"); }, 60s,
      "the cache reports the rejected artifact");
  auto cond = condition(c, "DependenciesReachable");
  EXPECT_EQ(cond.value("reason", ""), "InternalError");
  const std::string msg = cond.value("message", "");
  EXPECT_NE(msg.find("Failed to apply resources: AIMArtifact "), std::string::npos) << msg;
  EXPECT_NE(msg.find("org/tiny may not be cached in this namespace"), std::string::npos) << msg;
  EXPECT_TRUE(list(types::aim_artifacts(), ns_).empty());
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& e : list(types::core_events(), ns_))
          if (e.value("reason", "") == "InternalError" && e.value("type", "") == "Warning" &&
              e["involvedObject"].value("name", "") == "c1")
            return true;
        return false;
      },
      30s, "a Warning event InternalError on the cache"));

  remove(
      kube::ResourceType{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
                         "ValidatingAdmissionPolicyBinding", false},
      "", policy);
  c = wait_for(
      types::aim_template_caches(), ns_, "c1", [](const Json& o) { return status_is(o, "Ready"); },
      180s, "the cache recovers once the policy is gone");
  EXPECT_FALSE(condition_is(c, "DependenciesReachable", "False")) << c["status"].dump(2);
}

}  // namespace
}  // namespace aim::testing
