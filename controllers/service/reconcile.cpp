// The AIMService reconcile: fetch (caches only) -> resolve model and template -> decide caching
// and routing -> derive status (engine) -> apply children -> write status -> events.
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "api/constants.h"
#include "api/k8s_views.h"
#include "api/runtime_config.h"
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

// ---- caching -----------------------------------------------------------------------------------

struct CacheResult {
  std::optional<Cached<TemplateCache>> cache;
  engine::CachingInput::Cache state = engine::CachingInput::Cache::Absent;
  std::string status;  // the cache's status.status
};

engine::CachingInput::Cache cache_state(const std::string& s) {
  using C = engine::CachingInput::Cache;
  if (s == "Ready") return C::Ready;
  if (s == "Progressing" || s == "Pending") return C::Progressing;
  if (s == "Failed" || s == "Degraded") return C::Failed;
  return C::Other;
}

CacheResult find_cache(const Context& ctx, const Service& svc, const std::string& template_name,
                       engine::CachingMode mode) {
  CacheResult r;
  if (template_name.empty() || mode == engine::CachingMode::Never) return r;
  const std::string ns = namespace_of(svc.metadata);
  auto& caches = ctx.cache(types::aim_template_caches());
  if (mode == engine::CachingMode::Dedicated) {
    auto c = typed<TemplateCache>(
        caches.get(ns, names::dedicated_template_cache_name(template_name, name_of(svc.metadata),
                                                            uid_of(svc.metadata))));
    if (c && is_controlled_by(c->typed.metadata, uid_of(svc.metadata)))
      r.cache = std::move(c).value();
  } else {
    int best = -2;
    for (auto& c :
         typed_list<TemplateCache>(caches.by_index(index::kCacheTemplate, template_name))) {
      if (namespace_of(c->metadata) != ns) continue;
      const std::string m = c->spec.mode.value_or(std::string());
      if (!m.empty() && m != "Shared") continue;
      int p = api::status_priority(c->status.status.value_or(std::string()));
      if (p > best) {
        best = p;
        r.cache = std::move(c);
      }
    }
  }
  if (r.cache) {
    r.status = r.cache->typed.status.status.value_or(std::string());
    r.state = cache_state(r.status);
  }
  return r;
}

std::vector<engine::CacheMount> cache_mounts(const TemplateCache& cache) {
  std::vector<engine::CacheMount> out;
  if (!cache.status.artifacts) return out;
  for (const auto& [key, a] : *cache.status.artifacts) {
    if (a.status != "Ready") continue;
    const std::string pvc = a.persistent_volume_claim.value_or(std::string());
    if (pvc.empty()) continue;
    out.push_back({a.name.empty() ? key : a.name, pvc, a.model});
  }
  return out;
}

bool mounts_claim(const api::InferenceService& isvc, const std::string& claim) {
  for (const auto& [volume, c] : api::predictor_claims(isvc))
    if (c == claim) return true;
  return false;
}

bool mounts_template_cache(const api::InferenceService& isvc, const std::string& service_pvc) {
  for (const auto& [volume, claim] : api::predictor_claims(isvc)) {
    if (claim.empty() || volume == api::kVolumeSharedMemory) continue;
    if (claim != service_pvc) return true;
  }
  return false;
}

// ---- status helpers ----------------------------------------------------------------------------

template <class R>
api::ResolvedReference resolved_ref(const R& obj, bool cluster) {
  api::ResolvedReference ref;
  ref.name = name_of(obj.metadata);
  ref.scope = std::string(cluster ? api::kScopeCluster : api::kScopeNamespace);
  ref.kind = obj.kind;
  ref.uid = uid_of(obj.metadata);
  if (!cluster) ref.namespace_ = namespace_of(obj.metadata);
  return ref;
}

