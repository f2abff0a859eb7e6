// Typed views of the built-in Kubernetes kinds the operator reads or creates: only the fields it
// uses are declared, everything else stays in each level's `extra` (so decode then encode gives
// back the object). Controllers read informer objects through them (controllers/typed.h) and
// build the children they create with them (download and discovery Jobs, claims, RoleBindings):
// a misspelt field is a compile error, not a silently ignored key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/k8s.h"
#include "api/resource.h"

namespace aim::api {

// ---- v1 Pod ------------------------------------------------------------------------------------

struct ContainerStateTerminated {
  int32_t exit_code = 0;
  std::optional<std::string> message;
  std::optional<std::string> reason;
  std::optional<std::string> finished_at;
  Json extra;
  static void describe(Fields<ContainerStateTerminated>& f);
};

struct ContainerStateWaiting {
  std::optional<std::string> reason;  // ImagePullBackOff, ErrImagePull, CrashLoopBackOff, ...
  std::optional<std::string> message;
  Json extra;
  static void describe(Fields<ContainerStateWaiting>& f);
};

struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateTerminated> terminated;
  Json extra;  // running
  static void describe(Fields<ContainerState>& f);
};

struct ContainerStatus {
  std::string name;
  std::optional<ContainerState> state;
  Json extra;
  static void describe(Fields<ContainerStatus>& f);
};

struct PersistentVolumeClaimVolumeSource {
  std::optional<std::string> claim_name;
  Json extra;
  static void describe(Fields<PersistentVolumeClaimVolumeSource>& f);
};

struct Volume {
  std::optional<std::string> name;
  std::optional<PersistentVolumeClaimVolumeSource> persistent_volume_claim;
  Json extra;  // every other volume source
  static void describe(Fields<Volume>& f);
};

struct SeccompProfile {
  std::optional<std::string> type;  // RuntimeDefault, Localhost, Unconfined
  Json extra;
  static void describe(Fields<SeccompProfile>& f);
};

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  Json extra;
  static void describe(Fields<Capabilities>& f);
};

// A container's securityContext.
struct SecurityContext {
  std::optional<bool> allow_privilege_escalation;
  std::optional<bool> run_as_non_root;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<Capabilities> capabilities;
  Json extra;
  static void describe(Fields<SecurityContext>& f);
};

// A pod's securityContext.
struct PodSecurityContext {
  std::optional<bool> run_as_non_root;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<int64_t> fs_group;
  std::optional<SeccompProfile> seccomp_profile;
  Json extra;
  static void describe(Fields<PodSecurityContext>& f);
};

// envFrom: every key of a Secret or ConfigMap as environment variables.
struct EnvFromSource {
  std::optional<LocalObjectReference> secret_ref;
  std::optional<LocalObjectReference> config_map_ref;
  std::optional<std::string> prefix;
  Json extra;
  static void describe(Fields<EnvFromSource>& f);
};

struct VolumeMount {
  std::string name;
  std::string mount_path;
  std::optional<bool> read_only;
  Json extra;
  static void describe(Fields<VolumeMount>& f);
};

struct Container {
  std::optional<std::string> name;
  std::optional<std::string> image;
  std::optional<std::string> image_pull_policy;  // Always, IfNotPresent, Never
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> args;
  std::optional<EnvList> env;
  std::vector<EnvFromSource> env_from;
  std::vector<VolumeMount> volume_mounts;
  std::optional<ResourceRequirements> resources;
  std::optional<SecurityContext> security_context;
  Json extra;
  static void describe(Fields<Container>& f);
};

struct Toleration {
  std::optional<std::string> key;
  std::optional<std::string> operator_;  // Exists, Equal
  std::optional<std::string> value;
  std::optional<std::string> effect;  // NoSchedule, PreferNoSchedule, NoExecute
  std::optional<int64_t> toleration_seconds;
  Json extra;
  static void describe(Fields<Toleration>& f);
};

