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
  return typed_map<Template>([&ctx, cluster](const Template& t) {
    std::set<std::string> keys;
    const std::string ns = cluster ? "" : namespace_of(t.metadata);
    collect(ctx, index::kTemplateRef, name_of(t.metadata), ns, keys);
    // Services that select automatically among the model's templates.
    collect(ctx, index::kModelRef, t.spec.model_name, ns, keys);
    return to_requests(keys);
  });
}

kube::MapFunc map_model(const Context& ctx, bool cluster) {
  return typed_map<Model>([&ctx, cluster](const Model& m) {
    std::set<std::string> keys;
    const std::string ns = cluster ? "" : namespace_of(m.metadata);
    const std::string owner = api::label(m.metadata, api::kLabelService);
    if (!cluster && !owner.empty()) {
      keys.insert(kube::object_key(ns, owner));
      return to_requests(keys);
    }
    collect(ctx, index::kModelRef, name_of(m.metadata), ns, keys);
    collect(ctx, index::kModelImage, trim(m.spec.image), ns, keys);
    return to_requests(keys);
  });
}

// The InferenceService an Event about one names as "<ns>/<name>" ("" for other events).
std::string isvc_of_event(const api::Event& e) {
  const auto& o = e.involved_object;
  if (!o || o->kind != "InferenceService") return {};
  return o->namespace_.value_or(std::string()) + "/" + o->name.value_or(std::string());
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
  auto& services = ctx.cache(types::aim_services());
  services.add_index(index::kTemplateRef, typed_index<Service>(template_ref_values));
  services.add_index(index::kModelRef, typed_index<Service>(model_ref_values));
  services.add_index(index::kModelImage, typed_index<Service>([](const Service& s) {
                       return one(trimmed(s.spec.model.image));
                     }));
  services.add_index(index::kRuntimeConfig, typed_index<Service>([](const Service& s) {
                       std::string n = s.spec.runtime_config_name.value_or(std::string());
                       return std::vector<std::string>{
                           n.empty() ? std::string(api::kDefaultRuntimeConfigName) : n};
                     }));
  services.add_index(index::kPullSecret, typed_index<Service>([](const Service& s) {
                       return pull_secret_names(s.spec.image_pull_secrets);
                     }));
  services.add_index(
      index::kUnresolvedAuto, typed_index<Service>([](const Service& s) {
        const bool is_auto = !s.spec.template_ || trimmed(s.spec.template_->name).empty();
        const auto& resolved = s.status.resolved_template;
        const bool unresolved = !resolved || resolved->name.value_or(std::string()).empty();
        return is_auto && unresolved ? std::vector<std::string>{"true"}
                                     : std::vector<std::string>{};
      }));
  auto spec_image = typed_index<Model>([](const Model& m) { return one(trim(m.spec.image)); });
  ctx.cache(types::aim_models()).add_index(index::kSpecImage, spec_image);
  ctx.cache(types::aim_cluster_models()).add_index(index::kSpecImage, spec_image);
  auto model_name = typed_index<Template>([](const Template& t) { return one(t.spec.model_name); });
  ctx.cache(types::aim_service_templates()).add_index(index::kTemplateModel, model_name);
  ctx.cache(types::aim_cluster_service_templates()).add_index(index::kTemplateModel, model_name);
  ctx.cache(types::aim_template_caches())
      .add_index(index::kCacheTemplate, typed_index<TemplateCache>([](const TemplateCache& c) {
                   return one(c.spec.template_name);
                 }));
  ctx.cache(types::core_events())
      .add_index(index::kIsvcEvents, typed_index<api::Event>([](const api::Event& e) {
                   return one(isvc_of_event(e));
                 }));
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
                 auto t = api::decode<TemplateCache>(cache);
                 if (t)
                   collect(*c, index::kTemplateRef, t.value->spec.template_name,
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
      .watches(types::core_events(), typed_map<api::Event>([c](const api::Event& ev) {
                 if (ev.type != "Warning" || isvc_of_event(ev).empty())
                   return std::vector<kube::Request>{};
                 return isvc_owner(*c, ev.involved_object->namespace_.value_or(std::string()),
                                   ev.involved_object->name.value_or(std::string()));
               }))
      .watches(kube::types::nodes(),
               [c](const Json&) {
                 // GPU inventory changes matter to services still waiting for a selection.
                 std::set<std::string> keys;
                 collect(*c, index::kUnresolvedAuto, "true", "", keys);
                 return to_requests(keys);
               })
      .max_concurrent_reconciles(ctx.workers)
      .complete([c](const kube::Request& req) { return service::reconcile(*c, req); });
}

}  // namespace aim::controllers
