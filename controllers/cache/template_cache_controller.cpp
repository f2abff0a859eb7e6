// The AIMTemplateCache reconciler (behavior.md §3.6): one AIMArtifact per model source of the
// template, Shared (unowned, de-duplicated by name) or Dedicated (owned by the cache), status
// aggregated over the artifacts, and the artifactcleanup finalizer.
#include <algorithm>
#include <optional>

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

std::string sanitized_cache_name(const std::string& name) {
  auto s = sn::sanitize_label_value(name);
  return s.ok() ? s.value() : name;
}

std::string artifact_name(const Json& source, const Json& cache_spec, const std::string& cache_name,
                          bool dedicated, Json* merged_env_out) {
  std::string uri = source.value("sourceUri", source.value("sourceURI", std::string()));
  std::string dashed = uri;
  std::replace(dashed.begin(), dashed.end(), '.', '-');
  Json env =
      engine::merge_env(cache_spec.value("env", Json::array()), source.value("env", Json::array()));
  if (merged_env_out) *merged_env_out = env;
  std::vector<Json> inputs{Json(uri), env.empty() ? Json() : env,
                           Json(cache_spec.value("storageClassName", std::string()))};
  if (dedicated) {
    inputs.push_back(Json("dedicated"));
    inputs.push_back(Json(cache_name));
  }
  return sn::derived_name({dashed}, inputs, 10, 63);
}

std::string source_model_id(const Json& source) {
  auto decoded = api::decode<api::ModelSource>(source);
  return decoded ? decoded.value->effective_model_id() : std::string();
}

Json artifact_for_source(const Json& cache, const Json& source, int index,
                         const std::string& template_scope) {
  const Json spec = cache.value("spec", Json::object());
  const std::string cache_name = name_of(cache);
  const bool dedicated = spec.value("mode", std::string()) == api::kCachingDedicated;
  Json env;
  std::string name = artifact_name(source, spec, cache_name, dedicated, &env);
  std::string uri = source.value("sourceUri", source.value("sourceURI", std::string()));
  // modelId is optional in a model source: derived from an hf:// URI, else left to the artifact
  // (which needs it only for schemes that cannot name the model).
  const std::string model_id = source_model_id(source);
  Json aspec{
      {"sourceUri", uri},
      {"size", source.contains("size") && !source["size"].is_null() ? source["size"] : Json(0)}};
  if (!model_id.empty()) aspec["modelId"] = model_id;
  if (!env.empty()) aspec["env"] = env;
  if (!spec.value("storageClassName", std::string()).empty())
    aspec["storageClassName"] = spec["storageClassName"];
  if (!spec.value("runtimeConfigName", std::string()).empty())
    aspec["runtimeConfigName"] = spec["runtimeConfigName"];
  if (!spec.value("downloadImage", std::string()).empty())
    aspec["modelDownloadImage"] = spec["downloadImage"];
  if (spec.contains("imagePullSecrets") && spec["imagePullSecrets"].is_array() &&
      !spec["imagePullSecrets"].empty())
    aspec["imagePullSecrets"] = spec["imagePullSecrets"];
  Json labels{{std::string(api::kLabelTemplateCreated), "true"},
              {std::string(api::kLabelTemplateName), spec.value("templateName", std::string())},
              {std::string(api::kLabelTemplateScope), template_scope},
              {std::string(api::kLabelTemplateIndex), std::to_string(index)},
              {std::string(api::kLabelTemplateCacheName), sanitized_cache_name(cache_name)}};
  Json a{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMArtifact"},
         {"metadata", {{"name", name}, {"namespace", namespace_of(cache)}, {"labels", labels}}},
         {"spec", aspec}};
  if (dedicated) set_controller_owner(a, cache);
  return a;
}

}  // namespace template_cache

