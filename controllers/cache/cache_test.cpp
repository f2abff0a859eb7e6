#include <gtest/gtest.h>

#include <cstdlib>

#include "controllers/cache/artifact.h"
#include "controllers/cache/dynamo_model.h"
#include "controllers/cache/template_cache.h"

namespace aim::controllers {
namespace {

using Json = nlohmann::json;
using namespace artifact;
constexpr int64_t kGiB = int64_t{1} << 30;

// The typed forms the template cache's stages read (decoded as the informer's objects are).
template <class T>
T decoded(const Json& j) {
  auto d = api::decode<T>(j);
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : T{};
}

TEST(ArtifactSize, QuantityBytes) {
  EXPECT_EQ(quantity_bytes(Json("15Gi")), 15 * kGiB);
  EXPECT_EQ(quantity_bytes(Json("1.5G")), 1500000000);
  EXPECT_EQ(quantity_bytes(Json("100Ki")), 102400);
  EXPECT_EQ(quantity_bytes(Json(1000)), 1000);
  EXPECT_EQ(quantity_bytes(Json("16106127360")), 16106127360);
  EXPECT_EQ(quantity_bytes(Json(0)), 0);
  EXPECT_FALSE(quantity_bytes(Json("abc")));
  EXPECT_FALSE(quantity_bytes(Json("-1")));
  EXPECT_FALSE(quantity_bytes(Json("1Xi")));
  EXPECT_FALSE(quantity_bytes(Json(-5)));
  EXPECT_FALSE(quantity_bytes(Json()));
}

TEST(ArtifactSize, DisplaySize) {
  EXPECT_EQ(display_size(0), "0 B");
  EXPECT_EQ(display_size(512), "512 B");
  EXPECT_EQ(display_size(42 * kGiB), "42 GiB");
  EXPECT_EQ(display_size(static_cast<int64_t>(8.2 * static_cast<double>(kGiB))), "8.2 GiB");
  EXPECT_EQ(display_size(1536 * kGiB), "1.5 TiB");
  EXPECT_EQ(display_size(150 << 20), "150 MiB");
}

TEST(ArtifactSize, StorageProblemsAreTheOperatorsLimitThenTheClassesLargestVolume) {
  const int64_t ti = kGiB * 1024;
  auto cap = [](const std::string& sc, Json capacity, Json max) {
    Json c = {{"storageClassName", sc}};
    if (!capacity.is_null()) c["capacity"] = capacity;
    if (!max.is_null()) c["maximumVolumeSize"] = max;
    return decoded<api::CSIStorageCapacity>(c);
  };
  // The limit first, whatever the class offers.
  auto limit = storage_problem(3 * ti, 2 * ti, 2 * ti, std::string("fast"), {});
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->reason, "ArtifactTooLarge");
  EXPECT_TRUE(limit->policy);
  EXPECT_FALSE(storage_problem(2 * ti, 2 * ti, 2 * ti, std::string("fast"), {}));
  // maximumVolumeSize wins over capacity; the largest object of the class counts; other
  // classes do not.
  std::vector<api::CSIStorageCapacity> caps = {
      cap("fast", "100Ti", "1Ti"), cap("fast", "100Ti", "2Ti"), cap("slow", "100Ti", "50Ti")};
  auto big = storage_problem(3 * ti, 2 * ti, 0, std::string("fast"), caps);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->reason, "InsufficientStorage");
  EXPECT_FALSE(big->policy);
  EXPECT_NE(big->message.find("StorageClass \"fast\" can provision at most 2 TiB"),
            std::string::npos)
      << big->message;
  EXPECT_FALSE(storage_problem(2 * ti, ti, 0, std::string("fast"), caps));
  // capacity alone when no maximumVolumeSize is published.
  EXPECT_TRUE(storage_problem(3 * ti, ti, 0, std::string("c"), {cap("c", "2Ti", nullptr)}));
  EXPECT_FALSE(storage_problem(3 * ti, ti, 0, std::string("c"), {cap("c", "4Ti", nullptr)}));
  // Nothing known: no class, no objects for it, or unparsable quantities.
  EXPECT_FALSE(storage_problem(300 * ti, ti, 0, std::nullopt, caps));
  EXPECT_FALSE(storage_problem(300 * ti, ti, 0, std::string("other"), caps));
  EXPECT_FALSE(storage_problem(300 * ti, ti, 0, std::string("c"), {cap("c", "lots", nullptr)}));
}

TEST(CacheOptionsFromEnv, MaxArtifactSizeIsAPositiveQuantityOrIgnored) {
  ::setenv("AIM_MAX_ARTIFACT_SIZE", "2Ti", 1);
  EXPECT_EQ(CacheOptions::from_env().max_artifact_bytes, 2 * kGiB * 1024);
  for (const char* bad : {"lots", "-1Ti", "0"}) {
    ::setenv("AIM_MAX_ARTIFACT_SIZE", bad, 1);
    EXPECT_EQ(CacheOptions::from_env().max_artifact_bytes, 0) << bad;
  }
  ::unsetenv("AIM_MAX_ARTIFACT_SIZE");
  EXPECT_EQ(CacheOptions::from_env().max_artifact_bytes, 0);
}

