// The AIMArtifact reconcile over the fake API server: PVC, Job, verification, idleness, the
// failure taxonomy and the retry after backoff.
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "controllers/cache/internal.h"
#include "kube/informer.h"
#include "kube/testing/fake_client.h"

namespace aim::controllers {
namespace {

using Json = nlohmann::json;
using kube::WatchEvent;
using namespace std::chrono_literals;

Json new_artifact();  // the artifact "a1" of most cases (below)

class ArtifactReconcile : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx.client = fake;
    ctx.informers = &factory;
    ctx.clock = [this] { return now; };
    for (const auto& t :
         {types::aim_artifacts(), types::aim_runtime_configs(),
          types::aim_cluster_runtime_configs(), types::aim_cluster_artifact_downloaders(),
          kube::types::jobs(), kube::types::persistent_volume_claims(),
          kube::types::storage_classes(), kube::types::csi_storage_capacities()})
      (void)ctx.cache(t);
    (void)job_pods(ctx);
    (void)secret_names(ctx);
    factory.start();
    ASSERT_TRUE(factory.wait_for_sync(5s));
  }
  void TearDown() override { factory.stop(); }

  // Pods are cached through the operator's Job-pod selector; every pod these tests make has
  // the labels of a download pod.
  void settle(const kube::ResourceType& type) {
    kube::Store& cache = type.resource == "pods"      ? job_pods(ctx)
                         : type.resource == "secrets" ? secret_names(ctx)
                                                      : ctx.cache(type);
    for (int i = 0; i < 500; ++i) {
      bool same = cache.size() == fake->objects(type).size();
      for (const auto& o : fake->objects(type)) {
        auto c = cache.get(namespace_of(o), name_of(o));
        if (!c || (*c)["metadata"]["resourceVersion"] != o["metadata"]["resourceVersion"])
          same = false;
      }
      if (same) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "cache did not catch up for " << type.kind;
  }
  void settle_all() {
    for (const auto& t : {types::aim_artifacts(), kube::types::jobs(), kube::types::pods(),
                          kube::types::persistent_volume_claims(), kube::types::secrets()})
      settle(t);
  }
  size_t writes() {
    size_t n = 0;
    for (const auto& a : fake->actions())
      if (a.verb != "get" && a.verb != "list" && a.verb != "watch") ++n;
    return n;
  }
  Json status() { return fake->objects(types::aim_artifacts(), "ns").at(0)["status"]; }
  Json condition(const std::string& type) {
    for (auto& c : status().value("conditions", Json::array()))
      if (c["type"] == type) return c;
    return Json();
  }
  // An artifact of source `uri` is refused before anything is created: Failed,
  // SourceUriReady=False/InvalidSourceUri, no claim, no Job. `check_status` sees its status; the
  // condition is returned, and the artifact is deleted again.
  Json refused_source_uri(const std::string& uri,
                          const std::function<void(const Json&)>& check_status = {}) {
    fake->clear_actions();
    Json a = new_artifact();
    a["spec"]["sourceUri"] = uri;
    fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
    reconcile();
    EXPECT_EQ(status()["status"], "Failed") << uri;
    Json c = condition("SourceUriReady");
    EXPECT_EQ(c["reason"], "InvalidSourceUri") << uri;
    if (check_status) check_status(status());
    EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty()) << uri;
    EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns").empty()) << uri;
    fake->inject(types::aim_artifacts(), WatchEvent::Type::kDeleted,
                 fake->objects(types::aim_artifacts(), "ns").at(0));
    return c;
  }
  Json only_job() {
    auto jobs = fake->objects(kube::types::jobs(), "ns");
    return jobs.size() == 1 ? jobs[0] : Json();
  }
  void reconcile() {
    settle_all();
    auto r = reconcile_artifact(ctx, options, kube::Request{"ns", "a1"});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  // A pod of the only Job, as the Job controller labels it, with `status`.
  Json job_pod(const std::string& suffix, Json pod_status,
               const std::string& created = "2026-01-01T00:00:00Z") {
    Json job = only_job();
    return Json{{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", job["metadata"]["name"].get<std::string>() + "-" + suffix},
                  {"namespace", "ns"},
                  {"creationTimestamp", created},
                  {"labels",
                   {{"job-name", job["metadata"]["name"]},
                    {"aim.eai.amd.com/cache.name", "a1"},
                    {"aim.eai.amd.com/component", "download"}}}}},
                {"spec", {{"containers", {{{"name", "model-download"}, {"image", "img:1"}}}}}},
                {"status", std::move(pod_status)}};
  }
  void finish_job(bool ok, int exit_code = 0, const std::string& failed_reason = "") {
    Json job = only_job();
    ASSERT_FALSE(job.is_null());
    std::string ts = "2026-01-01T00:00:00Z";
    job["status"] = {
        {"conditions",
         {{{"type", ok ? "Complete" : "Failed"}, {"status", "True"}, {"lastTransitionTime", ts}}}}};
    if (!failed_reason.empty()) job["status"]["conditions"][0]["reason"] = failed_reason;
    if (ok) job["status"]["completionTime"] = ts;
    fake->inject(kube::types::jobs(), WatchEvent::Type::kModified, job);
    if (!ok && failed_reason.empty()) {
      Json pod = job_pod("x", {{"phase", "Failed"},
                               {"containerStatuses",
                                {{{"name", "model-download"},
                                  {"state",
                                   {{"terminated",
                                     {{"exitCode", exit_code},
                                      {"message", "auth: HTTP 401"},
                                      {"finishedAt", ts}}}}}}}}});
      fake->inject(kube::types::pods(), WatchEvent::Type::kAdded, pod);
    }
  }

