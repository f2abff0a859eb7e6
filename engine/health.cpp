#include "engine/health.h"

#include <algorithm>

namespace aim::engine {
namespace {

Condition cond(std::string type, bool ok, std::string reason, std::string message) {
  return Condition{
      std::move(type), ok ? "True" : "False", std::move(reason), std::move(message), "",
      std::nullopt};
}

bool had_condition(const std::vector<Condition>& old, const std::string& type) {
  return std::any_of(old.begin(), old.end(), [&](const Condition& c) { return c.type == type; });
}

}  // namespace

ComponentHealth component_health(std::string component, ComponentState state, std::string reason,
                                 std::string message, Dependency dependency,
                                 std::optional<ErrorCategory> error) {
  ComponentHealth h;
  h.component = std::move(component);
  h.state = state;
  h.reason = std::move(reason);
  h.message = std::move(message);
  h.dependency = dependency;
  h.error = error;
  return h;
}

bool is_error_state(ComponentState s) {
  return s == ComponentState::Failed || s == ComponentState::Degraded ||
         s == ComponentState::NotAvailable;
}

bool is_infrastructure(ErrorCategory c) {
  return c == ErrorCategory::kInfrastructure || c == ErrorCategory::kUnknown;
}

const char* to_string(ComponentState s) {
  switch (s) {
    case ComponentState::Failed:
      return "Failed";
    case ComponentState::NotAvailable:
      return "NotAvailable";
    case ComponentState::Degraded:
      return "Degraded";
    case ComponentState::Pending:
      return "Pending";
    case ComponentState::Starting:
      return "Starting";
    case ComponentState::Progressing:
      return "Progressing";
    case ComponentState::Ready:
      return "Ready";
  }
  return "Unknown";
}

int state_priority(ComponentState s) {
  return static_cast<int>(s);
}

nlohmann::json to_json(const Condition& c) {
  nlohmann::json j = {{"type", c.type},
                      {"status", c.status},
                      {"reason", c.reason},
                      {"message", c.message},
                      {"lastTransitionTime", c.last_transition_time}};
  if (c.observed_generation) j["observedGeneration"] = *c.observed_generation;
  return j;
}

std::optional<Condition> condition_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::nullopt;
  Condition c;
  c.type = j["type"].get<std::string>();
  c.status = j.value("status", "");
  c.reason = j.value("reason", "");
  c.message = j.value("message", "");
  c.last_transition_time = j.value("lastTransitionTime", "");
  if (j.contains("observedGeneration") && j["observedGeneration"].is_number_integer()) {
    c.observed_generation = j["observedGeneration"].get<int64_t>();
  }
  return c;
}

std::vector<Condition> merge_conditions(const std::vector<Condition>& old_conditions,
                                        const std::vector<Condition>& desired,
                                        const std::string& now) {
  std::vector<Condition> out;
  out.reserve(desired.size());
  for (Condition c : desired) {
    auto prev = std::find_if(old_conditions.begin(), old_conditions.end(),
                             [&](const Condition& o) { return o.type == c.type; });
    bool same =
        prev != old_conditions.end() && prev->status == c.status && prev->reason == c.reason;
    c.last_transition_time =
        same && !prev->last_transition_time.empty() ? prev->last_transition_time : now;
    out.push_back(std::move(c));
  }
  return out;
}

