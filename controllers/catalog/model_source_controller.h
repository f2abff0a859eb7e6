// AIMClusterModelSource reconcile (behavior.md §3.4, §4.11). Internal to the catalog group.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "controllers/catalog/internal.h"

namespace aim::controllers::catalog {

kube::ReconcileResult reconcile_model_source(const Context& ctx, const kube::Request& req);
void register_model_source_controller(kube::Manager& mgr, const Context& ctx);

}  // namespace aim::controllers::catalog
