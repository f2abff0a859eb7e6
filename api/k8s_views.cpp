#include "api/k8s_views.h"

namespace aim::api {

void JobSpec::describe(Fields<JobSpec>& f) {
  f.doc("The fields of a Job's spec the operator reads.");
  f.field("activeDeadlineSeconds", &JobSpec::active_deadline_seconds,
          "Seconds the Job may run before it fails with DeadlineExceeded.");
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

void ContainerState::describe(Fields<ContainerState>& f) {
  f.doc("The state of a container.");
  f.field("terminated", &ContainerState::terminated, "Set once the container has terminated.");
}

void ContainerStatus::describe(Fields<ContainerStatus>& f) {
  f.doc("The status of one container of a pod.");
  f.field("name", &ContainerStatus::name, "The container's name.");
  f.field("state", &ContainerStatus::state, "The container's current state.");
}

void PodSpecView::describe(Fields<PodSpecView>& f) {
  f.doc("A pod's spec (nothing read).");
}

void PodStatus::describe(Fields<PodStatus>& f) {
  f.doc("The fields of a pod's status the operator reads.");
  f.field("phase", &PodStatus::phase, "Pending, Running, Succeeded, Failed or Unknown.");
  f.field("containerStatuses", &PodStatus::container_statuses, "One per container.");
}

void VolumeResourceRequirements::describe(Fields<VolumeResourceRequirements>& f) {
  f.doc("A claim's resources.");
  f.field("requests", &VolumeResourceRequirements::requests, "Requested resources (storage).");
}

void PersistentVolumeClaimSpec::describe(Fields<PersistentVolumeClaimSpec>& f) {
  f.doc("The fields of a claim's spec the operator reads.");
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

void CSIStorageCapacity::describe(Fields<CSIStorageCapacity>& f) {
  f.doc("The fields of a CSIStorageCapacity the operator reads.");
  f.field("apiVersion", &CSIStorageCapacity::api_version, "API version.");
  f.field("kind", &CSIStorageCapacity::kind, "Kind.");
  f.field("metadata", &CSIStorageCapacity::metadata, "Standard object metadata.");
  f.field("storageClassName", &CSIStorageCapacity::storage_class_name,
          "The StorageClass the capacity is for.");
}

}  // namespace aim::api
