#include "api/k8s_views.h"

namespace aim::api {

void PodFailurePolicyOnExitCodes::describe(Fields<PodFailurePolicyOnExitCodes>& f) {
  f.doc("Container exit codes a pod failure policy rule matches.");
  f.field("containerName", &PodFailurePolicyOnExitCodes::container_name,
          "The container whose exit code is matched (every container when absent).");
  f.field("operator", &PodFailurePolicyOnExitCodes::operator_, "In or NotIn.").required();
  f.field("values", &PodFailurePolicyOnExitCodes::values, "The exit codes.").required();
}

void PodFailurePolicyRule::describe(Fields<PodFailurePolicyRule>& f) {
  f.doc("One rule of a Job's pod failure policy.");
  f.field("action", &PodFailurePolicyRule::action, "FailJob, FailIndex, Ignore or Count.")
      .required();
  f.field("onExitCodes", &PodFailurePolicyRule::on_exit_codes, "The exit codes it matches.");
}

void PodFailurePolicy::describe(Fields<PodFailurePolicy>& f) {
  f.doc("How a Job treats its pods' failures.");
  f.field("rules", &PodFailurePolicy::rules, "The rules, first match wins.").required();
}

void JobSpec::describe(Fields<JobSpec>& f) {
  f.doc("The fields of a Job's spec the operator reads or sets.");
  f.field("backoffLimit", &JobSpec::backoff_limit, "Retries before the Job fails.");
  f.field("ttlSecondsAfterFinished", &JobSpec::ttl_seconds_after_finished,
          "Seconds after it finishes before the Job is deleted.");
  f.field("activeDeadlineSeconds", &JobSpec::active_deadline_seconds,
          "Seconds the Job may run before it fails with DeadlineExceeded.");
  f.field("podFailurePolicy", &JobSpec::pod_failure_policy,
          "Pod failures that end the Job at once.");
  f.field("template", &JobSpec::template_, "The pods the Job runs.");
}

void JobStatus::describe(Fields<JobStatus>& f) {
  f.doc("The fields of a Job's status the operator reads.");
  f.field("conditions", &JobStatus::conditions, "Complete, Failed and the other Job conditions.");
  f.field("completionTime", &JobStatus::completion_time, "When the Job completed.");
}

const Condition* true_condition(const Job& job, std::string_view type) {
  for (const auto& c : job.status.conditions)
    if (c.type == type && c.status == "True") return &c;
  return nullptr;
}

void ContainerStateTerminated::describe(Fields<ContainerStateTerminated>& f) {
  f.doc("A terminated container.");
  f.field("exitCode", &ContainerStateTerminated::exit_code, "The container's exit code.");
  f.field("message", &ContainerStateTerminated::message,
          "The termination message (the container's /dev/termination-log).");
  f.field("reason", &ContainerStateTerminated::reason, "Why it terminated.");
  f.field("finishedAt", &ContainerStateTerminated::finished_at, "When it terminated.");
}

void ContainerStateWaiting::describe(Fields<ContainerStateWaiting>& f) {
  f.doc("A container waiting to run.");
  f.field("reason", &ContainerStateWaiting::reason, "Why it waits (ImagePullBackOff, ...).");
  f.field("message", &ContainerStateWaiting::message, "Details.");
}

void ContainerState::describe(Fields<ContainerState>& f) {
  f.doc("The state of a container.");
  f.field("waiting", &ContainerState::waiting, "Set while the container waits to run.");
  f.field("terminated", &ContainerState::terminated, "Set once the container has terminated.");
}

void ContainerStatus::describe(Fields<ContainerStatus>& f) {
  f.doc("The status of one container of a pod.");
  f.field("name", &ContainerStatus::name, "The container's name.");
  f.field("state", &ContainerStatus::state, "The container's current state.");
}

void SeccompProfile::describe(Fields<SeccompProfile>& f) {
  f.doc("A seccomp profile.");
  f.field("type", &SeccompProfile::type, "RuntimeDefault, Localhost or Unconfined.");
}

void Capabilities::describe(Fields<Capabilities>& f) {
  f.doc("Linux capabilities added to or dropped from a container.");
  f.field("add", &Capabilities::add, "Capabilities added.");
  f.field("drop", &Capabilities::drop, "Capabilities dropped.");
}

void SecurityContext::describe(Fields<SecurityContext>& f) {
  f.doc("A container's security settings.");
  f.field("allowPrivilegeEscalation", &SecurityContext::allow_privilege_escalation,
          "Whether a process may gain more privileges than its parent.");
  f.field("runAsNonRoot", &SecurityContext::run_as_non_root, "The container must not run as 0.");
  f.field("runAsUser", &SecurityContext::run_as_user, "The user id.");
  f.field("runAsGroup", &SecurityContext::run_as_group, "The primary group id.");
  f.field("capabilities", &SecurityContext::capabilities, "Capabilities added or dropped.");
}

void PodSecurityContext::describe(Fields<PodSecurityContext>& f) {
  f.doc("A pod's security settings.");
  f.field("runAsNonRoot", &PodSecurityContext::run_as_non_root, "No container may run as user 0.");
  f.field("runAsUser", &PodSecurityContext::run_as_user, "The user id.");
  f.field("runAsGroup", &PodSecurityContext::run_as_group, "The primary group id.");
  f.field("fsGroup", &PodSecurityContext::fs_group, "The group that owns the pod's volumes.");
  f.field("seccompProfile", &PodSecurityContext::seccomp_profile, "The seccomp profile.");
}

void EnvFromSource::describe(Fields<EnvFromSource>& f) {
  f.doc("Every key of a Secret or ConfigMap as environment variables.");
  f.field("secretRef", &EnvFromSource::secret_ref, "The Secret.");
  f.field("configMapRef", &EnvFromSource::config_map_ref, "The ConfigMap.");
  f.field("prefix", &EnvFromSource::prefix, "Prepended to every variable name.");
}

void VolumeMount::describe(Fields<VolumeMount>& f) {
  f.doc("A volume mounted into a container.");
  f.field("name", &VolumeMount::name, "The volume's name.").required();
  f.field("mountPath", &VolumeMount::mount_path, "Where it is mounted.").required();
  f.field("readOnly", &VolumeMount::read_only, "Mounted read-only.");
}

void Container::describe(Fields<Container>& f) {
  f.doc("A container of a pod's spec.");
  f.field("name", &Container::name, "The container's name.");
  f.field("image", &Container::image, "The container's image.");
  f.field("imagePullPolicy", &Container::image_pull_policy, "Always, IfNotPresent or Never.");
  f.field("command", &Container::command, "The entrypoint (the image's when absent).");
  f.field("args", &Container::args, "Arguments to the entrypoint.");
  f.field("env", &Container::env, "Environment variables.");
  f.field("envFrom", &Container::env_from, "Secrets and ConfigMaps as environment variables.");
  f.field("volumeMounts", &Container::volume_mounts, "Volumes mounted into the container.");
  f.field("resources", &Container::resources, "Compute resources.");
  f.field("securityContext", &Container::security_context, "Security settings.");
}

void Toleration::describe(Fields<Toleration>& f) {
  f.doc("A taint the pod tolerates.");
  f.field("key", &Toleration::key, "The taint key (every key when absent).");
  f.field("operator", &Toleration::operator_, "Exists or Equal.");
  f.field("value", &Toleration::value, "The taint value (Equal).");
  f.field("effect", &Toleration::effect, "NoSchedule, PreferNoSchedule or NoExecute.");
  f.field("tolerationSeconds", &Toleration::toleration_seconds,
          "How long a NoExecute taint is tolerated.");
}

void PodSpec::describe(Fields<PodSpec>& f) {
  f.doc("A pod's spec: the fields the operator reads (its own image) or sets (its Jobs).");
  f.field("restartPolicy", &PodSpec::restart_policy, "Always, OnFailure or Never.");
  f.field("securityContext", &PodSpec::security_context, "Pod-level security settings.");
  f.field("containers", &PodSpec::containers, "The pod's containers.");
  f.field("nodeSelector", &PodSpec::node_selector, "Labels a node must have.");
  f.field("tolerations", &PodSpec::tolerations, "Taints the pod tolerates.");
  f.field("imagePullSecrets", &PodSpec::image_pull_secrets, "Registry credentials.");
  f.field("serviceAccountName", &PodSpec::service_account_name, "The pod's service account.");
  f.field("volumes", &PodSpec::volumes, "The pod's volumes.");
}

void PodTemplateSpec::describe(Fields<PodTemplateSpec>& f) {
  f.doc("The pods a workload creates.");
  f.field("metadata", &PodTemplateSpec::metadata, "The pods' labels and annotations.");
  f.field("spec", &PodTemplateSpec::spec, "The pods' spec.");
}

void ObservedCondition::describe(Fields<ObservedCondition>& f) {
  f.doc("A condition of a built-in or third-party kind.");
  f.field("type", &ObservedCondition::type, "The condition type.").required();
  f.field("status", &ObservedCondition::status, "True, False or Unknown.");
  f.field("reason", &ObservedCondition::reason, "Machine-readable reason.");
  f.field("message", &ObservedCondition::message, "Human-readable details.");
}

const ObservedCondition* find_condition(const ObservedConditions& conditions,
                                        std::string_view type) {
  if (!conditions) return nullptr;
  for (const auto& c : *conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool condition_true(const ObservedConditions& conditions, std::string_view type) {
  const ObservedCondition* c = find_condition(conditions, type);
  return c && c->status == "True";
}

void PodStatus::describe(Fields<PodStatus>& f) {
  f.doc("The fields of a pod's status the operator reads.");
  f.field("phase", &PodStatus::phase, "Pending, Running, Succeeded, Failed or Unknown.");
  f.field("reason", &PodStatus::reason, "Why the pod is in its phase (Evicted, ...).");
  f.field("message", &PodStatus::message, "A human-readable account of the pod's phase.");
  f.field("conditions", &PodStatus::conditions, "PodScheduled, Ready, ...");
  f.field("initContainerStatuses", &PodStatus::init_container_statuses, "One per init container.");
  f.field("containerStatuses", &PodStatus::container_statuses, "One per container.");
}

void VolumeResourceRequirements::describe(Fields<VolumeResourceRequirements>& f) {
  f.doc("A claim's resources.");
  f.field("requests", &VolumeResourceRequirements::requests, "Requested resources (storage).");
}

void PersistentVolumeClaimSpec::describe(Fields<PersistentVolumeClaimSpec>& f) {
  f.doc("The fields of a claim's spec the operator reads or sets.");
  f.field("accessModes", &PersistentVolumeClaimSpec::access_modes,
          "ReadWriteOnce, ReadWriteMany, ...");
  f.field("resources", &PersistentVolumeClaimSpec::resources, "Requested storage.");
  f.field("storageClassName", &PersistentVolumeClaimSpec::storage_class_name,
          "The claim's StorageClass.");
}

void PersistentVolumeClaimStatus::describe(Fields<PersistentVolumeClaimStatus>& f) {
  f.doc("The fields of a claim's status the operator reads.");
  f.field("phase", &PersistentVolumeClaimStatus::phase, "Pending, Bound or Lost.");
}

std::optional<Quantity> storage_request(const PersistentVolumeClaim& pvc) {
  if (!pvc.spec.resources || !pvc.spec.resources->requests) return std::nullopt;
  auto it = pvc.spec.resources->requests->find("storage");
  if (it == pvc.spec.resources->requests->end() || it->second.value.is_null()) return std::nullopt;
  return it->second;
}

void NodeSpecView::describe(Fields<NodeSpecView>& f) {
  f.doc("A node's spec (nothing of it is read).");
}

void NodeStatusView::describe(Fields<NodeStatusView>& f) {
  f.doc("The fields of a node's status the operator reads.");
  f.field("allocatable", &NodeStatusView::allocatable,
          "What pods can be given on this node, by resource name.");
}

void Secret::describe(Fields<Secret>& f) {
  f.doc("A Secret's type and data.");
  f.field("apiVersion", &Secret::api_version, "API version.");
  f.field("kind", &Secret::kind, "Kind.");
  f.field("metadata", &Secret::metadata, "Standard object metadata.");
  f.field("type", &Secret::type, "kubernetes.io/dockerconfigjson, kubernetes.io/dockercfg, ...");
  f.field("data", &Secret::data, "Base64-encoded values by key.");
}

void ObjectHead::describe(Fields<ObjectHead>& f) {
  f.doc("An object read for its metadata only.");
  f.field("apiVersion", &ObjectHead::api_version, "API version.");
  f.field("kind", &ObjectHead::kind, "Kind.");
  f.field("metadata", &ObjectHead::metadata, "Standard object metadata.");
}

std::string annotation(const ObjectMeta& meta, std::string_view key) {
  if (!meta.annotations) return {};
  auto it = meta.annotations->find(std::string(key));
  return it == meta.annotations->end() ? std::string() : it->second;
}

void PersistentVolumeClaimVolumeSource::describe(Fields<PersistentVolumeClaimVolumeSource>& f) {
  f.doc("A volume backed by a claim.");
  f.field("claimName", &PersistentVolumeClaimVolumeSource::claim_name, "The claim's name.");
}

void Volume::describe(Fields<Volume>& f) {
  f.doc("A pod volume.");
  f.field("name", &Volume::name, "The volume's name.");
  f.field("persistentVolumeClaim", &Volume::persistent_volume_claim, "A claim as the volume.");
}

void RoleRef::describe(Fields<RoleRef>& f) {
  f.doc("The role a binding grants.");
  f.field("apiGroup", &RoleRef::api_group, "rbac.authorization.k8s.io.").required();
  f.field("kind", &RoleRef::kind, "Role or ClusterRole.").required();
  f.field("name", &RoleRef::name, "The role's name.").required();
}

void Subject::describe(Fields<Subject>& f) {
  f.doc("Who a binding grants the role to.");
  f.field("kind", &Subject::kind, "ServiceAccount, User or Group.").required();
  f.field("name", &Subject::name, "The subject's name.").required();
  f.field("namespace", &Subject::namespace_, "A service account's namespace.");
  f.field("apiGroup", &Subject::api_group, "The subject's API group (users and groups).");
}

void RoleBinding::describe(Fields<RoleBinding>& f) {
  f.doc("A RoleBinding.");
  f.field("apiVersion", &RoleBinding::api_version, "API version.");
  f.field("kind", &RoleBinding::kind, "Kind.");
  f.field("metadata", &RoleBinding::metadata, "Standard object metadata.");
  f.field("roleRef", &RoleBinding::role_ref, "The role granted.").required();
  f.field("subjects", &RoleBinding::subjects, "Who it is granted to.");
}

void PredictorView::describe(Fields<PredictorView>& f) {
  f.doc("The fields of an InferenceService's predictor the operator reads.");
  f.field("volumes", &PredictorView::volumes, "The predictor pod's volumes.");
}

void InferenceServiceSpec::describe(Fields<InferenceServiceSpec>& f) {
  f.doc("The fields of an InferenceService's spec the operator reads.");
  f.field("predictor", &InferenceServiceSpec::predictor, "The predictor.");
}

void InferenceServiceStatus::describe(Fields<InferenceServiceStatus>& f) {
  f.doc("The fields of an InferenceService's status the operator reads.");
  f.field("conditions", &InferenceServiceStatus::conditions, "Ready and the other conditions.");
}

std::vector<std::pair<std::string, std::string>> predictor_claims(const InferenceService& isvc) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!isvc.spec.predictor || !isvc.spec.predictor->volumes) return out;
  for (const auto& v : *isvc.spec.predictor->volumes) {
    if (!v.persistent_volume_claim || !v.persistent_volume_claim->claim_name) continue;
    out.emplace_back(v.name.value_or(std::string()), *v.persistent_volume_claim->claim_name);
  }
  return out;
}

void RouteParentStatus::describe(Fields<RouteParentStatus>& f) {
  f.doc("What one parent (gateway) says of a route.");
  f.field("conditions", &RouteParentStatus::conditions, "Accepted, ResolvedRefs, ...");
}

void HTTPRouteSpecView::describe(Fields<HTTPRouteSpecView>& f) {
  f.doc("An HTTPRoute's spec (nothing read).");
}

void HTTPRouteStatus::describe(Fields<HTTPRouteStatus>& f) {
  f.doc("The fields of an HTTPRoute's status the operator reads.");
  f.field("parents", &HTTPRouteStatus::parents, "One entry per parent gateway.");
}

void HorizontalPodAutoscalerSpec::describe(Fields<HorizontalPodAutoscalerSpec>& f) {
  f.doc("The fields of an HPA's spec the operator reads.");
  f.field("minReplicas", &HorizontalPodAutoscalerSpec::min_replicas, "Lower replica bound.");
  f.field("maxReplicas", &HorizontalPodAutoscalerSpec::max_replicas, "Upper replica bound.");
}

void HorizontalPodAutoscalerStatus::describe(Fields<HorizontalPodAutoscalerStatus>& f) {
  f.doc("The fields of an HPA's status the operator reads.");
  f.field("currentReplicas", &HorizontalPodAutoscalerStatus::current_replicas,
          "Replicas running now.");
  f.field("desiredReplicas", &HorizontalPodAutoscalerStatus::desired_replicas,
          "Replicas the autoscaler wants.");
  f.field("conditions", &HorizontalPodAutoscalerStatus::conditions,
          "AbleToScale, ScalingActive, ScalingLimited.");
}

void ObjectReference::describe(Fields<ObjectReference>& f) {
  f.doc("A reference to an object (an Event's involvedObject).");
  f.field("kind", &ObjectReference::kind, "Kind.");
  f.field("namespace", &ObjectReference::namespace_, "Namespace.");
  f.field("name", &ObjectReference::name, "Name.");
  f.field("uid", &ObjectReference::uid, "UID.");
}

void Event::describe(Fields<Event>& f) {
  f.doc("The fields of a core/v1 Event the operator reads.");
  f.field("apiVersion", &Event::api_version, "API version.");
  f.field("kind", &Event::kind, "Kind.");
  f.field("metadata", &Event::metadata, "Standard object metadata.");
  f.field("involvedObject", &Event::involved_object, "The object the event is about.");
  f.field("reason", &Event::reason, "Machine-readable reason.");
  f.field("message", &Event::message, "Human-readable details.");
  f.field("type", &Event::type, "Normal or Warning.");
}

std::string label(const ObjectMeta& meta, std::string_view key) {
  if (!meta.labels) return {};
  auto it = meta.labels->find(std::string(key));
  return it == meta.labels->end() ? std::string() : it->second;
}

void CSIStorageCapacity::describe(Fields<CSIStorageCapacity>& f) {
  f.doc("The fields of a CSIStorageCapacity the operator reads.");
  f.field("apiVersion", &CSIStorageCapacity::api_version, "API version.");
  f.field("kind", &CSIStorageCapacity::kind, "Kind.");
  f.field("metadata", &CSIStorageCapacity::metadata, "Standard object metadata.");
  f.field("storageClassName", &CSIStorageCapacity::storage_class_name,
          "The StorageClass the capacity is for.");
  f.field("capacity", &CSIStorageCapacity::capacity, "The capacity available.");
  f.field("maximumVolumeSize", &CSIStorageCapacity::maximum_volume_size,
          "The largest volume that can be created.");
}

}  // namespace aim::api
