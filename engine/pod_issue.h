// Why a pod of one of the operator's Jobs (download, check-size, discovery) is stuck, read from
// the pod alone: what the scheduler and the kubelet report while a Job cannot make progress
// (the pod is not scheduled, its image cannot be pulled, its container cannot be created, it
// crash-loops, it was evicted). A Job shows none of this itself: it stays active until its
// deadline, so without this the object owning it would sit in Progressing with no reason.
//
// Pure: controllers pass the pods from their cache and turn the issue into a component's health
// (state, reason, message); the grace period before reporting Unschedulable is decided here too.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/health.h"

namespace aim::engine {

// Condition reasons of the issues, as they appear on the owning object.
inline constexpr const char* kReasonUnschedulable = "Unschedulable";
inline constexpr const char* kReasonImagePullFailed = "ImagePullFailed";
inline constexpr const char* kReasonPodConfigError = "PodConfigError";
inline constexpr const char* kReasonCrashLoopBackOff = "CrashLoopBackOff";
inline constexpr const char* kReasonEvicted = "Evicted";

struct PodIssue {
  std::string reason;  // one of the kReason* above
  std::string message;
  // Failed: someone has to fix something (an image that does not exist or needs credentials, a
  // missing Secret, a crashing container). Degraded: the cluster may heal by itself (no node
  // fits yet, a transient pull failure, an eviction).
  ComponentState state = ComponentState::Degraded;
  std::string pod;    // the pod's name
  std::string since;  // RFC 3339, when the pod began to show it ("" when unknown)
};

struct PodIssueOptions {
  // Unschedulable is reported only after the pod has been unschedulable this long (a node may
  // be scaling up; the reference also waits before reporting infrastructure errors).
  std::chrono::seconds unschedulable_grace{30};
  // A container that terminated after at least this many restarts crash-loops.
  int crash_loop_restarts = 3;
};

// The issue one pod shows, in this order: evicted (phase Failed, reason Evicted); unschedulable
// (Pending, PodScheduled=False/Unschedulable, with the scheduler's message); then per init
// container and container: waiting ErrImagePull / ImagePullBackOff / InvalidImageName /
// ErrImageNeverPull (ImagePullFailed, with the kubelet's message, which names the image),
// CreateContainerConfigError / CreateContainerError (PodConfigError), CrashLoopBackOff or
// terminated after `crash_loop_restarts` restarts (CrashLoopBackOff). A pod that succeeded, or
// failed in any other way (its exit code is the Job's to judge), has none.
std::optional<PodIssue> classify_pod(const nlohmann::json& pod,
                                     const PodIssueOptions& options = {});

struct JobPodsIssue {
  std::optional<PodIssue> issue;  // what to report now
  // An issue still inside its grace period: look again after this long.
  std::optional<std::chrono::seconds> recheck_after;
};

// The issue of one Job's pods: the newest pod (by creationTimestamp) that is not being deleted
// decides, so an evicted pod that the Job already replaced is history, not an issue.
// Unschedulable is reported once `now_unix` is `unschedulable_grace` past the pod's
// PodScheduled transition (else its creation); before that only `recheck_after` is set.
JobPodsIssue job_pods_issue(const std::vector<nlohmann::json>& pods, int64_t now_unix,
                            const PodIssueOptions& options = {});

}  // namespace aim::engine
