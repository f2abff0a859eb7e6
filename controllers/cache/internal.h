// Shared between the cache group's reconcilers (not part of the group's public header).
#pragma once

#include <string>

#include "controllers/cache/cache.h"
#include "engine/runtime_config.h"

namespace aim::controllers {

void register_artifact_controller(kube::Manager& mgr, const Context& ctx,
                                  const CacheOptions& options);
void register_template_cache_controller(kube::Manager& mgr, const Context& ctx,
                                        const CacheOptions& options);

void register_dynamo_model_controller(kube::Manager& mgr, const Context& ctx);

// One AIMArtifact reconcile (reads the shared caches, writes through ctx.client); exposed for
// the unit tests over the fake API server.
kube::ReconcileResult reconcile_artifact(const Context& ctx, const CacheOptions& options,
                                         const kube::Request& req);

namespace cache_internal {
// A failed create: nothing to do when the namespace is going away (creates are forbidden then),
// else the error (retried with backoff).
inline kube::ReconcileResult create_failed(const Context& ctx, const std::string& ns,
                                           const kube::Error& error) {
  auto terminating = namespace_terminating(ctx, ns);
  if (terminating.ok() && terminating.value()) return kube::Action::done();
  return aim::fail(kube::ReconcileError(error));
}
}  // namespace cache_internal

}  // namespace aim::controllers
