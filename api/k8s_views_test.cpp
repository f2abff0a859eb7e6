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

// As KServe, the Gateway API, KEDA's HPA and the event recorder write them: conditions without
// reason or times, volumes of other kinds, fields the views do not declare.
const Json kIsvc = Json::parse(R"({
  "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
  "metadata": {"name": "svc", "namespace": "ns", "uid": "i1"},
  "spec": {"predictor": {"minReplicas": 1, "model": {"runtime": "aim"},
           "volumes": [{"name": "dshm", "emptyDir": {"medium": "Memory"}},
                       {"name": "model-cache", "persistentVolumeClaim": {"claimName": "c-1"}}]}},
  "status": {"url": "http://svc.ns", "conditions": [
               {"type": "PredictorReady", "status": "True", "lastTransitionTime": "2026-12-06T00:00:00Z"},
               {"type": "Ready", "status": "False", "severity": "Info",
                "message": "Revision missing"}]}
})");

const Json kRoute = Json::parse(R"({
  "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
  "metadata": {"name": "r", "namespace": "ns"},
  "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "svc"}]}]},
  "status": {"parents": [{"parentRef": {"name": "gw"}, "controllerName": "example.com/gw",
                          "conditions": [{"type": "Accepted", "status": "False",
                                          "reason": "NotAllowedByListeners", "message": "no",
                                          "observedGeneration": 1,
                                          "lastTransitionTime": "2026-12-06T00:00:00Z"}]}]}
})");

const Json kHpa = Json::parse(R"({
  "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "keda-hpa-svc-predictor", "namespace": "ns"},
  "spec": {"minReplicas": 1, "maxReplicas": 4, "scaleTargetRef": {"kind": "Deployment", "name": "d"}},
  "status": {"currentReplicas": 2, "desiredReplicas": 3,
             "conditions": [{"type": "ScalingActive", "status": "False", "reason": "FailedGetExternalMetric",
                             "message": "no metrics", "lastTransitionTime": "2026-12-06T00:00:00Z"}]}
})");

const Json kEvent = Json::parse(R"({
  "apiVersion": "v1", "kind": "Event",
  "metadata": {"name": "svc.1", "namespace": "ns"},
  "involvedObject": {"kind": "InferenceService", "namespace": "ns", "name": "svc", "uid": "i1",
                     "apiVersion": "serving.kserve.io/v1beta1"},
  "reason": "InternalError", "message": "fails to reconcile", "type": "Warning", "count": 3,
  "source": {"component": "inferenceservice-controller"}
})");

const Json kNode = Json::parse(R"({
  "apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "gpu-0", "uid": "n1", "labels": {"amd.com/gpu.device-id": "74a1"}},
  "spec": {"podCIDR": "10.0.0.0/24"},
  "status": {"allocatable": {"amd.com/gpu": "8", "cpu": "96", "pods": 110},
             "capacity": {"amd.com/gpu": "8"}, "conditions": [{"type": "Ready", "status": "True"}]}
})");

const Json kSecret = Json::parse(R"({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "pull", "namespace": "ns"},
  "type": "kubernetes.io/dockerconfigjson",
  "data": {".dockerconfigjson": "e30="}, "immutable": true
})");