namespace {

using engine::ComponentHealth;
using engine::ComponentState;
using engine::Dependency;

constexpr const char* kController = "aim-template-cache-controller";

std::string str(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ComponentState state_of(const std::string& s) {
  if (s == api::kStatusReady || s == api::kStatusRunning) return ComponentState::Ready;
  if (s == api::kStatusProgressing) return ComponentState::Progressing;
  if (s == api::kStatusStarting) return ComponentState::Starting;
  if (s == api::kStatusPending) return ComponentState::Pending;
  if (s == api::kStatusDegraded) return ComponentState::Degraded;
  if (s == api::kStatusNotAvailable) return ComponentState::NotAvailable;
  return ComponentState::Failed;
}

Json ready_condition(const Json& o) {
  for (auto& c : o.value("status", Json::object()).value("conditions", Json::array()))
    if (str(c, "type") == api::kConditionReady) return c;
  return Json();
}

kube::ReconcileResult cleanup(const Context& ctx, const Json& obj) {
  auto terminating = namespace_terminating(ctx, namespace_of(obj));
  if (terminating.ok() && !terminating.value()) {
    auto label_value = template_cache::sanitized_cache_name(name_of(obj));
    for (auto& a : ctx.cache(types::aim_artifacts())
                       .by_labels({{std::string(api::kLabelTemplateCacheName), label_value}},
                                  namespace_of(obj))) {
      if (str(a->value("status", Json::object()), "status") == api::kStatusReady) continue;
      auto r = ctx.client->remove(types::aim_artifacts(), namespace_of(*a), name_of(*a));
      if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
        return aim::fail(kube::ReconcileError(r.error()));
    }
  }
  auto removed =
      remove_finalizer(ctx, types::aim_template_caches(), obj, api::kFinalizerArtifactCleanup);
  if (!removed.ok() && !removed.error().is(kube::ErrorCode::kNotFound)) {
    if (removed.error().is(kube::ErrorCode::kConflict)) return kube::Action::requeue();
    return aim::fail(kube::ReconcileError(removed.error()));
  }
  return kube::Action::done();
}

kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req) {
  auto ptr = ctx.cache(types::aim_template_caches()).get(req.ns, req.name);
  if (!ptr) return kube::Action::done();
  if (is_paused(*ptr)) return report_paused(ctx, types::aim_template_caches(), *ptr, kController);
  const Json& obj = *ptr;
  if (is_being_deleted(obj)) {
    if (has_finalizer(obj, api::kFinalizerArtifactCleanup)) return cleanup(ctx, obj);
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
  const Json spec = obj.value("spec", Json::object());
  const std::string ns = namespace_of(obj);
  const std::string mode = str(spec, "mode");
  std::vector<ComponentHealth> comps;

  auto rc = cache_internal::resolve_runtime_config(ctx, ns, str(spec, "runtimeConfigName"));
  if (rc.outcome == engine::RuntimeConfigOutcome::kNotFound)
    comps.push_back(engine::component_health("RuntimeConfig", ComponentState::Failed, rc.reason,
                                             rc.message, Dependency::Upstream,
                                             engine::ErrorCategory::kMissingUpstream));

  // ---- template ----
  const std::string tname = str(spec, "templateName");
  const std::string scope = str(spec, "templateScope");
  kube::ObjectPtr tpl;
  std::string tscope;
  if (scope != api::kScopeCluster) {
    tpl = ctx.cache(types::aim_service_templates()).get(ns, tname);
    tscope = std::string(api::kScopeNamespace);
  }
  if (!tpl && scope != api::kScopeNamespace) {
    tpl = ctx.cache(types::aim_cluster_service_templates()).get("", tname);
    tscope = std::string(api::kScopeCluster);
  }
  if (!tpl) {
    comps.push_back(engine::component_health(
        "ServiceTemplate", ComponentState::Failed, std::string(api::kReasonReferenceNotFound),
        "Service template " + tname + " not found", Dependency::Upstream,
        engine::ErrorCategory::kMissingUpstream));
  } else {
    Json rcnd = ready_condition(*tpl);
    if (str(rcnd, "status") == "True") {
      comps.push_back(engine::component_health("ServiceTemplate", ComponentState::Ready,
                                               str(rcnd, "reason"), str(rcnd, "message"),
                                               Dependency::Upstream));
    } else {
      std::string ts = str(tpl->value("status", Json::object()), "status");
      comps.push_back(engine::component_health(
          "ServiceTemplate", ts.empty() ? ComponentState::Progressing : state_of(ts),
          rcnd.is_null() ? "TemplateNotReady" : str(rcnd, "reason"),
          rcnd.is_null() ? "Waiting for the service template" : str(rcnd, "message"),
          Dependency::Upstream));
    }
  }

  // ---- compose ----
  Json sources = tpl ? tpl->value("status", Json::object()).value("modelSources", Json::array())
                     : Json::array();
  if (!sources.is_array()) sources = Json::array();
  auto artifacts = ctx.cache(types::aim_artifacts()).list(ns);
  const std::string cache_sc = str(spec, "storageClassName");
  std::vector<std::pair<kube::ObjectPtr, std::string>> best;  // artifact, modelId
  std::vector<const Json*> missing;
  for (auto& src : sources) {
    std::string uri = src.value("sourceUri", src.value("sourceURI", std::string()));
    kube::ObjectPtr match;
    for (auto& a : artifacts) {
      std::string st = str(a->value("status", Json::object()), "status");
      if (st.empty()) continue;
      bool owned = a->value("metadata", Json::object()).contains("ownerReferences") &&
                   !(*a)["metadata"]["ownerReferences"].empty();
      if (mode == api::kCachingShared && owned) continue;
      if (mode == api::kCachingDedicated && !is_controlled_by(*a, obj)) continue;
      const Json& as = a->value("spec", Json::object());
      if (str(as, "sourceUri") != uri) continue;
      if (!cache_sc.empty() && str(as, "storageClassName") != cache_sc) continue;
      if (!match || api::status_priority(st) >
                        api::status_priority(str(match->value("status", Json::object()), "status")))
        match = a;
    }
    std::string model_id = template_cache::source_model_id(src);
    if (match)
      best.emplace_back(match, model_id);
    else
      missing.push_back(&src);
  }

  // ---- artifacts health ----
  ComponentHealth arts;
  if (!missing.empty()) {
    arts = engine::component_health("Artifacts", ComponentState::Progressing, "CreatingCaches",
                                    "Waiting for the AIM artifacts to be created",
                                    Dependency::Downstream);
  } else if (!best.empty()) {
    kube::ObjectPtr worst;
    for (auto& [a, m] : best) {
      std::string st = str(a->value("status", Json::object()), "status");
      if (!worst || api::status_priority(st) <
                        api::status_priority(str(worst->value("status", Json::object()), "status")))
        worst = a;
    }
    std::string wst = str(worst->value("status", Json::object()), "status");
    if (wst == api::kStatusReady) {
      arts = engine::component_health("Artifacts", ComponentState::Ready, "AllCachesReady",
                                      "All caches are ready", Dependency::Downstream);
    } else {
      Json rcnd = ready_condition(*worst);
      std::string reason = str(rcnd, "reason");
      arts = engine::component_health(
          "Artifacts", state_of(wst), reason.empty() ? "CachesNotReady" : reason,
          "One or more caches are not ready: " + str(rcnd, "message"), Dependency::Downstream);
    }
  } else {
    arts = engine::component_health("Artifacts", ComponentState::Progressing, "NoCaches",
                                    "No artifacts to track", Dependency::Downstream);
  }
  comps.push_back(arts);

  auto old_conditions = conditions_of(obj);
  auto state = engine::derive_state(comps, old_conditions);

  // ---- plan ----
  std::optional<engine::Condition> create_failure;
  std::optional<kube::Error> create_error;
  if (state.should_apply && tpl) {
    for (std::size_t i = 0; i < missing.size(); ++i) {
      Json desired =
          template_cache::artifact_for_source(obj, *missing[i], static_cast<int>(i), tscope);
      label_child(desired, obj, "template-cache", rc.spec.is_object() ? rc.spec : Json::object());
      auto live = ctx.cache(types::aim_artifacts()).get(ns, name_of(desired));
      if (live) continue;  // exists (e.g. another cache's, still without status)
      auto created = ctx.client->create(types::aim_artifacts(), desired);
      if (!created.ok() && !created.error().is(kube::ErrorCode::kAlreadyExists)) {
        auto terminating = namespace_terminating(ctx, ns);
        if (terminating.ok() && terminating.value()) return kube::Action::done();
        // Reported on the cache (condition and Warning event), then retried with backoff.
        create_failure = apply_failure_condition("AIMArtifact", name_of(desired), created.error());
        create_error = created.error();
        break;
      }
    }
  }
  std::vector<engine::Condition> desired_conditions = state.conditions;
  if (create_failure) {
    std::erase_if(desired_conditions,
                  [](const engine::Condition& c) { return c.type == "DependenciesReachable"; });
    desired_conditions.push_back(*create_failure);
  }

  // ---- status ----
  Json status = obj.value("status", Json::object());
  if (!status.is_object()) status = Json::object();
  status["status"] = engine::to_string(state.root);
  if (best.empty()) {
    status.erase("artifacts");
  } else {
    Json map = Json::object();
    for (auto& [a, m] : best) {
      const Json& ast = a->value("status", Json::object());
      Json e{
          {"uid", uid_of(*a)}, {"name", name_of(*a)}, {"model", m}, {"status", str(ast, "status")}};
      if (!str(ast, "persistentVolumeClaim").empty())
        e["persistentVolumeClaim"] = ast["persistentVolumeClaim"];
      map[name_of(*a)] = e;
    }
    status["artifacts"] = map;
  }
  set_conditions(status, obj, desired_conditions, ctx.now_rfc3339());
  if (obj["metadata"].contains("generation"))
    status["observedGeneration"] = obj["metadata"]["generation"];
  auto written = write_status(ctx, types::aim_template_caches(), obj, status);
  if (!written.ok()) return aim::fail(kube::ReconcileError(written.error()));
  if (written.value())
    emit_condition_events(ctx.events(kController), obj, old_conditions,
                          conditions_of(Json{{"status", status}}), comps);
  if (create_error) return aim::fail(kube::ReconcileError(*create_error));
  if (state.infrastructure_error) return aim::fail(kube::ReconcileError("infrastructure error"));
  return kube::Action::done();
}

}  // namespace

void register_template_cache_controller(kube::Manager& mgr, const Context& ctx,
                                        const CacheOptions&) {
  const Context* c = &ctx;
  auto by_label = [](const Json& a) {
    std::vector<kube::Request> out;
    std::string n = label(a, api::kLabelTemplateCacheName);
    if (!n.empty()) out.push_back(kube::Request{namespace_of(a), n});
    return out;
  };
  auto by_template = [c](bool cluster) {
    return [c, cluster](const Json& t) {
      std::vector<kube::Request> out;
      for (auto& tc : c->cache(types::aim_template_caches()).list(cluster ? "" : namespace_of(t)))
        if (tc->value("spec", Json::object()).value("templateName", std::string()) == name_of(t))
          out.push_back(kube::Request{namespace_of(*tc), name_of(*tc)});
      return out;
    };
  };
  mgr.controller("aimtemplatecache")
      .for_type(types::aim_template_caches())
      .owns(types::aim_artifacts())
      .watches(types::aim_artifacts(), by_label)
      .watches(types::aim_service_templates(), by_template(false))
      .watches(types::aim_cluster_service_templates(), by_template(true))
      .max_concurrent_reconciles(2)
      .complete([c](const kube::Request& r) { return reconcile(*c, r); });
}

}  // namespace aim::controllers