struct PodSpec {
  std::optional<std::string> restart_policy;  // Always, OnFailure, Never
  std::optional<PodSecurityContext> security_context;
  std::optional<std::vector<Container>> containers;
  std::optional<StringMap> node_selector;
  std::vector<Toleration> tolerations;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::optional<std::string> service_account_name;
  std::optional<std::vector<Volume>> volumes;
  Json extra;
  static void describe(Fields<PodSpec>& f);
};

struct PodTemplateSpec {
  ObjectMeta metadata;
  PodSpec spec;
  Json extra;
  static void describe(Fields<PodTemplateSpec>& f);
};

// A condition as the built-in kinds report it (Pod, InferenceService, HTTPRoute,
// HorizontalPodAutoscaler): unlike api::Condition, reason, message and the times may be absent,
// and stay absent when encoded again.
struct ObservedCondition {
  std::string type;
  std::optional<std::string> status;  // True, False, Unknown
  std::optional<std::string> reason;
  std::optional<std::string> message;
  Json extra;  // lastTransitionTime, lastProbeTime, observedGeneration, severity, ...
  static void describe(Fields<ObservedCondition>& f);
};
using ObservedConditions = std::optional<std::vector<ObservedCondition>>;

// The condition of `type`, or nullptr.
const ObservedCondition* find_condition(const ObservedConditions& conditions,
                                        std::string_view type);
// The condition of `type` is there and True.
bool condition_true(const ObservedConditions& conditions, std::string_view type);

struct PodStatus {
  std::optional<std::string> phase;
  std::optional<std::string> reason;  // Evicted, ...
  std::optional<std::string> message;
  ObservedConditions conditions;
  std::optional<std::vector<ContainerStatus>> init_container_statuses;
  std::optional<std::vector<ContainerStatus>> container_statuses;
  Json extra;
  static void describe(Fields<PodStatus>& f);
};

struct PodTag {
  using Spec = PodSpec;
  using Status = PodStatus;
  static constexpr KindInfo info = {"", "v1", "Pod", "pods", "pod", "PodList", true};
};
using Pod = Resource<PodTag>;

// ---- batch/v1 Job ------------------------------------------------------------------------------

struct PodFailurePolicyOnExitCodes {
  std::optional<std::string> container_name;
  std::string operator_;  // In, NotIn
  std::vector<int32_t> values;
  Json extra;
  static void describe(Fields<PodFailurePolicyOnExitCodes>& f);
};

struct PodFailurePolicyRule {
  std::string action;  // FailJob, FailIndex, Ignore, Count
  std::optional<PodFailurePolicyOnExitCodes> on_exit_codes;
  Json extra;  // onPodConditions
  static void describe(Fields<PodFailurePolicyRule>& f);
};

struct PodFailurePolicy {
  std::vector<PodFailurePolicyRule> rules;
  Json extra;
  static void describe(Fields<PodFailurePolicy>& f);
};

struct JobSpec {
  std::optional<int32_t> backoff_limit;
  std::optional<int32_t> ttl_seconds_after_finished;
  std::optional<int64_t> active_deadline_seconds;
  std::optional<PodFailurePolicy> pod_failure_policy;
  std::optional<PodTemplateSpec> template_;
  Json extra;
  static void describe(Fields<JobSpec>& f);
};

struct JobStatus {
  std::vector<Condition> conditions;  // Complete, Failed, SuccessCriteriaMet, FailureTarget, ...
  std::optional<std::string> completion_time;
  Json extra;
  static void describe(Fields<JobStatus>& f);
};

struct JobTag {
  using Spec = JobSpec;
  using Status = JobStatus;
  static constexpr KindInfo info = {"batch", "v1", "Job", "jobs", "job", "JobList", true};
};
using Job = Resource<JobTag>;

// The True condition of `type` of a Job, or nullptr.
const Condition* true_condition(const Job& job, std::string_view type);

// ---- v1 PersistentVolumeClaim -----------------------------------------------------------------