// A download Job as the API server gives it back: defaulted fields, volume and env sources the
// views do not declare, a template metadata with a null creationTimestamp (older servers).
const Json kServedJob = Json::parse(R"({
  "apiVersion": "batch/v1", "kind": "Job",
  "metadata": {"name": "dl", "namespace": "ns", "labels": {"aim.eai.amd.com/component": "download"}},
  "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 600, "activeDeadlineSeconds": 3600,
           "completionMode": "NonIndexed", "suspend": false, "parallelism": 1,
           "podFailurePolicy": {"rules": [{"action": "FailJob", "onPodConditions": [],
                                           "onExitCodes": {"containerName": "model-download",
                                                           "operator": "In",
                                                           "values": [2, 3, 4, 10]}}]},
           "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
           "template": {
             "metadata": {"creationTimestamp": null,
                          "labels": {"batch.kubernetes.io/job-name": "dl"}},
             "spec": {
               "restartPolicy": "Never", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
               "terminationGracePeriodSeconds": 30,
               "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": true,
                                   "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"},
                                   "supplementalGroups": [5]},
               "nodeSelector": {"role": "egress"},
               "tolerations": [{"key": "egress", "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300}],
               "imagePullSecrets": [{"name": "pull"}],
               "serviceAccountName": "default",
               "containers": [{
                 "name": "model-download", "image": "aim-engine:dev", "imagePullPolicy": "IfNotPresent",
                 "command": ["aim-fetch"], "args": ["hf://org/m", "/cache"],
                 "env": [{"name": "A", "value": "1"},
                         {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                    "fieldPath": "metadata.name"}}}],
                 "envFrom": [{"secretRef": {"name": "creds"}}, {"configMapRef": {"name": "c"}, "prefix": "X_"}],
                 "volumeMounts": [{"name": "cache", "mountPath": "/cache", "subPath": "m"}],
                 "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "100m"}},
                 "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true,
                                     "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true},
                 "terminationMessagePath": "/dev/termination-log",
                 "terminationMessagePolicy": "File"}],
               "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "pvc"}},
                           {"name": "tmp", "emptyDir": {}}]}}},
  "status": {"active": 1, "ready": 0, "startTime": "2026-12-06T00:00:01Z"}
})");

const Json kRoleBinding = Json::parse(R"({
  "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
  "metadata": {"name": "b", "namespace": "ns", "resourceVersion": "7"},
  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
  "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "ns"},
               {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "g"}]
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
  EXPECT_EQ(encode(decoded<InferenceService>(kIsvc)), kIsvc);
  EXPECT_EQ(encode(decoded<HTTPRoute>(kRoute)), kRoute);
  EXPECT_EQ(encode(decoded<HorizontalPodAutoscaler>(kHpa)), kHpa);
  EXPECT_EQ(encode(decoded<Event>(kEvent)), kEvent);
  EXPECT_EQ(encode(decoded<Node>(kNode)), kNode);
  EXPECT_EQ(encode(decoded<Secret>(kSecret)), kSecret);
  EXPECT_EQ(encode(decoded<RoleBinding>(kRoleBinding)), kRoleBinding);
  // The null creationTimestamp reads as absent and is not written back: the one difference.
  Json served = kServedJob;
  served["spec"]["template"]["metadata"].erase("creationTimestamp");
  EXPECT_EQ(encode(decoded<Job>(kServedJob)), served);
}

TEST(K8sViews, TheFieldsOfAServedJobTheOperatorSets) {
  Job job = decoded<Job>(kServedJob);
  EXPECT_EQ(job.spec.backoff_limit, 3);
  EXPECT_EQ(job.spec.ttl_seconds_after_finished, 600);
  ASSERT_TRUE(job.spec.pod_failure_policy);
  ASSERT_EQ(job.spec.pod_failure_policy->rules.size(), 1u);
  EXPECT_EQ(job.spec.pod_failure_policy->rules[0].on_exit_codes->values,
            (std::vector<int32_t>{2, 3, 4, 10}));
  ASSERT_TRUE(job.spec.template_);
  const PodSpec& pod = job.spec.template_->spec;
  EXPECT_EQ(pod.security_context->fs_group, 1000);
  EXPECT_EQ(pod.security_context->seccomp_profile->type, "RuntimeDefault");
  EXPECT_EQ(pod.tolerations.at(0).operator_, "Exists");
  EXPECT_EQ(pod.tolerations.at(0).toleration_seconds, 300);
  EXPECT_EQ(pod.image_pull_secrets.at(0).name, "pull");
  const Container& c = pod.containers->at(0);
  EXPECT_EQ(c.env_from.at(0).secret_ref->name, "creds");
  EXPECT_EQ(c.env_from.at(1).prefix, "X_");
  EXPECT_EQ(c.volume_mounts.at(0).mount_path, "/cache");
  EXPECT_EQ(c.security_context->capabilities->drop, (std::vector<std::string>{"ALL"}));
  EXPECT_EQ(pod.volumes->at(0).persistent_volume_claim->claim_name, "pvc");
}