  int64_t now = 1767225600;  // 2026-01-01T00:00:00Z
  CacheOptions options;
  std::shared_ptr<kube::testing::FakeClient> fake = std::make_shared<kube::testing::FakeClient>();
  kube::InformerFactory factory{fake};
  Context ctx;
};

Json secret(const std::string& name, const std::string& type, Json data) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"namespace", "ns"}}},
              {"type", type},
              {"data", std::move(data)}};
}

Json new_artifact() {
  return Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
              {"kind", "AIMArtifact"},
              {"metadata", {{"name", "a1"}, {"namespace", "ns"}, {"generation", 1}}},
              {"spec", {{"sourceUri", "hf://org/m"}, {"size", "1Gi"}}}};
}

TEST_F(ArtifactReconcile, PvcThenJobThenVerifiedReadyThenIdle) {
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  reconcile();
  auto pvcs = fake->objects(kube::types::persistent_volume_claims(), "ns");
  ASSERT_EQ(pvcs.size(), 1u);
  EXPECT_EQ(pvcs[0]["spec"]["resources"]["requests"]["storage"], "2Gi");  // 1.1 GiB rounded up
  EXPECT_EQ(status()["status"], "Progressing");
  // The PV controller binds the claim.
  pvcs[0]["status"] = {{"phase", "Bound"}};
  fake->inject(kube::types::persistent_volume_claims(), WatchEvent::Type::kModified, pvcs[0]);

  reconcile();
  Json job = only_job();
  ASSERT_FALSE(job.is_null());
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "AIMArtifact");
  EXPECT_EQ(status()["download"]["attempt"], 1);
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Downloading");
  EXPECT_EQ(status()["allocatedSize"], "2Gi");
  EXPECT_EQ(status()["headroomPercent"], 10);
  EXPECT_EQ(status()["displaySize"], "1 GiB");

  // The downloader reports 100 % before exiting: Verifying, still not Ready.
  Json a = fake->objects(types::aim_artifacts(), "ns")[0];
  a["status"]["progress"] = {{"percentage", 100}, {"totalBytes", 1000}};
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kModified, a);
  reconcile();
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Verifying");
  EXPECT_NE(status()["status"], "Ready");

  finish_job(true);
  reconcile();
  EXPECT_EQ(status()["status"], "Ready");
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Verified");
  EXPECT_EQ(condition("Ready")["status"], "True");
  EXPECT_EQ(status()["lastDownloadTime"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(status()["progress"]["displayPercentage"], "100 %");
  EXPECT_EQ(status()["progress"]["totalBytes"], 1000);

  // Idle: nothing changed, nothing written.
  reconcile();
  size_t before = writes();
  reconcile();
  reconcile();
  EXPECT_EQ(writes(), before);

  // The Job goes (TTL): the artifact stays Ready and no new Job is made.
  fake->inject(kube::types::jobs(), WatchEvent::Type::kDeleted, only_job());
  reconcile();
  EXPECT_EQ(status()["status"], "Ready");
  EXPECT_TRUE(only_job().is_null());
}

// The artifact's cache can lag behind its claim's: the garbage collector removed the claim of
// an artifact that is already gone from the API server. No claim is made for it (it would bind
// a volume meant for the next artifact), nor for an artifact replaced under the same name (the
// new one has its own watch event); a failing lookup is retried.
TEST_F(ArtifactReconcile, NoClaimIsMadeForAnArtifactTheApiServerNoLongerHas) {
  fake->inject(kube::types::namespaces(), WatchEvent::Type::kAdded,
               Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ns"}}}});
  Json cached = fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  settle_all();
  auto pvcs = [&] { return fake->objects(kube::types::persistent_volume_claims(), "ns").size(); };
  fake->fail_next("get", "aimartifacts",
                  kube::Error{kube::ErrorCode::kServerError, 500, "InternalError", "etcd"});
  EXPECT_FALSE(reconcile_artifact(ctx, options, kube::Request{"ns", "a1"}).ok());
  EXPECT_EQ(pvcs(), 0u);

  factory.stop();  // the cache keeps what it had: a stale view from here on
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kDeleted, cached);
  auto r = reconcile_artifact(ctx, options, kube::Request{"ns", "a1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(pvcs(), 0u);

  Json successor = new_artifact();
  successor["metadata"]["uid"] = "uid-of-the-successor";
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, successor);
  r = reconcile_artifact(ctx, options, kube::Request{"ns", "a1"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(pvcs(), 0u);
}

TEST_F(ArtifactReconcile, AuthFailureFailsThenRetriesAfterTheBackoff) {
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  reconcile();
  reconcile();
  ASSERT_FALSE(only_job().is_null());
  finish_job(false, 3);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("DownloadComplete")["reason"], "AuthFailed");
  EXPECT_EQ(condition("DownloadJobReady")["reason"], "AuthFailed");
  EXPECT_NE(condition("DownloadComplete")["message"].get<std::string>().find("auth: HTTP 401"),
            std::string::npos);
  EXPECT_FALSE(only_job().is_null());  // kept until the backoff is over

  now += 299;  // permanent failures wait 5 min
  reconcile();
  EXPECT_FALSE(only_job().is_null());
  now += 2;
  reconcile();
  EXPECT_TRUE(only_job().is_null());
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Retrying");
  reconcile();
  ASSERT_FALSE(only_job().is_null());
  EXPECT_EQ(only_job()["metadata"]["annotations"]["aim.eai.amd.com/download-attempt"], "2");
  EXPECT_EQ(status()["download"]["attempt"], 2);
}

// The Job of attempt N is created, but the status write that records N loses a conflict (someone
// else wrote the status in between). The next reconcile takes the attempt from the Job.
TEST_F(ArtifactReconcile, AttemptLostByAConflictingStatusWriteComesBackFromTheJob) {
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  reconcile();
  reconcile();
  Json job = only_job();
  ASSERT_FALSE(job.is_null());
  ASSERT_EQ(status()["download"]["attempt"], 1);
  // As if the status had been written without the attempt after the Job of attempt 2 was made.
  job["metadata"]["annotations"]["aim.eai.amd.com/download-attempt"] = "2";
  fake->inject(kube::types::jobs(), WatchEvent::Type::kModified, job);
  Json a = fake->objects(types::aim_artifacts(), "ns")[0];
  a["status"]["download"]["attempt"] = 1;
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kModified, a);
  reconcile();
  EXPECT_EQ(status()["download"]["attempt"], 2);
  auto pvcs = fake->objects(kube::types::persistent_volume_claims(), "ns");
  ASSERT_EQ(pvcs.size(), 1u);
  pvcs[0]["status"] = {{"phase", "Bound"}};
  fake->inject(kube::types::persistent_volume_claims(), WatchEvent::Type::kModified, pvcs[0]);
  finish_job(true);
  reconcile();
  EXPECT_EQ(status()["status"], "Ready");
  EXPECT_EQ(status()["download"]["attempt"], 2);
}

TEST_F(ArtifactReconcile, MissingCredentialsSecretAndUnknownSchemeAreReported) {
  Json a = new_artifact();
  a["spec"]["credentialsSecretRef"] = {{"name", "nope"}};
  a["spec"]["sourceUri"] = "mlflow://models/x";
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("CredentialsSecretReady")["reason"], "ReferenceNotFound");
  EXPECT_EQ(condition("DownloaderReady")["reason"], "DownloaderNotFound");
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());
  // The component names the Secret; Ready and ConfigValid say what the first missing reference
  // is, after the framework's words.
  std::string secret_msg = condition("CredentialsSecretReady")["message"];
  EXPECT_NE(secret_msg.find("credentials Secret \"nope\" not found in namespace \"ns\""),
            std::string::npos)
      << secret_msg;
  for (const char* type : {"Ready", "ConfigValid"}) {
    EXPECT_EQ(condition(type)["message"],
              "Referenced resource not found: Downloader: no AIMClusterArtifactDownloader serves "
              "the scheme \"mlflow://\"")
        << type;
  }
}

