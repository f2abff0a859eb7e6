#include "controllers/catalog/internal.h"

#include <cstdio>
#include <ctime>
#include <regex>

#include "core/base64.h"
#include "core/strings.h"

namespace aim::controllers::catalog {

kube::ReconcileResult finish(const engine::DerivedState& state,
                             const std::vector<engine::ComponentHealth>& components,
                             std::optional<std::chrono::seconds> requeue_after) {
  if (state.infrastructure_error) {
    std::string msg;
    for (const auto& c : components) {
      if (c.error && engine::is_infrastructure(*c.error)) {
        msg += (msg.empty() ? "" : "; ") + c.component + ": " + c.reason +
               (c.message.empty() ? "" : " (" + c.message + ")");
      }
    }
    return fail(kube::ReconcileError("infrastructure error, retrying: " + msg));
  }
  if (requeue_after) {
    auto d = *requeue_after;
    if (d < std::chrono::seconds(1)) d = std::chrono::seconds(1);
    return kube::Action::requeue_after(d);
  }
  return kube::Action::done();
}

engine::Condition make_condition(std::string type, bool status, std::string reason,
                                 std::string message) {
  engine::Condition c;
  c.type = std::move(type);
  c.status = status ? "True" : "False";
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

engine::ComponentState state_for(engine::ErrorCategory category) {
  using engine::ErrorCategory;
  switch (category) {
    case ErrorCategory::kAuth:
    case ErrorCategory::kInvalidSpec:
      return engine::ComponentState::Failed;
    case ErrorCategory::kMissingUpstream:
    case ErrorCategory::kInfrastructure:
      return engine::ComponentState::Degraded;
    default:
      return engine::ComponentState::Progressing;
  }
}

engine::ComponentHealth error_health(std::string component, engine::ErrorCategory category,
                                     std::string reason, std::string message,
                                     engine::Dependency dependency) {
  engine::ComponentHealth h;
  h.component = std::move(component);
  h.state = state_for(category);
  h.reason = std::move(reason);
  h.message = std::move(message);
  h.dependency = dependency;
  h.error = category;
  return h;
}

std::string status_string(engine::ComponentState s) {
  return engine::to_string(s);
}

bool job_finished(const api::Job& job) {
  return api::true_condition(job, "Complete") || api::true_condition(job, "Failed");
}

engine::ComponentHealth job_health(std::string component, const api::Job* job) {
  using engine::ErrorCategory;
  engine::ComponentHealth h;
  h.component = component;
  h.dependency = engine::Dependency::Downstream;
  if (job == nullptr) {
    return error_health(component, ErrorCategory::kMissingDownstream, "JobNotFound",
                        "Downstream resource not found or being created",
                        engine::Dependency::Downstream);
  }
  if (api::true_condition(*job, "Complete")) {
    h.state = engine::ComponentState::Ready;
    h.reason = "Ready";
    return h;
  }
  if (const api::Condition* failed = api::true_condition(*job, "Failed")) {
    std::string reason = failed->reason, message = failed->message;
    if (message.empty()) message = "Job failed";
    if (reason == "BackoffLimitExceeded") {
      return error_health(component, ErrorCategory::kInvalidSpec, "JobBackoffLimitExceeded",
                          message, engine::Dependency::Downstream);
    }
    if (reason == "DeadlineExceeded") {
      return error_health(component, ErrorCategory::kInvalidSpec, "JobDeadlineExceeded", message,
                          engine::Dependency::Downstream);
    }
    if (reason == "Evicted") {
      return error_health(component, ErrorCategory::kInfrastructure, "JobEvicted", message,
                          engine::Dependency::Downstream);
    }
    return error_health(component, ErrorCategory::kInvalidSpec, "JobFailed", message,
                        engine::Dependency::Downstream);
  }
  h.state = engine::ComponentState::Progressing;
  h.reason = "JobRunning";
  h.message = "Job is in progress";
  return h;
}

namespace {
// A container's status and whether it belongs to an init container.
struct ContainerOf {
  const api::ContainerStatus* status;
  bool init;
};

// The container statuses of a pod, init containers first or last.
std::vector<ContainerOf> container_statuses(const api::Pod& pod, bool init_first) {
  std::vector<ContainerOf> out;
  auto add = [&](const std::optional<std::vector<api::ContainerStatus>>& list, bool init) {
    if (list)
      for (const auto& cs : *list) out.push_back({&cs, init});
  };
  add(init_first ? pod.status.init_container_statuses : pod.status.container_statuses, init_first);
  add(init_first ? pod.status.container_statuses : pod.status.init_container_statuses, !init_first);
  return out;
}

const api::ContainerStateWaiting* waiting_pull_error(const api::Pod& pod, std::string& container) {
  for (const auto& c : container_statuses(pod, true)) {
    if (!c.status->state || !c.status->state->waiting) continue;
    const auto& reason = c.status->state->waiting->reason;
    if (reason == "ImagePullBackOff" || reason == "ErrImagePull") {
      container = c.status->name;
      return &*c.status->state->waiting;
    }
  }
  return nullptr;
}

const api::ContainerStateTerminated* first_terminated(const api::Pod& pod, std::string& container,
                                                      bool& init) {
  for (const auto& c : container_statuses(pod, false)) {
    if (c.status->state && c.status->state->terminated) {
      container = c.status->name;
      init = c.init;
      return &*c.status->state->terminated;
    }
  }
  return nullptr;
}
}  // namespace

namespace {

enum class LogCategory { kNone, kInfra, kNotFound, kAuth, kStorage };

// behavior.md §2.8: the first category whose patterns match a line, tried in this order; the
// matching line (else the last 3 lines) becomes the excerpt.
LogCategory classify_log(const std::string& log, std::string& excerpt) {
  static const std::vector<std::pair<LogCategory, std::regex>> rules = [] {
    auto re = [](const char* p) {
      return std::regex(p, std::regex::icase | std::regex::ECMAScript);
    };
    std::vector<std::pair<LogCategory, std::regex>> r;
    for (const char* p : {"RBAC:.*not found", "clusterrole.*not found",
                          "forbidden.*cannot.*resource", "serviceaccount.*cannot"}) {
      r.emplace_back(LogCategory::kInfra, re(p));
    }
    for (const char* p :
         {"Repository Not Found", "RepositoryNotFoundError", "404.*not.*found", "not.*found.*404",
          "NoSuchKey", "NoSuchBucket", "model.*not.*found", "file.*not.*found", "s3.*404"}) {
      r.emplace_back(LogCategory::kNotFound, re(p));
    }
    for (const char* p :
         {"access.*denied.*s3", "s3.*403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
          "s3.*unauthorized", "aws.*credentials.*not.*found", "NoCredentialProviders",
          "Access to model .* is restricted", "Cannot access gated repo",
          "Invalid.*token.*huggingface", "huggingface.*authentication.*failed",
          "401.*Unauthorized.*hf\\.co", "403.*Forbidden.*hf\\.co"}) {
      r.emplace_back(LogCategory::kAuth, re(p));
    }
    for (const char* p :
         {"no space left on device", "disk.*full", "ENOSPC", "quota.*exceeded", "storage.*full"}) {
      r.emplace_back(LogCategory::kStorage, re(p));
    }
    return r;
  }();
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  for (const auto& [category, pattern] : rules) {
    for (const auto& line : lines) {
      if (std::regex_search(line, pattern)) {
        excerpt = line;
        return category;
      }
    }
  }
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i) {
    excerpt += (excerpt.empty() ? "" : "\n") + lines[i];
  }
  return LogCategory::kNone;
}

engine::ComponentHealth failed_state(std::string component, std::string reason,
                                     std::string message) {
  engine::ComponentHealth h;  // ResourceExhaustion: Failed, but no error flag (behavior.md §2.3)
  h.component = std::move(component);
  h.state = engine::ComponentState::Failed;
  h.reason = std::move(reason);
  h.message = std::move(message);
  h.dependency = engine::Dependency::Downstream;
  return h;
}

}  // namespace

engine::ComponentHealth pods_health(std::string component, const std::vector<api::Pod>& pods,
                                    const LogReader& tail_log) {
  using engine::ErrorCategory;
  const auto down = engine::Dependency::Downstream;
  if (pods.empty()) {
    return error_health(component, ErrorCategory::kMissingDownstream, "NoPods", "No pods found",
                        down);
  }
  for (const auto& pod : pods) {
    std::string container;
    if (const auto* w = waiting_pull_error(pod, container)) {
      const std::string text = w->message.value_or(std::string());
      std::string msg = "Container " + container + ": " + text;
      switch (engine::classify_image_error_text(text)) {
        case engine::ImageErrorKind::kAuth:
          return error_health(component, ErrorCategory::kAuth, "ImagePullAuthFailure", msg, down);
        case engine::ImageErrorKind::kNotFound:
          return error_health(component, ErrorCategory::kMissingUpstream, "ImageNotFound", msg,
                              down);
        default:
          return error_health(component, ErrorCategory::kInfrastructure, "ImagePullBackOff", msg,
                              down);
      }
    }
  }
  for (const auto& pod : pods) {
    if (pod.status.phase != "Failed") continue;
    std::string container;
    bool init = false;
    std::string reason, message;
    if (const auto* t = first_terminated(pod, container, init)) {
      reason = t->reason.value_or(std::string());
      if (t->exit_code != 0) {
        message = std::string(init ? "Init container " : "Container ") + container +
                  " failed with exit code " + std::to_string(t->exit_code) + ": " +
                  t->message.value_or(std::string());
        if (reason != "OOMKilled" && tail_log) {
          std::string excerpt;
          auto category = classify_log(tail_log(pod, container), excerpt);
          if (!excerpt.empty()) message += "\n\nLog excerpt:\n" + excerpt;
          switch (category) {
            case LogCategory::kAuth:
              return error_health(component, ErrorCategory::kAuth, "AuthError", message, down);
            case LogCategory::kStorage:
              return failed_state(component, "StorageFull", message);
            case LogCategory::kNotFound:
              return error_health(component, ErrorCategory::kInvalidSpec, "SourceNotFound", message,
                                  down);
            default:
              break;
          }
        }
      } else {
        message = "Container " + container + " terminated with reason: " + reason;
      }
    } else {
      reason = pod.status.reason.value_or(std::string());
      message = pod.status.message.value_or(std::string());
      if (message.empty()) message = "Pod failed";
    }
    if (reason == "OOMKilled") return failed_state(component, "PodOOMKilled", message);
    if (reason == "DeadlineExceeded") {
      return error_health(component, ErrorCategory::kInvalidSpec, "PodDeadlineExceeded", message,
                          down);
    }
    if (reason == "Evicted") {
      return error_health(component, ErrorCategory::kInfrastructure, "PodEvicted", message, down);
    }
    return error_health(component, ErrorCategory::kInvalidSpec, "PodFailed", message, down);
  }
  engine::ComponentHealth h;
  h.component = component;
  h.dependency = down;
  bool running = false, pending = false;
  for (const auto& pod : pods) {
    const std::string phase = pod.status.phase.value_or(std::string());
    const bool ready = api::condition_true(pod.status.conditions, "Ready");
    if (phase == "Succeeded" || (phase == "Running" && ready)) {
      h.state = engine::ComponentState::Ready;
      h.reason = "PodsReady";
      h.message = "Pods are ready";
      return h;
    }
    running |= phase == "Running";
    pending |= phase == "Pending";
  }
  if (running) {
    h.state = engine::ComponentState::Starting;
    h.reason = "PodsStarting";
    h.message = "Pods are starting";
  } else if (pending) {
    h.state = engine::ComponentState::Pending;
    h.reason = "PodsPending";
    h.message = "Pods are pending";
  } else {
    h.state = engine::ComponentState::Progressing;
    h.reason = "PodsProgressing";
    h.message = "Pods are progressing";
  }
  return h;
}

// ---- runtime config ----------------------------------------------------------------------------

engine::ComponentHealth runtime_config_health(const engine::ResolvedRuntimeConfig& resolved,
                                              bool upstream) {
  auto dep = upstream ? engine::Dependency::Upstream : engine::Dependency::Unspecified;
  if (resolved.outcome == engine::RuntimeConfigOutcome::kNotFound) {
    return error_health("RuntimeConfig", engine::ErrorCategory::kMissingUpstream,
                        resolved.reason.empty() ? "ConfigNotFound" : resolved.reason,
                        resolved.message, dep);
  }
  engine::ComponentHealth h;
  h.component = "RuntimeConfig";
  h.state = engine::ComponentState::Ready;
  h.reason = resolved.reason;
  h.message = resolved.message;
  h.dependency = dep;
  return h;
}

registry::PullSecret pull_secret_from(const std::string& name, const Json& secret) {
  registry::PullSecret ps;
  ps.name = name;
  auto s = api::decode<api::Secret>(secret);
  if (!s) return ps;  // no usable data: the registry then reports the credentials missing
  ps.type = s.value->type.value_or(std::string());
  if (s.value->data)
    for (const auto& [k, v] : *s.value->data)
      if (auto d = base64_decode(v)) ps.data[k] = *d;
  return ps;
}

}  // namespace aim::controllers::catalog