// A child built from the views holds what was set and nothing else: no empty status, spec or
// list, and the core group's apiVersion is "v1".
TEST(K8sViews, AnObjectBuiltFromTheViewsHoldsOnlyWhatWasSet) {
  PersistentVolumeClaim claim;
  claim.metadata.name = "c";
  claim.spec.access_modes = std::vector<std::string>{"ReadWriteOnce"};
  EXPECT_EQ(encode(claim), Json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"]}})"));
  Job job;
  job.spec.template_.emplace();
  job.spec.template_->spec.restart_policy = "Never";
  EXPECT_EQ(encode(job), Json::parse(R"({"apiVersion": "batch/v1", "kind": "Job",
      "spec": {"template": {"spec": {"restartPolicy": "Never"}}}})"));
  RoleBinding binding;
  binding.role_ref = RoleRef{"rbac.authorization.k8s.io", "ClusterRole", "r", {}};
  EXPECT_EQ(encode(binding)["roleRef"]["name"], "r");
  EXPECT_FALSE(encode(binding).contains("subjects"));
  EXPECT_EQ(PersistentVolumeClaim::kind_info.api_version(), "v1");
  EXPECT_EQ(Job::kind_info.api_version(), "batch/v1");
}

TEST(K8sViews, TheFieldsTheServiceControllerReads) {
  InferenceService isvc = decoded<InferenceService>(kIsvc);
  EXPECT_FALSE(condition_true(isvc.status.conditions, "Ready"));
  EXPECT_TRUE(condition_true(isvc.status.conditions, "PredictorReady"));
  ASSERT_NE(find_condition(isvc.status.conditions, "Ready"), nullptr);
  EXPECT_EQ(find_condition(isvc.status.conditions, "Ready")->message, "Revision missing");
  EXPECT_EQ(find_condition(isvc.status.conditions, "Ready")->reason, std::nullopt);
  using Claims = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(predictor_claims(isvc), (Claims{{"model-cache", "c-1"}}));
  EXPECT_TRUE(predictor_claims(InferenceService{}).empty());

  HTTPRoute route = decoded<HTTPRoute>(kRoute);
  ASSERT_TRUE(route.status.parents);
  const auto* accepted = find_condition((*route.status.parents)[0].conditions, "Accepted");
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->reason, "NotAllowedByListeners");

  HorizontalPodAutoscaler hpa = decoded<HorizontalPodAutoscaler>(kHpa);
  EXPECT_EQ(hpa.spec.min_replicas, 1);
  EXPECT_EQ(hpa.spec.max_replicas, 4);
  EXPECT_EQ(hpa.status.current_replicas, 2);
  EXPECT_EQ(hpa.status.desired_replicas, 3);
  EXPECT_EQ(find_condition(hpa.status.conditions, "ScalingActive")->message, "no metrics");

  Event ev = decoded<Event>(kEvent);
  ASSERT_TRUE(ev.involved_object);
  EXPECT_EQ(ev.involved_object->kind, "InferenceService");
  EXPECT_EQ(ev.involved_object->uid, "i1");
  EXPECT_EQ(ev.reason, "InternalError");
  EXPECT_EQ(ev.type, "Warning");

  Json pulling = kPod;
  pulling["status"]["phase"] = "Pending";
  pulling["status"]["reason"] = "Evicted";
  pulling["status"]["initContainerStatuses"] = Json::parse(
      R"([{"name": "init", "state": {"waiting": {"reason": "ErrImagePull", "message": "401"}}}])");
  Pod pod = decoded<Pod>(pulling);
  EXPECT_EQ(encode(pod), pulling);
  EXPECT_EQ(pod.status.reason, "Evicted");
  EXPECT_FALSE(condition_true(pod.status.conditions, "Ready"));
  ASSERT_TRUE(pod.status.init_container_statuses);
  EXPECT_EQ((*pod.status.init_container_statuses)[0].state->waiting->reason, "ErrImagePull");
  EXPECT_EQ(label(pod.metadata, "job-name"), "dl-x");
  EXPECT_EQ(label(pod.metadata, "absent"), "");
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

  Node node = decoded<Node>(kNode);
  ASSERT_TRUE(node.status.allocatable);
  EXPECT_EQ(node.status.allocatable->at("amd.com/gpu").str(), "8");
  EXPECT_EQ(node.status.allocatable->at("pods").str(), "110");

  Secret secret = decoded<Secret>(kSecret);
  EXPECT_EQ(secret.type, "kubernetes.io/dockerconfigjson");
  EXPECT_EQ(secret.data->at(".dockerconfigjson"), "e30=");

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
