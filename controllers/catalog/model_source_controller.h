// AIMClusterModelSource reconcile (behavior.md §3.4, §4.11). Internal to the catalog group.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "controllers/catalog/internal.h"

namespace aim::controllers::catalog {

// A Go duration ("1h", "15m", "90s", "1h30m") in whole seconds; nullopt when unparsable or empty.
std::optional<int64_t> parse_duration_seconds(std::string_view text);

kube::ReconcileResult reconcile_model_source(const Context& ctx, const kube::Request& req);
void register_model_source_controller(kube::Manager& mgr, const Context& ctx);

}  // namespace aim::controllers::catalog
