// The AIMService controller (behavior.md §3.5, §4.5-§4.10; seed 001; spec README §3-§4).
//
// One reconcile resolves the model (by name, by image or custom) and the template (explicit,
// derived for overrides, or chosen by the explainable six-stage selection of engine/selection.h),
// decides caching (engine/service_status.h decide_caching), and converges the children: an
// auto-created AIMModel, a derived AIMServiceTemplate, an AIMTemplateCache, a service PVC, the
// KServe InferenceService and the Gateway API HTTPRoute. Status (conditions, status.status,
// resolvedModel / resolvedTemplate, runtime replicas, routing.path and the templateSelection
// explanation) is written only when it changed.
#pragma once

#include "controllers/framework.h"
#include "kube/controller.h"
#include "kube/manager.h"

namespace aim::controllers {

// Registers the `service` controller (AIMService) with its watches and cache indexes.
void register_service_controllers(kube::Manager& mgr, const controllers::Context& ctx);

namespace service {

inline constexpr const char* kControllerName = "aim-service-controller";

// Registers the secondary indexes the reconcile and the watch mappings use on the shared caches
// (idempotent). register_service_controllers calls it; unit tests call it directly.
void add_service_indexes(const Context& ctx);

// One reconcile of the AIMService `req` (reads only the shared caches; writes through ctx.client).
kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req);

}  // namespace service
}  // namespace aim::controllers
