#include "engine/pod_issue.h"

#include <algorithm>
#include <ctime>
#include <string_view>

#include "core/chrono.h"
#include "core/json_fields.h"

namespace aim::engine {

namespace {

using Json = nlohmann::json;

const Json& at(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// The array at `key`, or an empty one.
const Json& list(const Json& j, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& v = at(j, key);
  return v.is_array() ? v : kEmpty;
}

// Unix seconds of an RFC 3339 time ("2026-01-02T03:04:05Z"); 0 when unparsable.
int64_t unix_seconds(const std::string& t) {
  return parse_rfc3339(t).value_or(0);
}

// Kubelet and scheduler messages can be long (every node's reason); conditions stay readable.
std::string clip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > 500) s = s.substr(0, 500) + "...";
  return s;
}

bool is_one_of(const std::string& s, std::initializer_list<std::string_view> values) {
  return std::find(values.begin(), values.end(), s) != values.end();
}

std::string spec_image(const Json& pod, const std::string& container) {
  for (const char* key : {"initContainers", "containers"})
    for (const auto& c : list(at(pod, "spec"), key))
      if (string_member(c, "name") == container) return string_member(c, "image");
  return {};
}

std::optional<PodIssue> container_issue(const Json& pod, const Json& cs,
                                        const PodIssueOptions& options) {
  const std::string name = string_member(cs, "name");
  const Json& state = at(cs, "state");
  const Json& waiting = at(state, "waiting");
  const std::string reason = string_member(waiting, "reason");
  const std::string message = string_member(waiting, "message");
  const std::string pod_name = string_at(pod, "metadata", "name");

  if (is_one_of(reason,
                {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})) {
    std::string image = string_member(cs, "image");
    if (image.empty()) image = spec_image(pod, name);
    std::string text = "Container " + name + ": " + (message.empty() ? reason : message);
    if (!image.empty() && text.find(image) == std::string::npos)
      text += " (image \"" + image + "\")";
    return PodIssue{kReasonImagePullFailed, clip(text), ComponentState::Failed, pod_name, ""};
  }
  if (is_one_of(reason, {"CreateContainerConfigError", "CreateContainerError"})) {
    std::string text = "Container " + name + " cannot be created (" + reason + ")";
    if (!message.empty()) text += ": " + message;
    return PodIssue{kReasonPodConfigError, clip(text), ComponentState::Failed, pod_name, ""};
  }
  const int restarts =
      at(cs, "restartCount").is_number_integer() ? cs["restartCount"].get<int>() : 0;
  const Json& terminated = at(state, "terminated");
  if (reason == "CrashLoopBackOff" ||
      (terminated.is_object() && restarts >= options.crash_loop_restarts)) {
    const Json& last = terminated.is_object() ? terminated : at(at(cs, "lastState"), "terminated");
    std::string text = "Container " + name + " keeps crashing (" + std::to_string(restarts) +
                       " restart" + (restarts == 1 ? "" : "s");
    if (last.is_object()) {
      text += "; last exit code " + std::to_string(at(last, "exitCode").is_number_integer()
                                                       ? last["exitCode"].get<int>()
                                                       : 0);
      std::string why = string_member(last, "message");
      if (why.empty()) why = string_member(last, "reason");
      if (!why.empty()) text += ": " + why;
    }
    text += ")";
    return PodIssue{kReasonCrashLoopBackOff, clip(text), ComponentState::Failed, pod_name, ""};
  }
  return std::nullopt;
}

}  // namespace

std::optional<PodIssue> classify_pod(const Json& pod, const PodIssueOptions& options) {
  const Json& status = at(pod, "status");
  const std::string phase = string_member(status, "phase");
  const std::string name = string_at(pod, "metadata", "name");
  if (phase == "Failed" && string_member(status, "reason") == "Evicted") {
    std::string msg = string_member(status, "message");
    return PodIssue{kReasonEvicted,
                    clip("Pod " + name + " was evicted" + (msg.empty() ? "" : ": " + msg)),
                    ComponentState::Degraded, name, ""};
  }
  if (phase == "Succeeded" || phase == "Failed") return std::nullopt;
  if (phase == "Pending" || phase.empty()) {
    for (const auto& c : list(status, "conditions")) {
      if (string_member(c, "type") == "PodScheduled" && string_member(c, "status") == "False" &&
          string_member(c, "reason") == "Unschedulable") {
        std::string msg = string_member(c, "message");
        return PodIssue{
            kReasonUnschedulable,
            clip("Pod " + name + " cannot be scheduled" + (msg.empty() ? "" : ": " + msg)),
            ComponentState::Degraded, name, string_member(c, "lastTransitionTime")};
      }
    }
  }
  for (const char* key : {"initContainerStatuses", "containerStatuses"})
    for (const auto& cs : list(status, key))
      if (auto issue = container_issue(pod, cs, options)) return issue;
  return std::nullopt;
}

JobPodsIssue job_pods_issue(const std::vector<Json>& pods, int64_t now_unix,
                            const PodIssueOptions& options) {
  const Json* newest = nullptr;
  for (const auto& p : pods) {
    if (!at(at(p, "metadata"), "deletionTimestamp").is_null()) continue;
    if (newest == nullptr || string_at(p, "metadata", "creationTimestamp") >
                                 string_at(*newest, "metadata", "creationTimestamp"))
      newest = &p;
  }
  JobPodsIssue out;
  if (newest == nullptr) return out;
  auto issue = classify_pod(*newest, options);
  if (!issue) return out;
  if (issue->reason == kReasonUnschedulable) {
    int64_t since = unix_seconds(issue->since);
    if (since == 0) since = unix_seconds(string_at(*newest, "metadata", "creationTimestamp"));
    const int64_t ready_at = since + options.unschedulable_grace.count();
    if (now_unix < ready_at) {
      out.recheck_after = std::chrono::seconds(ready_at - now_unix);
      return out;
    }
  }
  out.issue = std::move(issue);
  return out;
}

}  // namespace aim::engine
