// Registration of the AIMService controller: cache indexes and the watches of behavior.md §1.6
// ("service"), each mapped through an index instead of a scan of every service.
#include <set>

#include "api/constants.h"
#include "controllers/service/internal.h"
#include "controllers/service/service.h"

namespace aim::controllers {
namespace service {
namespace {

std::vector<std::string> one(const std::string& v) {
  if (v.empty()) return {};
  return {v};
}

// Keys of the services found through `index` = `value`, restricted to `ns` unless empty.
void collect(const Context& ctx, const char* index_name, const std::string& value,
             const std::string& ns, std::set<std::string>& keys) {
  if (value.empty()) return;
  for (const auto& key : ctx.cache(types::aim_services()).keys_by_index(index_name, value)) {
    if (ns.empty() || kube::split_key(key).first == ns) keys.insert(key);
  }
}

std::vector<kube::Request> to_requests(const std::set<std::string>& keys) {
  std::vector<kube::Request> out;
  for (const auto& k : keys) out.push_back(kube::Request::from_key(k));
  return out;
}

// The AIMService that controls the InferenceService `ns/name` (read from the cache).
std::vector<kube::Request> isvc_owner(const Context& ctx, const std::string& ns,
                                      const std::string& name) {
  if (name.empty()) return {};
  auto isvc = ctx.cache(types::inference_services()).get(ns, name);
  if (!isvc) return {};
  return kube::controller_owner_requests(*isvc, types::aim_services());
}

kube::MapFunc map_template(const Context& ctx, bool cluster) {
  return [&ctx, cluster](const Json& t) {
    std::set<std::string> keys;
    const std::string ns = cluster ? "" : namespace_of(t);
    collect(ctx, index::kTemplateRef, name_of(t), ns, keys);
    // Services that select automatically among the model's templates.
    collect(ctx, index::kModelRef, str_at(t, {"spec", "modelName"}), ns, keys);
    return to_requests(keys);
  };
}

kube::MapFunc map_model(const Context& ctx, bool cluster) {
  return [&ctx, cluster](const Json& m) {
    std::set<std::string> keys;
    const std::string ns = cluster ? "" : namespace_of(m);
    std::string owner = label(m, api::kLabelService);
    if (!cluster && !owner.empty()) {
      keys.insert(kube::object_key(ns, owner));
      return to_requests(keys);
    }
    collect(ctx, index::kModelRef, name_of(m), ns, keys);
    collect(ctx, index::kModelImage, trim(str_at(m, {"spec", "image"})), ns, keys);
    return to_requests(keys);
  };
}

kube::MapFunc map_runtime_config(const Context& ctx, bool cluster) {
  return [&ctx, cluster](const Json& c) {
    std::set<std::string> keys;
    collect(ctx, index::kRuntimeConfig, name_of(c), cluster ? "" : namespace_of(c), keys);
    return to_requests(keys);
  };
}

}  // namespace

void add_service_indexes(const Context& ctx) {
  ctx.cache(types::aim_services()).add_index(index::kTemplateRef, template_ref_values);
  ctx.cache(types::aim_services()).add_index(index::kModelRef, model_ref_values);
  ctx.cache(types::aim_services()).add_index(index::kModelImage, [](const Json& s) {
    return one(trim(str_at(s, {"spec", "model", "image"})));
  });
  ctx.cache(types::aim_services()).add_index(index::kRuntimeConfig, [](const Json& s) {
    std::string n = str_at(s, {"spec", "runtimeConfigName"});
    return std::vector<std::string>{n.empty() ? std::string(api::kDefaultRuntimeConfigName) : n};
  });
  ctx.cache(types::aim_services()).add_index(index::kPullSecret, [](const Json& s) {
    return pull_secret_names(at(s, {"spec", "imagePullSecrets"}));
  });
  ctx.cache(types::aim_services()).add_index(index::kUnresolvedAuto, [](const Json& s) {
    bool is_auto = trim(str_at(s, {"spec", "template", "name"})).empty();
    bool unresolved = str_at(s, {"status", "resolvedTemplate", "name"}).empty();
    return is_auto && unresolved ? std::vector<std::string>{"true"} : std::vector<std::string>{};
  });
  auto spec_image = [](const Json& m) { return one(trim(str_at(m, {"spec", "image"}))); };
  ctx.cache(types::aim_models()).add_index(index::kSpecImage, spec_image);
  ctx.cache(types::aim_cluster_models()).add_index(index::kSpecImage, spec_image);
  auto model_name = [](const Json& t) { return one(str_at(t, {"spec", "modelName"})); };
  ctx.cache(types::aim_service_templates()).add_index(index::kTemplateModel, model_name);
  ctx.cache(types::aim_cluster_service_templates()).add_index(index::kTemplateModel, model_name);
  ctx.cache(types::aim_template_caches()).add_index(index::kCacheTemplate, [](const Json& c) {
    return one(str_at(c, {"spec", "templateName"}));
  });
  ctx.cache(types::core_events()).add_index(index::kIsvcEvents, [](const Json& e) {
    if (str_at(e, {"involvedObject", "kind"}) != "InferenceService")
      return std::vector<std::string>{};
    return one(str_at(e, {"involvedObject", "namespace"}) + "/" +
               str_at(e, {"involvedObject", "name"}));
  });
}

}  // namespace service

void register_service_controllers(kube::Manager& mgr, const Context& ctx) {
  using namespace service;
  configure_caches(*ctx.informers);
  add_service_indexes(ctx);
  const Context* c = &ctx;
  mgr.controller("service")
      .for_type(types::aim_services())
      .owns(types::inference_services())
      .owns(types::http_routes())
      .owns(kube::types::persistent_volume_claims())
      .watches(types::aim_service_templates(), map_template(ctx, false))
      .watches(types::aim_cluster_service_templates(), map_template(ctx, true))
      .watches(types::aim_models(), map_model(ctx, false))
      .watches(types::aim_cluster_models(), map_model(ctx, true))
      .watches(types::aim_runtime_configs(), map_runtime_config(ctx, false))
      .watches(types::aim_cluster_runtime_configs(), map_runtime_config(ctx, true))
      .watches(kube::types::secrets(), secret_names_selector(),
               [c](const Json& secret) {
                 std::set<std::string> keys;
                 collect(*c, index::kPullSecret, name_of(secret), namespace_of(secret), keys);
                 return to_requests(keys);
               })
      .watches(types::aim_template_caches(),
               [c](const Json& cache) {
                 std::set<std::string> keys;
                 collect(*c, index::kTemplateRef, str_at(cache, {"spec", "templateName"}),
                         namespace_of(cache), keys);
                 for (const auto& r : kube::controller_owner_requests(cache, types::aim_services()))
                   keys.insert(r.key());
                 return to_requests(keys);
               })
      .watches(kube::types::pods(), inference_pods_selector(),
               [c](const Json& pod) {
                 return isvc_owner(*c, namespace_of(pod),
                                   label(pod, api::kLabelKServeInferenceService));
               })
      .watches(types::horizontal_pod_autoscalers(),
               [c](const Json& hpa) {
                 // KEDA names it keda-hpa-<isvc>-predictor.
                 std::string n = name_of(hpa);
                 const std::string prefix = "keda-hpa-", suffix = "-predictor";
                 if (n.size() <= prefix.size() + suffix.size() || n.rfind(prefix, 0) != 0 ||
                     n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
                   return std::vector<kube::Request>{};
                 return isvc_owner(
                     *c, namespace_of(hpa),
                     n.substr(prefix.size(), n.size() - prefix.size() - suffix.size()));
               })
      .watches(types::core_events(),
               [c](const Json& ev) {
                 if (str_at(ev, {"involvedObject", "kind"}) != "InferenceService" ||
                     str_at(ev, {"type"}) != "Warning")
                   return std::vector<kube::Request>{};
                 return isvc_owner(*c, str_at(ev, {"involvedObject", "namespace"}),
                                   str_at(ev, {"involvedObject", "name"}));
               })
      .watches(kube::types::nodes(),
               [c](const Json&) {
                 // GPU inventory changes matter to services still waiting for a selection.
                 std::set<std::string> keys;
                 collect(*c, index::kUnresolvedAuto, "true", "", keys);
                 return to_requests(keys);
               })
      .max_concurrent_reconciles(2)
      .complete([c](const kube::Request& req) { return service::reconcile(*c, req); });
}

}  // namespace aim::controllers