// What aim-fetch would refuse is refused before anything is created (issue 26: a
// percent-encoded '..' in an hf:// repo id got a PVC and a Job first).
TEST_F(ArtifactReconcile, ASourceUriTheDownloaderWouldRefuseFailsBeforeAnyClaimOrJob) {
  for (const char* uri : {"hf://org%2F..%2F/m", "hf://a/b/c%2F..", "s3://X", "ngc://org/m:v1/x",
                          "hf://org/m@bad..rev"}) {
    Json c = refused_source_uri(uri);
    EXPECT_NE(c.value("message", "").find("spec.sourceUri: "), std::string::npos) << c.dump();
  }
  // A valid URI of each built-in scheme passes the same check.
  for (const char* uri :
       {"hf://org/m@main", "hf://Qwen/Qwen3-32B/tokenizer.json", "s3://bucket/prefix",
        "ngc://org/team/m:1.0", "https://example.com/m.gguf"}) {
    Json a = new_artifact();
    a["spec"]["sourceUri"] = uri;
    fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
    reconcile();
    EXPECT_TRUE(condition("SourceUriReady").is_null()) << uri << condition("SourceUriReady");
    fake->inject(types::aim_artifacts(), WatchEvent::Type::kDeleted,
                 fake->objects(types::aim_artifacts(), "ns").at(0));
    for (const auto& p : fake->objects(kube::types::persistent_volume_claims(), "ns"))
      fake->inject(kube::types::persistent_volume_claims(), WatchEvent::Type::kDeleted, p);
  }
}