DerivedState derive_state(const std::vector<ComponentHealth>& components,
                          const std::vector<Condition>& old_conditions) {
  DerivedState out;
  bool has_infra = false, has_auth = false, has_invalid = false, has_missing = false;
  for (const auto& c : components) {
    if (!c.error) continue;
    has_infra |= is_infrastructure(*c.error);
    has_auth |= *c.error == ErrorCategory::kAuth;
    has_invalid |= *c.error == ErrorCategory::kInvalidSpec;
    has_missing |= *c.error == ErrorCategory::kMissingUpstream;
  }

  // The framework's messages ("Referenced resource not found") name the category; the first
  // component with that category says what is wrong, so it is appended: "Referenced resource
  // not found: CredentialsSecret: credentials Secret "hf" not found in namespace "ml"".
  auto with_detail = [&](std::string base, ErrorCategory category) {
    for (const auto& c : components) {
      if (c.error && *c.error == category && !c.message.empty() && c.message != base)
        return base + ": " + c.component + ": " + c.message;
    }
    return base;
  };
  for (const auto& c : components) {
    out.conditions.push_back(cond(c.component + "Ready", c.state == ComponentState::Ready,
                                  c.reason.empty() ? to_string(c.state) : c.reason, c.message));
  }
  if (has_infra) {
    out.conditions.push_back(
        cond("DependenciesReachable", false, "InfrastructureError", "Cannot reach dependencies"));
  } else if (had_condition(old_conditions, "DependenciesReachable")) {
    out.conditions.push_back(
        cond("DependenciesReachable", true, "Reachable", "All dependencies are reachable"));
  }
  if (has_auth) {
    out.conditions.push_back(
        cond("AuthValid", false, "AuthError",
             with_detail("Authentication or authorization failure", ErrorCategory::kAuth)));
  } else if (had_condition(old_conditions, "AuthValid")) {
    out.conditions.push_back(cond("AuthValid", true, "AuthenticationValid",
                                  "Authentication and authorization successful"));
  }
  if (has_invalid) {
    out.conditions.push_back(
        cond("ConfigValid", false, "InvalidSpec",
             with_detail("Configuration validation failed", ErrorCategory::kInvalidSpec)));
  } else if (has_missing) {
    out.conditions.push_back(
        cond("ConfigValid", false, "ReferenceNotFound",
             with_detail("Referenced resource not found", ErrorCategory::kMissingUpstream)));
  } else if (had_condition(old_conditions, "ConfigValid")) {
    out.conditions.push_back(
        cond("ConfigValid", true, "ConfigurationValid", "Configuration is valid"));
  }

  ComponentState root = ComponentState::Ready;
  if (has_auth || has_invalid || has_missing) {
    const char* reason = has_auth ? "AuthError" : has_invalid ? "InvalidSpec" : "ReferenceNotFound";
    std::string message =
        has_auth ? with_detail("Authentication or authorization failure", ErrorCategory::kAuth)
        : has_invalid
            ? with_detail("Configuration validation failed", ErrorCategory::kInvalidSpec)
            : with_detail("Referenced resource not found", ErrorCategory::kMissingUpstream);
    out.conditions.push_back(cond("Ready", false, reason, message));
    root = ComponentState::Failed;
    out.should_apply = false;
  } else {
    const ComponentHealth* first_error = nullptr;
    for (const auto& c : components) {
      if (!c.affects_readiness) continue;
      ComponentState s = c.state;
      if (s != ComponentState::Ready && !is_error_state(s) && s != ComponentState::Pending) {
        s = c.dependency == Dependency::Upstream ? ComponentState::Pending
                                                 : ComponentState::Progressing;
      }
      if (state_priority(s) < state_priority(root)) root = s;
      if (first_error == nullptr && is_error_state(s)) first_error = &c;
    }
    if (root == ComponentState::Ready) {
      out.conditions.push_back(
          cond("Ready", true, "AllComponentsReady", "All components are ready"));
    } else if (first_error != nullptr) {
      out.conditions.push_back(
          cond("Ready", false, first_error->reason,
               "Component " + first_error->component + " is not ready: " + first_error->message));
    } else if (has_infra) {
      out.conditions.push_back(
          cond("Ready", false, "InfrastructureError", "Infrastructure error - waiting for retry"));
    } else {
      out.conditions.push_back(
          cond("Ready", false, "Progressing", "Waiting for components to become ready"));
    }
    if (has_infra && root != ComponentState::Ready) root = ComponentState::Degraded;
  }
  if (has_infra) {
    out.should_apply = false;
    out.infrastructure_error = true;
  }

  out.root = root;
  return out;
}

}  // namespace aim::engine
