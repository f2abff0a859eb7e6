// AIMRuntimeConfig / AIMClusterRuntimeConfig status controllers. Internal to the catalog group.
#pragma once

#include <string>
#include <vector>

#include "api/runtime_config.h"
#include "controllers/catalog/internal.h"

namespace aim::controllers::catalog {

// What is wrong with a runtime config spec (empty when valid).
std::vector<std::string> runtime_config_problems(const api::AIMRuntimeConfigSpec& spec);

kube::ReconcileResult reconcile_runtime_config(const Context& ctx, bool cluster,
                                               const kube::Request& req);

}  // namespace aim::controllers::catalog
