// Typed views of the built-in Kubernetes kinds the operator reads: only the fields it uses are
// declared, everything else stays in each level's `extra` (so decode then encode gives back the
// object). The operator never creates these from the views; they are for reading informer
// objects (controllers/typed.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/k8s.h"
#include "api/resource.h"

namespace aim::api {

// ---- batch/v1 Job ------------------------------------------------------------------------------

struct JobSpec {
  std::optional<int64_t> active_deadline_seconds;
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

// ---- v1 Pod ------------------------------------------------------------------------------------

struct ContainerStateTerminated {
  int32_t exit_code = 0;
  std::optional<std::string> message;
  std::optional<std::string> reason;
  std::optional<std::string> finished_at;
  Json extra;
  static void describe(Fields<ContainerStateTerminated>& f);
};

struct ContainerState {
  std::optional<ContainerStateTerminated> terminated;
  Json extra;  // waiting, running
  static void describe(Fields<ContainerState>& f);
};

struct ContainerStatus {
  std::string name;
  std::optional<ContainerState> state;
  Json extra;
  static void describe(Fields<ContainerStatus>& f);
};

struct PodSpecView {
  Json extra;
  static void describe(Fields<PodSpecView>& f);
};

struct PodStatus {
  std::optional<std::string> phase;
  std::optional<std::vector<ContainerStatus>> container_statuses;
  Json extra;
  static void describe(Fields<PodStatus>& f);
};

struct PodTag {
  using Spec = PodSpecView;
  using Status = PodStatus;
  static constexpr KindInfo info = {"", "v1", "Pod", "pods", "pod", "PodList", true};
};
using Pod = Resource<PodTag>;

// ---- v1 PersistentVolumeClaim -----------------------------------------------------------------

struct VolumeResourceRequirements {
  std::optional<std::map<std::string, Quantity>> requests;
  Json extra;  // limits
  static void describe(Fields<VolumeResourceRequirements>& f);
};

struct PersistentVolumeClaimSpec {
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

struct CSIStorageCapacity {
  std::optional<std::string> api_version;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  std::optional<std::string> storage_class_name;
  Json extra;  // capacity, maximumVolumeSize, nodeTopology
  static void describe(Fields<CSIStorageCapacity>& f);
};

}  // namespace aim::api
