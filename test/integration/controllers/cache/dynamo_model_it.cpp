// The seed's DynamoModel (seed 003) on the AIMArtifact machinery. Needs the optional CRD
// (AIM_ENABLE_DYNAMO_MODEL=true at cluster start); skipped without it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "controllers/cache/cache.h"
#include "test/integration/controllers/cache/download_runner.h"
#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace fs = std::filesystem;
namespace types = controllers::types;

// The repository root, from the build (not __FILE__: the compiler cache makes that relative).
const fs::path kRepo = AIM_TEST_SOURCE_ROOT;

class DynamoModelIT : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (IsSkipped()) return;
    if (!client_->get(kube::types::custom_resource_definitions(), "", "dynamomodels.nvidia.com")
             .ok())
      GTEST_SKIP()
          << "DynamoModel CRD not installed (start the cluster with AIM_ENABLE_DYNAMO_MODEL=true)";
    aim_fetch_ = find_aim_fetch();
    if (aim_fetch_.empty()) GTEST_SKIP() << "aim-fetch binary not found";
    work_ = fs::temp_directory_path() / ("aim-dyn-it-" + random_suffix());
    fs::path repo = work_ / "hf" / "meta-llama" / "Llama-3.3-70B-Instruct";
    fs::create_directories(repo);
    std::ofstream(repo / "config.json") << "{\"model_type\":\"llama\"}";
    std::ofstream(repo / "model.safetensors") << std::string(100000, 'w');
    hf_ = std::make_unique<TestServer>(
        std::vector<std::string>{"python3", (kRepo / "test/servers/model_server.py").string(), "hf",
                                 "--root", (work_ / "hf").string(), "--gated",
                                 "meta-llama/Llama-3.3-70B-Instruct", "--token", "hf_seed_token",
                                 "--port", "0"},
        work_.string());
    if (!hf_->ok()) GTEST_SKIP() << "Hub test server did not start (python3 needed)";
    ns_ = create_namespace("dynamo");
    start_operator([](kube::Manager& m, const controllers::Context& c) {
      controllers::CacheOptions opts;
      opts.download_pod_labels = {{"sim.aim.eai.amd.com/runner", "external"}};
      controllers::register_cache_controllers(m, c, opts);
    });
    // The runner plays the network: huggingface.co is the test server.
    runner_ = std::make_unique<DownloadRunner>(
        client_, ns_, aim_fetch_, (work_ / "runner").string(),
        std::map<std::string, std::string>{
            {"HF_ENDPOINT", "http://127.0.0.1:" + std::to_string(hf_->port())}});
  }
  void TearDown() override {
    runner_.reset();
    hf_.reset();
    OperatorTest::TearDown();
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  std::string read_seed() {
    std::ifstream in(kRepo / "api/testdata/seed-examples/003-block04-dynamomodel.yaml");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string aim_fetch_;
  fs::path work_;
  std::string ns_;
  std::unique_ptr<TestServer> hf_;
  std::unique_ptr<DownloadRunner> runner_;
};

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

TEST_F(DynamoModelIT, SeedExampleDownloadsOntoItsPvcAndGoesReady) {
  std::string yaml = read_seed();
  ASSERT_NE(yaml.find("kind: DynamoModel"), std::string::npos);
  // Only the placeholders change: the namespace, and the storage class of a volume this test
  // provides. The version pin is the seed's "abcd12345" first (it does not exist: Failed), then
  // the test server's commit.
  replace_all(yaml, "your-namespace", ns_);
  replace_all(yaml, "your-storage-class", "aim-it-" + ns_);
  for (int i = 0; i < 2; ++i)  // one per artifact: the version change replaces the artifact
    apply(Json{{"apiVersion", "v1"},
               {"kind", "PersistentVolume"},
               {"metadata", {{"name", ns_ + "-pv" + std::to_string(i)}}},
               {"spec",
                {{"capacity", {{"storage", "1Ti"}}},
                 {"accessModes", {"ReadWriteMany"}},
                 {"storageClassName", "aim-it-" + ns_},
                 {"persistentVolumeReclaimPolicy", "Retain"},
                 {"hostPath", {{"path", "/tmp/" + ns_ + std::to_string(i)}}}}}});
  apply(Json{{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", "llama-hf-secret"}, {"namespace", ns_}}},
             {"stringData", {{"HF_TOKEN", "hf_seed_token"}}}});
  auto applied = apply_yaml(yaml);
  ASSERT_EQ(applied.size(), 1u);
  const std::string name = "llama-3-70b-instruct-v1";

  // The seed's version does not exist on the server: the download fails as "not found".
  auto m = wait_for(
      types::dynamo_models(), ns_, name,
      [](const Json& o) {
        return o.contains("status") && o["status"].value("state", "") == "Failed";
      },
      120s, "state Failed for the seed's version");
  auto art = get(types::aim_artifacts(), ns_, name);
  ASSERT_FALSE(art.is_null());
  EXPECT_EQ(art["spec"].value("revision", ""), "abcd12345");
  EXPECT_EQ(art["spec"].value("sourceUri", ""), "hf://meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(art["spec"]["credentialsSecretRef"].value("name", ""), "llama-hf-secret");
  EXPECT_TRUE(condition_is(art, "DownloadComplete", "False", "ModelNotFound"))
      << art["status"].dump(2);
  EXPECT_FALSE(m["status"].value("downloadJobName", "").empty());
  EXPECT_FALSE(m["status"].value("pvcName", "").empty());
  auto pvc = get(kube::types::persistent_volume_claims(), ns_, m["status"].value("pvcName", ""));
  EXPECT_EQ(pvc["spec"]["resources"]["requests"].value("storage", ""), "220Gi");  // 200Gi + 10 %

  // Pin the server's real commit instead: a new download, then Ready.
  std::string commit;
  {
    std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};
    std::string url = "http://127.0.0.1:" + std::to_string(hf_->port()) +
                      "/api/models/meta-llama/Llama-3.3-70B-Instruct/revision/main";
    ASSERT_EQ(run_process({"/usr/bin/curl", "-sf", url}, env, (work_ / "rev.json").string(),
                          (work_ / "rev.err").string()),
              0);
    commit = Json::parse(read_text((work_ / "rev.json").string()), nullptr, false).value("sha", "");
  }
  ASSERT_EQ(commit.size(), 40u);
  // The revision of an artifact is immutable: the DynamoModel replaces its artifact (new PVC,
  // new download) instead of waiting for the 5 min backoff of a not-found failure.
  replace_all(yaml, "abcd12345", commit);
  apply_yaml(yaml);
  wait_for(
      types::aim_artifacts(), ns_, name,
      [&](const Json& o) { return o["spec"].value("revision", "") == commit; }, 30s,
      "artifact revision updated");
  m = wait_for(
      types::dynamo_models(), ns_, name,
      [](const Json& o) {
        return o.contains("status") && o["status"].value("state", "") == "Ready";
      },
      120s, "state Ready");
  if (m.is_null()) {  // timed out (wait_for printed the last state)
    // What holds it back, for the failure message: the artifacts, the claims and the volumes.
    auto at = [](const Json& o, std::initializer_list<const char*> path) {
      const Json* j = &o;
      for (const char* k : path) {
        if (!j->is_object() || !j->contains(k)) return std::string("-");
        j = &(*j)[k];
      }
      return j->is_string() ? j->get<std::string>() : j->dump();
    };
    std::string why;
    for (const auto& a : list(types::aim_artifacts(), ns_))
      why += "artifact uid " + at(a, {"metadata", "uid"}) + " revision " +
             at(a, {"spec", "revision"}) + "\n";
    for (const auto& c : list(kube::types::persistent_volume_claims(), ns_))
      why += "claim " + at(c, {"metadata", "name"}) + " uid " + at(c, {"metadata", "uid"}) +
             " owners " + at(c, {"metadata", "ownerReferences"}) + " phase " +
             at(c, {"status", "phase"}) + "\n";
    for (int i = 0; i < 2; ++i) {
      Json pv = get({"", "v1", "persistentvolumes", "PersistentVolume", false}, "",
                    ns_ + "-pv" + std::to_string(i));
      why += "volume " + std::to_string(i) + " " + at(pv, {"status", "phase"}) + " claimRef " +
             at(pv, {"spec", "claimRef"}) + "\n";
    }
    FAIL() << why;
  }
  EXPECT_FALSE(m["status"].value("lastDownloadTime", "").empty());
  EXPECT_FALSE(m["status"].value("downloadJobName", "").empty());
  art = get(types::aim_artifacts(), ns_, name);
  ASSERT_TRUE(art.is_object());
  EXPECT_EQ(art.value("status", Json::object()).value("resolvedRevision", ""), commit);
}

}  // namespace
}  // namespace aim::testing
