// The typed views of built-in kinds read the fields the operator uses and give back every other
// field unchanged (decode then encode is the identity on objects as the API server sends them).
#include "api/k8s_views.h"

#include <gtest/gtest.h>

namespace aim::api {
namespace {

const Json kJob = Json::parse(R"({
  "apiVersion": "batch/v1", "kind": "Job",
  "metadata": {"name": "dl-x", "namespace": "ns", "uid": "u1", "resourceVersion": "42",
               "generation": 1, "annotations": {"aim.eai.amd.com/attempt": "2"},
               "labels": {"job-name": "dl-x"}, "creationTimestamp": "2026-12-06T00:00:00Z",
               "managedFields": [{"manager": "kube-controller-manager"}]},
  "spec": {"activeDeadlineSeconds": 3600, "backoffLimit": 0, "completions": 1,
           "template": {"spec": {"containers": [{"name": "download", "image": "i"}],
                                 "restartPolicy": "Never"}}},
  "status": {"conditions": [
               {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded",
                "message": "Job was active longer than specified deadline",
                "lastProbeTime": "2026-12-06T01:00:00Z",
                "lastTransitionTime": "2026-12-06T01:00:00Z"},
               {"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
                "message": "Job was active longer than specified deadline",
                "lastProbeTime": "2026-12-06T01:00:01Z",
                "lastTransitionTime": "2026-12-06T01:00:01Z"}],
             "failed": 1, "startTime": "2026-12-06T00:00:01Z", "uncountedTerminatedPods": {}}
})");

const Json kPod = Json::parse(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "dl-x-abc", "namespace": "ns", "labels": {"job-name": "dl-x"}},
  "spec": {"containers": [{"name": "download", "image": "i"}], "nodeName": "n1"},
  "status": {"phase": "Failed", "podIP": "10.0.0.3",
             "conditions": [{"type": "Ready", "status": "False"}],
             "containerStatuses": [
               {"name": "download", "ready": false, "restartCount": 0, "image": "i",
                "imageID": "sha256:00", "containerID": "containerd://c",
                "state": {"terminated": {"exitCode": 3, "reason": "Error",
                                         "message": "{\"class\": \"auth\"}",
                                         "startedAt": "2026-12-06T00:00:02Z",
                                         "finishedAt": "2026-12-06T00:00:09Z",
                                         "containerID": "containerd://c"}},
                "lastState": {}}]}
})");

const Json kClaim = Json::parse(R"({
  "apiVersion": "v1", "kind": "PersistentVolumeClaim",
  "metadata": {"name": "c", "namespace": "ns", "finalizers": ["kubernetes.io/pvc-protection"]},
  "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local",
           "resources": {"requests": {"storage": "11Gi"}}, "volumeMode": "Filesystem",
           "volumeName": "pv-1"},
  "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}}
})");

template <class T>
T decoded(const Json& j) {
  auto d = decode<T>(j);
  EXPECT_TRUE(d) << d.error;
  return d ? *d.value : T{};
}

TEST(K8sViews, DecodeThenEncodeGivesBackTheObject) {
  EXPECT_EQ(encode(decoded<Job>(kJob)), kJob);
  EXPECT_EQ(encode(decoded<Pod>(kPod)), kPod);
  EXPECT_EQ(encode(decoded<PersistentVolumeClaim>(kClaim)), kClaim);
}

TEST(K8sViews, TheFieldsTheOperatorReads) {
  Job job = decoded<Job>(kJob);
  EXPECT_EQ(job.spec.active_deadline_seconds, 3600);
  ASSERT_NE(true_condition(job, "Failed"), nullptr);
  EXPECT_EQ(true_condition(job, "Failed")->reason, "DeadlineExceeded");
  EXPECT_EQ(true_condition(job, "Complete"), nullptr);
  EXPECT_EQ(job.metadata.annotations->at("aim.eai.amd.com/attempt"), "2");

  Pod pod = decoded<Pod>(kPod);
  EXPECT_EQ(pod.status.phase, "Failed");
  ASSERT_TRUE(pod.status.container_statuses);
  const auto& t = (*pod.status.container_statuses)[0].state->terminated;
  ASSERT_TRUE(t);
  EXPECT_EQ(t->exit_code, 3);
  EXPECT_EQ(t->message, "{\"class\": \"auth\"}");
  EXPECT_EQ(t->finished_at, "2026-12-06T00:00:09Z");

  PersistentVolumeClaim claim = decoded<PersistentVolumeClaim>(kClaim);
  EXPECT_EQ(claim.status.phase, "Bound");
  ASSERT_TRUE(storage_request(claim));
  EXPECT_EQ(storage_request(claim)->value, "11Gi");
  EXPECT_FALSE(storage_request(PersistentVolumeClaim{}));
}

// What the operator must never do with a view: fail on a field it does not declare, whatever its
// shape, or lose one (a newer API server's fields included).
TEST(K8sViews, FieldsOfAnyShapeTheViewDoesNotDeclareSurvive) {
  Json pod = kPod;
  pod["status"]["resize"] = "InProgress";
  pod["status"]["containerStatuses"][0]["allocatedResources"] = {{"cpu", "1"}};
  pod["status"]["containerStatuses"][0]["state"]["terminated"]["signal"] = 9;
  pod["futureTopLevel"] = Json::array({1, {{"a", nullptr}}});
  EXPECT_EQ(encode(decoded<Pod>(pod)), pod);
}

// A declared field of the wrong type is an error naming its path, not a crash or a default.
TEST(K8sViews, ADeclaredFieldOfTheWrongTypeIsAnErrorWithItsPath) {
  Json job = kJob;
  job["spec"]["activeDeadlineSeconds"] = "soon";
  auto d = decode<Job>(job);
  ASSERT_FALSE(d);
  EXPECT_NE(d.error.find("spec.activeDeadlineSeconds"), std::string::npos) << d.error;
}

}  // namespace
}  // namespace aim::api
