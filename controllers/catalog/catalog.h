// The model catalog controllers (behavior.md §3.1-§3.4, §3.9, §4.1-§4.7, §4.11-§4.12; fixed per
// spec README §4): AIMModel / AIMClusterModel (image metadata, generated templates, status over
// the templates), AIMServiceTemplate / AIMClusterServiceTemplate (discovery Jobs, GPU
// availability, backoff, the 10-job limit), AIMRuntimeConfig / AIMClusterRuntimeConfig (a
// status on the config objects) and AIMClusterModelSource (registry listing). See
// docs/catalog.md for every deliberate difference from the reference.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "controllers/framework.h"
#include "engine/health.h"
#include "engine/runtime_config.h"
#include "kube/manager.h"

namespace aim::controllers::catalog {

// The `RuntimeConfig` component of a resolution: Ready / ConfigFound or DefaultConfigNotFound,
// or Failed / ConfigNotFound (MissingUpstream). `upstream` marks it as an upstream dependency
// (cluster-scoped kinds).
engine::ComponentHealth runtime_config_health(const engine::ResolvedRuntimeConfig& resolved,
                                              bool upstream);

// Discovery Jobs and their pods (docs/catalog.md, "Stuck discovery pods and deadlines").
struct DiscoveryOptions {
  // activeDeadlineSeconds of every discovery Job: one still running after this long fails with
  // DeadlineExceeded, reported as DiscoveryTimeout and counted as a failed attempt
  // ($AIM_DISCOVERY_DEADLINE_SECONDS).
  std::chrono::seconds deadline{900};
  // How long a discovery pod may be Unschedulable before the template reports it
  // ($AIM_UNSCHEDULABLE_GRACE_SECONDS, shared with the download pods). Image pull and other pod
  // errors are reported at once.
  std::chrono::seconds unschedulable_grace{30};

  static DiscoveryOptions from_env();
};

// Which controllers to register (all by default). Tests register only what they need.
struct Options {
  bool models = true;           // model + cluster-model
  bool templates = true;        // service-template + cluster-service-template
  bool runtime_configs = true;  // status controllers of both runtime-config kinds
  bool model_sources = true;    // cluster-model-source
  DiscoveryOptions discovery;   // defaults; the operator reads DiscoveryOptions::from_env()
};

void register_catalog_controllers(kube::Manager& mgr, const Context& ctx, const Options& options);

}  // namespace aim::controllers::catalog

namespace aim::controllers {
// The entry point cmd/aim-engine calls: every catalog controller, discovery options from the
// environment.
void register_catalog_controllers(kube::Manager& mgr, const Context& ctx);
}  // namespace aim::controllers