TEST(CacheOptionsFromEnv, TolerationsAreAJsonArrayOfTolerationsOrIgnored) {
  ::setenv("AIM_DOWNLOAD_TOLERATIONS",
           R"([{"key": "egress", "operator": "Exists", "tolerationSeconds": 60}])", 1);
  auto tolerations = CacheOptions::from_env().download_tolerations;
  ASSERT_EQ(tolerations.size(), 1u);
  EXPECT_EQ(tolerations[0].key, "egress");
  EXPECT_EQ(tolerations[0].toleration_seconds, 60);
  // Not JSON, not an array, a field of the wrong type: the option is ignored (with a warning).
  for (const char* bad : {"egress", R"({"key": "egress"})", R"([{"tolerationSeconds": "x"}])"}) {
    ::setenv("AIM_DOWNLOAD_TOLERATIONS", bad, 1);
    EXPECT_TRUE(CacheOptions::from_env().download_tolerations.empty()) << bad;
  }
  ::unsetenv("AIM_DOWNLOAD_TOLERATIONS");
}

TEST(ArtifactSize, PvcRequestAddsHeadroomAndRoundsUpToGiB) {
  EXPECT_EQ(pvc_request_bytes(1, 10), kGiB);
  EXPECT_EQ(pvc_request_bytes(0, 10), kGiB);
  EXPECT_EQ(pvc_request_bytes(10 * kGiB, 10), 11 * kGiB);
  EXPECT_EQ(pvc_request_bytes(200 * kGiB, 10), 220 * kGiB);
  EXPECT_EQ(pvc_request_bytes(15 * kGiB, 10), 17 * kGiB);  // 16.5 GiB -> 17
  EXPECT_EQ(pvc_request_bytes(15 * kGiB, 0), 15 * kGiB);
  EXPECT_EQ(gib_quantity(17 * kGiB), "17Gi");
  EXPECT_EQ(gib_quantity(1000), "1000");
}

TEST(ArtifactFailure, ExitCodesMapToReasonsAndCategories) {
  using C = engine::ErrorCategory;
  struct Row {
    int code;
    const char* reason;
    C category;
    bool transient;
  };
  const Row rows[] = {{2, "InvalidDownloadSpec", C::kInvalidSpec, false},
                      {3, "AuthFailed", C::kAuth, false},
                      {4, "ModelNotFound", C::kInvalidSpec, false},
                      {5, "RateLimited", C::kInfrastructure, true},
                      {6, "DiskFull", C::kInfrastructure, true},
                      {7, "ChecksumMismatch", C::kInfrastructure, true},
                      {8, "DownloadTimeout", C::kInfrastructure, true},
                      {9, "NetworkError", C::kInfrastructure, true},
                      {10, "UnsafePath", C::kInvalidSpec, false},
                      {1, "DownloadFailed", C::kUnknown, true},
                      {137, "DownloadFailed", C::kUnknown, true}};
  for (const auto& r : rows) {
    auto f = classify_exit(r.code, "");
    EXPECT_EQ(f.reason, r.reason) << r.code;
    EXPECT_EQ(f.category, r.category) << r.code;
    EXPECT_EQ(f.transient, r.transient) << r.code;
    EXPECT_TRUE(is_failure_reason(f.reason));
  }
  auto f = classify_exit(3, "auth: HTTP 401\n");
  EXPECT_EQ(f.message, "The source refused the credentials: auth: HTTP 401 (exit code 3)");
  EXPECT_FALSE(is_failure_reason("Downloading"));
  EXPECT_FALSE(is_failure_reason("Retrying"));
}

TEST(ArtifactFailure, RetryDelayDoublesFromItsBaseAndIsCapped) {
  CacheOptions o;
  EXPECT_EQ(retry_delay(1, true, o).count(), 30);
  EXPECT_EQ(retry_delay(2, true, o).count(), 60);
  EXPECT_EQ(retry_delay(3, true, o).count(), 120);
  EXPECT_EQ(retry_delay(30, true, o).count(), 3600);
  EXPECT_EQ(retry_delay(1, false, o).count(), 300);
  EXPECT_EQ(retry_delay(2, false, o).count(), 600);
  EXPECT_EQ(retry_delay(0, true, o).count(), 30);
}

Json artifact_obj(Json spec) {
  return Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
              {"kind", "AIMArtifact"},
              {"metadata", {{"name", "a1"}, {"namespace", "ns"}, {"uid", "u1"}}},
              {"spec", std::move(spec)}};
}
api::AIMArtifact artifact_of(Json spec) {
  return decoded<api::AIMArtifact>(artifact_obj(std::move(spec)));
}
api::AIMClusterArtifactDownloader downloader_of(const Json& j) {
  return decoded<api::AIMClusterArtifactDownloader>(j);
}

const Json* env_named(const Json& env, const std::string& name) {
  for (auto& e : env)
    if (e.value("name", "") == name) return &e;
  return nullptr;
}

