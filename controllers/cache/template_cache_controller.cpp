// The AIMTemplateCache reconciler (behavior.md §3.6): one AIMArtifact per model source of the
// template, Shared (unowned, de-duplicated by name) or Dedicated (owned by the cache), status
// aggregated over the artifacts, and the artifactcleanup finalizer.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "api/common.h"
#include "api/constants.h"
#include "controllers/cache/artifact.h"
#include "controllers/cache/internal.h"
#include "controllers/cache/template_cache.h"
#include "engine/env_merge.h"
#include "engine/service_names.h"

namespace aim::controllers {

namespace template_cache {

namespace sn = engine::service_names;
using engine::ComponentHealth;
using engine::ComponentState;
using engine::Dependency;

// How soon a cache looks again at an artifact of its source that another cache created (see
// apply()).
constexpr std::chrono::seconds kSharedArtifactRecheck{2};

std::string sanitized_cache_name(const std::string& name) {
  auto s = sn::sanitize_label_value(name);
  return s.ok() ? s.value() : name;
}

namespace {
Json env_json(const std::optional<api::EnvList>& env) {
  return env ? api::encode(*env) : Json::array();
}
}  // namespace

std::string artifact_name(const api::ModelSource& source, const api::AIMTemplateCacheSpec& spec,
                          const std::string& cache_name, bool dedicated, Json* merged_env_out) {
  const std::string uri = source.effective_uri();
  std::string dashed = uri;
  std::replace(dashed.begin(), dashed.end(), '.', '-');
  Json env = engine::merge_env(env_json(spec.env), env_json(source.env));
  if (merged_env_out) *merged_env_out = env;
  std::vector<Json> inputs{Json(uri), env.empty() ? Json() : env,
                           Json(spec.storage_class_name.value_or(std::string()))};
  if (dedicated) {
    inputs.push_back(Json("dedicated"));
    inputs.push_back(Json(cache_name));
  }
  return sn::derived_name({dashed}, inputs, 10, 63);
}

std::string source_model_id(const api::ModelSource& source) {
  return source.effective_model_id();
}

Json artifact_for_source(const api::AIMTemplateCache& cache, const api::ModelSource& source,
                         int index, const std::string& template_scope) {
  const auto& spec = cache.spec;
  const std::string cache_name = name_of(cache.metadata);
  const bool dedicated = spec.mode.value_or(std::string()) == api::kCachingDedicated;
  Json env;
  api::AIMArtifact a;
  a.metadata.name = artifact_name(source, spec, cache_name, dedicated, &env);
  a.metadata.namespace_ = namespace_of(cache.metadata);
  a.metadata.labels =
      api::StringMap{{std::string(api::kLabelTemplateCreated), "true"},
                     {std::string(api::kLabelTemplateName), spec.template_name},
                     {std::string(api::kLabelTemplateScope), template_scope},
                     {std::string(api::kLabelTemplateIndex), std::to_string(index)},
                     {std::string(api::kLabelTemplateCacheName), sanitized_cache_name(cache_name)}};
  a.spec.source_uri = source.effective_uri();
  a.spec.size = source.size ? *source.size : api::Quantity(int64_t{0});
  // modelId is optional in a model source: derived from an hf:// URI, else left to the artifact
  // (which needs it only for schemes that cannot name the model).
  if (auto id = source_model_id(source); !id.empty()) a.spec.model_id = id;
  if (!env.empty()) {
    auto merged = api::decode<api::EnvList>(env);
    if (merged) a.spec.env = std::move(*merged.value);
  }
  a.spec.storage_class_name = non_empty(spec.storage_class_name);
  a.spec.runtime_config_name = non_empty(spec.runtime_config_name);
  a.spec.model_download_image = non_empty(spec.download_image);
  if (spec.image_pull_secrets && !spec.image_pull_secrets->empty())
    a.spec.image_pull_secrets = spec.image_pull_secrets;
  Json out = api::encode(a);
  if (dedicated) set_controller_owner(out, api::encode(cache));
  return out;
}

namespace {

ComponentState state_of(const std::string& s) {
  if (s == api::kStatusReady || s == api::kStatusRunning) return ComponentState::Ready;
  if (s == api::kStatusProgressing) return ComponentState::Progressing;
  if (s == api::kStatusStarting) return ComponentState::Starting;
  if (s == api::kStatusPending) return ComponentState::Pending;
  if (s == api::kStatusDegraded) return ComponentState::Degraded;
  if (s == api::kStatusNotAvailable) return ComponentState::NotAvailable;
  return ComponentState::Failed;
}

std::string status_of(const Cached<api::AIMArtifact>& a) {
  return a->status.status.value_or(std::string());
}

ComponentHealth template_health(const api::AIMTemplateCacheSpec& spec, const TemplateRef& tpl) {
  if (!tpl.status)
    return engine::component_health("ServiceTemplate", ComponentState::Failed,
                                    std::string(api::kReasonReferenceNotFound),
                                    "Service template " + spec.template_name + " not found",
                                    Dependency::Upstream, engine::ErrorCategory::kMissingUpstream);
  const api::Condition* ready = find_condition(tpl.status->conditions, api::kConditionReady);
  if (ready && ready->status == "True")
    return engine::component_health("ServiceTemplate", ComponentState::Ready, ready->reason,
                                    ready->message, Dependency::Upstream);
  const std::string ts = tpl.status->status.value_or(std::string());
  return engine::component_health(
      "ServiceTemplate", ts.empty() ? ComponentState::Progressing : state_of(ts),
      ready ? ready->reason : "TemplateNotReady",
      ready ? ready->message : "Waiting for the service template", Dependency::Upstream);
}

ComponentHealth artifacts_health(const Observation& o) {
  if (!o.missing.empty())
    return engine::component_health("Artifacts", ComponentState::Progressing, "CreatingCaches",
                                    "Waiting for the AIM artifacts to be created",
                                    Dependency::Downstream);
  if (o.matched.empty())
    return engine::component_health("Artifacts", ComponentState::Progressing, "NoCaches",
                                    "No artifacts to track", Dependency::Downstream);
  const Cached<api::AIMArtifact>* worst = nullptr;
  for (const auto& m : o.matched)
    if (!worst ||
        api::status_priority(status_of(*m.artifact)) < api::status_priority(status_of(*worst)))
      worst = m.artifact;
  const std::string wst = status_of(*worst);
  if (wst == api::kStatusReady)
    return engine::component_health("Artifacts", ComponentState::Ready, "AllCachesReady",
                                    "All caches are ready", Dependency::Downstream);
  const api::Condition* ready = find_condition((*worst)->status.conditions, api::kConditionReady);
  const std::string reason = ready ? ready->reason : std::string();
  return engine::component_health(
      "Artifacts", state_of(wst), reason.empty() ? "CachesNotReady" : reason,
      "One or more caches are not ready: " + (ready ? ready->message : std::string()),
      Dependency::Downstream);
}

}  // namespace

Observation observe(const api::AIMTemplateCache& cache, const TemplateRef& tpl,
                    const std::vector<Cached<api::AIMArtifact>>& artifacts,
                    std::optional<ComponentHealth> runtime_config) {
  Observation o;
  if (runtime_config) o.components.push_back(std::move(*runtime_config));
  o.components.push_back(template_health(cache.spec, tpl));

  const std::string mode = cache.spec.mode.value_or(std::string());
  const std::string cache_sc = cache.spec.storage_class_name.value_or(std::string());
  const std::string cache_uid = uid_of(cache.metadata);
  static const std::vector<api::ModelSource> kNone;
  const auto& sources =
      tpl.status && tpl.status->model_sources ? *tpl.status->model_sources : kNone;
  for (const auto& src : sources) {
    const std::string uri = src.effective_uri();
    const Cached<api::AIMArtifact>* match = nullptr;
    for (const auto& a : artifacts) {
      const std::string st = status_of(a);
      if (st.empty()) continue;
      if (mode == api::kCachingShared && has_owner(a->metadata)) continue;
      if (mode == api::kCachingDedicated && !is_controlled_by(a->metadata, cache_uid)) continue;
      if (a->spec.source_uri != uri) continue;
      if (!cache_sc.empty() && a->spec.storage_class_name.value_or(std::string()) != cache_sc)
        continue;
      if (!match || api::status_priority(st) > api::status_priority(status_of(*match))) match = &a;
    }
    if (match)
      o.matched.push_back(Match{match, source_model_id(src)});
    else
      o.missing.push_back(&src);
  }
  o.components.push_back(artifacts_health(o));
  return o;
}

api::AIMTemplateCacheStatus status_without_conditions(api::AIMTemplateCacheStatus status,
                                                      ComponentState root,
                                                      const std::vector<Match>& matched,
                                                      std::optional<int64_t> generation) {
  status.status = engine::to_string(root);
  if (matched.empty()) {
    status.artifacts.reset();
  } else {
    std::map<std::string, api::ResolvedArtifact> map;
    for (const auto& m : matched) {
      const auto& a = m.artifact->typed;
      api::ResolvedArtifact e;
      e.uid = uid_of(a.metadata);
      e.name = name_of(a.metadata);
      e.model = m.model_id;
      e.status = a.status.status.value_or(std::string());
      if (!a.status.persistent_volume_claim.value_or(std::string()).empty())
        e.persistent_volume_claim = a.status.persistent_volume_claim;
      map[e.name] = std::move(e);
    }
    status.artifacts = std::move(map);
  }
  if (generation) status.observed_generation = generation;
  return status;
}

}  // namespace template_cache

namespace {

namespace tc = template_cache;
using engine::ComponentHealth;
using engine::ComponentState;

constexpr const char* kController = "aim-template-cache-controller";

kube::ReconcileResult cleanup(const Context& ctx, const Cached<api::AIMTemplateCache>& cache) {
  const std::string ns = namespace_of(cache->metadata);
  auto terminating = namespace_terminating(ctx, ns);
  if (terminating.ok() && !terminating.value()) {
    auto label_value = tc::sanitized_cache_name(name_of(cache->metadata));
    auto owned = ctx.cache(types::aim_artifacts())
                     .by_labels({{std::string(api::kLabelTemplateCacheName), label_value}}, ns);
    for (const auto& a : typed_list<api::AIMArtifact>(owned)) {
      if (a->status.status.value_or(std::string()) == api::kStatusReady) continue;
      auto r = ctx.client->remove(types::aim_artifacts(), ns, name_of(a->metadata));
      if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
        return aim::fail(kube::ReconcileError(r.error()));
    }
  }
  auto removed = remove_finalizer(ctx, types::aim_template_caches(), *cache.raw,
                                  api::kFinalizerArtifactCleanup);
  if (!removed.ok() && !removed.error().is(kube::ErrorCode::kNotFound)) {
    if (removed.error().is(kube::ErrorCode::kConflict)) return kube::Action::requeue();
    return aim::fail(kube::ReconcileError(removed.error()));
  }
  return kube::Action::done();
}

// fetch: what the reconcile reads besides the cache itself.
struct Inputs {
  engine::ResolvedRuntimeConfig runtime_config;
  tc::TemplateRef tpl;
  std::vector<Cached<api::AIMArtifact>> artifacts;
};

Inputs fetch(const Context& ctx, const api::AIMTemplateCache& cache) {
  Inputs in;
  const std::string ns = namespace_of(cache.metadata);
  in.runtime_config =
      resolve_runtime_config(ctx, ns, cache.spec.runtime_config_name.value_or(std::string()));
  const std::string& tname = cache.spec.template_name;
  const std::string scope = cache.spec.template_scope;
  if (scope != api::kScopeCluster) {
    auto t =
        typed<api::AIMServiceTemplate>(ctx.cache(types::aim_service_templates()).get(ns, tname));
    if (t.ok()) in.tpl = {std::move(t->typed.status), std::string(api::kScopeNamespace)};
  }
  if (!in.tpl.status && scope != api::kScopeNamespace) {
    auto t = typed<api::AIMClusterServiceTemplate>(
        ctx.cache(types::aim_cluster_service_templates()).get("", tname));
    if (t.ok()) in.tpl = {std::move(t->typed.status), std::string(api::kScopeCluster)};
  }
  in.artifacts = typed_list<api::AIMArtifact>(ctx.cache(types::aim_artifacts()).list(ns));
  return in;
}

struct ApplyFailure {
  engine::Condition condition;
  kube::Error error;
};

// apply: creates the planned artifact of each source without one. A failure is reported on the
// cache (condition and Warning event) and retried with backoff; nullopt when all went well.
// `shared_pending`: an artifact of that name exists but does not match yet (another cache of the
// same source made it and it has no status yet). Its events go to the cache its labels name, not
// to this one, so the caller looks again shortly (found by bench/operator: two templates of one
// model in Shared mode, the second cache waited forever).

Result<std::optional<ApplyFailure>, kube::ReconcileResult> apply(
    const Context& ctx, const Cached<api::AIMTemplateCache>& cache, const tc::Observation& o,
    const tc::TemplateRef& tpl, const engine::ResolvedRuntimeConfig& rc, bool& shared_pending) {
  const std::string ns = namespace_of(cache->metadata);
  for (std::size_t i = 0; i < o.missing.size(); ++i) {
    Json desired =
        tc::artifact_for_source(cache.typed, *o.missing[i], static_cast<int>(i), tpl.scope);
    label_child(desired, *cache.raw, "template-cache",
                rc.spec.is_object() ? rc.spec : Json::object());
    const std::string name = name_of(desired);
    if (ctx.cache(types::aim_artifacts()).get(ns, name)) {
      shared_pending = true;  // exists (another cache's, still without status)
      continue;
    }
    auto created = ctx.client->create(types::aim_artifacts(), desired);
    if (!created.ok() && !created.error().is(kube::ErrorCode::kAlreadyExists)) {
      auto terminating = namespace_terminating(ctx, ns);
      if (terminating.ok() && terminating.value())
        return aim::fail(kube::ReconcileResult(kube::Action::done()));
      return std::optional<ApplyFailure>(ApplyFailure{
          apply_failure_condition("AIMArtifact", name, created.error()), created.error()});
    }
  }
  return std::optional<ApplyFailure>();
}

kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req) {
  auto got =
      typed<api::AIMTemplateCache>(ctx.cache(types::aim_template_caches()).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(types::aim_template_caches().kind, req, got.error());
  const Cached<api::AIMTemplateCache>& cache = got.value();
  const Json& obj = *cache.raw;
  if (is_paused(obj)) return report_paused(ctx, types::aim_template_caches(), obj, kController);
  if (is_being_deleted(obj)) {
    if (has_finalizer(obj, api::kFinalizerArtifactCleanup)) return cleanup(ctx, cache);
    return kube::Action::done();
  }
  if (!has_finalizer(obj, api::kFinalizerArtifactCleanup)) {
    auto added =
        add_finalizer(ctx, types::aim_template_caches(), obj, api::kFinalizerArtifactCleanup);
    if (!added.ok()) {
      if (added.error().is(kube::ErrorCode::kConflict) ||
          added.error().is(kube::ErrorCode::kNotFound))
        return kube::Action::requeue();
      return aim::fail(kube::ReconcileError(added.error()));
    }
    return kube::Action::done();  // the update brings the object back
  }

  Inputs in = fetch(ctx, cache.typed);
  std::optional<ComponentHealth> rc_health;
  if (in.runtime_config.outcome == engine::RuntimeConfigOutcome::kNotFound)
    rc_health =
        engine::component_health("RuntimeConfig", ComponentState::Failed, in.runtime_config.reason,
                                 in.runtime_config.message, engine::Dependency::Upstream,
                                 engine::ErrorCategory::kMissingUpstream);
  tc::Observation o = tc::observe(cache.typed, in.tpl, in.artifacts, std::move(rc_health));
  auto old_conditions = conditions_of(obj);
  auto state = engine::derive_state(o.components, old_conditions);

  std::optional<ApplyFailure> failure;
  bool shared_pending = false;
  if (state.should_apply && in.tpl.status) {
    auto applied = apply(ctx, cache, o, in.tpl, in.runtime_config, shared_pending);
    if (!applied.ok()) return applied.error();
    failure = std::move(applied).value();
  }
  std::vector<engine::Condition> desired_conditions = state.conditions;
  if (failure) {
    std::erase_if(desired_conditions,
                  [](const engine::Condition& c) { return c.type == "DependenciesReachable"; });
    desired_conditions.push_back(failure->condition);
  }

  Json status = api::encode(tc::status_without_conditions(cache->status, state.root, o.matched,
                                                          cache->metadata.generation));
  set_conditions(status, obj, desired_conditions, ctx.now_rfc3339());
  auto written = write_status(ctx, types::aim_template_caches(), obj, status);
  if (!written.ok()) return aim::fail(kube::ReconcileError(written.error()));
  if (written.value())
    emit_condition_events(ctx.events(kController), obj, old_conditions, status_conditions(status),
                          o.components);
  if (failure) return aim::fail(kube::ReconcileError(failure->error));
  if (state.infrastructure_error) return aim::fail(kube::ReconcileError("infrastructure error"));
  if (shared_pending) return kube::Action::requeue_after(tc::kSharedArtifactRecheck);
  return kube::Action::done();
}

}  // namespace

// AIMTemplateCache: the names of the artifacts its status lists.
constexpr const char* kIndexArtifact = "aimtemplatecache/artifact";

void register_template_cache_controller(kube::Manager& mgr, const Context& ctx,
                                        const CacheOptions&) {
  const Context* c = &ctx;
  // The caches an artifact's events concern: the one its labels name (which created it) and
  // every cache whose status lists it (a Shared artifact serves each cache of its source; before
  // this index, a second cache never heard of the artifact's progress and stayed Pending).
  ctx.cache(types::aim_template_caches())
      .add_index(kIndexArtifact, typed_index<api::AIMTemplateCache>([](const auto& tc) {
                   std::vector<std::string> names;
                   if (tc.status.artifacts)
                     for (const auto& [name, a] : *tc.status.artifacts) names.push_back(name);
                   return names;
                 }));
  auto by_label = [c](const Json& a) {
    std::set<std::string> keys;
    const std::string ns = namespace_of(a);
    std::string n = label(a, api::kLabelTemplateCacheName);
    if (!n.empty()) keys.insert(kube::object_key(ns, n));
    for (const auto& key :
         c->cache(types::aim_template_caches()).keys_by_index(kIndexArtifact, name_of(a)))
      if (kube::split_key(key).first == ns) keys.insert(key);
    std::vector<kube::Request> out;
    for (const auto& k : keys) out.push_back(kube::Request::from_key(k));
    return out;
  };
  auto by_template = [c](bool cluster) {
    return [c, cluster](const Json& t) {
      std::vector<kube::Request> out;
      for (const auto& tc : typed_list<api::AIMTemplateCache>(
               c->cache(types::aim_template_caches()).list(cluster ? "" : namespace_of(t))))
        if (tc->spec.template_name == name_of(t))
          out.push_back(kube::Request{namespace_of(tc->metadata), name_of(tc->metadata)});
      return out;
    };
  };
  mgr.controller("aimtemplatecache")
      .for_type(types::aim_template_caches())
      .owns(types::aim_artifacts())
      .watches(types::aim_artifacts(), by_label)
      .watches(types::aim_service_templates(), by_template(false))
      .watches(types::aim_cluster_service_templates(), by_template(true))
      .max_concurrent_reconciles(ctx.workers)
      .complete([c](const kube::Request& r) { return reconcile(*c, r); });
}

}  // namespace aim::controllers