// Credentials in a source URI (an object stored before the CRD's rule): refused before any claim
// or Job, and the status names the part of the URI, never its value.
TEST_F(ArtifactReconcile, ACredentialInTheSourceUriFailsBeforeAnyClaimOrJobAndIsNotRepeated) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://user:s3cr3t-one@models.example.com/m.gguf", "user information"},
      {"https://models.example.com/m.gguf?X-Amz-Date=1&X-Amz-Signature=s3cr3t-two",
       "the query parameter X-Amz-Signature"},
      {"https://models.example.com/m.gguf?sig=s3cr3t-three", "the query parameter sig"},
  };
  for (const auto& [uri, part] : cases) {
    Json c = refused_source_uri(uri, [](const Json& st) {
      EXPECT_EQ(st.dump().find("s3cr3t"), std::string::npos) << st.dump();
    });
    EXPECT_NE(c.value("message", "").find(part), std::string::npos) << c.dump();
  }
}

// A size that is not a quantity, or a negative one (a cluster whose CRDs predate the admission
// bound), is refused, not ignored: no claim, no size check.
TEST_F(ArtifactReconcile, ASizeThatIsNotANonNegativeQuantityFailsBeforeAnyClaimOrJob) {
  Json a = new_artifact();
  a["spec"]["size"] = "-1Gi";
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("SizeReady")["reason"], "InvalidSize");
  EXPECT_NE(condition("SizeReady").value("message", "").find("spec.size \"-1Gi\""),
            std::string::npos)
      << condition("SizeReady");
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns").empty());
}

TEST_F(ArtifactReconcile, TheCredentialsSecretAppearingClearsTheMissingReference) {
  Json a = new_artifact();
  a["spec"]["credentialsSecretRef"] = {{"name", "hf"}};
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("CredentialsSecretReady")["reason"], "ReferenceNotFound");
  // The watched Secret metadata tells it exists; one GET tells its keys.
  fake->inject(kube::types::secrets(), WatchEvent::Type::kAdded,
               secret("hf", "Opaque", {{"HF_TOKEN", "aGZfc2VjcmV0"}}));
  reconcile();
  EXPECT_NE(status()["status"], "Failed");
  EXPECT_TRUE(condition("CredentialsSecretReady").is_null()) << status().dump(2);
}

