// AIMRuntimeConfig / AIMClusterRuntimeConfig status (spec README §4: "runtime-config objects get
// a status"; the reference registers no controller for them, behavior.md §3.9).
//
// status.observedGeneration = metadata.generation, and two conditions:
// * `Ready`: True/`ConfigValid`, or False/`InvalidConfig` naming what is wrong (label-propagation
//   patterns that do not parse; a negative pvcHeadroomPercent).
// * `Resolved` (namespaced configs only): True/`MergedOverClusterConfig` when an
//   AIMClusterRuntimeConfig of the same name exists (this config overrides it field by field),
//   else True/`NamespaceConfigOnly`. Cluster configs: True/`ClusterConfig`.
#include "controllers/catalog/runtime_config_controller.h"

#include "controllers/typed.h"

namespace aim::controllers::catalog {

namespace {

// A shell glob as Go's filepath.Match reads it: brackets must close.
bool valid_glob(const std::string& p) {
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (++i >= p.size()) return false;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      if (i + 1 < p.size() && (p[i + 1] == '^' || p[i + 1] == '!')) ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') return false;  // empty class
    } else if (in_class && c == ']') {
      in_class = false;
    }
  }
  return !in_class;
}

}  // namespace

std::vector<std::string> runtime_config_problems(const api::AIMRuntimeConfigSpec& spec) {
  std::vector<std::string> problems;
  if (spec.label_propagation && spec.label_propagation->match) {
    for (const auto& m : *spec.label_propagation->match) {
      if (!valid_glob(m))
        problems.push_back("labelPropagation.match pattern \"" + m + "\" is not a valid glob");
    }
  }
  for (auto h : {spec.storage ? spec.storage->pvc_headroom_percent : std::nullopt,
                 spec.pvc_headroom_percent}) {
    if (h && *h < 0) problems.push_back("pvcHeadroomPercent must not be negative");
  }
  return problems;
}

namespace {

std::vector<engine::Condition> runtime_config_conditions(const Context& ctx, bool cluster,
                                                         const std::string& name,
                                                         const api::AIMRuntimeConfigSpec& spec) {
  std::vector<engine::Condition> desired;
  auto problems = runtime_config_problems(spec);
  if (problems.empty()) {
    desired.push_back(make_condition("Ready", true, "ConfigValid", "Runtime config is valid"));
  } else {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    desired.push_back(make_condition("Ready", false, "InvalidConfig", msg));
  }
  if (cluster) {
    desired.push_back(make_condition("Resolved", true, "ClusterConfig",
                                     "Cluster-wide defaults; namespace configs of the same name "
                                     "override them field by field"));
  } else if (ctx.cache(types::aim_cluster_runtime_configs()).get("", name)) {
    desired.push_back(make_condition(
        "Resolved", true, "MergedOverClusterConfig",
        "Merged over AIMClusterRuntimeConfig \"" + name + "\" (fields set here win)"));
  } else {
    desired.push_back(
        make_condition("Resolved", true, "NamespaceConfigOnly",
                       "No AIMClusterRuntimeConfig \"" + name + "\"; this config is used as is"));
  }
  return desired;
}

}  // namespace

kube::ReconcileResult reconcile_runtime_config(const Context& ctx, bool cluster,
                                               const kube::Request& req) {
  auto type = cluster ? types::aim_cluster_runtime_configs() : types::aim_runtime_configs();
  // Both kinds share one spec and status, so the namespaced declaration reads either.
  auto got = typed<api::AIMRuntimeConfig>(ctx.cache(type).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(type.kind, req, got.error());
  const Json& cfg = *got->raw;
  if (is_paused(cfg) || is_being_deleted(cfg)) return kube::Action::done();
  const auto& meta = got->typed.metadata;
  auto desired = runtime_config_conditions(ctx, cluster, name_of(meta), got->typed.spec);
  api::AIMRuntimeConfigStatus st = got->typed.status;
  if (meta.generation) st.observed_generation = meta.generation;
  Json status = api::encode(st);
  auto old_conditions = conditions_of(cfg);
  set_conditions(status, cfg, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, type, cfg, status);
  std::string reporter =
      cluster ? "aim-cluster-runtime-config-controller" : "aim-runtime-config-controller";
  emit_condition_events(ctx.events(reporter), cfg, old_conditions, status_conditions(status));
  if (!written) return fail(kube::ReconcileError(written.error()));
  return kube::Action::done();
}

}  // namespace aim::controllers::catalog