TEST(ArtifactJobs, DownloadJobRunsAimFetchOnThePvcWithTheArtifactToPatch) {
  CacheOptions o;
  o.download_pod_labels = {{"sim/runner", "external"}};
  JobInput in{artifact_of({{"sourceUri", "hf://org/m"},
                           {"modelDownloadImage", "ghcr.io/silogen/aim-artifact-downloader:0.2.0"},
                           {"credentialsSecretRef", {{"name", "creds"}}},
                           {"env", {{{"name", "HF_ENDPOINT"}, {"value", "http://x"}}}}}),
              Json::array({{{"name", "HF_ENDPOINT"}, {"value", "http://rc"}},
                           {{"name", "FROM_RC"}, {"value", "1"}}}),
              std::nullopt,
              "a1-download-x",
              "a1-cache-x",
              12345,
              "abc",
              2,
              7};
  Json job = download_job(in, o);
  EXPECT_EQ(job["metadata"]["name"], "a1-download-x");
  EXPECT_EQ(job["metadata"]["annotations"]["aim.eai.amd.com/download-attempt"], "2");
  EXPECT_EQ(job["metadata"]["annotations"]["aim.eai.amd.com/artifact-generation"], "7");
  EXPECT_EQ(job["spec"]["backoffLimit"], 2);
  EXPECT_EQ(job["metadata"]["labels"]["aim.eai.amd.com/component"], "download");
  EXPECT_FALSE(job["metadata"]["labels"].contains("sim/runner"));  // pods only
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["sim/runner"], "external");
  const Json& pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["securityContext"]["fsGroup"], 1000);
  EXPECT_EQ(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "a1-cache-x");
  const Json& c = pod["containers"][0];
  EXPECT_EQ(c["name"], "model-download");
  EXPECT_EQ(c["image"], o.fetch_image);  // the reference's default image means "ours"
  EXPECT_EQ(c["command"], Json::array({"aim-fetch"}));
  EXPECT_EQ(c["args"][0], "hf://org/m");
  EXPECT_EQ(c["args"][1], "/cache");
  auto args = c["args"].dump();
  EXPECT_NE(args.find("\"--revision\",\"abc\""), std::string::npos);
  EXPECT_NE(args.find("/dev/termination-log"), std::string::npos);
  EXPECT_EQ(c["envFrom"][0]["secretRef"]["name"], "creds");
  ASSERT_NE(env_named(c["env"], "ARTIFACT_NAME"), nullptr);
  EXPECT_EQ((*env_named(c["env"], "ARTIFACT_NAMESPACE"))["value"], "ns");
  EXPECT_EQ((*env_named(c["env"], "EXPECTED_SIZE_BYTES"))["value"], "12345");
  EXPECT_EQ((*env_named(c["env"], "HF_ENDPOINT"))["value"], "http://x");  // artifact wins
  EXPECT_EQ((*env_named(c["env"], "FROM_RC"))["value"], "1");
  EXPECT_EQ(job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"],
            Json::array({2, 3, 4, 10}));
  // A deadline, and no placement unless configured.
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 4 * 3600);
  EXPECT_FALSE(pod.contains("nodeSelector"));
  EXPECT_FALSE(pod.contains("tolerations"));
}

TEST(ArtifactJobs, DeadlinesAndPlacementComeFromTheOptions) {
  CacheOptions o;
  o.download_deadline = std::chrono::seconds(1800);
  o.check_size_deadline = std::chrono::seconds(120);
  o.download_node_selector = {{"role", "egress"}};
  o.download_tolerations = {api::Toleration{.key = "egress", .operator_ = "Exists"}};
  JobInput in{
      artifact_of({{"sourceUri", "hf://org/m"}}), Json(), std::nullopt, "j", "p", 1, "", 1, 1};
  for (const Json& job : {download_job(in, o), check_size_job(in, o)}) {
    const Json& pod = job["spec"]["template"]["spec"];
    EXPECT_EQ(pod["nodeSelector"], (Json{{"role", "egress"}}));
    EXPECT_EQ(pod["tolerations"][0]["key"], "egress");
    EXPECT_EQ(pod["containers"][0]["command"], Json::array({"aim-fetch"}));
  }
  EXPECT_EQ(download_job(in, o)["spec"]["activeDeadlineSeconds"], 1800);
  EXPECT_EQ(check_size_job(in, o)["spec"]["activeDeadlineSeconds"], 120);
}

TEST(ArtifactJobs, DeadlineAndEvictionFailuresAreTransientInfrastructure) {
  auto t = deadline_failure(std::chrono::seconds(600));
  EXPECT_EQ(t.reason, "DownloadTimeout");
  EXPECT_TRUE(t.transient);
  EXPECT_EQ(t.category, engine::ErrorCategory::kInfrastructure);
  EXPECT_NE(t.message.find("600 s"), std::string::npos);
  auto e = eviction_failure("Pod x was evicted: low on disk");
  EXPECT_EQ(e.reason, "Evicted");
  EXPECT_TRUE(is_failure_reason("Evicted"));
  EXPECT_TRUE(is_failure_reason("DownloadTimeout"));
}

TEST(FetchImage, DefaultIsTheProjectImageOfThisVersion) {
  std::string img = default_fetch_image();
  EXPECT_EQ(img.rfind("aim-engine:", 0), 0u);
  EXPECT_GT(img.size(), std::string("aim-engine:").size());
  EXPECT_EQ(CacheOptions{}.fetch_image, img);
}

