// The AIMService reconcile: fetch (caches only) -> resolve model and template -> decide caching
// and routing -> derive status (engine) -> apply children -> write status -> events.
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "api/constants.h"
#include "controllers/service/internal.h"
#include "controllers/service/resolve.h"
#include "controllers/service/service.h"
#include "engine/derived_template.h"
#include "engine/discovery_output.h"
#include "engine/env_merge.h"
#include "engine/inference_service.h"
#include "engine/routing.h"
#include "engine/runtime_config.h"
#include "engine/selection.h"
#include "engine/service_names.h"
#include "engine/service_status.h"

namespace aim::controllers::service {
namespace {

namespace names = engine::service_names;
using engine::ComponentState;
using engine::ErrorCategory;
using engine::TemplateScope;

const std::string kFinalizer(api::kFinalizerTemplateCacheCleanup);

std::optional<int32_t> opt_int(const Json& v) {
  if (v.is_number_integer()) return v.get<int32_t>();
  return std::nullopt;
}

// ---- caching -----------------------------------------------------------------------------------

struct CacheResult {
  kube::ObjectPtr cache;
  engine::CachingInput::Cache state = engine::CachingInput::Cache::Absent;
};

engine::CachingInput::Cache cache_state(const std::string& s) {
  using C = engine::CachingInput::Cache;
  if (s == "Ready") return C::Ready;
  if (s == "Progressing" || s == "Pending") return C::Progressing;
  if (s == "Failed" || s == "Degraded") return C::Failed;
  return C::Other;
}

CacheResult find_cache(const Context& ctx, const Json& svc, const std::string& template_name,
                       engine::CachingMode mode) {
  CacheResult r;
  if (template_name.empty() || mode == engine::CachingMode::Never) return r;
  const std::string ns = namespace_of(svc);
  auto& caches = ctx.cache(types::aim_template_caches());
  if (mode == engine::CachingMode::Dedicated) {
    auto c = caches.get(
        ns, names::dedicated_template_cache_name(template_name, name_of(svc), uid_of(svc)));
    if (c && is_controlled_by(*c, svc)) r.cache = c;
  } else {
    int best = -2;
    for (auto& c : caches.by_index(index::kCacheTemplate, template_name)) {
      if (namespace_of(*c) != ns) continue;
      std::string m = str_at(*c, {"spec", "mode"});
      if (!m.empty() && m != "Shared") continue;
      int p = api::status_priority(str_at(*c, {"status", "status"}));
      if (p > best) {
        best = p;
        r.cache = c;
      }
    }
  }
  if (r.cache) r.state = cache_state(str_at(*r.cache, {"status", "status"}));
  return r;
}

std::vector<engine::CacheMount> cache_mounts(const Json& cache) {
  std::vector<engine::CacheMount> out;
  const Json& arts = at(cache, {"status", "artifacts"});
  if (!arts.is_object()) return out;
  for (const auto& [key, a] : arts.items()) {
    if (a.value("status", "") != "Ready") continue;
    std::string pvc = a.value("persistentVolumeClaim", "");
    if (pvc.empty()) continue;
    out.push_back({a.value("name", key), pvc, a.value("model", "")});
  }
  return out;
}

bool mounts_claim(const Json& isvc, const std::string& claim) {
  const Json& vols = at(isvc, {"spec", "predictor", "volumes"});
  if (!vols.is_array()) return false;
  for (const auto& v : vols) {
    if (str_at(v, {"persistentVolumeClaim", "claimName"}) == claim) return true;
  }
  return false;
}

bool mounts_template_cache(const Json& isvc, const std::string& service_pvc) {
  const Json& vols = at(isvc, {"spec", "predictor", "volumes"});
  if (!vols.is_array()) return false;
  for (const auto& v : vols) {
    std::string claim = str_at(v, {"persistentVolumeClaim", "claimName"});
    if (claim.empty() || v.value("name", "") == api::kVolumeSharedMemory) continue;
    if (claim != service_pvc) return true;
  }
  return false;
}

// ---- status helpers ----------------------------------------------------------------------------

Json resolved_ref(const Json& obj, bool cluster) {
  Json ref = {{"name", name_of(obj)},
              {"scope", cluster ? "Cluster" : "Namespace"},
              {"kind", obj.value("kind", "")},
              {"uid", uid_of(obj)}};
  if (!cluster) ref["namespace"] = namespace_of(obj);
  return ref;
}

std::vector<engine::Condition> conditions_from_status(const Json& status) {
  std::vector<engine::Condition> out;
  const Json& list = at(status, {"conditions"});
  if (!list.is_array()) return out;
  for (const auto& c : list) {
    if (auto cond = engine::condition_from_json(c)) out.push_back(*cond);
  }
  return out;
}

// One event when the automatic choice changes (seed 001 explainability): a new template chosen,
// or the selection failing in a new way. Compared with the previous status.templateSelection;
// without one, with the previous resolvedTemplate and TemplateReady reason.
void emit_selection_event(kube::EventRecorder* rec, const Json& svc,
                          const std::vector<engine::Condition>& old_conditions,
                          const engine::TemplateSelection& sel) {
  if (rec == nullptr) return;
  const std::string outcome = engine::to_string(sel.outcome);
  const std::string chosen = sel.chosen.value_or("");
  const Json& old_sel = at(svc, {"status", "templateSelection"});
  if (old_sel.is_object()) {
    if (str_at(old_sel, {"outcome"}) == outcome && str_at(old_sel, {"chosen"}) == chosen) return;
  } else if (sel.outcome == engine::SelectionOutcome::Selected) {
    if (str_at(svc, {"status", "resolvedTemplate", "name"}) == chosen) return;
  } else {
    for (const auto& c : old_conditions) {
      if (c.type == "TemplateReady" && c.reason == sel.reason) return;
    }
  }
  const std::string summary = engine::selection_summary(sel);
  switch (sel.outcome) {
    case engine::SelectionOutcome::Selected:
      rec->normal(svc, "TemplateSelected", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::Ambiguous:
      rec->warning(svc, "TemplateSelectionAmbiguous", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::NoMatch:
      rec->warning(svc, "TemplateNotSelected", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::NoneReady:
    case engine::SelectionOutcome::NoCandidates:
      rec->normal(svc, "TemplateNotSelected", "SelectTemplate", summary);
      break;
  }
}

// ---- deletion ----------------------------------------------------------------------------------

kube::ReconcileResult finalize(const Context& ctx, const Json& svc) {
  auto terminating = namespace_terminating(ctx, namespace_of(svc));
  if (!terminating) return fail(kube::ReconcileError(terminating.error()));
  if (!*terminating) {
    // Delete this service's template caches that never became Ready (seed 001 cleanup).
    auto label = names::sanitize_label_value(name_of(svc));
    if (label) {
      auto caches = ctx.cache(types::aim_template_caches())
                        .by_labels({{std::string(api::kLabelService), *label}}, namespace_of(svc));
      for (const auto& c : caches) {
        if (str_at(*c, {"status", "status"}) == "Ready") continue;
        auto removed =
            ctx.client->remove(types::aim_template_caches(), namespace_of(*c), name_of(*c));
        if (!removed && !removed.error().is(kube::ErrorCode::kNotFound) &&
            !removed.error().is(kube::ErrorCode::kForbidden))
          return fail(kube::ReconcileError(removed.error()));
      }
    }
  }
  auto done = remove_finalizer(ctx, types::aim_services(), svc, kFinalizer);
  if (!done) {
    if (done.error().is(kube::ErrorCode::kNotFound)) return kube::Action::done();
    if (done.error().is(kube::ErrorCode::kConflict)) return kube::Action::requeue();
    return fail(kube::ReconcileError(done.error()));
  }
  return kube::Action::done();
}

// ---- observation -------------------------------------------------------------------------------

// Everything one reconcile observed (from the caches) and what the engine made of it.
struct World {
  const Json* svc = nullptr;
  std::string ns;
  std::string name;
  engine::ResolvedRuntimeConfig rc;
  Json rc_spec = Json::object();
  std::optional<std::string> isvc_name;  // nullopt when the namespace is too long
  kube::ObjectPtr isvc;
  engine::CachingMode mode = engine::CachingMode::Auto;
  ModelResult model;
  TemplateResult tmpl;
  bool model_ready = false;
  bool template_ready = false;  // the template the service runs is Ready
  std::string template_name;    // its name when Ready
  Json tmpl_obj = Json::object();
  std::string service_pvc;
  CacheResult cache;
  std::optional<int64_t> pvc_bytes;
  engine::CachingDecision caching;
  std::optional<engine::HpaReplicas> hpa_replicas;
  std::optional<std::chrono::seconds> pods_recheck;  // a pod inside its Unschedulable grace
  std::optional<engine::RenderedRoute> route;
  engine::ServiceObservation o;

  const Json& spec() const { return at(*svc, {"spec"}); }
  bool dedicated() const { return mode == engine::CachingMode::Dedicated; }
};

// Runtime config: namespace over cluster, presence-based merge.
void observe_runtime_config(const Context& ctx, World& w) {
  const std::string requested = str_at(w.spec(), {"runtimeConfigName"});
  const std::string name = engine::effective_runtime_config_name(requested);
  auto spec_of = [](const kube::ObjectPtr& c) -> std::optional<Json> {
    if (!c) return std::nullopt;
    const Json& spec = at(*c, {"spec"});
    return engine::migrate_runtime_config(spec.is_object() ? spec : Json::object());
  };
  w.rc = engine::resolve_runtime_config(
      requested, spec_of(ctx.cache(types::aim_runtime_configs()).get(w.ns, name)),
      spec_of(ctx.cache(types::aim_cluster_runtime_configs()).get("", name)));
  if (w.rc.spec.is_object()) w.rc_spec = w.rc.spec;
  if (w.rc.outcome == engine::RuntimeConfigOutcome::kFound) {
    w.o.runtime_config = engine::RuntimeConfigObservation{true, std::nullopt};
  } else if (w.rc.outcome == engine::RuntimeConfigOutcome::kNotFound) {
    w.o.runtime_config = engine::RuntimeConfigObservation{
        false, engine::ObservedError{ErrorCategory::kMissingUpstream, w.rc.reason, w.rc.message}};
  }
}

void observe_isvc(const Context& ctx, World& w) {
  auto name = names::inference_service_name(w.name, w.ns);
  if (!name) {
    w.o.isvc.kind = engine::IsvcObservation::Kind::Error;
    w.o.isvc.error = {ErrorCategory::kInvalidSpec, "InvalidName", name.error()};
    return;
  }
  w.isvc_name = *name;
  w.isvc = ctx.cache(types::inference_services()).get(w.ns, *name);
  if (!w.isvc) return;
  w.o.isvc.kind = engine::IsvcObservation::Kind::Present;
  w.o.isvc.ready = isvc_ready(*w.isvc);
  for (const auto& ev :
       ctx.cache(types::core_events()).by_index(index::kIsvcEvents, w.ns + "/" + *name)) {
    if (str_at(*ev, {"involvedObject", "uid"}) != uid_of(*w.isvc)) continue;
    std::string reason = str_at(*ev, {"reason"});
    if (reason == "ServerlessModeRejected") w.o.isvc.serverless_rejected = true;
    if (reason == "InternalError" && str_at(*ev, {"type"}) == "Warning")
      w.o.isvc.internal_error_event = str_at(*ev, {"message"});
  }
}

void observe_caching(const Context& ctx, World& w) {
  w.service_pvc = names::service_pvc_name(w.name, uid_of(*w.svc));
  w.cache = find_cache(ctx, *w.svc, w.template_name, w.mode);
  engine::CachingInput ci;
  ci.mode = w.mode;
  ci.template_ready = w.template_ready;
  const Json& sources = at(w.tmpl_obj, {"status", "modelSources"});
  ci.template_has_sources = sources.is_array() && !sources.empty();
  ci.model_ready = w.model_ready;
  ci.cache = w.cache.state;
  if (w.cache.cache) ci.cache_status = str_at(*w.cache.cache, {"status", "status"});
  ci.isvc_exists = w.isvc != nullptr;
  ci.isvc_mounts_template_cache = w.isvc && mounts_template_cache(*w.isvc, w.service_pvc);
  std::vector<std::optional<int64_t>> sizes;
  if (sources.is_array()) {
    for (const auto& s : sources) sizes.push_back(quantity_bytes(s.value("size", Json())));
  }
  int32_t headroom = engine::runtime_pvc_headroom_percent(w.rc_spec);
  const Json& own = at(w.spec(), {"storage", "pvcHeadroomPercent"});
  if (own.is_number_integer()) headroom = own.get<int32_t>();
  w.pvc_bytes = engine::service_pvc_bytes(sizes, headroom);
  ci.model_size_known = w.pvc_bytes.has_value();
  w.caching = engine::decide_caching(ci);
  w.o.cache = w.caching.cache_health;
}

// How long a predictor pod may be unschedulable before the service says so
// ($AIM_UNSCHEDULABLE_GRACE_SECONDS, as for the discovery and download pods; default 30 s).
engine::PodIssueOptions pod_issue_options() {
  static const engine::PodIssueOptions options = [] {
    engine::PodIssueOptions o;
    if (const char* v = std::getenv("AIM_UNSCHEDULABLE_GRACE_SECONDS"); v && *v) {
      char* end = nullptr;
      const long n = std::strtol(v, &end, 10);
      if (*end == '\0' && n >= 0) o.unschedulable_grace = std::chrono::seconds(n);
    }
    return o;
  }();
  return options;
}

void observe_pods_and_hpa(const Context& ctx, World& w) {
  if (w.isvc) {
    const std::vector<Json> pods = as_values(
        ctx.cache(kube::types::pods(), inference_pods_selector())
            .by_labels({{std::string(api::kLabelKServeInferenceService), *w.isvc_name}}, w.ns));
    // Without pods the InferenceService's own Ready condition is the judge (a serving runtime
    // that reports Ready has pods; there is nothing to inspect otherwise).
    if (!pods.empty() || !w.o.isvc.ready) {
      auto ph = predictor_pods_health(pods, ctx.now(), pod_issue_options());
      w.o.pods = std::move(ph.health);
      w.pods_recheck = ph.recheck_after;
    }
  }
  w.o.hpa.configured = !at(w.spec(), {"autoScaling"}).is_null() ||
                       !at(w.spec(), {"minReplicas"}).is_null() ||
                       !at(w.spec(), {"maxReplicas"}).is_null();
  if (!w.isvc_name) return;
  auto hpa = ctx.cache(types::horizontal_pod_autoscalers())
                 .get(w.ns, "keda-hpa-" + *w.isvc_name + "-predictor");
  if (!hpa) return;
  w.o.hpa.kind = engine::HpaObservation::Kind::Present;
  const Json& conds = at(*hpa, {"status", "conditions"});
  if (conds.is_array()) {
    for (const auto& c : conds) {
      std::string type = c.value("type", "");
      bool is_true = c.value("status", "") == "True";
      if (type == "ScalingActive") {
        w.o.hpa.scaling_active = is_true;
        w.o.hpa.scaling_active_message = c.value("message", "");
      }
      if (type == "AbleToScale") w.o.hpa.able_to_scale = is_true;
    }
  }
  engine::HpaReplicas h;
  h.min_replicas = opt_int(at(*hpa, {"spec", "minReplicas"}));
  h.max_replicas = opt_int(at(*hpa, {"spec", "maxReplicas"})).value_or(0);
  h.current_replicas = opt_int(at(*hpa, {"status", "currentReplicas"})).value_or(0);
  h.desired_replicas = opt_int(at(*hpa, {"status", "desiredReplicas"})).value_or(0);
  w.hpa_replicas = h;
}

void observe_routing(const Context& ctx, World& w) {
  const engine::RoutingConfig routing =
      engine::resolve_routing(at(w.rc_spec, {"routing"}), at(w.spec(), {"routing"}));
  w.o.routing.enabled = routing.enabled;
  if (!routing.enabled) return;
  auto rendered = engine::render_http_route(routing, *w.svc);
  if (!rendered) {
    w.o.routing.render_error = rendered.error();
    return;
  }
  w.route = std::move(*rendered);
  if (auto live = ctx.cache(types::http_routes()).get(w.ns, name_of(w.route->object))) {
    w.o.routing.route = engine::RoutingObservation::Route::Present;
    w.o.routing.health = http_route_health(*live);
  }
}

World observe(const Context& ctx, const Json& svc) {
  World w;
  w.svc = &svc;
  w.ns = namespace_of(svc);
  w.name = name_of(svc);
  observe_runtime_config(ctx, w);
  observe_isvc(ctx, w);
  // Pull secrets are checked before the first pod: once the InferenceService exists, a pull
  // that fails shows on its pods (ImagePullBackOff) and a running service is left alone.
  if (!w.isvc)
    w.o.pull_secrets =
        check_pull_secrets(ctx, w.ns, pull_secret_names(at(w.spec(), {"imagePullSecrets"})),
                           engine::Dependency::Upstream);
  w.mode = engine::parse_caching_mode(str_at(w.spec(), {"caching", "mode"}));
  w.model = resolve_model(ctx, svc);
  w.o.model = w.model.obs;
  w.tmpl = resolve_template(ctx, svc, w.model, !w.dedicated());
  w.o.template_ = w.tmpl.obs;
  w.model_ready = w.model.object && w.model.obs.status == "Ready";
  w.template_ready = w.tmpl.object && w.tmpl.obs.status == "Ready" &&
                     w.tmpl.obs.kind == engine::TemplateObservation::Kind::Found;
  if (w.template_ready) w.template_name = name_of(*w.tmpl.object);
  if (w.tmpl.object) w.tmpl_obj = *w.tmpl.object;
  observe_caching(ctx, w);
  observe_pods_and_hpa(ctx, w);
  observe_routing(ctx, w);
  return w;
}

// Seed 001: a service that served and lost its runtime is Degraded, not Starting again. It stays
// Degraded (reason RuntimeDegraded) until the InferenceService is Ready once more.
void degrade_lost_runtime(std::vector<engine::ComponentHealth>& components,
                          const std::vector<engine::Condition>& old_conditions, const World& w) {
  if (!w.isvc || w.o.isvc.ready) return;
  bool served = false;
  for (const auto& c : old_conditions) {
    if (c.type == "InferenceServiceReady" && (c.status == "True" || c.reason == "RuntimeDegraded"))
      served = true;
  }
  if (!served) return;
  for (auto& h : components) {
    if (h.component != "InferenceService" || h.state != ComponentState::Progressing) continue;
    h.state = ComponentState::Degraded;
    h.reason = "RuntimeDegraded";
    h.message = "InferenceService is no longer ready";
    const Json& conds = at(*w.isvc, {"status", "conditions"});
    if (!conds.is_array()) continue;
    for (const auto& ic : conds) {
      if (ic.value("type", "") == "Ready" && !ic.value("message", "").empty())
        h.message += ": " + ic.value("message", "");
    }
  }
}

// ---- desired children --------------------------------------------------------------------------

std::string storage_class(const World& w) {
  std::string sc = str_at(w.spec(), {"storage", "defaultStorageClassName"});
  if (sc.empty()) sc = engine::runtime_storage_class(w.rc_spec).value_or("");
  return sc;
}

Json template_cache_object(const World& w) {
  const bool cluster_tmpl = w.tmpl.scope == TemplateScope::Cluster;
  Json spec = {{"templateName", w.template_name},
               {"templateScope", cluster_tmpl ? "Cluster" : "Namespace"},
               {"mode", w.caching.template_cache_mode}};
  if (std::string sc = storage_class(w); !sc.empty()) spec["storageClassName"] = sc;
  std::string rc = str_at(w.spec(), {"runtimeConfigName"});
  if (!rc.empty()) spec["runtimeConfigName"] = rc;
  Json env = engine::template_cache_env(
      at(w.tmpl_obj, {"spec", "env"}),
      cluster_tmpl ? Json() : at(w.tmpl_obj, {"spec", "caching", "env"}), at(w.spec(), {"env"}));
  if (env.is_array() && !env.empty()) spec["env"] = env;
  const std::string name =
      w.dedicated() ? names::dedicated_template_cache_name(w.template_name, w.name, uid_of(*w.svc))
                    : names::shared_template_cache_name(w.template_name, w.ns);
  Json c = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", "AIMTemplateCache"},
            {"metadata", {{"name", name}, {"namespace", w.ns}, {"labels", Json::object()}}},
            {"spec", spec}};
  if (auto label = names::sanitize_label_value(w.name))
    c["metadata"]["labels"][std::string(api::kLabelService)] = *label;
  if (w.dedicated()) set_controller_owner(c, *w.svc);
  label_child(c, *w.svc, "service", w.rc_spec);
  return c;
}

Json service_pvc_object(const World& w) {
  Json pvc = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolumeClaim"},
      {"metadata",
       {{"name", w.service_pvc},
        {"namespace", w.ns},
        {"labels", {{std::string(api::kLabelK8sComponent), api::kComponentModelStorage}}}}},
      {"spec",
       {{"accessModes", Json::array({"ReadWriteOnce"})},
        {"resources", {{"requests", {{"storage", engine::binary_si_quantity(*w.pvc_bytes)}}}}}}}};
  if (std::string sc = storage_class(w); !sc.empty()) pvc["spec"]["storageClassName"] = sc;
  set_controller_owner(pvc, *w.svc);
  label_child(pvc, *w.svc, "service", w.rc_spec);
  return pvc;
}

engine::InferenceServiceInput isvc_input(const World& w) {
  const Json& spec = w.spec();
  const Json& t = w.tmpl_obj;
  engine::InferenceServiceInput in;
  in.service_name = w.name;
  in.service_namespace = w.ns;
  in.replicas = opt_int(at(spec, {"replicas"}));
  in.min_replicas = opt_int(at(spec, {"minReplicas"}));
  in.max_replicas = opt_int(at(spec, {"maxReplicas"}));
  in.autoscaling = at(spec, {"autoScaling"});
  in.image_pull_secrets = at(spec, {"imagePullSecrets"});
  in.service_account = str_at(spec, {"serviceAccountName"});
  in.service_resources = at(spec, {"resources"});
  in.image = str_at(*w.model.object, {"spec", "image"});
  in.template_name = w.template_name;
  in.template_model_name = str_at(t, {"spec", "modelName"});
  in.profile_metric = str_at(t, {"status", "profile", "metadata", "metric"});
  in.profile_precision = str_at(t, {"status", "profile", "metadata", "precision"});
  in.template_resources = at(t, {"spec", "resources"});
  // The GPU as the template controller resolved it, else as the template asks for it.
  const Json& hw = at(t, {"status", "resolvedHardware", "gpu"});
  const Json& gpu = hw.is_object() ? hw : at(t, {"spec", "hardware", "gpu"});
  const Json& count = at(gpu, {"requests"});
  in.gpu_count = count.is_number_integer() ? count.get<int64_t>() : 0;
  in.gpu_resource_name = str_at(gpu, {"resourceName"});
  in.node_affinity = at(t, {"status", "resolvedNodeAffinity"});
  in.env.runtime_config_env = at(w.rc_spec, {"env"});
  in.env.profile_id = str_at(t, {"spec", "profileId"});
  in.env.metric = str_at(t, {"spec", "metric"});
  in.env.precision = str_at(t, {"spec", "precision"});
  in.env.template_env = at(t, {"spec", "env"});
  const Json& sources = at(t, {"spec", "modelSources"});
  if (sources.is_array() && !sources.empty()) {
    std::string id = effective_model_id(sources[0]);
    if (!id.empty()) in.env.model_id = id;
  }
  in.env.service_env = at(spec, {"env"});
  in.storage.kind = w.caching.storage;
  switch (w.caching.storage) {
    case engine::ModelStorage::Kind::TemplateCache:
      if (w.cache.cache) in.storage.mounts = cache_mounts(*w.cache.cache);
      break;
    case engine::ModelStorage::Kind::ServicePvc:
      in.storage.pvc_name = w.service_pvc;
      break;
    case engine::ModelStorage::Kind::Live:
      if (w.isvc) in.storage.live_isvc = *w.isvc;
      break;
    case engine::ModelStorage::Kind::None:
      break;
  }
  return in;
}

// Converges the children in the reference's order; returns the failures (an object that
// already exists counts as success: the cache was behind a create of our own).
std::vector<std::string> apply_children(const Context& ctx, const World& w) {
  std::vector<std::string> errors;
  auto apply = [&](const kube::ResourceType& type, const Json& desired, const Json* live) {
    auto r = apply_child(ctx, type, desired, live, kControllerName);
    if (!r && !r.error().is(kube::ErrorCode::kAlreadyExists))
      errors.push_back(type.kind + " " + name_of(desired) + ": " + r.error().describe());
  };
  const Json& svc = *w.svc;
  // 1. The model (no owner reference: shared by later services, never deleted by us).
  if (!w.model.create.is_null()) {
    Json m = w.model.create;
    label_child(m, svc, "service", w.rc_spec);
    auto live = ctx.cache(types::aim_models()).get(w.ns, name_of(m));
    apply(types::aim_models(), m, live.get());
  }
  // 2. The HTTPRoute (does not wait for the template).
  if (w.route) {
    Json r = w.route->object;
    set_controller_owner(r, svc);
    label_child(r, svc, "service", w.rc_spec);
    auto live = ctx.cache(types::http_routes()).get(w.ns, name_of(r));
    apply(types::http_routes(), r, live.get());
  }
  // 3. The derived template, created once and then left alone (shared between services).
  if (!w.tmpl.create_derived.is_null() &&
      !ctx.cache(types::aim_service_templates()).get(w.ns, name_of(w.tmpl.create_derived))) {
    apply(types::aim_service_templates(), w.tmpl.create_derived, nullptr);
  }
  // 4. The template cache, created once (a shared one is not ours to rewrite); a Shared one only
  // when no other Shared cache of the template exists (the template's own, when it enables
  // caching, or one another controller has just created).
  if (w.caching.create_template_cache && w.template_ready) {
    Json c = template_cache_object(w);
    auto create = [&] {
      if (ctx.cache(types::aim_template_caches()).get(w.ns, name_of(c))) return true;
      const size_t failed_before = errors.size();
      apply(types::aim_template_caches(), c, nullptr);
      return errors.size() == failed_before;
    };
    if (w.dedicated()) {
      create();
    } else {
      create_shared_template_cache_once(ctx, w.ns, w.template_name, create);
    }
  }
  // 5. The service PVC (Never, or Auto until the cache is Ready).
  if (w.caching.create_service_pvc && w.pvc_bytes &&
      !ctx.cache(kube::types::persistent_volume_claims()).get(w.ns, w.service_pvc)) {
    apply(kube::types::persistent_volume_claims(), service_pvc_object(w), nullptr);
  }
  // 6. The InferenceService.
  if (w.caching.apply_isvc && w.isvc_name && w.model.object && w.template_ready) {
    auto rendered = engine::render_inference_service(isvc_input(w));
    if (rendered) {
      Json desired = std::move(*rendered);
      set_controller_owner(desired, svc);
      label_child(desired, svc, "service", w.rc_spec);
      apply(types::inference_services(), desired, w.isvc.get());
    } else {
      errors.push_back("InferenceService: " + rendered.error());
    }
  }
  // 7. Children that are no longer wanted: the route of a service whose routing was turned off,
  // and the service PVC of an Auto service that has moved to the template cache (the PVC
  // protection finalizer keeps it until the old pods are gone).
  auto remove_owned = [&](const kube::ResourceType& type, const kube::ObjectPtr& live) {
    if (!live || !is_controlled_by(*live, svc) || is_being_deleted(*live)) return;
    auto r = ctx.client->remove(type, w.ns, name_of(*live));
    if (!r && !r.error().is(kube::ErrorCode::kNotFound))
      errors.push_back(type.kind + " " + name_of(*live) + ": " + r.error().describe());
  };
  if (!w.o.routing.enabled) {
    remove_owned(types::http_routes(),
                 ctx.cache(types::http_routes()).get(w.ns, names::http_route_name(w.name, w.ns)));
  }
  if (w.mode == engine::CachingMode::Auto && w.isvc &&
      mounts_template_cache(*w.isvc, w.service_pvc) && !mounts_claim(*w.isvc, w.service_pvc)) {
    remove_owned(kube::types::persistent_volume_claims(),
                 ctx.cache(kube::types::persistent_volume_claims()).get(w.ns, w.service_pvc));
  }
  return errors;
}

// ---- status ------------------------------------------------------------------------------------

Json desired_status(const Context& ctx, const World& w, const engine::DerivedStatus& derived) {
  const Json& svc = *w.svc;
  const Json& old = at(svc, {"status"});
  Json status = Json::object();
  status["status"] = derived.status;
  set_conditions(status, svc, derived.conditions, ctx.now_rfc3339());
  if (at(svc, {"metadata", "generation"}).is_number_integer())
    status["observedGeneration"] = svc["metadata"]["generation"];
  if (w.rc.outcome == engine::RuntimeConfigOutcome::kFound) {
    status["resolvedRuntimeConfig"] = {{"name", w.rc.name},
                                       {"scope", w.rc.from_namespace && w.rc.from_cluster ? "Merged"
                                                 : w.rc.from_namespace ? "Namespace"
                                                                       : "Cluster"}};
  }
  // resolvedModel / resolvedTemplate: set while Ready, kept afterwards (as the reference).
  if (w.model_ready) {
    status["resolvedModel"] = resolved_ref(*w.model.object, w.model.cluster);
  } else if (old.contains("resolvedModel")) {
    status["resolvedModel"] = old["resolvedModel"];
  }
  if (w.template_ready) {
    status["resolvedTemplate"] =
        resolved_ref(*w.tmpl.object, w.tmpl.scope == TemplateScope::Cluster);
  } else if (old.contains("resolvedTemplate")) {
    status["resolvedTemplate"] = old["resolvedTemplate"];
  }
  if (w.cache.cache && w.cache.state == engine::CachingInput::Cache::Ready) {
    status["cache"] = {{"templateCacheRef",
                        {{"name", name_of(*w.cache.cache)},
                         {"namespace", w.ns},
                         {"uid", uid_of(*w.cache.cache)}}}};
  }
  if (w.route) status["routing"] = {{"path", w.route->path}};
  status["runtime"] = engine::runtime_status(w.hpa_replicas, opt_int(at(w.spec(), {"minReplicas"})),
                                             opt_int(at(w.spec(), {"replicas"})));
  const Json& old_selection = at(old, {"templateSelection"});
  if (w.tmpl.selection) {
    status["templateSelection"] = engine::selection_to_json(*w.tmpl.selection);
  } else if (w.tmpl.reused && old_selection.is_object()) {
    status["templateSelection"] = old_selection;
  }
  return status;
}

void report_apply_errors(engine::DerivedStatus& derived, const std::vector<std::string>& errors) {
  if (errors.empty()) return;
  engine::Condition c;
  c.type = std::string(api::kConditionDependenciesReachable);
  c.status = "False";
  c.reason = std::string(api::kReasonInfrastructureError);
  c.message = "Failed to apply resources: " + errors.front();
  auto it = std::find_if(derived.conditions.begin(), derived.conditions.end(),
                         [&](const engine::Condition& x) { return x.type == c.type; });
  if (it != derived.conditions.end()) {
    *it = c;
  } else {
    derived.conditions.push_back(c);
  }
}

}  // namespace

kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req) {
  auto svc_ptr = ctx.cache(types::aim_services()).get(req.ns, req.name);
  if (!svc_ptr) return kube::Action::done();
  const Json& svc = *svc_ptr;

  if (is_being_deleted(svc)) {
    if (has_finalizer(svc, kFinalizer)) return finalize(ctx, svc);
    return kube::Action::done();
  }
  if (!has_finalizer(svc, kFinalizer)) {
    auto added = add_finalizer(ctx, types::aim_services(), svc, kFinalizer);
    if (!added) {
      if (added.error().is(kube::ErrorCode::kNotFound)) return kube::Action::done();
      if (added.error().is(kube::ErrorCode::kConflict)) return kube::Action::requeue();
      return fail(kube::ReconcileError(added.error()));
    }
    return kube::Action::done();  // the update comes back through the watch
  }
  if (is_paused(svc)) return report_paused(ctx, types::aim_services(), svc, kControllerName);
  // Automatic selection reads the nodes; wait for that cache rather than judge from nothing.
  if (!ctx.cache(kube::types::nodes()).synced()) {
    return kube::Action::requeue_after(std::chrono::seconds(1));
  }

  const World w = observe(ctx, svc);
  auto components = engine::service_components(w.o);
  const auto old_conditions = conditions_of(svc);
  degrade_lost_runtime(components, old_conditions, w);
  engine::DerivedStatus derived = engine::derive_service_status(components, old_conditions);

  std::vector<std::string> apply_errors;
  if (derived.should_apply) apply_errors = apply_children(ctx, w);
  report_apply_errors(derived, apply_errors);

  const Json status = desired_status(ctx, w, derived);
  auto written = write_status(ctx, types::aim_services(), svc, status);

  // Events (transitions only).
  auto* rec = ctx.events(kControllerName);
  emit_condition_events(rec, svc, old_conditions, conditions_from_status(status), components);
  if (w.tmpl.selection) emit_selection_event(rec, svc, old_conditions, *w.tmpl.selection);

  if (!written) return fail(kube::ReconcileError(written.error()));
  if (!apply_errors.empty()) return fail(kube::ReconcileError(apply_errors.front()));
  if (derived.infrastructure_error) {
    return fail(kube::ReconcileError("infrastructure error while reconciling the service"));
  }
  if (w.pods_recheck) return kube::Action::requeue_after(*w.pods_recheck);
  return kube::Action::done();
}

}  // namespace aim::controllers::service