TEST_F(ArtifactReconcile, ACredentialsSecretWithoutTheSchemesKeysBlocksTheDownload) {
  Json a = new_artifact();
  a["spec"]["sourceUri"] = "s3://bucket/m";
  a["spec"]["credentialsSecretRef"] = {{"name", "s3"}};
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  // Typical slip: the secret key spelled the CLI-config way, and an empty id.
  fake->inject(
      kube::types::secrets(), WatchEvent::Type::kAdded,
      secret("s3", "Opaque", {{"aws_secret_access_key", "c2VjcmV0"}, {"AWS_ACCESS_KEY_ID", ""}}));
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("CredentialsSecretReady")["reason"], "MissingSecretKey");
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());
  EXPECT_TRUE(fake->objects(kube::types::jobs(), "ns").empty());
  std::string msg = condition("Ready")["message"];
  EXPECT_NE(msg.find("lacks AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("AWS_ACCESS_KEY_ID (empty)"), std::string::npos) << msg;
  EXPECT_EQ(status().dump().find("c2VjcmV0"), std::string::npos) << "a value reached status";

  // Fixed, the same artifact proceeds to its PVC.
  fake->inject(kube::types::secrets(), WatchEvent::Type::kModified,
               secret("s3", "Opaque",
                      {{"AWS_SECRET_ACCESS_KEY", "c2VjcmV0"}, {"AWS_ACCESS_KEY_ID", "aWQ="}}));
  reconcile();
  EXPECT_NE(status()["status"], "Failed") << status().dump(2);
  EXPECT_TRUE(condition("CredentialsSecretReady").is_null());
  EXPECT_EQ(fake->objects(kube::types::persistent_volume_claims(), "ns").size(), 1u);
}

TEST_F(ArtifactReconcile, ACredentialsSecretThatCannotBeReadIsAnInfrastructureProblem) {
  Json a = new_artifact();
  a["spec"]["credentialsSecretRef"] = {{"name", "hf"}};
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  fake->inject(kube::types::secrets(), WatchEvent::Type::kAdded,
               secret("hf", "Opaque", {{"HF_TOKEN", "dA=="}}));
  settle_all();
  fake->fail_next(
      "get", "secrets",
      kube::Error{kube::ErrorCode::kForbidden, 403, "Forbidden", "secrets \"hf\" is forbidden"});
  reconcile();
  EXPECT_EQ(condition("CredentialsSecretReady")["reason"], "SecretAccessFailed");
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());
}

TEST_F(ArtifactReconcile, PullSecretsMustExistAndBeOfTheTypeTheKubeletReads) {
  Json a = new_artifact();
  a["spec"]["imagePullSecrets"] = {{{"name", "regcred"}}};
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(condition("ImagePullSecretReady")["reason"], "SecretNotFound");
  EXPECT_NE(condition("ConfigValid")["message"].get<std::string>().find(
                "imagePullSecret \"regcred\" not found in namespace \"ns\""),
            std::string::npos)
      << status().dump(2);
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());

  // Created as a generic Secret: the kubelet would skip it without a word.
  fake->inject(kube::types::secrets(), WatchEvent::Type::kAdded,
               secret("regcred", "Opaque", {{".dockerconfigjson", "e30="}}));
  reconcile();
  EXPECT_EQ(condition("ImagePullSecretReady")["reason"], "InvalidPullSecret");
  EXPECT_EQ(condition("Ready")["reason"], "InvalidSpec");
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());

  fake->inject(
      kube::types::secrets(), WatchEvent::Type::kModified,
      secret("regcred", "kubernetes.io/dockerconfigjson", {{".dockerconfigjson", "e30="}}));
  reconcile();
  EXPECT_TRUE(condition("ImagePullSecretReady").is_null()) << status().dump(2);
  EXPECT_EQ(fake->objects(kube::types::persistent_volume_claims(), "ns").size(), 1u);
}

