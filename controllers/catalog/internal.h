// Helpers shared by the catalog controllers (not part of the group's public surface).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/k8s_views.h"
#include "controllers/catalog/catalog.h"
#include "controllers/framework.h"
#include "core/chrono.h"
#include "engine/error_class.h"
#include "engine/health.h"
#include "kube/controller.h"
#include "registry/auth.h"

namespace aim::controllers::catalog {

// One reconcile's outcome for the framework: an error naming the failing components when the
// state engine saw an infrastructure error (rate-limited retry), else the optional requeue.
kube::ReconcileResult finish(const engine::DerivedState& state,
                             const std::vector<engine::ComponentHealth>& components,
                             std::optional<std::chrono::seconds> requeue_after);

// engine::Condition with the given values (timestamps are filled by set_conditions).
engine::Condition make_condition(std::string type, bool status, std::string reason,
                                 std::string message);

// Component state from an error category (behavior.md §2.2).
engine::ComponentState state_for(engine::ErrorCategory category);

// A component with an error of `category`.
engine::ComponentHealth error_health(
    std::string component, engine::ErrorCategory category, std::string reason, std::string message,
    engine::Dependency dependency = engine::Dependency::Unspecified);

// Status string of a root state.
std::string status_string(engine::ComponentState s);

// The Job's condition `type` is True.
bool job_finished(const api::Job& job);  // Complete or Failed

// Health of a Job and of its pods (behavior.md §2.8). For a container that failed with a
// non-zero exit code (not OOMKilled), `tail_log` (when given) returns its last 50 log lines,
// which are searched for auth / not-found / storage patterns; the matching line, else the last
// three lines, is appended to the message as a log excerpt.
using LogReader = std::function<std::string(const api::Pod& pod, const std::string& container)>;
engine::ComponentHealth job_health(std::string component, const api::Job* job);
engine::ComponentHealth pods_health(std::string component, const std::vector<api::Pod>& pods,
                                    const LogReader& tail_log = {});

// A Secret object (kubernetes.io/dockerconfigjson or dockercfg) as the registry client's
// PullSecret: type and base64-decoded data (undecodable values are skipped).
registry::PullSecret pull_secret_from(const std::string& name, const Json& secret);

}  // namespace aim::controllers::catalog