TEST(FetchImage, EnvThenTheOperatorsContainerThenTheDefault) {
  Json pod{{"metadata", {{"name", "op-0"}, {"namespace", "aim-system"}}},
           {"spec",
            {{"containers",
              {{{"name", "sidecar"}, {"image", "proxy:1"}},
               {{"name", "manager"}, {"image", "ghcr.io/x/aim-engine:0.1.0"}}}}}}};
  const auto decoded = api::decode<api::Pod>(pod);
  ASSERT_TRUE(decoded) << decoded.error;
  const api::Pod* own = &*decoded.value;
  auto env = choose_fetch_image("my/fetch:2", own, "manager");
  EXPECT_EQ(env.image, "my/fetch:2");
  EXPECT_EQ(env.source, "AIM_FETCH_IMAGE");
  auto named = choose_fetch_image("", own, "manager");
  EXPECT_EQ(named.image, "ghcr.io/x/aim-engine:0.1.0");
  EXPECT_NE(named.source.find("aim-system/op-0"), std::string::npos);
  EXPECT_EQ(choose_fetch_image("", own, "").image, "proxy:1");  // the first container
  EXPECT_EQ(choose_fetch_image("", own, "absent").image, default_fetch_image());
  auto fallback = choose_fetch_image("", nullptr, "");
  EXPECT_EQ(fallback.image, default_fetch_image());
  EXPECT_EQ(fallback.source, "built-in default");
}

TEST(FetchImage, ArtifactsNamingTheReferenceDownloaderGetOurs) {
  CacheOptions o;
  o.fetch_image = "ghcr.io/x/aim-engine:0.1.0";
  auto spec = [](Json j) { return decoded<api::AIMArtifactSpec>(j); };
  EXPECT_EQ(
      job_image(spec({{"modelDownloadImage", "ghcr.io/silogen/aim-artifact-downloader:0.2.0"}}),
                nullptr, o),
      o.fetch_image);
  EXPECT_EQ(job_image(spec(Json::object()), nullptr, o), o.fetch_image);
  EXPECT_EQ(job_image(spec({{"modelDownloadImage", "mine:1"}}), nullptr, o), "mine:1");
}

TEST(ArtifactJobs, CustomDownloaderSuppliesImageCommandAndArgs) {
  CacheOptions o;
  Json dl{{"metadata", {{"name", "mlflow"}}},
          {"spec",
           {{"image", "registry.local/mlflow-dl:1"},
            {"command", {"/dl"}},
            {"args", {"--fast"}},
            {"env", {{{"name", "MLFLOW_TRACKING_URI"}, {"value", "http://mlflow"}}}}}}};
  JobInput in{artifact_of({{"sourceUri", "mlflow://models/x/1"}}),
              Json(),
              downloader_of(dl),
              "j",
              "p",
              1,
              "",
              1,
              1};
  Json c = download_job(in, o)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "registry.local/mlflow-dl:1");
  EXPECT_EQ(c["command"], Json::array({"/dl"}));
  EXPECT_EQ(c["args"], Json::array({"--fast", "mlflow://models/x/1", "/cache"}));
  EXPECT_NE(env_named(c["env"], "MLFLOW_TRACKING_URI"), nullptr);
  EXPECT_FALSE(download_job(in, o)["spec"].contains("podFailurePolicy"));
  // The documented contract: the URI and target directory in the environment too; no revision
  // or patterns variables when the artifact has none.
  EXPECT_EQ((*env_named(c["env"], "AIM_SOURCE_URI"))["value"], "mlflow://models/x/1");
  EXPECT_EQ((*env_named(c["env"], "AIM_TARGET_DIR"))["value"], "/cache");
  EXPECT_EQ(env_named(c["env"], "AIM_REVISION"), nullptr);
  EXPECT_EQ(env_named(c["env"], "AIM_INCLUDE"), nullptr);
}

TEST(ArtifactJobs, FilePatternsReachAimFetchAndCustomDownloaders) {
  CacheOptions o;
  Json spec{{"sourceUri", "hf://org/m"},
            {"include", {"*.gguf", "config.json"}},
            {"exclude", {"*-Q2_K*"}}};
  JobInput in{artifact_of(spec), Json(), std::nullopt, "j", "p", 1, "abc", 1, 1};
  // aim-fetch: both the download and the check-size Job, so the claim is sized for the selection.
  for (const Json& job : {download_job(in, o), check_size_job(in, o)}) {
    auto args = job["spec"]["template"]["spec"]["containers"][0]["args"].dump();
    EXPECT_NE(args.find(R"("--include","*.gguf","--include","config.json","--exclude","*-Q2_K*")"),
              std::string::npos)
        << args;
  }
  Json dl{{"metadata", {{"name", "custom"}}}, {"spec", {{"image", "dl:1"}}}};
  JobInput custom{artifact_of(spec), Json(), downloader_of(dl), "j", "p", 1, "abc", 1, 1};
  Json c = download_job(custom, o)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ((*env_named(c["env"], "AIM_INCLUDE"))["value"], "*.gguf\nconfig.json");
  EXPECT_EQ((*env_named(c["env"], "AIM_EXCLUDE"))["value"], "*-Q2_K*");
  EXPECT_EQ((*env_named(c["env"], "AIM_REVISION"))["value"], "abc");
  EXPECT_EQ(c["args"].dump().find("--include"), std::string::npos);
}