struct VolumeResourceRequirements {
  std::optional<std::map<std::string, Quantity>> requests;
  Json extra;  // limits
  static void describe(Fields<VolumeResourceRequirements>& f);
};

struct PersistentVolumeClaimSpec {
  std::optional<std::vector<std::string>> access_modes;  // ReadWriteOnce, ReadWriteMany, ...
  std::optional<VolumeResourceRequirements> resources;
  std::optional<std::string> storage_class_name;
  Json extra;
  static void describe(Fields<PersistentVolumeClaimSpec>& f);
};

struct PersistentVolumeClaimStatus {
  std::optional<std::string> phase;  // Pending, Bound, Lost
  Json extra;
  static void describe(Fields<PersistentVolumeClaimStatus>& f);
};

struct PersistentVolumeClaimTag {
  using Spec = PersistentVolumeClaimSpec;
  using Status = PersistentVolumeClaimStatus;
  static constexpr KindInfo info = {"",
                                    "v1",
                                    "PersistentVolumeClaim",
                                    "persistentvolumeclaims",
                                    "pvc",
                                    "PersistentVolumeClaimList",
                                    true};
};
using PersistentVolumeClaim = Resource<PersistentVolumeClaimTag>;

// spec.resources.requests.storage, or nullopt.
std::optional<Quantity> storage_request(const PersistentVolumeClaim& pvc);

// ---- rbac.authorization.k8s.io/v1 RoleBinding ------------------------------------------------

struct RoleRef {
  std::string api_group;
  std::string kind;  // Role, ClusterRole
  std::string name;
  Json extra;
  static void describe(Fields<RoleRef>& f);
};

struct Subject {
  std::string kind;  // ServiceAccount, User, Group
  std::string name;
  std::optional<std::string> namespace_;
  std::optional<std::string> api_group;
  Json extra;
  static void describe(Fields<Subject>& f);
};

struct RoleBinding {
  std::string api_version = "rbac.authorization.k8s.io/v1";
  std::string kind = "RoleBinding";
  ObjectMeta metadata;
  RoleRef role_ref;
  std::vector<Subject> subjects;
  Json extra;
  static void describe(Fields<RoleBinding>& f);
};

// ---- serving.kserve.io/v1beta1 InferenceService -----------------------------------------------

struct PredictorView {
  std::optional<std::vector<Volume>> volumes;
  Json extra;
  static void describe(Fields<PredictorView>& f);
};

struct InferenceServiceSpec {
  std::optional<PredictorView> predictor;
  Json extra;
  static void describe(Fields<InferenceServiceSpec>& f);
};

struct InferenceServiceStatus {
  ObservedConditions conditions;
  Json extra;
  static void describe(Fields<InferenceServiceStatus>& f);
};

struct InferenceServiceTag {
  using Spec = InferenceServiceSpec;
  using Status = InferenceServiceStatus;
  static constexpr KindInfo info = {"serving.kserve.io",
                                    "v1beta1",
                                    "InferenceService",
                                    "inferenceservices",
                                    "inferenceservice",
                                    "InferenceServiceList",
                                    true};
};
using InferenceService = Resource<InferenceServiceTag>;

// The claim names of spec.predictor.volumes, with each volume's name: {volume, claim}.
std::vector<std::pair<std::string, std::string>> predictor_claims(const InferenceService& isvc);

// ---- gateway.networking.k8s.io/v1 HTTPRoute -------------------------------------------------

struct RouteParentStatus {
  ObservedConditions conditions;  // Accepted, ResolvedRefs
  Json extra;                     // parentRef, controllerName
  static void describe(Fields<RouteParentStatus>& f);
};

struct HTTPRouteSpecView {
  Json extra;
  static void describe(Fields<HTTPRouteSpecView>& f);
};

struct HTTPRouteStatus {
  std::optional<std::vector<RouteParentStatus>> parents;
  Json extra;
  static void describe(Fields<HTTPRouteStatus>& f);
};