// One event when the automatic choice changes (seed 001 explainability): a new template chosen,
// or the selection failing in a new way. Compared with the previous status.templateSelection;
// without one, with the previous resolvedTemplate and TemplateReady reason.
void emit_selection_event(kube::EventRecorder* rec, const Cached<Service>& svc,
                          const std::vector<engine::Condition>& old_conditions,
                          const engine::TemplateSelection& sel) {
  if (rec == nullptr) return;
  const std::string outcome = engine::to_string(sel.outcome);
  const std::string chosen = sel.chosen.value_or("");
  const auto& old_sel = svc->status.template_selection;
  const auto& old_tmpl = svc->status.resolved_template;
  if (old_sel) {
    if (old_sel->outcome == outcome && old_sel->chosen.value_or(std::string()) == chosen) return;
  } else if (sel.outcome == engine::SelectionOutcome::Selected) {
    if (old_tmpl && old_tmpl->name.value_or(std::string()) == chosen) return;
  } else {
    for (const auto& c : old_conditions) {
      if (c.type == "TemplateReady" && c.reason == sel.reason) return;
    }
  }
  const std::string summary = engine::selection_summary(sel);
  const Json& raw = *svc.raw;
  switch (sel.outcome) {
    case engine::SelectionOutcome::Selected:
      rec->normal(raw, "TemplateSelected", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::Ambiguous:
      rec->warning(raw, "TemplateSelectionAmbiguous", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::NoMatch:
      rec->warning(raw, "TemplateNotSelected", "SelectTemplate", summary);
      break;
    case engine::SelectionOutcome::NoneReady:
    case engine::SelectionOutcome::NoCandidates:
      rec->normal(raw, "TemplateNotSelected", "SelectTemplate", summary);
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
      auto caches = typed_list<TemplateCache>(
          ctx.cache(types::aim_template_caches())
              .by_labels({{std::string(api::kLabelService), *label}}, namespace_of(svc)));
      for (const auto& c : caches) {
        if (c->status.status == "Ready") continue;
        auto removed = ctx.client->remove(types::aim_template_caches(), namespace_of(c->metadata),
                                          name_of(c->metadata));
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
  const Cached<Service>* svc = nullptr;
  std::string ns;
  std::string name;
  engine::ResolvedRuntimeConfig rc;
  Json rc_spec = Json::object();         // the merged runtime config, as the engine reads it
  api::AIMRuntimeConfigSpec rc_typed;    // the same, typed
  std::optional<std::string> isvc_name;  // nullopt when the namespace is too long
  std::optional<Cached<api::InferenceService>> isvc;
  engine::CachingMode mode = engine::CachingMode::Auto;
  ModelResult model;
  TemplateResult tmpl;
  bool model_ready = false;
  bool template_ready = false;  // the template the service runs is Ready
  std::string template_name;    // its name when Ready
  std::string service_pvc;
  CacheResult cache;
  std::optional<int64_t> pvc_bytes;
  engine::CachingDecision caching;
  std::optional<engine::HpaReplicas> hpa_replicas;
  std::optional<std::chrono::seconds> pods_recheck;  // a pod inside its Unschedulable grace
  std::optional<engine::RenderedRoute> route;
  engine::ServiceObservation o;

  const api::AIMServiceSpec& spec() const { return svc->typed.spec; }
  const Json& raw() const { return *svc->raw; }
  // The template the service runs (its declaration's defaults when there is none).
  const Template& tmpl_obj() const {
    static const Template kNone;
    return tmpl.object ? tmpl.object->typed : kNone;
  }
  bool dedicated() const { return mode == engine::CachingMode::Dedicated; }
};

// Runtime config: namespace over cluster, presence-based merge.
void observe_runtime_config(const Context& ctx, World& w) {
  w.rc = resolve_runtime_config(ctx, w.ns, w.spec().runtime_config_name.value_or(std::string()));
  if (w.rc.spec.is_object()) w.rc_spec = w.rc.spec;
  w.rc_typed = typed_or_none<api::AIMRuntimeConfigSpec>(w.rc_spec).value_or(w.rc_typed);
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
  auto isvc = typed<api::InferenceService>(ctx.cache(types::inference_services()).get(w.ns, *name));
  if (!isvc) return;
  w.isvc = std::move(isvc).value();
  const std::string isvc_uid = uid_of(w.isvc->typed.metadata);
  w.o.isvc.kind = engine::IsvcObservation::Kind::Present;
  w.o.isvc.ready = isvc_ready(w.isvc->typed);
  for (const auto& ev : typed_list<api::Event>(
           ctx.cache(types::core_events()).by_index(index::kIsvcEvents, w.ns + "/" + *name))) {
    if (!ev->involved_object || ev->involved_object->uid != isvc_uid) continue;
    const std::string reason = ev->reason.value_or(std::string());
    if (reason == "ServerlessModeRejected") w.o.isvc.serverless_rejected = true;
    if (reason == "InternalError" && ev->type == "Warning")
      w.o.isvc.internal_error_event = ev->message.value_or(std::string());
  }
}

void observe_caching(const Context& ctx, World& w) {
  w.service_pvc = names::service_pvc_name(w.name, uid_of(w.svc->typed.metadata));
  w.cache = find_cache(ctx, w.svc->typed, w.template_name, w.mode);
  engine::CachingInput ci;
  ci.mode = w.mode;
  ci.template_ready = w.template_ready;
  static const std::vector<api::ModelSource> kNoSources;
  const auto& sources = w.tmpl_obj().status.model_sources.value_or(kNoSources);
  ci.template_has_sources = !sources.empty();
  ci.model_ready = w.model_ready;
  ci.cache = w.cache.state;
  ci.cache_status = w.cache.status;
  ci.isvc_exists = w.isvc.has_value();
  ci.isvc_mounts_template_cache = w.isvc && mounts_template_cache(w.isvc->typed, w.service_pvc);
  std::vector<std::optional<int64_t>> sizes;
  for (const auto& s : sources)
    sizes.push_back(s.size ? quantity_bytes(s.size->value) : std::nullopt);
  int32_t headroom = engine::runtime_pvc_headroom_percent(w.rc_spec);
  const auto& storage = w.spec().storage;
  if (storage && storage->pvc_headroom_percent) headroom = *storage->pvc_headroom_percent;
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
    o.unschedulable_grace =
        env_seconds("AIM_UNSCHEDULABLE_GRACE_SECONDS", o.unschedulable_grace, true);
    return o;
  }();
  return options;
}

void observe_hpa(const Context& ctx, World& w) {
  const auto& spec = w.spec();
  w.o.hpa.configured = spec.auto_scaling || spec.min_replicas || spec.max_replicas;
  if (!w.isvc_name) return;
  auto hpa = typed<api::HorizontalPodAutoscaler>(
      ctx.cache(types::horizontal_pod_autoscalers())
          .get(w.ns, "keda-hpa-" + *w.isvc_name + "-predictor"));
  if (!hpa) return;
  const auto& st = hpa->typed.status;
  w.o.hpa.kind = engine::HpaObservation::Kind::Present;
  if (st.conditions) {
    for (const auto& c : *st.conditions) {
      const bool is_true = c.status == "True";
      if (c.type == "ScalingActive") {
        w.o.hpa.scaling_active = is_true;
        w.o.hpa.scaling_active_message = c.message.value_or(std::string());
      }
      if (c.type == "AbleToScale") w.o.hpa.able_to_scale = is_true;
    }
  }
  engine::HpaReplicas h;
  h.min_replicas = hpa->typed.spec.min_replicas;
  h.max_replicas = hpa->typed.spec.max_replicas.value_or(0);
  h.current_replicas = st.current_replicas.value_or(0);
  h.desired_replicas = st.desired_replicas.value_or(0);
  w.hpa_replicas = h;
}

void observe_pods_and_hpa(const Context& ctx, World& w) {
  if (w.isvc) {
    const Pods pods = typed_list<api::Pod>(
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
  observe_hpa(ctx, w);
}

void observe_routing(const Context& ctx, World& w) {
  const engine::RoutingConfig routing =
      engine::resolve_routing(json_of(w.rc_typed.routing), json_of(w.spec().routing));
  w.o.routing.enabled = routing.enabled;
  if (!routing.enabled) return;
  auto rendered = engine::render_http_route(routing, w.raw());
  if (!rendered) {
    w.o.routing.render_error = rendered.error();
    return;
  }
  w.route = std::move(*rendered);
  auto live =
      typed<api::HTTPRoute>(ctx.cache(types::http_routes()).get(w.ns, name_of(w.route->object)));
  if (live) {
    w.o.routing.route = engine::RoutingObservation::Route::Present;
    w.o.routing.health = http_route_health(live->typed);
  }
}

World observe(const Context& ctx, const Cached<Service>& svc) {
  World w;
  w.svc = &svc;
  w.ns = namespace_of(svc->metadata);
  w.name = name_of(svc->metadata);
  observe_runtime_config(ctx, w);
  observe_isvc(ctx, w);
  // Pull secrets are checked before the first pod: once the InferenceService exists, a pull
  // that fails shows on its pods (ImagePullBackOff) and a running service is left alone.
  if (!w.isvc)
    w.o.pull_secrets = check_pull_secrets(ctx, w.ns, pull_secret_names(w.spec().image_pull_secrets),
                                          engine::Dependency::Upstream);
  const auto& caching = w.spec().caching;
  w.mode = engine::parse_caching_mode(caching ? caching->mode.value_or(std::string()) : "");
  w.model = resolve_model(ctx, svc.typed);
  w.o.model = w.model.obs;
  w.tmpl = resolve_template(ctx, svc.typed, w.model, !w.dedicated());
  w.o.template_ = w.tmpl.obs;
  w.model_ready = w.model.object && w.model.obs.status == "Ready";
  w.template_ready = w.tmpl.object && w.tmpl.obs.status == "Ready" &&
                     w.tmpl.obs.kind == engine::TemplateObservation::Kind::Found;
  if (w.template_ready) w.template_name = name_of(w.tmpl.object->typed.metadata);
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
    const auto& conds = w.isvc->typed.status.conditions;
    if (!conds) continue;
    for (const auto& ic : *conds) {
      if (ic.type == "Ready" && !ic.message.value_or(std::string()).empty())
        h.message += ": " + *ic.message;
    }
  }
}

// ---- desired children --------------------------------------------------------------------------

std::string storage_class(const World& w) {
  const auto& storage = w.spec().storage;
  std::string sc = storage ? storage->default_storage_class_name.value_or(std::string()) : "";
  if (sc.empty()) sc = engine::runtime_storage_class(w.rc_spec).value_or("");
  return sc;
}

Json template_cache_object(const World& w) {
  const bool cluster_tmpl = w.tmpl.scope == TemplateScope::Cluster;
  const Template& t = w.tmpl_obj();
  TemplateCache c;
  c.api_version = types::aim_template_caches().api_version();
  c.kind = types::aim_template_caches().kind;
  c.metadata.name =
      w.dedicated() ? names::dedicated_template_cache_name(w.template_name, w.name, uid_of(w.raw()))
                    : names::shared_template_cache_name(w.template_name, w.ns);
  c.metadata.namespace_ = w.ns;
  c.metadata.labels = api::StringMap{};
  if (auto label = names::sanitize_label_value(w.name))
    (*c.metadata.labels)[std::string(api::kLabelService)] = *label;
  if (w.dedicated()) c.metadata.owner_references = {{controller_reference(w.svc->typed)}};
  c.spec.template_name = w.template_name;
  c.spec.template_scope = std::string(cluster_tmpl ? api::kScopeCluster : api::kScopeNamespace);
  c.spec.mode = w.caching.template_cache_mode;
  c.spec.storage_class_name = non_empty(storage_class(w));
  c.spec.runtime_config_name = non_empty(w.spec().runtime_config_name);
  const auto& caching = t.spec.caching;
  Json env = engine::template_cache_env(json_of(t.spec.env),
                                        cluster_tmpl || !caching ? Json() : json_of(caching->env),
                                        json_of(w.spec().env));
  c.spec.env = typed_or_none<api::EnvList>(env);
  if (c.spec.env && c.spec.env->empty()) c.spec.env.reset();
  Json desired = api::encode(c);
  label_child(desired, w.raw(), "service", w.rc_spec);
  return desired;
}

Json service_pvc_object(const World& w) {
  api::PersistentVolumeClaim claim;
  claim.metadata.name = w.service_pvc;
  claim.metadata.namespace_ = w.ns;
  claim.metadata.labels = api::StringMap{
      {std::string(api::kLabelK8sComponent), std::string(api::kComponentModelStorage)}};
  claim.spec.access_modes = std::vector<std::string>{"ReadWriteOnce"};
  claim.spec.resources.emplace();
  claim.spec.resources->requests =
      std::map<std::string, api::Quantity>{{"storage", engine::binary_si_quantity(*w.pvc_bytes)}};
  if (std::string sc = storage_class(w); !sc.empty()) claim.spec.storage_class_name = sc;
  Json pvc = api::encode(claim);
  set_controller_owner(pvc, w.raw());
  label_child(pvc, w.raw(), "service", w.rc_spec);
  return pvc;
}

engine::InferenceServiceInput isvc_input(const World& w) {
  const auto& spec = w.spec();
  const Template& t = w.tmpl_obj();
  engine::InferenceServiceInput in;
  in.service_name = w.name;
  in.service_namespace = w.ns;
  in.replicas = spec.replicas;
  in.min_replicas = spec.min_replicas;
  in.max_replicas = spec.max_replicas;
  in.autoscaling = json_of(spec.auto_scaling);
  in.image_pull_secrets = json_of(spec.image_pull_secrets);
  in.service_account = spec.service_account_name.value_or(std::string());
  in.service_resources = json_of(spec.resources);
  in.image = w.model.object->typed.spec.image;
  in.template_name = w.template_name;
  in.template_model_name = t.spec.model_name;
  if (t.status.profile && t.status.profile->metadata) {
    in.profile_metric = t.status.profile->metadata->metric.value_or(std::string());
    in.profile_precision = t.status.profile->metadata->precision.value_or(std::string());
  }
  in.template_resources = json_of(t.spec.resources);
  // The GPU as the template controller resolved it, else as the template asks for it.
  std::optional<api::GpuRequirements> gpu;
  if (const auto& resolved = t.status.resolved_hardware; resolved && resolved->gpu) {
    gpu = resolved->gpu;
  } else if (t.spec.hardware) {
    gpu = t.spec.hardware->gpu;
  }
  if (gpu) {
    in.gpu_count = gpu->requests.value_or(0);
    in.gpu_resource_name = gpu->resource_name.value_or(std::string());
  }
  in.node_affinity = json_of(t.status.resolved_node_affinity);
  in.env.runtime_config_env = json_of(w.rc_typed.env);
  in.env.profile_id = t.spec.profile_id.value_or(std::string());
  in.env.metric = t.spec.metric.value_or(std::string());
  in.env.precision = t.spec.precision.value_or(std::string());
  in.env.template_env = json_of(t.spec.env);
  if (t.spec.model_sources && !t.spec.model_sources->empty()) {
    std::string id = t.spec.model_sources->front().effective_model_id();
    if (!id.empty()) in.env.model_id = id;
  }
  in.env.service_env = json_of(spec.env);
  in.storage.kind = w.caching.storage;
  switch (w.caching.storage) {
    case engine::ModelStorage::Kind::TemplateCache:
      if (w.cache.cache) in.storage.mounts = cache_mounts(w.cache.cache->typed);
      break;
    case engine::ModelStorage::Kind::ServicePvc:
      in.storage.pvc_name = w.service_pvc;
      break;
    case engine::ModelStorage::Kind::Live:
      if (w.isvc) in.storage.live_isvc = *w.isvc->raw;
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
  const Json& svc = w.raw();
  // 1. The model (no owner reference: shared by later services, never deleted by us).
  if (w.model.create) {
    Json m = api::encode(*w.model.create);
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
      apply(types::inference_services(), desired, w.isvc ? w.isvc->raw.get() : nullptr);
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
      mounts_template_cache(w.isvc->typed, w.service_pvc) &&
      !mounts_claim(w.isvc->typed, w.service_pvc)) {
    remove_owned(kube::types::persistent_volume_claims(),
                 ctx.cache(kube::types::persistent_volume_claims()).get(w.ns, w.service_pvc));
  }
  return errors;
}

// ---- status ------------------------------------------------------------------------------------

// The status to write: built from the typed old status (keys this operator does not know are
// kept), with the conditions of `derived`.
Json desired_status(const Context& ctx, const World& w, const engine::DerivedStatus& derived) {
  const Service& svc = w.svc->typed;
  const api::AIMServiceStatus& old = svc.status;
  api::AIMServiceStatus st;
  st.extra = old.extra;
  st.status = derived.status;
  st.observed_generation = svc.metadata.generation;
  if (w.rc.outcome == engine::RuntimeConfigOutcome::kFound) {
    api::ResolvedReference rc;
    rc.name = w.rc.name;
    rc.scope = w.rc.from_namespace && w.rc.from_cluster ? "Merged"
               : w.rc.from_namespace                    ? std::string(api::kScopeNamespace)
                                                        : std::string(api::kScopeCluster);
    st.resolved_runtime_config = std::move(rc);
  }
  // resolvedModel / resolvedTemplate: set while Ready, kept afterwards (as the reference).
  st.resolved_model =
      w.model_ready ? resolved_ref(w.model.object->typed, w.model.cluster) : old.resolved_model;
  st.resolved_template =
      w.template_ready ? resolved_ref(w.tmpl.object->typed, w.tmpl.scope == TemplateScope::Cluster)
                       : old.resolved_template;
  if (w.cache.cache && w.cache.state == engine::CachingInput::Cache::Ready) {
    api::ResolvedReference ref;
    ref.name = name_of(w.cache.cache->typed.metadata);
    ref.namespace_ = w.ns;
    ref.uid = uid_of(w.cache.cache->typed.metadata);
    st.cache.emplace().template_cache_ref = std::move(ref);
  }
  if (w.route) st.routing.emplace().path = w.route->path;
  st.runtime = typed_or_none<api::ServiceRuntimeStatus>(
      engine::runtime_status(w.hpa_replicas, svc.spec.min_replicas, svc.spec.replicas));
  if (w.tmpl.selection) {
    st.template_selection =
        typed_or_none<api::TemplateSelectionStatus>(engine::selection_to_json(*w.tmpl.selection));
  } else if (w.tmpl.reused) {
    st.template_selection = old.template_selection;
  }
  Json status = api::encode(st);
  set_conditions(status, w.raw(), derived.conditions, ctx.now_rfc3339());
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
  auto got = typed<Service>(ctx.cache(types::aim_services()).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary("AIMService", req, got.error());
  const Cached<Service>& svc = got.value();
  const Json& raw = *svc.raw;

  if (is_being_deleted(raw)) {
    if (has_finalizer(raw, kFinalizer)) return finalize(ctx, raw);
    return kube::Action::done();
  }
  if (!has_finalizer(raw, kFinalizer)) {
    auto added = add_finalizer(ctx, types::aim_services(), raw, kFinalizer);
    if (!added) {
      if (added.error().is(kube::ErrorCode::kNotFound)) return kube::Action::done();
      if (added.error().is(kube::ErrorCode::kConflict)) return kube::Action::requeue();
      return fail(kube::ReconcileError(added.error()));
    }
    return kube::Action::done();  // the update comes back through the watch
  }
  if (is_paused(raw)) return report_paused(ctx, types::aim_services(), raw, kControllerName);
  // Automatic selection reads the nodes; wait for that cache rather than judge from nothing.
  if (!ctx.cache(kube::types::nodes()).synced()) {
    return kube::Action::requeue_after(std::chrono::seconds(1));
  }

  const World w = observe(ctx, svc);
  auto components = engine::service_components(w.o);
  const auto old_conditions = conditions_of(raw);
  degrade_lost_runtime(components, old_conditions, w);
  engine::DerivedStatus derived = engine::derive_service_status(components, old_conditions);

  std::vector<std::string> apply_errors;
  if (derived.should_apply) apply_errors = apply_children(ctx, w);
  report_apply_errors(derived, apply_errors);

  const Json status = desired_status(ctx, w, derived);
  auto written = write_status(ctx, types::aim_services(), raw, status);

  // Events (transitions only).
  auto* rec = ctx.events(kControllerName);
  emit_condition_events(rec, raw, old_conditions, status_conditions(status), components);
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