TEST(ArtifactJobs, CheckSizeJobAndPvc) {
  CacheOptions o;
  JobInput in{artifact_of({{"sourceUri", "s3://b/p"}, {"modelDownloadImage", "my/img:1"}}),
              Json(),
              std::nullopt,
              "cs",
              "",
              0,
              "",
              1,
              1};
  Json job = check_size_job(in, o);
  const Json& c = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "check-size");
  EXPECT_EQ(c["image"], "my/img:1");
  EXPECT_EQ(c["args"][0], "--check-size");
  EXPECT_EQ(job["metadata"]["labels"]["aim.eai.amd.com/component"], "check-size");
  EXPECT_EQ(job["spec"]["ttlSecondsAfterFinished"], 300);

  Json a = artifact_obj({{"sourceUri", "hf://Org/Model.v1"}, {"accessMode", "ReadWriteOnce"}});
  a["metadata"]["labels"] = {{"template-created", "true"}};
  Json pvc = cache_pvc(decoded<api::AIMArtifact>(a), "a1-cache", 17 * kGiB, std::string("fast"));
  EXPECT_EQ(pvc["spec"]["resources"]["requests"]["storage"], "17Gi");
  EXPECT_EQ(pvc["spec"]["accessModes"], Json::array({"ReadWriteOnce"}));
  EXPECT_EQ(pvc["spec"]["storageClassName"], "fast");
  EXPECT_EQ(pvc["metadata"]["labels"]["aim.eai.amd.com/cache.type"], "template-cache");
  EXPECT_EQ(pvc["metadata"]["labels"]["aim.eai.amd.com/source-model"], "org_model.v1");
  Json plain = cache_pvc(artifact_of({{"sourceUri", "hf://o/m"}}), "x", kGiB, std::nullopt);
  EXPECT_EQ(plain["spec"]["accessModes"], Json::array({"ReadWriteMany"}));
  EXPECT_FALSE(plain["spec"].contains("storageClassName"));
  EXPECT_FALSE(plain["metadata"]["labels"].contains("aim.eai.amd.com/cache.type"));
}

TEST(ArtifactJobs, NamesAreDeterministicPerUid) {
  EXPECT_EQ(pvc_name("a", "u1"), pvc_name("a", "u1"));
  EXPECT_NE(pvc_name("a", "u1"), pvc_name("a", "u2"));
  EXPECT_EQ(download_job_name("a", "u1").rfind("a-download-", 0), 0u);
  EXPECT_EQ(check_size_job_name("a", "u1").rfind("a-check-size-", 0), 0u);
  EXPECT_LE(pvc_name(std::string(100, 'x'), "u").size(), 63u);
}

