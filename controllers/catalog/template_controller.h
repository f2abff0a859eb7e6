// AIMServiceTemplate / AIMClusterServiceTemplate reconcile (behavior.md §3.2, §4.2-§4.4).
// Internal to the catalog group.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "api/model.h"
#include "api/service_template.h"
#include "controllers/catalog/internal.h"
#include "engine/template_naming.h"

namespace aim::controllers::catalog {

struct TemplateScope {
  bool cluster = false;
  kube::ResourceType template_type;
  kube::ResourceType model_type;
  std::string controller;       // "service-template" / "cluster-service-template"
  std::string model_component;  // "Model" / "ClusterModel"
  static TemplateScope namespaced();
  static TemplateScope cluster_scoped();
};

// The cluster-wide limit on running discovery Jobs (behavior.md §4.3), shared by both template
// controllers of the process. Active Jobs are counted from the informer cache; Jobs this process
// created that the cache has not shown yet count too, so the limit holds in-process even while
// the cache lags (the reference's Lease-based lock is best-effort for exactly that reason).
class DiscoverySlots {
 public:
  static constexpr int kLimit = 10;
  static DiscoverySlots& instance();
  // Runs `create` when a slot is free (under the lock); false when the limit is reached.
  // `create` returns whether the Job was created.
  bool run_if_free(const Context& ctx, const std::string& job_key,
                   const std::function<bool()>& create);
  int active(const Context& ctx);
  // Forgets the Jobs created but not yet seen in the cache (tests).
  void clear();

 private:
  int count_locked(const Context& ctx, int64_t now);
  std::mutex mu_;
  // Job key -> creation time (Unix seconds); dropped once the cache shows the Job, or after
  // kUnseenSeconds (an informer lags milliseconds, seconds on a loaded node or across a watch
  // reconnect; a Job deleted before the cache saw it must not hold a slot for long).
  static constexpr int64_t kUnseenSeconds = 30;
  std::map<std::string, int64_t> recent_;
};

// The discovery Job's inputs (name and spec hash) from a template (either kind: the cluster
// kind reads through the namespaced declaration) and its model's spec (nullptr when absent).
engine::DiscoveryJobNaming discovery_naming(const TemplateScope& scope,
                                            const api::AIMServiceTemplate& tmpl,
                                            const api::AIMModelSpec* model);

// The discovery Job (behavior.md §4.2) before owner reference and propagated labels; it runs for
// at most `deadline` (activeDeadlineSeconds).
Json discovery_job(const TemplateScope& scope, const api::AIMServiceTemplate& tmpl,
                   const api::AIMModelSpec& model, const std::string& job_namespace,
                   std::chrono::seconds deadline = DiscoveryOptions{}.deadline);

kube::ReconcileResult reconcile_template(const Context& ctx, const TemplateScope& scope,
                                         const kube::Request& req,
                                         const DiscoveryOptions& discovery = {});

}  // namespace aim::controllers::catalog