TEST_F(ArtifactReconcile, AMalformedFilePatternFailsBeforeAnyJob) {
  Json a = new_artifact();
  a["spec"]["include"] = Json::array({"*.json", "model-[0-9.safetensors"});
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("FilePatternsReady")["reason"], "InvalidFilePattern") << status().dump(2);
  EXPECT_EQ(condition("ConfigValid")["reason"], "InvalidSpec");
  EXPECT_NE(condition("FilePatternsReady")["message"].get<std::string>().find(
                "spec.include[1]: file pattern 'model-[0-9.safetensors' has an unclosed '['"),
            std::string::npos)
      << status().dump(2);
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());

  // Well-formed patterns go on to the claim (the size is given).
  a["spec"]["include"] = Json::array({"*.json", "model-[0-9]*.safetensors"});
  a["metadata"]["generation"] = 2;
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kModified, a);
  reconcile();
  EXPECT_TRUE(condition("FilePatternsReady").is_null()) << status().dump(2);
  EXPECT_EQ(fake->objects(kube::types::persistent_volume_claims(), "ns").size(), 1u);
}

TEST_F(ArtifactReconcile, AClaimAboveTheOperatorsLimitIsNeverRequested) {
  options.max_artifact_bytes = 2LL << 40;  // 2 TiB
  Json a = new_artifact();
  a["spec"]["size"] = "100Ti";
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("CachePvcReady")["reason"], "ArtifactTooLarge");
  EXPECT_EQ(condition("ConfigValid")["reason"], "InvalidSpec");
  EXPECT_NE(condition("Ready")["message"].get<std::string>().find(
                "needs a 110 TiB PersistentVolumeClaim (100 TiB of model plus headroom), above "
                "the operator's limit of 2 TiB"),
            std::string::npos)
      << status().dump(2);
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());
}