TEST(ArtifactSizeCheck, ParsesTheLastLine) {
  auto r =
      parse_size_output("noise\n{\"url\":\"hf://o/m\",\"sizeBytes\":1234,\"revision\":\"abc\"}\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size_bytes, 1234);
  EXPECT_EQ(r->revision, "abc");
  EXPECT_FALSE(parse_size_output("{\"sizeBytes\":0}"));
  EXPECT_FALSE(parse_size_output("{\"sizeBytes\":1125899906842625}"));  // > 2^50
  EXPECT_TRUE(parse_size_output("{\"sizeBytes\":1125899906842624}"));
  EXPECT_FALSE(parse_size_output("{\"sizeBytes\":\"12\"}"));
  EXPECT_FALSE(parse_size_output("not json"));
  EXPECT_FALSE(parse_size_output(""));
}

TEST(ArtifactDownloaders, ChosenByRefSchemeOrPrefix) {
  std::vector<api::AIMClusterArtifactDownloader> dls = {
      downloader_of({{"metadata", {{"name", "b-mlflow"}}}, {"spec", {{"schemes", {"mlflow"}}}}}),
      downloader_of({{"metadata", {{"name", "a-internal"}}},
                     {"spec", {{"prefixes", {"https://models.internal/"}}}}})};
  auto choose = [&](Json spec) {
    return choose_downloader(decoded<api::AIMArtifactSpec>(spec), dls);
  };
  auto chosen = [&](Json spec) {
    auto c = choose(std::move(spec));
    return c.downloader ? name_of(c.downloader->metadata) : std::string("(aim-fetch)");
  };
  EXPECT_EQ(chosen({{"sourceUri", "hf://o/m"}, {"downloaderRef", "b-mlflow"}}), "b-mlflow");
  EXPECT_FALSE(choose({{"sourceUri", "x://y"}, {"downloaderRef", "nope"}}).error.empty());
  EXPECT_EQ(chosen({{"sourceUri", "MLFLOW://m/1"}}), "b-mlflow");
  EXPECT_EQ(chosen({{"sourceUri", "https://models.internal/x"}}), "a-internal");
  for (const char* u : {"hf://o/m", "s3://b/p", "ngc://o/m", "https://h/f", "http://h/f"}) {
    auto c = choose({{"sourceUri", u}});
    EXPECT_FALSE(c.downloader) << u;
    EXPECT_TRUE(c.error.empty()) << u;
  }
  EXPECT_NE(choose({{"sourceUri", "custom://x"}}).error.find("custom://"), std::string::npos);
}

api::AIMTemplateCache typed_cache(const Json& j) {
  return decoded<api::AIMTemplateCache>(j);
}
api::ModelSource source(const Json& j) {
  return decoded<api::ModelSource>(j);
}

TEST(TemplateCachePlan, ArtifactNamesAndSpecs) {
  Json cache{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
             {"kind", "AIMTemplateCache"},
             {"metadata", {{"name", "c1"}, {"namespace", "ns"}, {"uid", "cu"}}},
             {"spec",
              {{"templateName", "tpl"},
               {"mode", "Shared"},
               {"storageClassName", "fast"},
               {"env", {{{"name", "A"}, {"value", "1"}}}}}}};
  Json src{{"modelId", "org/m"},
           {"sourceUri", "hf://org/m.v2"},
           {"env", {{{"name", "B"}, {"value", "2"}}}}};
  std::string shared =
      template_cache::artifact_name(source(src), typed_cache(cache).spec, "c1", false);
  EXPECT_EQ(shared, template_cache::artifact_name(source(src), typed_cache(cache).spec,
                                                  "other-cache", false));
  EXPECT_NE(shared,
            template_cache::artifact_name(source(src), typed_cache(cache).spec, "c1", true));
  EXPECT_EQ(shared.rfind("hf---org-m-v2-", 0), 0u) << shared;
  Json a = template_cache::artifact_for_source(typed_cache(cache), source(src), 1, "Namespace");
  EXPECT_EQ(a["metadata"]["name"], shared);
  EXPECT_FALSE(a["metadata"].contains("ownerReferences"));
  EXPECT_EQ(a["metadata"]["labels"]["template-created"], "true");
  EXPECT_EQ(a["metadata"]["labels"]["aim.eai.amd.com/template.index"], "1");
  EXPECT_EQ(a["metadata"]["labels"]["aim.eai.amd.com/template-cache.name"], "c1");
  EXPECT_EQ(a["spec"]["size"], 0);
  EXPECT_EQ(a["spec"]["storageClassName"], "fast");
  EXPECT_EQ(a["spec"]["env"].size(), 2u);
  EXPECT_FALSE(a.contains("status")) << a.dump();
  cache["spec"]["mode"] = "Dedicated";
  Json d = template_cache::artifact_for_source(typed_cache(cache), source(src), 0, "Namespace");
  ASSERT_TRUE(d["metadata"].contains("ownerReferences"));
  EXPECT_EQ(d["metadata"]["ownerReferences"][0]["uid"], "cu");
}

// A model source may leave modelId out (documented: derived from an hf:// URI). The artifact
// then gets the derived id, and for other schemes none at all: an empty modelId fails the
// artifact's pattern, the API server answers 422 and the cache could never create it.
TEST(TemplateCacheArtifacts, ModelIdIsDerivedFromTheHfUriOrLeftOut) {
  Json cache{{"metadata", {{"name", "c1"}, {"namespace", "ns"}, {"uid", "cu"}}},
             {"spec", {{"templateName", "t"}}}};
  Json hf{{"sourceUri", "hf://org/model@v2"}};
  EXPECT_EQ(template_cache::source_model_id(source(hf)), "org/model");
  EXPECT_EQ(template_cache::artifact_for_source(typed_cache(cache), source(hf), 0,
                                                "Namespace")["spec"]["modelId"],
            "org/model");
  Json s3{{"sourceUri", "s3://bucket/key"}, {"name", "display name"}};
  EXPECT_EQ(template_cache::source_model_id(source(s3)), "");
  EXPECT_FALSE(
      template_cache::artifact_for_source(typed_cache(cache), source(s3), 0, "Namespace")["spec"]
          .contains("modelId"));
  Json given{{"sourceURI", "s3://bucket/key"}, {"modelId", "org/given"}};
  EXPECT_EQ(template_cache::artifact_for_source(typed_cache(cache), source(given), 0,
                                                "Namespace")["spec"]["modelId"],
            "org/given");
}

// ---- the template cache's stages, each on its own ------------------------------------------

Cached<api::AIMArtifact> artifact_obj(const std::string& name, const std::string& uri,
                                      const std::string& status, const Json& extra_meta = {}) {
  Json meta{{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}};
  if (extra_meta.is_object()) meta.update(extra_meta);
  Json j{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMArtifact"},
         {"metadata", meta},
         {"spec", {{"sourceUri", uri}}}};
  if (!status.empty())
    j["status"] = {{"status", status},
                   {"persistentVolumeClaim", name + "-pvc"},
                   {"conditions",
                    {{{"type", "Ready"},
                      {"status", status == "Ready" ? "True" : "False"},
                      {"reason", status == "Ready" ? "Ready" : "Downloading"},
                      {"message", "artifact " + name},
                      {"lastTransitionTime", "2026-12-06T00:00:00Z"}}}}};
  auto t = typed<api::AIMArtifact>(std::make_shared<const Json>(j));
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

template_cache::TemplateRef template_with_sources(const Json& sources, bool ready = true) {
  Json st{{"status", ready ? "Ready" : "Progressing"}, {"modelSources", sources}};
  if (ready)
    st["conditions"] = {{{"type", "Ready"},
                         {"status", "True"},
                         {"reason", "Resolved"},
                         {"message", "ok"},
                         {"lastTransitionTime", "2026-12-06T00:00:00Z"}}};
  auto d = api::decode<api::AIMServiceTemplateStatus>(st);
  EXPECT_TRUE(d) << d.error;
  return {*d.value, "Namespace"};
}

const engine::ComponentHealth* component(const template_cache::Observation& o,
                                         const std::string& name) {
  for (const auto& c : o.components)
    if (c.component == name) return &c;
  return nullptr;
}

Json cache_json(const std::string& mode) {
  return {{"metadata", {{"name", "c1"}, {"namespace", "ns"}, {"uid", "cache-uid"}}},
          {"spec", {{"templateName", "tpl"}, {"mode", mode}}}};
}

TEST(TemplateCacheObserve, SharedModeTakesTheUnownedArtifactWithTheBestStatus) {
  Json owner{{"ownerReferences",
              {{{"apiVersion", "v1"},
                {"kind", "X"},
                {"name", "o"},
                {"uid", "cache-uid"},
                {"controller", true}}}}};
  std::vector<Cached<api::AIMArtifact>> arts{
      artifact_obj("owned-ready", "hf://org/m", "Ready", owner),
      artifact_obj("downloading", "hf://org/m", "Progressing"),
      artifact_obj("ready", "hf://org/m", "Ready"), artifact_obj("no-status", "hf://org/m", ""),
      artifact_obj("other-uri", "hf://org/other", "Ready")};
  auto o = template_cache::observe(typed_cache(cache_json("Shared")),
                                   template_with_sources({{{"sourceUri", "hf://org/m"}}}), arts,
                                   std::nullopt);
  ASSERT_EQ(o.matched.size(), 1u);
  EXPECT_TRUE(o.missing.empty());
  EXPECT_EQ(name_of(o.matched[0].artifact->typed.metadata), "ready");
  EXPECT_EQ(o.matched[0].model_id, "org/m");
  ASSERT_NE(component(o, "Artifacts"), nullptr);
  EXPECT_EQ(component(o, "Artifacts")->state, engine::ComponentState::Ready);
  EXPECT_EQ(component(o, "ServiceTemplate")->state, engine::ComponentState::Ready);

  // Dedicated: only the artifact the cache controls counts, whatever the others' status.
  auto d = template_cache::observe(typed_cache(cache_json("Dedicated")),
                                   template_with_sources({{{"sourceUri", "hf://org/m"}}}), arts,
                                   std::nullopt);
  ASSERT_EQ(d.matched.size(), 1u);
  EXPECT_EQ(name_of(d.matched[0].artifact->typed.metadata), "owned-ready");
}

TEST(TemplateCacheObserve, SourcesWithoutAnArtifactAreMissingAndTheWorstArtifactSetsTheHealth) {
  std::vector<Cached<api::AIMArtifact>> arts{artifact_obj("a", "hf://org/a", "Progressing"),
                                             artifact_obj("b", "hf://org/b", "Ready")};
  auto tpl = template_with_sources(
      {{{"sourceUri", "hf://org/a"}}, {{"sourceUri", "hf://org/b"}}, {{"sourceUri", "s3://x/y"}}});
  auto o = template_cache::observe(typed_cache(cache_json("Shared")), tpl, arts, std::nullopt);
  EXPECT_EQ(o.matched.size(), 2u);
  ASSERT_EQ(o.missing.size(), 1u);
  EXPECT_EQ(o.missing[0]->effective_uri(), "s3://x/y");
  EXPECT_EQ(component(o, "Artifacts")->reason, "CreatingCaches");

  // All present: the worst (Progressing) artifact's Ready condition names the reason.
  arts.push_back(artifact_obj("c", "s3://x/y", "Ready"));
  o = template_cache::observe(typed_cache(cache_json("Shared")), tpl, arts, std::nullopt);
  EXPECT_TRUE(o.missing.empty());
  const auto* a = component(o, "Artifacts");
  EXPECT_EQ(a->state, engine::ComponentState::Progressing);
  EXPECT_EQ(a->reason, "Downloading");
  EXPECT_EQ(a->message, "One or more caches are not ready: artifact a");
}

TEST(TemplateCacheObserve, AMissingOrUnreadyTemplateAndAFailedRuntimeConfigAreReported) {
  auto o = template_cache::observe(
      typed_cache(cache_json("Shared")), {}, {},
      engine::component_health("RuntimeConfig", engine::ComponentState::Failed, "ConfigNotFound",
                               "RuntimeConfig x not found"));
  ASSERT_EQ(o.components.size(), 3u);
  EXPECT_EQ(o.components[0].component, "RuntimeConfig");
  EXPECT_EQ(o.components[1].reason, "ReferenceNotFound");
  EXPECT_EQ(o.components[1].message, "Service template tpl not found");
  EXPECT_EQ(o.components[2].reason, "NoCaches");

  auto p = template_cache::observe(typed_cache(cache_json("Shared")),
                                   template_with_sources(Json::array(), false), {}, std::nullopt);
  EXPECT_EQ(component(p, "ServiceTemplate")->state, engine::ComponentState::Progressing);
  EXPECT_EQ(component(p, "ServiceTemplate")->reason, "TemplateNotReady");
}

TEST(TemplateCacheStatus, ArtifactsAreListedAndUnknownKeysKept) {
  std::vector<Cached<api::AIMArtifact>> arts{artifact_obj("a", "hf://org/a", "Ready")};
  auto old = api::decode<api::AIMTemplateCacheStatus>(
      Json{{"futureField", 7},
           {"artifacts",
            {{"gone", {{"uid", "u"}, {"name", "gone"}, {"model", "m"}, {"status", "Ready"}}}}}});
  ASSERT_TRUE(old) << old.error;
  auto st = template_cache::status_without_conditions(*old.value, engine::ComponentState::Ready,
                                                      {{&arts[0], "org/a"}}, 3);
  Json j = api::encode(st);
  EXPECT_EQ(j["futureField"], 7);
  EXPECT_EQ(j["status"], "Ready");
  EXPECT_EQ(j["observedGeneration"], 3);
  EXPECT_FALSE(j["artifacts"].contains("gone"));
  EXPECT_EQ(j["artifacts"]["a"], (Json{{"uid", "uid-a"},
                                       {"name", "a"},
                                       {"model", "org/a"},
                                       {"status", "Ready"},
                                       {"persistentVolumeClaim", "a-pvc"}}));
  // No artifact matched: the key goes.
  j = api::encode(template_cache::status_without_conditions(
      *old.value, engine::ComponentState::Progressing, {}, std::nullopt));
  EXPECT_FALSE(j.contains("artifacts"));
  EXPECT_FALSE(j.contains("observedGeneration"));
}

TEST(ApplyFailureCondition, A422IsAnInternalErrorNamingTheField) {
  kube::Error invalid;
  invalid.code = kube::ErrorCode::kInvalid;
  invalid.http_status = 422;
  invalid.message = "AIMArtifact.aim.eai.amd.com \"a\" is invalid";
  invalid.causes.push_back({"spec.modelId", "FieldValueInvalid", "Invalid value: \"\""});
  auto c = apply_failure_condition("AIMArtifact", "a", invalid);
  EXPECT_EQ(c.type, "DependenciesReachable");
  EXPECT_EQ(c.status, "False");
  EXPECT_EQ(c.reason, "InternalError");
  EXPECT_NE(c.message.find("Failed to apply resources: AIMArtifact a: "), std::string::npos);
  EXPECT_NE(c.message.find("spec.modelId"), std::string::npos) << c.message;
  kube::Error down = kube::make_error(kube::ErrorCode::kServerError, "etcd is down");
  EXPECT_EQ(apply_failure_condition("AIMArtifact", "a", down).reason, "InfrastructureError");
}

api::DynamoModel dynamo_model(const Json& j) {
  return decoded<api::DynamoModel>(j);
}
api::AIMArtifact artifact(const Json& j) {
  return decoded<api::AIMArtifact>(j);
}

TEST(DynamoModelMapping, SeedExampleMapsOntoAnArtifact) {
  Json m{{"apiVersion", "nvidia.com/v1alpha1"},
         {"kind", "DynamoModel"},
         {"metadata", {{"name", "llama"}, {"namespace", "ns"}, {"uid", "mu"}}},
         {"spec",
          {{"name", "meta-llama/Llama-3.3-70B-Instruct"},
           {"version", "abcd12345"},
           {"sourceURL", "hf://meta-llama/Llama-3.3-70B-Instruct"},
           {"secretRef", "llama-hf-secret"},
           {"pvc",
            {{"create", true},
             {"storageClass", "sc"},
             {"size", "200Gi"},
             {"volumeAccessMode", "ReadWriteMany"}}}}}};
  Json a = api::encode(dynamo::artifact_for(dynamo_model(m)));
  EXPECT_EQ(a["metadata"]["name"], "llama");
  EXPECT_EQ(a["spec"]["sourceUri"], "hf://meta-llama/Llama-3.3-70B-Instruct");
  EXPECT_EQ(a["spec"]["revision"], "abcd12345");
  EXPECT_EQ(a["spec"]["credentialsSecretRef"]["name"], "llama-hf-secret");
  EXPECT_EQ(a["spec"]["size"], "200Gi");
  EXPECT_EQ(a["spec"]["storageClassName"], "sc");
  EXPECT_FALSE(a["spec"].contains("existingClaimName"));
  EXPECT_EQ(a["metadata"]["ownerReferences"][0]["uid"], "mu");
  EXPECT_EQ(a["metadata"]["ownerReferences"][0]["controller"], true);
  // Only what the operator sets: a status (even an empty one) would never be a subset of the
  // live artifact's, and apply_child would patch on every reconcile.
  EXPECT_FALSE(a.contains("status")) << a.dump();
  m["spec"]["pvc"] = {{"create", false}, {"name", "existing"}};
  EXPECT_EQ(api::encode(dynamo::artifact_for(dynamo_model(m)))["spec"]["existingClaimName"],
            "existing");

  auto state = [](const Json& j) {
    api::AIMArtifact a = artifact(j);
    return dynamo::state_of(&a);
  };
  EXPECT_EQ(dynamo::state_of(nullptr), "Pending");
  EXPECT_EQ(state(Json{{"status", {{"status", "Progressing"}}}}), "Pending");
  EXPECT_EQ(state(Json{{"status", {{"status", "Progressing"}, {"downloadJobName", "j"}}}}),
            "Downloading");
  EXPECT_EQ(state(Json{{"status", {{"status", "Ready"}}}}), "Ready");
  EXPECT_EQ(state(Json{{"status", {{"status", "Failed"}}}}), "Failed");
  api::AIMArtifact served = artifact(Json{{"status",
                                           {{"status", "Ready"},
                                            {"persistentVolumeClaim", "pvc1"},
                                            {"downloadJobName", "j1"},
                                            {"lastDownloadTime", "2026-01-01T00:00:00Z"}}}});
  Json st = api::encode(dynamo::status_for(dynamo_model(m).status, &served));
  EXPECT_EQ(st["state"], "Ready");
  EXPECT_EQ(st["pvcName"], "pvc1");
  EXPECT_EQ(st["downloadJobName"], "j1");
  EXPECT_EQ(st["lastDownloadTime"], "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace aim::controllers