struct HTTPRouteTag {
  using Spec = HTTPRouteSpecView;
  using Status = HTTPRouteStatus;
  static constexpr KindInfo info = {"gateway.networking.k8s.io",
                                    "v1",
                                    "HTTPRoute",
                                    "httproutes",
                                    "httproute",
                                    "HTTPRouteList",
                                    true};
};
using HTTPRoute = Resource<HTTPRouteTag>;

// ---- autoscaling/v2 HorizontalPodAutoscaler --------------------------------------------------

struct HorizontalPodAutoscalerSpec {
  std::optional<int32_t> min_replicas;
  std::optional<int32_t> max_replicas;
  Json extra;
  static void describe(Fields<HorizontalPodAutoscalerSpec>& f);
};

struct HorizontalPodAutoscalerStatus {
  std::optional<int32_t> current_replicas;
  std::optional<int32_t> desired_replicas;
  ObservedConditions conditions;  // AbleToScale, ScalingActive, ScalingLimited
  Json extra;
  static void describe(Fields<HorizontalPodAutoscalerStatus>& f);
};

struct HorizontalPodAutoscalerTag {
  using Spec = HorizontalPodAutoscalerSpec;
  using Status = HorizontalPodAutoscalerStatus;
  static constexpr KindInfo info = {"autoscaling",
                                    "v2",
                                    "HorizontalPodAutoscaler",
                                    "horizontalpodautoscalers",
                                    "horizontalpodautoscaler",
                                    "HorizontalPodAutoscalerList",
                                    true};
};
using HorizontalPodAutoscaler = Resource<HorizontalPodAutoscalerTag>;

// ---- v1 Event ----------------------------------------------------------------------------------

struct ObjectReference {
  std::optional<std::string> kind;
  std::optional<std::string> namespace_;
  std::optional<std::string> name;
  std::optional<std::string> uid;
  Json extra;  // apiVersion, resourceVersion, fieldPath
  static void describe(Fields<ObjectReference>& f);
};

struct Event {
  std::optional<std::string> api_version;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  std::optional<ObjectReference> involved_object;
  std::optional<std::string> reason;
  std::optional<std::string> message;
  std::optional<std::string> type;  // Normal, Warning
  Json extra;                       // source, count, firstTimestamp, ...
  static void describe(Fields<Event>& f);
};

// ---- v1 Node and Secret ------------------------------------------------------------------------

struct NodeSpecView {
  Json extra;
  static void describe(Fields<NodeSpecView>& f);
};

struct NodeStatusView {
  std::optional<std::map<std::string, Quantity>> allocatable;  // amd.com/gpu, cpu, memory, ...
  Json extra;
  static void describe(Fields<NodeStatusView>& f);
};

struct NodeTag {
  using Spec = NodeSpecView;
  using Status = NodeStatusView;
  static constexpr KindInfo info = {"", "v1", "Node", "nodes", "node", "NodeList", false};
};
using Node = Resource<NodeTag>;

// A Secret's type and data (base64 values, as the API server sends them). Only image pull
// secrets are read with their data; every other Secret is watched as metadata only.
struct Secret {
  std::optional<std::string> api_version;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  std::optional<std::string> type;
  std::optional<StringMap> data;
  Json extra;
  static void describe(Fields<Secret>& f);
};

// ---- storage.k8s.io/v1 StorageClass and CSIStorageCapacity ------------------------------------

// Any object read for its metadata only (a StorageClass's default-class annotation).
struct ObjectHead {
  std::optional<std::string> api_version;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  Json extra;
  static void describe(Fields<ObjectHead>& f);
};

// The annotation value, or "".
std::string annotation(const ObjectMeta& meta, std::string_view key);
// The label value, or "".
std::string label(const ObjectMeta& meta, std::string_view key);

struct CSIStorageCapacity {
  std::optional<std::string> api_version;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  std::optional<std::string> storage_class_name;
  std::optional<Quantity> capacity;
  std::optional<Quantity> maximum_volume_size;
  Json extra;  // nodeTopology
  static void describe(Fields<CSIStorageCapacity>& f);
};

}  // namespace aim::api
