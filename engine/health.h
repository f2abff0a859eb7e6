// Component health and the state engine shared by every controller (behavior.md §2.2-§2.3,
// fixed per spec README §4): each controller reports one ComponentHealth per component it
// depends on; derive_state() turns them into `<Component>Ready` conditions, the framework
// conditions (DependenciesReachable, AuthValid, ConfigValid), `Ready`, the worst component
// state (the root status) and whether to apply children. merge_conditions() keeps
// lastTransitionTime when status and reason are unchanged and drops conditions that no longer
// apply, so a reconcile that observed nothing new writes nothing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/error_class.h"

namespace aim::engine {

enum class ComponentState { Failed, NotAvailable, Degraded, Pending, Starting, Progressing, Ready };
const char* to_string(ComponentState s);
// Priority used to pick the worst state (lower is worse): Failed 0 ... Ready 6.
int state_priority(ComponentState s);

enum class Dependency { Unspecified, Upstream, Downstream };

struct ComponentHealth {
  std::string component;  // "Model" -> condition type "ModelReady"
  ComponentState state = ComponentState::Progressing;
  std::string reason;
  std::string message;
  Dependency dependency = Dependency::Unspecified;
  // The error behind the state, if any: Auth / InvalidSpec / MissingUpstream block applies and
  // fail the service; Infrastructure / Unknown mean "retry" and degrade a non-ready service.
  std::optional<ErrorCategory> error;
  // False for a component that is reported but must not hold the service back (the cache of an
  // Auto service while it warms: the service already runs from its own PVC).
  bool affects_readiness = true;
};

struct Condition {
  std::string type;
  std::string status;  // "True" / "False"
  std::string reason;
  std::string message;
  std::string last_transition_time;  // RFC 3339
  std::optional<int64_t> observed_generation;
};

nlohmann::json to_json(const Condition& c);
std::optional<Condition> condition_from_json(const nlohmann::json& j);

// The new condition list: `desired` in order, each keeping the old lastTransitionTime when its
// status and reason are unchanged (else `now`). Old conditions absent from `desired` are dropped.
std::vector<Condition> merge_conditions(const std::vector<Condition>& old_conditions,
                                        const std::vector<Condition>& desired,
                                        const std::string& now);

// A ComponentHealth in one expression (what every controller's observation code builds).
ComponentHealth component_health(std::string component, ComponentState state, std::string reason,
                                 std::string message,
                                 Dependency dependency = Dependency::Unspecified,
                                 std::optional<ErrorCategory> error = std::nullopt);

bool is_error_state(ComponentState s);  // Failed, Degraded, NotAvailable
// Infrastructure or Unknown: retried with backoff, degrade a resource that is not Ready.
bool is_infrastructure(ErrorCategory c);

struct DerivedState {
  ComponentState root = ComponentState::Ready;  // the worst component (Degraded on infra errors)
  std::vector<Condition> conditions;  // desired conditions (lastTransitionTime not yet set)
  bool should_apply = true;  // false on auth / invalid-spec / missing-upstream / infra errors
  bool infrastructure_error = false;  // the reconcile should return an error (backoff)
};

// The state engine. `old_conditions` only decides whether the framework conditions
// (DependenciesReachable, AuthValid, ConfigValid) are kept as True after a recovery.
DerivedState derive_state(const std::vector<ComponentHealth>& components,
                          const std::vector<Condition>& old_conditions);

}  // namespace aim::engine
