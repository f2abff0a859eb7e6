// AIMArtifact and AIMTemplateCache against the local control plane. Download and check-size pods
// are simulated by KWOK (held Running by the aim-external-runner-hold Stage) and played by
// DownloadRunner, which runs the real aim-fetch against the test servers on 127.0.0.1 with the
// pod's args, env and Secrets, then writes the pod's exit code and termination message.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "controllers/cache/cache.h"
#include "kube/log.h"
#include "test/integration/controllers/cache/download_runner.h"
#include "test/support/operator_fixture.h"

namespace aim::testing {
namespace {

namespace fs = std::filesystem;
namespace types = controllers::types;

const std::string kTinyConfig = R"({"model_type":"llama","hidden_size":64})";
// The repository root, from the build (not __FILE__: the compiler cache makes that relative).
const fs::path kRepo = AIM_TEST_SOURCE_ROOT;

void write_file(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class CacheIT : public OperatorTest {
 protected:
  void SetUp() override {
    OperatorTest::SetUp();
    if (IsSkipped()) return;
    aim_fetch_ = find_aim_fetch();
    if (aim_fetch_.empty()) GTEST_SKIP() << "aim-fetch binary not found (build target aim-fetch)";
    work_ = fs::temp_directory_path() / ("aim-cache-it-" + random_suffix());
    fs::create_directories(work_);
  }
  void TearDown() override {
    runner_.reset();
    servers_.clear();
    OperatorTest::TearDown();
    std::error_code ec;
    if (!work_.empty()) fs::remove_all(work_, ec);
  }

  void start(const std::string& prefix, controllers::CacheOptions opts = {}) {
    ns_ = create_namespace(prefix);
    storage_class_ = "aim-it-" + ns_;
    opts.download_pod_labels["sim.aim.eai.amd.com/runner"] = "external";
    opts.status_interval_seconds = 1;
    start_operator([opts](kube::Manager& m, const controllers::Context& c) {
      controllers::register_cache_controllers(m, c, opts);
    });
    runner_ =
        std::make_unique<DownloadRunner>(client_, ns_, aim_fetch_, (work_ / "runner").string());
  }

  // A PersistentVolume of the test's storage class that one claim can bind (no provisioner).
  void add_volume(int index) {
    apply(Json{{"apiVersion", "v1"},
               {"kind", "PersistentVolume"},
               {"metadata", {{"name", ns_ + "-pv" + std::to_string(index)}}},
               {"spec",
                {{"capacity", {{"storage", "20Gi"}}},
                 {"accessModes", {"ReadWriteMany", "ReadWriteOnce"}},
                 {"storageClassName", storage_class_},
                 {"persistentVolumeReclaimPolicy", "Retain"},
                 {"hostPath", {{"path", "/tmp/" + ns_ + std::to_string(index)}}}}}});
  }

  // The Hub test server over a repo root with org/tiny (small files + one "LFS" file) and the
  // gated org/gated (token hf_test_token).
  int start_hf(const std::string& token = "hf_test_token") {
    fs::path root = work_ / "hf";
    write_file(root / "org/tiny/config.json", kTinyConfig);
    write_file(root / "org/tiny/model.safetensors", random_bytes(300000, 1));
    write_file(root / "org/tiny/sub/tokenizer.json", random_bytes(5000, 2));
    write_file(root / "org/gated/config.json", "{}");
    write_file(root / "org/gated/weights.bin", random_bytes(100000, 3));
    auto srv = std::make_unique<TestServer>(
        std::vector<std::string>{"python3", (kRepo / "test/servers/model_server.py").string(), "hf",
                                 "--root", root.string(), "--gated", "org/gated", "--token", token,
                                 "--lfs-threshold", "200000", "--port", "0"},
        work_.string());
    if (!srv->ok()) {
      ADD_FAILURE() << "a test server did not start: " << srv->failure();
      return 0;
    }
    int port = srv->port();
    servers_.push_back(std::move(srv));
    return port;
  }

  // A private plain file server (model_server.py static) serving files/m.gguf to a bearer token
  // or a presigned link's signature; its port, or 0.
  int start_private_files(const std::string& bearer, const std::string& signature) {
    fs::path root = work_ / "files-root";
    write_file(root / "files/m.gguf", random_bytes(70000, 4));
    auto srv = std::make_unique<TestServer>(
        std::vector<std::string>{"python3", (kRepo / "test/servers/model_server.py").string(),
                                 "static", "--root", root.string(), "--require-bearer", bearer,
                                 "--require-signature", signature, "--port", "0"},
        work_.string());
    if (!srv->ok()) {
      ADD_FAILURE() << "a test server did not start: " << srv->failure();
      return 0;
    }
    int port = srv->port();
    servers_.push_back(std::move(srv));
    return port;
  }

  // The S3 test server (Go; built once into .local/bin) over models/llama (config.json and a
  // 2 MiB weights.bin), accepting one key pair; its port, or 0.
  int start_s3(const std::string& access_key, const std::string& secret_key) {
    fs::path bin = kRepo / ".local" / "bin" / "aim-test-s3server";
    if (!fs::exists(bin)) {
      fs::create_directories(bin.parent_path());
      std::map<std::string, std::string> env;
      for (const char* k :
           {"PATH", "HOME", "GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY"})
        if (const char* v = std::getenv(k)) env[k] = v;
      env["PATH"] = env["PATH"] + ":/usr/local/go/bin";
      std::string cmd =
          "cd " + (kRepo / "test/servers/s3").string() + " && go build -o " + bin.string() + " .";
      if (run_process({"/bin/sh", "-c", cmd}, env, (work_ / "go.out").string(),
                      (work_ / "go.err").string()) != 0)
        return 0;
    }
    fs::path seed = work_ / "s3seed";
    write_file(seed / "models/llama/config.json", "{\"a\":1}");
    write_file(seed / "models/llama/weights.bin", random_bytes(2 << 20, 7));
    auto srv = std::make_unique<TestServer>(
        std::vector<std::string>{bin.string(), "-data", (work_ / "s3data").string(), "-seed",
                                 seed.string(), "-access-key", access_key, "-secret-key",
                                 secret_key},
        work_.string());
    if (!srv->ok()) {
      ADD_FAILURE() << "a test server did not start: " << srv->failure();
      return 0;
    }
    int port = srv->port();
    servers_.push_back(std::move(srv));
    return port;
  }

  // No claim in the test's namespace, a second after the reason was reported (a controller
  // that created one anyway would have done so by then).
  void expect_no_claim() {
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(list(kube::types::persistent_volume_claims(), ns_).empty());
  }
  // The input fixed, the artifact goes on to its claim by itself.
  void expect_claim_within(std::chrono::seconds timeout, const std::string& what) {
    EXPECT_TRUE(
        eventually([&] { return !list(kube::types::persistent_volume_claims(), ns_).empty(); },
                   timeout, what));
  }

  Json artifact(const std::string& name, const std::string& uri, const Json& extra_spec) {
    Json spec{{"sourceUri", uri}, {"storageClassName", storage_class_}};
    for (auto& [k, v] : extra_spec.items()) spec[k] = v;
    return Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMArtifact"},
                {"metadata", {{"name", name}, {"namespace", ns_}}},
                {"spec", spec}};
  }

  std::string aim_fetch_;
  fs::path work_;
  std::string ns_, storage_class_;
  std::vector<std::unique_ptr<TestServer>> servers_;
  std::unique_ptr<DownloadRunner> runner_;
};

std::string dir_size_text(const fs::path& dir) {
  std::uintmax_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".aim-manifest.json" &&
        e.path().string().find("/.cache/") == std::string::npos)
      n += e.file_size();
  return std::to_string(n);
}

TEST_F(CacheIT, HuggingFaceLifecycleSizeCheckPvcJobProgressReady) {
  start("art-hf");
  int hf = start_hf();
  ASSERT_GT(hf, 0) << "Hub test server did not start (python3 needed)";
  add_volume(0);
  apply(artifact(
      "tiny", "hf://org/tiny",
      {{"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}}));

  auto a = wait_for(
      types::aim_artifacts(), ns_, "tiny",
      [](const Json& o) { return status_is(o, "Ready") || status_is(o, "Failed"); }, 120s,
      "artifact Ready");
  ASSERT_TRUE(status_is(a, "Ready")) << a.dump(2);
  const Json& st = a["status"];
  const auto expected = static_cast<int64_t>(kTinyConfig.size()) + 300000 + 5000;
  EXPECT_EQ(st.value("discoveredSizeBytes", int64_t{0}), expected);
  EXPECT_TRUE(condition_is(a, "DownloadComplete", "True", "Verified"));
  EXPECT_EQ(st["progress"].value("percentage", 0), 100);
  EXPECT_EQ(st["progress"].value("totalBytes", int64_t{0}), expected);
  EXPECT_EQ(st.value("mode", ""), "Shared");
  EXPECT_EQ(st.value("headroomPercent", 0), 10);
  EXPECT_EQ(st.value("allocatedSize", Json()).dump(), "\"1Gi\"");
  EXPECT_EQ(st["download"].value("protocol", ""), "hf");
  EXPECT_EQ(st["download"].value("attempt", 0), 1);
  EXPECT_EQ(st.value("resolvedRevision", "").size(), 40u) << st.dump();
  EXPECT_EQ(st.value("contentDigest", "").rfind("sha256:", 0), 0u);
  EXPECT_FALSE(st.value("lastDownloadTime", "").empty());
  std::string job = st.value("downloadJobName", "");
  ASSERT_FALSE(job.empty());
  std::string pvc = st.value("persistentVolumeClaim", "");
  ASSERT_FALSE(pvc.empty());

  // The PVC: our storage class, ReadWriteMany, 1 GiB (size + 10 % rounded up), owned.
  auto claim = get(kube::types::persistent_volume_claims(), ns_, pvc);
  ASSERT_FALSE(claim.is_null());
  EXPECT_EQ(claim["spec"].value("storageClassName", ""), storage_class_);
  EXPECT_EQ(claim["spec"]["accessModes"][0], "ReadWriteMany");
  EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
  EXPECT_EQ(claim["metadata"]["labels"].value("aim.eai.amd.com/cache.name", ""), "tiny");

  // The Job ran aim-fetch with the artifact to patch; its pod mounted the PVC.
  auto j = get(kube::types::jobs(), ns_, job);
  ASSERT_FALSE(j.is_null());
  const Json& c = j["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"][0], "aim-fetch");
  EXPECT_EQ(c["args"][0], "hf://org/tiny");
  EXPECT_EQ(j["spec"]["template"]["metadata"]["labels"].value("aim.eai.amd.com/component", ""),
            "download");

  // The files are really there, in the directory standing in for the PVC.
  EXPECT_EQ(dir_size_text(runner_->volume_dir(pvc)), std::to_string(expected));
  auto runs = runner_->runs();
  ASSERT_EQ(runs.size(), 2u);  // check-size, then download
  EXPECT_EQ(runs[0].container, "check-size");
  EXPECT_EQ(runs[1].container, "model-download");

  // Idle: an unrelated change to an owned child reconciles without writing the artifact.
  std::string rv = a["metadata"].value("resourceVersion", "");
  ASSERT_TRUE(client_
                  ->merge_patch(kube::types::jobs(), ns_, job,
                                Json{{"metadata", {{"annotations", {{"test/touch", "1"}}}}}})
                  .ok());
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(get(types::aim_artifacts(), ns_, "tiny")["metadata"].value("resourceVersion", ""), rv);
}

TEST_F(CacheIT, S3LifecycleWithCredentialsSecretAndGivenSize) {
  start("art-s3");
  int port = start_s3("AKIDTEST", "secret-test-key");
  ASSERT_GT(port, 0) << "cannot build or start the S3 test server (see " << work_ << ")";
  add_volume(0);
  apply(artifact(
      "llama", "s3://models/llama",
      {{"size", "3Mi"},
       {"credentialsSecretRef", {{"name", "s3-creds"}}},
       {"accessMode", "ReadWriteOnce"},
       {"env",
        {{{"name", "AWS_ENDPOINT_URL"}, {"value", "http://127.0.0.1:" + std::to_string(port)}},
         {{"name", "AWS_REGION"}, {"value", "us-east-1"}}}}}));
  // The Secret does not exist yet: the artifact says which one is missing, and creates nothing.
  auto waiting = wait_for(
      types::aim_artifacts(), ns_, "llama",
      [](const Json& o) { return condition_is(o, "CredentialsSecretReady", "False"); }, 60s,
      "the missing Secret is reported");
  EXPECT_TRUE(status_is(waiting, "Failed"));
  for (const char* type : {"CredentialsSecretReady", "Ready"}) {
    std::string msg = condition(waiting, type).value("message", "");
    EXPECT_NE(msg.find("credentials Secret \"s3-creds\" not found in namespace \"" + ns_ + "\""),
              std::string::npos)
        << type << ": " << msg;
  }
  EXPECT_TRUE(list(kube::types::persistent_volume_claims(), ns_).empty());
  // Created, it is seen through the watch on Secret metadata: no retry timer (that was 30 s).
  apply(Json{{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", "s3-creds"}, {"namespace", ns_}}},
             {"stringData",
              {{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", "secret-test-key"}}}});
  const auto created = std::chrono::steady_clock::now();
  wait_for(
      types::aim_artifacts(), ns_, "llama",
      [](const Json& o) { return !condition_is(o, "CredentialsSecretReady", "False"); }, 10s,
      "the artifact sees the new Secret");
  const auto seen = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - created);
  std::printf("credentials Secret seen %lld ms after its creation\n",
              static_cast<long long>(seen.count()));
  EXPECT_LT(seen, 5s);
  auto a = wait_for(
      types::aim_artifacts(), ns_, "llama",
      [](const Json& o) { return status_is(o, "Ready") || status_is(o, "Failed"); }, 120s,
      "artifact Ready");
  ASSERT_TRUE(status_is(a, "Ready")) << a.dump(2);
  EXPECT_EQ(a["status"].value("displaySize", ""), "3 MiB");
  EXPECT_FALSE(a["status"].contains("discoveredSizeBytes"));  // size given: no size check
  EXPECT_EQ(a["status"]["progress"].value("totalBytes", int64_t{0}), 7 + (2 << 20));
  auto claim = get(kube::types::persistent_volume_claims(), ns_,
                   a["status"].value("persistentVolumeClaim", ""));
  EXPECT_EQ(claim["spec"]["accessModes"][0], "ReadWriteOnce");
  auto runs = runner_->runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].exit_code, 0) << runs[0].stderr_text;
  // The Secret reached the pod through envFrom, never through the artifact's env or status.
  EXPECT_EQ(a.dump().find("secret-test-key"), std::string::npos);
}

// docs/bad-input.md row 3 (unsupported source scheme): Ready says which scheme has no
// downloader, nothing is created, and a downloader for it releases the artifact.
TEST_F(CacheIT, AnUnservedSchemeIsNamedOnReadyAndADownloaderForItReleasesTheArtifact) {
  start("art-scheme");
  // (file:///etc/passwd never gets here: its empty authority is refused at admission.)
  apply(artifact("local", "ftp://mirror.example/models/m", {{"size", "1Ki"}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "local",
      [](const Json& o) { return condition_is(o, "Ready", "False", "ReferenceNotFound"); }, 60s,
      "Ready=False/ReferenceNotFound");
  for (const char* type : {"Ready", "ConfigValid"}) {
    std::string msg = condition(a, type).value("message", "");
    EXPECT_NE(msg.find("no AIMClusterArtifactDownloader serves the scheme \"ftp://\""),
              std::string::npos)
        << type << ": " << msg;
  }
  expect_no_claim();
  EXPECT_TRUE(list(kube::types::jobs(), ns_).empty());
  const std::string downloader = "ftp-" + ns_;
  apply(Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
             {"kind", "AIMClusterArtifactDownloader"},
             {"metadata", {{"name", downloader}}},
             {"spec", {{"schemes", {"ftp"}}, {"image", "registry.test/ftp-copier:1"}}}});
  wait_for(
      types::aim_artifacts(), ns_, "local",
      [](const Json& o) { return !condition_is(o, "Ready", "False", "ReferenceNotFound"); }, 10s,
      "the downloader is seen");
  expect_claim_within(10s, "the artifact's PVC");
}

// docs/bad-input.md row 5 (credentials Secret without the scheme's keys); row 4 (missing
// Secret) is S3LifecycleWithCredentialsSecretAndGivenSize.
TEST_F(CacheIT, ACredentialsSecretWithoutTheSchemesKeysIsReportedUntilFixed) {
  start("art-keys");
  // The token under a key aim-fetch does not read (a common slip: the CLI's config name).
  apply_secret(ns_, "hf-creds", "Opaque", {{"token", "hf_test_token"}});
  apply(artifact("gated", "hf://org/gated",
                 {{"size", "100Ki"}, {"credentialsSecretRef", {{"name", "hf-creds"}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "gated",
      [](const Json& o) {
        return condition_is(o, "CredentialsSecretReady", "False", "MissingSecretKey");
      },
      60s, "CredentialsSecretReady=False/MissingSecretKey");
  EXPECT_TRUE(status_is(a, "Failed"));
  EXPECT_TRUE(condition_is(a, "ConfigValid", "False", "InvalidSpec"));
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("credentials Secret \"hf-creds\" lacks HF_TOKEN or HUGGING_FACE_HUB_TOKEN, "
                     "which a hf:// download reads; it has token"),
            std::string::npos)
      << msg;
  EXPECT_EQ(a.dump().find("hf_test_token"), std::string::npos) << "a Secret value reached status";
  expect_no_claim();
  // Fixed in place: the change to the Secret's metadata (resourceVersion) reconciles the artifact.
  apply_secret(ns_, "hf-creds", "Opaque", {{"HF_TOKEN", "hf_test_token"}});
  wait_for(
      types::aim_artifacts(), ns_, "gated",
      [](const Json& o) { return !condition_is(o, "CredentialsSecretReady", "False"); }, 10s,
      "the fixed Secret is seen");
  expect_claim_within(10s, "the artifact's PVC");
}

// docs/bad-input.md row 6 (artifact pull secret missing, then of the wrong type).
TEST_F(CacheIT, ArtifactPullSecretsAreCheckedBeforeThePvcAndTheJob) {
  start("art-pull");
  apply(artifact("tiny", "hf://org/tiny",
                 {{"size", "100Ki"}, {"imagePullSecrets", {{{"name", "mirror"}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "tiny",
      [](const Json& o) {
        return condition_is(o, "ImagePullSecretReady", "False", "SecretNotFound");
      },
      60s, "ImagePullSecretReady=False/SecretNotFound");
  EXPECT_NE(condition(a, "Ready")
                .value("message", "")
                .find("imagePullSecret \"mirror\" not found in namespace \"" + ns_ + "\""),
            std::string::npos);
  expect_no_claim();
  apply_secret(ns_, "mirror", "Opaque", {{"username", "u"}, {"password", "p"}});
  a = wait_for(
      types::aim_artifacts(), ns_, "tiny",
      [](const Json& o) {
        return condition_is(o, "ImagePullSecretReady", "False", "InvalidPullSecret");
      },
      10s, "ImagePullSecretReady=False/InvalidPullSecret");
  EXPECT_NE(
      condition(a, "Ready").value("message", "").find("has type Opaque, which the kubelet ignores"),
      std::string::npos);
  expect_no_claim();
  remove(kube::types::secrets(), ns_, "mirror");
  wait_gone(kube::types::secrets(), ns_, "mirror", 30s);
  apply_pull_secret(ns_, "mirror");
  wait_for(
      types::aim_artifacts(), ns_, "tiny",
      [](const Json& o) { return !condition_is(o, "ImagePullSecretReady", "False"); }, 10s,
      "the pull secret is seen");
  expect_claim_within(10s, "the artifact's PVC");
}

// docs/bad-input.md row 10 (artifact above the operator's limit): the issue's 100 TiB artifact
// with maxArtifactSize 2Ti. No claim; with spec.size corrected the same artifact goes on.
TEST_F(CacheIT, AnArtifactAboveTheOperatorsLimitGetsNoClaim) {
  controllers::CacheOptions opts;
  opts.max_artifact_bytes = int64_t{2} << 40;
  start("art-limit", opts);
  apply(artifact("huge", "hf://org/huge", {{"size", "100Ti"}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "huge",
      [](const Json& o) { return condition_is(o, "CachePvcReady", "False", "ArtifactTooLarge"); },
      60s, "CachePvcReady=False/ArtifactTooLarge");
  EXPECT_TRUE(status_is(a, "Failed"));
  EXPECT_TRUE(condition_is(a, "ConfigValid", "False", "InvalidSpec"));
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("needs a 110 TiB PersistentVolumeClaim (100 TiB of model plus headroom), "
                     "above the operator's limit of 2 TiB"),
            std::string::npos)
      << msg;
  expect_no_claim();
  apply(artifact("huge", "hf://org/huge", {{"size", "1Ti"}}));
  expect_claim_within(10s, "the corrected artifact's PVC");
}

// docs/bad-input.md row 14 (a malformed include / exclude glob): the artifact fails with the
// index and the fault before any claim or Job; the patterns are immutable, so the fix is a new
// artifact, which goes on.
TEST_F(CacheIT, AMalformedFilePatternIsReportedBeforeAnyClaim) {
  start("art-pattern");
  apply(artifact("glob", "hf://org/tiny",
                 {{"size", "1Mi"}, {"exclude", Json::array({"original/", "*.[bin"})}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "glob",
      [](const Json& o) {
        return condition_is(o, "FilePatternsReady", "False", "InvalidFilePattern");
      },
      60s, "FilePatternsReady=False/InvalidFilePattern");
  EXPECT_TRUE(status_is(a, "Failed"));
  EXPECT_TRUE(condition_is(a, "ConfigValid", "False", "InvalidSpec"));
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("spec.exclude[1]: file pattern '*.[bin' has an unclosed '['"),
            std::string::npos)
      << msg;
  expect_no_claim();
  remove(types::aim_artifacts(), ns_, "glob");
  wait_gone(types::aim_artifacts(), ns_, "glob", 30s);
  apply(artifact("glob", "hf://org/tiny",
                 {{"size", "1Mi"}, {"exclude", Json::array({"original/", "*.bin"})}}));
  expect_claim_within(10s, "the corrected artifact's PVC");
}

// docs/bad-input.md row 11 (artifact larger than its StorageClass can provision): the driver's
// CSIStorageCapacity says 1 TiB per volume at most; raised to 4 TiB, the claim is made.
TEST_F(CacheIT, AnArtifactItsStorageClassCannotHoldWaitsForCapacity) {
  start("art-capacity");
  Json cap = {{"apiVersion", "storage.k8s.io/v1"},
              {"kind", "CSIStorageCapacity"},
              {"metadata", {{"name", "zone-a"}, {"namespace", ns_}}},
              {"storageClassName", storage_class_},
              {"capacity", "10Ti"},
              {"maximumVolumeSize", "1Ti"}};
  apply(cap);
  // A driver publishes its capacity long before anyone asks for a volume; here the two arrive a
  // moment apart on two watches, so the artifact waits until the operator's cache has the
  // capacity (a busy CI machine once delivered the artifact first, and the claim was made).
  ASSERT_TRUE(eventually(
      [&] {
        return ctx_.cache(kube::types::csi_storage_capacities()).get(ns_, "zone-a") != nullptr;
      },
      30s, "the operator's cache to hold the CSIStorageCapacity"));
  apply(artifact("big", "hf://org/big", {{"size", "1500Gi"}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "big",
      [](const Json& o) { return status_is(o, "NotAvailable"); }, 60s, "NotAvailable");
  EXPECT_TRUE(condition_is(a, "Ready", "False", "InsufficientStorage")) << a["status"].dump(2);
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("StorageClass \"" + storage_class_ +
                     "\" can provision at most 1 TiB per "
                     "volume"),
            std::string::npos)
      << msg;
  expect_no_claim();
  cap["maximumVolumeSize"] = "4Ti";
  apply(cap);
  expect_claim_within(10s, "the PVC once the class has room");
}

TEST_F(CacheIT, AuthFailureIsAFailedArtifactWithReasonAuthFailedAndOnePod) {
  start("art-auth");
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  add_volume(0);
  apply(artifact(
      "gated", "hf://org/gated",
      {{"size", "100Ki"},
       {"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "gated",
      [](const Json& o) { return condition_is(o, "DownloadComplete", "False", "AuthFailed"); },
      120s, "DownloadComplete=False/AuthFailed");
  EXPECT_TRUE(status_is(a, "Failed")) << a["status"].dump(2);
  EXPECT_TRUE(condition_is(a, "DownloadJobReady", "False", "AuthFailed"));
  EXPECT_EQ(a["status"]["progress"].value("displayPercentage", ""), "N/A");
  // The downloader's own message reached the status.
  EXPECT_NE(a["status"]["download"].value("message", "").find("auth"), std::string::npos);
  // podFailurePolicy: an auth failure ends the Job after the first pod.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(runner_->runs().size(), 1u);
  EXPECT_EQ(runner_->runs()[0].exit_code, 3);
}

// Issue 26, item 2: secret values pass through the operator (it reads the credentials and pull
// Secrets to check their keys and types) and through aim-fetch (which uses them), on success and
// failure paths. None may reach the operator's log (captured at debug level), an event, a status,
// a Job or Pod spec (only references: envFrom / secretKeyRef), or aim-fetch's output.
TEST_F(CacheIT, NoSecretValueReachesLogsEventsStatusesSpecsOrTheDownloaderOutput) {
  const std::string tag = random_suffix();
  const std::string hf_token = "hf_leakcheck_good_" + tag;
  const std::string hf_wrong = "hf_leakcheck_wrong_" + tag;
  const std::string ngc_key = "nvapi-leakcheck-" + tag;
  const std::string pull_password = "pull-leakcheck-" + tag;
  const std::string s3_access = "AKIDLEAKCHECK" + tag;
  const std::string s3_secret = "s3-leakcheck-secret-" + tag;
  const std::string https_token = "https-leakcheck-token-" + tag;
  const std::string signature = "sig-leakcheck-" + tag;
  const std::vector<std::string> secrets = {hf_token,  hf_wrong,  ngc_key,     pull_password,
                                            s3_access, s3_secret, https_token, signature};

  // Everything the operator logs from here on goes to a file (one process per test case).
  const fs::path log_path = work_ / "operator.log";
  std::fflush(stderr);
  const int saved_stderr = ::dup(2);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(log_fd, 0);
  ::dup2(log_fd, 2);
  ::close(log_fd);
  kube::log::init(kube::log::Format::kJson, kube::log::Level::kDebug);
  struct RestoreStderr {
    int fd;
    ~RestoreStderr() {
      std::fflush(stderr);
      ::dup2(fd, 2);
      ::close(fd);
    }
  } restore{saved_stderr};

  start("art-secrets");
  int hf = start_hf(hf_token);
  ASSERT_GT(hf, 0);
  int s3 = start_s3(s3_access, s3_secret);
  ASSERT_GT(s3, 0) << "the S3 test server";
  int files = start_private_files(https_token, signature);
  ASSERT_GT(files, 0) << "the private file server";
  add_volume(0);
  add_volume(1);
  add_volume(2);
  add_volume(3);
  add_volume(4);
  const Json hf_env = {
      {{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}};
  apply_secret(ns_, "hf-good", "Opaque", {{"HF_TOKEN", hf_token}});
  apply_secret(ns_, "hf-wrong", "Opaque", {{"HF_TOKEN", hf_wrong}});
  apply_secret(ns_, "ngc-key", "Opaque", {{"NGC_API_KEY", ngc_key}});
  apply_secret(
      ns_, "pull", "kubernetes.io/dockerconfigjson",
      {{".dockerconfigjson",
        Json{{"auths",
              {{"registry.example.com", {{"username", "user"}, {"password", pull_password}}}}}}
            .dump()}});

  // Success: the gated repository with the right token, and a pull secret on the Jobs.
  apply(artifact("good", "hf://org/gated",
                 {{"size", "100Ki"},
                  {"credentialsSecretRef", {{"name", "hf-good"}}},
                  {"imagePullSecrets", {{{"name", "pull"}}}},
                  {"env", hf_env}}));
  // Success: S3 with its key pair.
  apply_secret(ns_, "s3-keys", "Opaque",
               {{"AWS_ACCESS_KEY_ID", s3_access}, {"AWS_SECRET_ACCESS_KEY", s3_secret}});
  apply(artifact(
      "bucket", "s3://models/llama",
      {{"size", "3Mi"},
       {"credentialsSecretRef", {{"name", "s3-keys"}}},
       {"env",
        {{{"name", "AWS_ENDPOINT_URL"}, {"value", "http://127.0.0.1:" + std::to_string(s3)}},
         {{"name", "AWS_REGION"}, {"value", "us-east-1"}}}}}));
  // Success: a private https server, once with a bearer token and once with a presigned link.
  // The URI is the file's plain URL; the token and the whole signed URL are in the Secrets.
  const std::string file_url = "http://127.0.0.1:" + std::to_string(files) + "/files/m.gguf";
  apply_secret(ns_, "https-token", "Opaque", {{"HTTPS_TOKEN", https_token}});
  apply_secret(
      ns_, "https-signed", "Opaque",
      {{"AIM_SIGNED_URL", file_url + "?X-Amz-Date=20261207T000000Z&X-Amz-Signature=" + signature}});
  apply(artifact("bearer", file_url, {{"credentialsSecretRef", {{"name", "https-token"}}}}));
  apply(artifact("presigned", file_url, {{"credentialsSecretRef", {{"name", "https-signed"}}}}));
  // Failure: the wrong token (AuthFailed from aim-fetch).
  apply(artifact(
      "wrong", "hf://org/gated",
      {{"size", "100Ki"}, {"credentialsSecretRef", {{"name", "hf-wrong"}}}, {"env", hf_env}}));
  // Failure before any Job: an NGC key Secret for an hf:// source lacks HF_TOKEN (the operator
  // reads the Secret's keys to say so).
  apply(artifact(
      "keys", "hf://org/gated",
      {{"size", "100Ki"}, {"credentialsSecretRef", {{"name", "ngc-key"}}}, {"env", hf_env}}));

  auto good = wait_for(
      types::aim_artifacts(), ns_, "good",
      [](const Json& o) { return status_is(o, "Ready") || status_is(o, "Failed"); }, 120s,
      "the artifact with the right token");
  EXPECT_TRUE(status_is(good, "Ready")) << good["status"].dump(2);
  auto bucket = wait_for(
      types::aim_artifacts(), ns_, "bucket",
      [](const Json& o) { return status_is(o, "Ready") || status_is(o, "Failed"); }, 120s,
      "the S3 artifact");
  EXPECT_TRUE(status_is(bucket, "Ready")) << bucket["status"].dump(2);
  for (const char* name : {"bearer", "presigned"}) {
    auto https = wait_for(
        types::aim_artifacts(), ns_, name,
        [](const Json& o) { return status_is(o, "Ready") || status_is(o, "Failed"); }, 120s,
        std::string("the https artifact with credentials in a Secret: ") + name);
    EXPECT_TRUE(status_is(https, "Ready")) << name << ": " << https["status"].dump(2);
  }
  wait_for(
      types::aim_artifacts(), ns_, "wrong",
      [](const Json& o) { return condition_is(o, "DownloadComplete", "False", "AuthFailed"); },
      120s, "the artifact with the wrong token fails with AuthFailed");
  wait_for(
      types::aim_artifacts(), ns_, "keys",
      [](const Json& o) { return condition_is(o, "CredentialsSecretReady", "False"); }, 60s,
      "the Secret without HF_TOKEN is reported");
  std::this_thread::sleep_for(2s);  // the events of the last transitions

  // Everything the operator and aim-fetch wrote that a user can read.
  std::vector<std::pair<std::string, std::string>> places;
  for (const auto& a : list(types::aim_artifacts(), ns_))
    places.emplace_back("AIMArtifact " + a["metadata"].value("name", ""), a.dump());
  for (const auto& e : list(kube::types::events(), ns_)) places.emplace_back("event", e.dump());
  for (const auto& e : list(types::core_events(), ns_)) places.emplace_back("core event", e.dump());
  for (const auto& j : list(kube::types::jobs(), ns_))
    places.emplace_back("Job " + j["metadata"].value("name", ""), j.dump());
  for (const auto& p : list(kube::types::pods(), ns_))
    places.emplace_back("Pod " + p["metadata"].value("name", ""), p.dump());
  for (const auto& c : list(kube::types::persistent_volume_claims(), ns_))
    places.emplace_back("PVC " + c["metadata"].value("name", ""), c.dump());
  const auto runs = runner_->runs();
  EXPECT_GE(runs.size(), 5u)
      << "aim-fetch ran for the good and the wrong token, for S3 and for both https artifacts";
  for (const auto& r : runs) {
    places.emplace_back("aim-fetch stderr of " + r.pod, r.stderr_text);
    places.emplace_back("aim-fetch termination message of " + r.pod, r.termination_message);
  }
  std::fflush(stderr);
  const std::string log = read_text(log_path.string());
  EXPECT_NE(log.find("aimartifact"), std::string::npos) << "the operator's log was captured";
  places.emplace_back("operator log", log);

  // The Jobs name the Secrets; they never carry a value.
  bool referenced = false;
  for (const auto& j : list(kube::types::jobs(), ns_))
    if (j.dump().find("\"hf-good\"") != std::string::npos) referenced = true;
  EXPECT_TRUE(referenced) << "a Job references the credentials Secret by name";

  for (const auto& secret : secrets)
    for (const auto& [where, text] : places)
      EXPECT_EQ(text.find(secret), std::string::npos) << "a secret value reached the " << where;
}

TEST_F(CacheIT, MissingModelFailsTheSizeCheckWithModelNotFound) {
  start("art-missing");
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  apply(artifact(
      "nope", "hf://org/does-not-exist",
      {{"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "nope",
      [](const Json& o) { return condition_is(o, "CheckSizeJobReady", "False", "ModelNotFound"); },
      120s, "CheckSizeJobReady=False/ModelNotFound");
  EXPECT_TRUE(status_is(a, "Failed")) << a["status"].dump(2);
  // Nothing to size, so no PVC and no download Job.
  EXPECT_TRUE(list(kube::types::persistent_volume_claims(), ns_).empty());
  EXPECT_FALSE(a["status"].contains("downloadJobName"));
}

// A paused artifact is left alone, but says so: Paused=True once, no PVC, no Job. Unpaused, it
// proceeds and the condition goes.
TEST_F(CacheIT, PausedArtifactShowsPausedAndResumesWhenTheAnnotationGoes) {
  start("art-paused");
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  add_volume(0);
  Json a = artifact(
      "tiny", "hf://org/tiny",
      {{"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}});
  a["metadata"]["annotations"] = {{"aim.eai.amd.com/reconciliation-paused", "true"}};
  apply(a);
  auto paused = wait_for(
      types::aim_artifacts(), ns_, "tiny",
      [](const Json& o) { return condition_is(o, "Paused", "True", "ReconciliationPaused"); }, 60s,
      "Paused=True");
  EXPECT_NE(condition(paused, "Paused").value("message", "").find("remove it to resume"),
            std::string::npos);
  EXPECT_TRUE(list(kube::types::persistent_volume_claims(), ns_).empty());
  EXPECT_TRUE(list(kube::types::jobs(), ns_).empty());
  ASSERT_TRUE(
      client_
          ->merge_patch(
              types::aim_artifacts(), ns_, "tiny",
              Json{{"metadata",
                    {{"annotations", {{"aim.eai.amd.com/reconciliation-paused", nullptr}}}}}})
          .ok());
  auto resumed = wait_for(
      types::aim_artifacts(), ns_, "tiny", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "Ready after the pause");
  EXPECT_TRUE(condition(resumed, "Paused").is_null()) << resumed["status"].dump(2);
}

TEST_F(CacheIT, RateLimitedDownloadIsRetriedWithBackoffUntilItSucceeds) {
  controllers::CacheOptions opts;
  opts.backoff_limit = 0;                     // one pod per Job: each attempt is a new Job
  opts.retry_base = std::chrono::seconds(3);  // instead of 30 s
  start("art-retry", opts);
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  add_volume(0);
  // Every request is answered 429 until the fault is cleared.
  std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};
  std::string admin = "http://127.0.0.1:" + std::to_string(hf) + "/_admin/faults";
  ASSERT_EQ(run_process({"/usr/bin/curl", "-sf", "-X", "POST", "-d",
                         R"({"rate_limit": {"count": 100000, "retry_after": 0}})", admin},
                        env, (work_ / "curl.out").string(), (work_ / "curl.err").string()),
            0);
  apply(artifact("limited", "hf://org/tiny",
                 {{"size", "1Mi"},
                  {"env",
                   {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}},
                    {{"name", "AIM_FETCH_RETRIES"}, {"value", "1"}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "limited",
      [](const Json& o) { return condition_is(o, "DownloadComplete", "False", "RateLimited"); },
      120s, "DownloadComplete=False/RateLimited");
  // A transient failure degrades the artifact; it is not Failed.
  EXPECT_TRUE(status_is(a, "Degraded")) << a["status"].dump(2);
  EXPECT_EQ(a["status"]["download"].value("attempt", 0), 1);
  ASSERT_EQ(run_process({"/usr/bin/curl", "-sf", "-X", "DELETE", admin}, env,
                        (work_ / "curl.out").string(), (work_ / "curl.err").string()),
            0);
  a = wait_for(
      types::aim_artifacts(), ns_, "limited", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "Ready after a retry");
  EXPECT_GE(a["status"]["download"].value("attempt", 0), 2);
  auto runs = runner_->runs();
  ASSERT_GE(runs.size(), 2u);
  EXPECT_EQ(runs.front().exit_code, 5);  // rate_limited
  EXPECT_EQ(runs.back().exit_code, 0);
}

// ---- pods that cannot make progress: reported, and the artifact proceeds once they can --------

// The download pod's image cannot be pulled (KWOK's aim-image-pull-fail Stage plays the kubelet
// for pods labelled sim.aim.eai.amd.com/image-pull=fail): Ready=False/ImagePullFailed naming the
// image. Once the pod can start (the label removed, as if the image had been pushed), the
// download runs and the artifact turns Ready without anyone touching it.
TEST_F(CacheIT, ImagePullFailureIsReportedThenTheDownloadProceeds) {
  controllers::CacheOptions opts;
  opts.download_pod_labels["sim.aim.eai.amd.com/image-pull"] = "fail";
  opts.fetch_image = "registry.invalid/aim/aim-engine:missing";
  start("art-pull", opts);
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  add_volume(0);
  apply(artifact(
      "pull", "hf://org/tiny",
      {{"size", "1Mi"},
       {"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "pull",
      [](const Json& o) { return condition_is(o, "Ready", "False", "ImagePullFailed"); }, 60s,
      "Ready=False/ImagePullFailed");
  ASSERT_FALSE(a.is_null());
  EXPECT_TRUE(status_is(a, "Failed")) << a["status"].dump(2);
  EXPECT_TRUE(condition_is(a, "DownloadJobReady", "False", "ImagePullFailed"));
  EXPECT_TRUE(condition_is(a, "DownloadComplete", "False", "ImagePullFailed"));
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("registry.invalid/aim/aim-engine:missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Back-off pulling image"), std::string::npos) << msg;
  // A Warning event for the transition.
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& e : list(types::core_events(), ns_))
          if (e.value("reason", "") == "ImagePullFailed" && e.value("type", "") == "Warning")
            return true;
        return false;
      },
      30s, "a Warning event ImagePullFailed"));

  // The image becomes pullable.
  auto pods = list(kube::types::pods(), ns_, "aim.eai.amd.com/component=download");
  ASSERT_EQ(pods.size(), 1u);
  ASSERT_TRUE(client_
                  ->merge_patch(kube::types::pods(), ns_, controllers::name_of(pods[0]),
                                Json{{"metadata",
                                      {{"labels", {{"sim.aim.eai.amd.com/image-pull", nullptr}}}}}})
                  .ok());
  a = wait_for(
      types::aim_artifacts(), ns_, "pull", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "Ready once the image can be pulled");
  EXPECT_TRUE(condition_is(a, "DownloadComplete", "True", "Verified"));
  EXPECT_EQ(a["status"]["download"].value("attempt", 0), 1);  // the same Job, not a retry
}

// A node selector no node matches: the real kube-scheduler marks the download pod
// Unschedulable; after the grace period the artifact says so (Degraded, the scheduler's
// message). A node with the label appears: the pod is scheduled, the download runs, Ready.
TEST_F(CacheIT, UnschedulableDownloadIsReportedAndProceedsWhenANodeAppears) {
  controllers::CacheOptions opts;
  std::string key = "it.aim.eai.amd.com/download-node";
  opts.download_node_selector = {{key, "n-" + random_suffix()}};
  opts.unschedulable_grace = std::chrono::seconds(2);
  start("art-sched", opts);
  int hf = start_hf();
  ASSERT_GT(hf, 0);
  add_volume(0);
  apply(artifact(
      "sched", "hf://org/tiny",
      {{"size", "1Mi"},
       {"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://127.0.0.1:" + std::to_string(hf)}}}}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "sched",
      [](const Json& o) { return condition_is(o, "Ready", "False", "Unschedulable"); }, 60s,
      "Ready=False/Unschedulable");
  ASSERT_FALSE(a.is_null());
  EXPECT_TRUE(status_is(a, "Degraded")) << a["status"].dump(2);
  EXPECT_TRUE(condition_is(a, "DownloadJobReady", "False", "Unschedulable"));
  std::string msg = condition(a, "Ready").value("message", "");
  EXPECT_NE(msg.find("node affinity/selector"), std::string::npos) << msg;
  auto job = get(kube::types::jobs(), ns_, a["status"].value("downloadJobName", ""));
  ASSERT_FALSE(job.is_null());
  EXPECT_EQ(job["spec"]["template"]["spec"]["nodeSelector"][key], opts.download_node_selector[key]);
  EXPECT_GT(job["spec"].value("activeDeadlineSeconds", 0), 0);

  // A KWOK node that matches appears.
  std::string node = "kwok-it-" + ns_;
  apply(Json{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", node},
        {"annotations", {{"kwok.x-k8s.io/node", "fake"}, {"node.alpha.kubernetes.io/ttl", "0"}}},
        {"labels",
         {{"type", "kwok"},
          {"kubernetes.io/hostname", node},
          {"kubernetes.io/os", "linux"},
          {"kubernetes.io/arch", "amd64"},
          {key, opts.download_node_selector[key]}}}}},
      {"spec", Json::object()}});
  Json capacity{{"cpu", "32"}, {"memory", "64Gi"}, {"pods", "110"}, {"ephemeral-storage", "100Gi"}};
  patch_status(kube::types::nodes(), "", node, {{"capacity", capacity}, {"allocatable", capacity}});
  a = wait_for(
      types::aim_artifacts(), ns_, "sched", [](const Json& o) { return status_is(o, "Ready"); },
      120s, "Ready once a node fits");
  EXPECT_TRUE(condition_is(a, "DownloadComplete", "True", "Verified"));
  EXPECT_TRUE(condition(a, "DownloadJobReady").is_null() ||
              condition_is(a, "DownloadJobReady", "True"));
}

// A download Job that cannot finish in time (here: its pod is never scheduled, and the grace
// before reporting that is longer than the test) fails on its activeDeadlineSeconds:
// DownloadTimeout, Degraded, retried like a stalled download.
TEST_F(CacheIT, DownloadJobDeadlineIsADownloadTimeout) {
  controllers::CacheOptions opts;
  opts.download_node_selector = {{"it.aim.eai.amd.com/download-node", "none-" + random_suffix()}};
  opts.unschedulable_grace = std::chrono::seconds(3600);
  opts.download_deadline = std::chrono::seconds(3);
  start("art-deadline", opts);
  add_volume(0);
  apply(artifact("slow", "hf://org/tiny", {{"size", "1Mi"}}));
  auto a = wait_for(
      types::aim_artifacts(), ns_, "slow",
      [](const Json& o) { return condition_is(o, "DownloadComplete", "False", "DownloadTimeout"); },
      90s, "DownloadComplete=False/DownloadTimeout");
  ASSERT_FALSE(a.is_null());
  EXPECT_TRUE(status_is(a, "Degraded")) << a["status"].dump(2);
  EXPECT_TRUE(condition_is(a, "Ready", "False", "DownloadTimeout"));
  EXPECT_NE(condition(a, "DownloadComplete").value("message", "").find("3 s"), std::string::npos);
}

}  // namespace
}  // namespace aim::testing
