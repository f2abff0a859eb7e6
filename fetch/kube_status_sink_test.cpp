#include "fetch/kube_status_sink.h"

#include <gtest/gtest.h>

#include "kube/testing/fake_client.h"

namespace aim::fetch {
namespace {

using Json = nlohmann::json;

std::shared_ptr<kube::testing::FakeClient> client_with_artifact() {
  auto client = std::make_shared<kube::testing::FakeClient>();
  Json art{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
           {"kind", "AIMArtifact"},
           {"metadata", {{"name", "a1"}, {"namespace", "ns"}}},
           {"spec", {{"sourceUri", "hf://org/m"}}},
           {"status", {{"status", "Progressing"}, {"persistentVolumeClaim", "a1-cache"}}}};
  EXPECT_TRUE(client->create(artifact_resource_type(), art).ok());
  return client;
}

Json status_of(kube::testing::FakeClient& c) {
  auto got = c.get(artifact_resource_type(), "ns", "a1");
  EXPECT_TRUE(got.ok());
  return got.ok() ? got.value().value("status", Json::object()) : Json::object();
}

TEST(KubeStatusSink, ProgressPatchCapsAt99AndCarriesRateAndEta) {
  ProgressSnapshot p;
  p.total_bytes = 1000;
  p.downloaded_bytes = 999;
  p.bytes_per_second = 10.5;
  p.eta_seconds = 0.1;
  Json j = KubeStatusSink::progress_patch(p, false)["status"]["progress"];
  EXPECT_EQ(j["percentage"], 99);
  EXPECT_EQ(j["displayPercentage"], "99 %");
  EXPECT_EQ(j["bytesPerSecond"], 10);
  EXPECT_EQ(j["etaSeconds"], 1);
  p.eta_seconds = -1;
  EXPECT_TRUE(
      KubeStatusSink::progress_patch(p, false)["status"]["progress"]["etaSeconds"].is_null());
  Json done = KubeStatusSink::progress_patch(p, true)["status"]["progress"];
  EXPECT_EQ(done["percentage"], 100);
  EXPECT_EQ(done["downloadedBytes"], 1000);
}

TEST(KubeStatusSink, SuccessWritesProgressRevisionAndDigestKeepingOtherStatus) {
  auto client = client_with_artifact();
  {
    KubeStatusSink sink(client, artifact_resource_type(), "ns", "a1", "hf",
                        std::chrono::milliseconds(0));
    sink.started(StartInfo{"hf://org/m", "abc", 2, 2000, 0});
    ProgressSnapshot p{1000, 2000, 1, 2, 500.0, 2.0};
    sink.progress(p);
    sink.finished(Summary{"hf://org/m", "abc123", "sha256:ff", 2, 2000, 2000, 1.0});
  }
  Json s = status_of(*client);
  EXPECT_EQ(s["progress"]["percentage"], 100);
  EXPECT_EQ(s["progress"]["displayPercentage"], "100 %");
  EXPECT_EQ(s["progress"]["totalBytes"], 2000);
  EXPECT_EQ(s["download"]["protocol"], "hf");
  EXPECT_EQ(s["download"]["message"], "Verified");
  EXPECT_EQ(s["resolvedRevision"], "abc123");
  EXPECT_EQ(s["contentDigest"], "sha256:ff");
  // Fields the controller owns are untouched by the merge patches.
  EXPECT_EQ(s["status"], "Progressing");
  EXPECT_EQ(s["persistentVolumeClaim"], "a1-cache");
}

TEST(KubeStatusSink, StartWritesTheResolvedFilesBounded) {
  StartInfo info{"hf://org/m", "abc", 2, 30, 0, {"a.json", "w/b.safetensors"}, "include *.json"};
  Json r = KubeStatusSink::resolved_files(info);
  EXPECT_EQ(r["count"], 2);
  EXPECT_EQ(r["totalBytes"], 30);
  EXPECT_EQ(r["paths"], Json::array({"a.json", "w/b.safetensors"}));
  EXPECT_EQ(r["truncated"], false);

  StartInfo many;
  for (size_t i = 0; i < KubeStatusSink::kMaxResolvedPaths + 5; ++i)
    many.files.push_back("f" + std::to_string(i));
  Json big = KubeStatusSink::resolved_files(many);
  EXPECT_EQ(big["count"], KubeStatusSink::kMaxResolvedPaths + 5);
  EXPECT_EQ(big["paths"].size(), KubeStatusSink::kMaxResolvedPaths);
  EXPECT_EQ(big["truncated"], true);

  auto client = client_with_artifact();
  {
    KubeStatusSink sink(client, artifact_resource_type(), "ns", "a1", "hf",
                        std::chrono::milliseconds(0));
    sink.started(info);
  }
  EXPECT_EQ(status_of(*client)["resolvedFiles"]["paths"][1], "w/b.safetensors");
}

TEST(KubeStatusSink, ProgressIsCoalescedWithinTheInterval) {
  auto client = client_with_artifact();
  client->clear_actions();
  int sent = 0;
  {
    KubeStatusSink sink(client, artifact_resource_type(), "ns", "a1", "s3", std::chrono::hours(1));
    sink.started(StartInfo{"s3://b/p", "", 1, 100, 0});
    for (int i = 0; i < 200; ++i)
      sink.progress(ProgressSnapshot{std::uint64_t(i) / 2, 100, 0, 1, 1, 1});
    sink.finished(Summary{"s3://b/p", "", "sha256:aa", 1, 100, 100, 1});
    sent = sink.patches_sent();
  }
  // start (urgent) and finish (flush); the 200 progress events in between merge into one of them
  // or into at most one more patch.
  EXPECT_GE(sent, 1);
  EXPECT_LE(sent, 3);
  EXPECT_EQ(static_cast<int>(client->actions("patch", "aimartifacts").size()), sent);
  EXPECT_EQ(status_of(*client)["progress"]["percentage"], 100);
}

TEST(KubeStatusSink, FailureWritesClassAndMessage) {
  auto client = client_with_artifact();
  {
    KubeStatusSink sink(client, artifact_resource_type(), "ns", "a1", "hf",
                        std::chrono::milliseconds(0));
    sink.failed(Failure{FailureClass::kAuth, "401 from the Hub"});
  }
  Json s = status_of(*client);
  EXPECT_EQ(s["download"]["message"], "Failed: auth: 401 from the Hub");
  EXPECT_EQ(s["progress"]["displayPercentage"], "N/A");
}

TEST(KubeStatusSink, MissingObjectDoesNotStopTheDownload) {
  auto client = std::make_shared<kube::testing::FakeClient>();
  KubeStatusSink sink(client, artifact_resource_type(), "ns", "gone", "hf",
                      std::chrono::milliseconds(0));
  sink.started(StartInfo{"hf://org/m", "", 1, 1, 0});
  sink.finished(Summary{"hf://org/m", "r", "sha256:aa", 1, 1, 1, 1});
  EXPECT_GE(sink.patches_sent(), 1);
}

}  // namespace
}  // namespace aim::fetch