TEST_F(ArtifactReconcile, AClaimTheDefaultStorageClassCannotHoldWaitsForCapacity) {
  fake->inject(kube::types::storage_classes(), WatchEvent::Type::kAdded,
               Json{{"apiVersion", "storage.k8s.io/v1"},
                    {"kind", "StorageClass"},
                    {"metadata",
                     {{"name", "fast"},
                      {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
                    {"provisioner", "csi.example.com"}});
  Json cap = {{"apiVersion", "storage.k8s.io/v1"},
              {"kind", "CSIStorageCapacity"},
              {"metadata", {{"name", "fast-zone-a"}, {"namespace", "kube-system"}}},
              {"storageClassName", "fast"},
              {"capacity", "10Ti"},
              {"maximumVolumeSize", "1Ti"}};
  fake->inject(kube::types::csi_storage_capacities(), WatchEvent::Type::kAdded, cap);
  Json a = new_artifact();
  a["spec"]["size"] = "1Ti";  // 1.1 TiB with the default headroom
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  settle(kube::types::storage_classes());
  settle(kube::types::csi_storage_capacities());
  reconcile();
  EXPECT_EQ(status()["status"], "NotAvailable") << status().dump(2);
  EXPECT_EQ(condition("Ready")["reason"], "InsufficientStorage");
  EXPECT_NE(condition("Ready")["message"].get<std::string>().find(
                "StorageClass \"fast\" can provision at most 1 TiB per volume"),
            std::string::npos)
      << status().dump(2);
  EXPECT_TRUE(fake->objects(kube::types::persistent_volume_claims(), "ns").empty());

  cap["maximumVolumeSize"] = "4Ti";
  fake->inject(kube::types::csi_storage_capacities(), WatchEvent::Type::kModified, cap);
  settle(kube::types::csi_storage_capacities());
  reconcile();
  EXPECT_NE(status()["status"], "NotAvailable") << status().dump(2);
  EXPECT_EQ(fake->objects(kube::types::persistent_volume_claims(), "ns").size(), 1u);
}

TEST_F(ArtifactReconcile, JobSpecsCarryTheDeadlinesAndThePodPlacement) {
  options.download_deadline = 7200s;
  options.check_size_deadline = 300s;
  options.download_node_selector = {{"node-role/downloads", "true"}};
  options.download_tolerations = {api::Toleration{.key = "downloads", .operator_ = "Exists"}};
  Json a = new_artifact();
  a["spec"].erase("size");  // a size check first
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, a);
  reconcile();
  Json check = only_job();
  ASSERT_FALSE(check.is_null());
  EXPECT_EQ(check["spec"]["activeDeadlineSeconds"], 300);
  const Json& pod = check["spec"]["template"]["spec"];
  EXPECT_EQ(pod["nodeSelector"]["node-role/downloads"], "true");
  EXPECT_EQ(pod["tolerations"][0]["key"], "downloads");
  EXPECT_EQ(pod["containers"][0]["command"][0], "aim-fetch");
  EXPECT_EQ(check["spec"]["template"]["metadata"]["labels"]["aim.eai.amd.com/component"],
            "check-size");
}

TEST_F(ArtifactReconcile, StuckDownloadPodsAreReportedAndTheArtifactRecovers) {
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  reconcile();
  reconcile();
  ASSERT_FALSE(only_job().is_null());

  // The image cannot be pulled: reported at once, on the Job component and on Ready.
  Json pull =
      job_pod("a", {{"phase", "Pending"},
                    {"containerStatuses",
                     {{{"name", "model-download"},
                       {"image", "img:1"},
                       {"state",
                        {{"waiting",
                          {{"reason", "ImagePullBackOff"},
                           {"message", "Back-off pulling image \"img:1\": not found"}}}}}}}}});
  fake->inject(kube::types::pods(), WatchEvent::Type::kAdded, pull);
  reconcile();
  EXPECT_EQ(status()["status"], "Failed");
  EXPECT_EQ(condition("DownloadJobReady")["reason"], "ImagePullFailed");
  EXPECT_EQ(condition("DownloadComplete")["reason"], "ImagePullFailed");
  EXPECT_EQ(condition("Ready")["reason"], "ImagePullFailed");
  EXPECT_NE(condition("Ready")["message"].get<std::string>().find("img:1"), std::string::npos);

  // The image became pullable: the pod runs, the artifact is downloading again.
  pull["status"] = {{"phase", "Running"}};
  fake->inject(kube::types::pods(), WatchEvent::Type::kModified, pull);
  reconcile();
  EXPECT_EQ(status()["status"], "Progressing");
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Downloading");
  fake->inject(kube::types::pods(), WatchEvent::Type::kDeleted, pull);

  // Unschedulable: only after the grace period, with a requeue armed for its end.
  options.unschedulable_grace = 30s;
  Json pending = job_pod("b", {{"phase", "Pending"},
                               {"conditions",
                                {{{"type", "PodScheduled"},
                                  {"status", "False"},
                                  {"reason", "Unschedulable"},
                                  {"lastTransitionTime", "2026-01-01T00:00:00Z"},
                                  {"message",
                                   "0/2 nodes are available: 2 node(s) didn't match Pod's node "
                                   "affinity/selector."}}}}});
  fake->inject(kube::types::pods(), WatchEvent::Type::kAdded, pending);
  settle_all();
  auto r = reconcile_artifact(ctx, options, kube::Request{"ns", "a1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().kind(), kube::Action::Kind::kRequeueAfter);
  EXPECT_EQ(r.value().after(), std::chrono::duration_cast<kube::Duration>(30s));
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Downloading");
  now += 30;
  reconcile();
  EXPECT_EQ(status()["status"], "Degraded");
  EXPECT_EQ(condition("Ready")["reason"], "Unschedulable");
  EXPECT_NE(condition("Ready")["message"].get<std::string>().find("node affinity/selector"),
            std::string::npos);
}

TEST_F(ArtifactReconcile, DeadlineExceededIsADownloadTimeoutRetriedLikeOne) {
  options.download_deadline = 600s;
  fake->inject(types::aim_artifacts(), WatchEvent::Type::kAdded, new_artifact());
  reconcile();
  reconcile();
  ASSERT_EQ(only_job()["spec"]["activeDeadlineSeconds"], 600);
  finish_job(false, 0, "DeadlineExceeded");
  reconcile();
  EXPECT_EQ(status()["status"], "Degraded");
  EXPECT_EQ(condition("DownloadComplete")["reason"], "DownloadTimeout");
  EXPECT_EQ(condition("Ready")["reason"], "DownloadTimeout");
  EXPECT_NE(condition("DownloadComplete")["message"].get<std::string>().find("600 s"),
            std::string::npos);
  now += 31;  // transient: the first retry after 30 s
  reconcile();
  EXPECT_TRUE(only_job().is_null());
  EXPECT_EQ(condition("DownloadComplete")["reason"], "Retrying");
}

}  // namespace
}  // namespace aim::controllers
