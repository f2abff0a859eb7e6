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

const Json& field(const Json& object, std::string_view key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(std::string(key));
  return it == object.end() ? kNull : *it;
}

std::string str_field(const Json& object, std::string_view key) {
  const Json& v = field(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

bool non_empty_array(const Json& v) {
  return v.is_array() && !v.empty();
}

const Json* find_condition(const Json& object, std::string_view type) {
  const Json& conds = field(field(object, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds) {
    if (str_field(c, "type") == type) return &c;
  }
  return nullptr;
}

bool condition_true(const Json& object, std::string_view type) {
  const Json* c = find_condition(object, type);
  return c != nullptr && str_field(*c, "status") == "True";
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
const Json* waiting_pull_error(const Json& pod, std::string& container) {
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const Json& list = field(field(pod, "status"), key);
    if (!list.is_array()) continue;
    for (const auto& cs : list) {
      const Json& waiting = field(field(cs, "state"), "waiting");
      std::string reason = str_field(waiting, "reason");
      if (reason == "ImagePullBackOff" || reason == "ErrImagePull") {
        container = str_field(cs, "name");
        return &waiting;
      }
    }
  }
  return nullptr;
}

const Json* first_terminated(const Json& pod, std::string& container, bool& init) {
  for (const char* key : {"containerStatuses", "initContainerStatuses"}) {
    const Json& list = field(field(pod, "status"), key);
    if (!list.is_array()) continue;
    for (const auto& cs : list) {
      const Json& term = field(field(cs, "state"), "terminated");
      if (term.is_object()) {
        container = str_field(cs, "name");
        init = std::string_view(key) == "initContainerStatuses";
        return &term;
      }
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

engine::ComponentHealth pods_health(std::string component, const std::vector<Json>& pods,
                                    const LogReader& tail_log) {
  using engine::ErrorCategory;
  const auto down = engine::Dependency::Downstream;
  if (pods.empty()) {
    return error_health(component, ErrorCategory::kMissingDownstream, "NoPods", "No pods found",
                        down);
  }
  for (const auto& pod : pods) {
    std::string container;
    if (const Json* w = waiting_pull_error(pod, container)) {
      std::string msg = "Container " + container + ": " + str_field(*w, "message");
      switch (engine::classify_image_error_text(str_field(*w, "message"))) {
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
    if (str_field(field(pod, "status"), "phase") != "Failed") continue;
    std::string container;
    bool init = false;
    std::string reason, message;
    if (const Json* t = first_terminated(pod, container, init)) {
      reason = str_field(*t, "reason");
      int64_t code =
          field(*t, "exitCode").is_number_integer() ? field(*t, "exitCode").get<int64_t>() : 0;
      if (code != 0) {
        message = std::string(init ? "Init container " : "Container ") + container +
                  " failed with exit code " + std::to_string(code) + ": " +
                  str_field(*t, "message");
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
      reason = str_field(field(pod, "status"), "reason");
      message = str_field(field(pod, "status"), "message");
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
    std::string phase = str_field(field(pod, "status"), "phase");
    bool ready = false;
    const Json& conds = field(field(pod, "status"), "conditions");
    if (conds.is_array()) {
      for (const auto& c : conds) {
        if (str_field(c, "type") == "Ready" && str_field(c, "status") == "True") ready = true;
      }
    }
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

engine::ResolvedRuntimeConfig resolve_runtime_config(const Context& ctx, std::string_view ns,
                                                     std::string_view name) {
  std::string effective = engine::effective_runtime_config_name(name);
  std::optional<Json> ns_spec, cl_spec;
  if (!ns.empty()) {
    if (auto o = ctx.cache(types::aim_runtime_configs()).get(ns, effective)) {
      ns_spec = o->value("spec", Json::object());
    }
  }
  if (auto o = ctx.cache(types::aim_cluster_runtime_configs()).get("", effective)) {
    cl_spec = o->value("spec", Json::object());
  }
  return engine::resolve_runtime_config(effective, ns_spec, cl_spec);
}

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
  ps.type = str_field(secret, "type");
  const Json& data = field(secret, "data");
  if (data.is_object()) {
    for (const auto& [k, v] : data.items()) {
      if (!v.is_string()) continue;
      if (auto d = base64_decode(v.get<std::string>())) ps.data[k] = *d;
    }
  }
  return ps;
}

}  // namespace aim::controllers::catalog
