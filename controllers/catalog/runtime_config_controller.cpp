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

std::vector<std::string> runtime_config_problems(const Json& spec) {
  std::vector<std::string> problems;
  const Json& match = field(field(spec, "labelPropagation"), "match");
  if (match.is_array()) {
    for (const auto& m : match) {
      if (m.is_string() && !valid_glob(m.get<std::string>())) {
        problems.push_back("labelPropagation.match pattern \"" + m.get<std::string>() +
                           "\" is not a valid glob");
      }
    }
  }
  for (const Json* holder : {&field(spec, "storage"), &spec}) {
    const Json& h = field(*holder, "pvcHeadroomPercent");
    if (h.is_number_integer() && h.get<int64_t>() < 0) {
      problems.push_back("pvcHeadroomPercent must not be negative");
    }
  }
  return problems;
}

kube::ReconcileResult reconcile_runtime_config(const Context& ctx, bool cluster,
                                               const kube::Request& req) {
  auto type = cluster ? types::aim_cluster_runtime_configs() : types::aim_runtime_configs();
  auto obj = ctx.cache(type).get(req.ns, req.name);
  if (!obj || is_paused(*obj) || is_being_deleted(*obj)) return kube::Action::done();
  const Json& cfg = *obj;
  auto problems = runtime_config_problems(field(cfg, "spec"));

  std::vector<engine::Condition> desired;
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
  } else if (ctx.cache(types::aim_cluster_runtime_configs()).get("", name_of(cfg))) {
    desired.push_back(make_condition(
        "Resolved", true, "MergedOverClusterConfig",
        "Merged over AIMClusterRuntimeConfig \"" + name_of(cfg) + "\" (fields set here win)"));
  } else {
    desired.push_back(make_condition(
        "Resolved", true, "NamespaceConfigOnly",
        "No AIMClusterRuntimeConfig \"" + name_of(cfg) + "\"; this config is used as is"));
  }
  Json status = field(cfg, "status").is_object() ? cfg["status"] : Json::object();
  const Json& gen = field(field(cfg, "metadata"), "generation");
  if (gen.is_number_integer()) status["observedGeneration"] = gen;
  auto old_conditions = conditions_of(cfg);
  set_conditions(status, cfg, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, type, cfg, status);
  std::string reporter =
      cluster ? "aim-cluster-runtime-config-controller" : "aim-runtime-config-controller";
  emit_condition_events(ctx.events(reporter), cfg, old_conditions,
                        conditions_of(Json{{"status", status}}));
  if (!written) return fail(kube::ReconcileError(written.error()));
  return kube::Action::done();
}

}  // namespace aim::controllers::catalog
