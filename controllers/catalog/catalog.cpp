// Registration of the catalog controllers and their watches (behavior.md §1.5-§1.6).
#include "controllers/catalog/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "api/constants.h"
#include "api/model.h"
#include "api/service_template.h"
#include "controllers/catalog/internal.h"
#include "controllers/catalog/model_controller.h"
#include "controllers/catalog/model_source_controller.h"
#include "controllers/catalog/runtime_config_controller.h"
#include "controllers/catalog/template_controller.h"
#include "controllers/typed.h"
#include "engine/gpu.h"

namespace aim::controllers::catalog {

namespace {

using Requests = std::vector<kube::Request>;

// Objects of `type` (in `ns`, or everywhere when `all_namespaces`), read as R (a model or a
// template kind), whose effective runtime config name is `name`. Unlike the reference, models
// using the implicit `default` are found too.
template <class R>
Requests by_runtime_config(const Context& ctx, const kube::ResourceType& type,
                           const std::string& ns, bool all_namespaces, const std::string& name) {
  Requests out;
  auto items = all_namespaces ? ctx.cache(type).list() : ctx.cache(type).list(ns);
  for (const auto& o : typed_list<R>(items)) {
    const std::string requested = o->spec.runtime_config_name.value_or(std::string());
    if (engine::effective_runtime_config_name(requested) == name)
      out.push_back(
          {type.namespaced ? namespace_of(o->metadata) : std::string(), name_of(o->metadata)});
  }
  return out;
}

Requests templates_of_model(const Context& ctx, const kube::ResourceType& template_type,
                            const std::string& ns, const std::string& model) {
  Requests out;
  for (const auto& t : typed_list<api::AIMServiceTemplate>(ctx.cache(template_type).list(ns))) {
    if (t->spec.model_name == model)
      out.push_back({namespace_of(t->metadata), name_of(t->metadata)});
  }
  return out;
}

// The models of `ns` ("" for cluster models) whose spec.imagePullSecrets names `secret`: a
// Secret created or changed re-reads the image metadata it was missing.
Requests naming_pull_secret(const Context& ctx, const kube::ResourceType& model_type,
                            const std::string& ns, const std::string& secret) {
  Requests out;
  for (const auto& m : typed_list<api::AIMModel>(ctx.cache(model_type).list(ns))) {
    auto names = pull_secret_names(m->spec.image_pull_secrets);
    if (std::find(names.begin(), names.end(), secret) != names.end())
      out.push_back({namespace_of(m->metadata), name_of(m->metadata)});
  }
  return out;
}

// Node events that change what the GPU inventory sees: a node appeared or went away, or its
// `amd.com/` / `beta.amd.com/` labels or its allocatable resources changed. Heartbeats and other
// updates are ignored.
class NodeGpuFilter {
 public:
  bool changed(const Context& ctx, const Json& node) {
    std::string name = name_of(node);
    bool gone = !ctx.cache(kube::types::nodes()).get("", name);
    std::string fp;
    const Json& l = labels_of(node);
    if (l.is_object()) {
      for (const auto& [k, v] : l.items()) {
        if (k.starts_with("amd.com/") || k.starts_with("beta.amd.com/")) {
          fp += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
        }
      }
    }
    // Allocatable counts bound a pod's GPU count (GPUCountNotAvailable).
    if (auto typed_node = api::decode<api::Node>(node);
        typed_node && typed_node.value->status.allocatable) {
      fp += "allocatable=" + api::encode(*typed_node.value->status.allocatable).dump() + "\n";
    }
    std::lock_guard lock(mu_);
    if (gone) {
      seen_.erase(name);
      return true;
    }
    auto it = seen_.find(name);
    if (it != seen_.end() && it->second == fp) return false;
    seen_[name] = fp;
    return true;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> seen_;
};

Requests gpu_templates(const Context& ctx, const kube::ResourceType& template_type) {
  Requests out;
  for (const auto& t : typed_list<api::AIMServiceTemplate>(ctx.cache(template_type).list())) {
    if (engine::gpu_required(engine::gpu_requirement(json_of(t->spec.hardware)))) {
      out.push_back({template_type.namespaced ? namespace_of(t->metadata) : std::string(),
                     name_of(t->metadata)});
    }
  }
  return out;
}

void register_models(kube::Manager& mgr, const Context& ctx) {
  const Context* c = &ctx;
  auto ns_scope = ModelScope::namespaced();
  mgr.controller("model")
      .for_type(ns_scope.model_type)
      .owns(ns_scope.template_type)
      .watches(ns_scope.template_type,
               typed_map<api::AIMServiceTemplate>([](const api::AIMServiceTemplate& t) -> Requests {
                 if (t.spec.model_name.empty()) return {};
                 return {{namespace_of(t.metadata), t.spec.model_name}};
               }))
      .watches(types::aim_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMModel>(*c, types::aim_models(), namespace_of(rc),
                                                         false, name_of(rc));
               })
      .watches(types::aim_cluster_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMModel>(*c, types::aim_models(), "", true,
                                                         name_of(rc));
               })
      .watches(kube::types::secrets(), secret_names_selector(),
               [c](const Json& s) {
                 return naming_pull_secret(*c, types::aim_models(), namespace_of(s), name_of(s));
               })
      .complete([c, ns_scope](const kube::Request& r) { return reconcile_model(*c, ns_scope, r); });

  auto cl_scope = ModelScope::cluster_scoped();
  mgr.controller("cluster-model")
      .for_type(cl_scope.model_type)
      .owns(cl_scope.template_type)
      .watches(cl_scope.template_type,
               typed_map<api::AIMServiceTemplate>([](const api::AIMServiceTemplate& t) -> Requests {
                 if (t.spec.model_name.empty()) return {};
                 return {{"", t.spec.model_name}};
               }))
      .watches(types::aim_cluster_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMModel>(*c, types::aim_cluster_models(), "", true,
                                                         name_of(rc));
               })
      // Cluster models read their pull secrets in the operator namespace.
      .watches(kube::types::secrets(), secret_names_selector(),
               [c](const Json& s) -> Requests {
                 if (namespace_of(s) != c->operator_namespace) return {};
                 return naming_pull_secret(*c, types::aim_cluster_models(), "", name_of(s));
               })
      .complete([c, cl_scope](const kube::Request& r) { return reconcile_model(*c, cl_scope, r); });
}

void register_templates(kube::Manager& mgr, const Context& ctx, const DiscoveryOptions& discovery) {
  const Context* c = &ctx;
  auto ns_filter = std::make_shared<NodeGpuFilter>();
  auto cl_filter = std::make_shared<NodeGpuFilter>();
  auto ns_scope = TemplateScope::namespaced();
  mgr.controller("service-template")
      .for_type(ns_scope.template_type)
      .owns(kube::types::jobs())
      .owns(types::aim_template_caches())
      .watches(types::aim_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMServiceTemplate>(
                     *c, types::aim_service_templates(), namespace_of(rc), false, name_of(rc));
               })
      .watches(types::aim_cluster_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMServiceTemplate>(
                     *c, types::aim_service_templates(), "", true, name_of(rc));
               })
      .watches(kube::types::nodes(),
               [c, ns_filter](const Json& node) -> Requests {
                 if (!ns_filter->changed(*c, node)) return {};
                 return gpu_templates(*c, types::aim_service_templates());
               })
      .watches(types::aim_models(),
               [c](const Json& m) {
                 return templates_of_model(*c, types::aim_service_templates(), namespace_of(m),
                                           name_of(m));
               })
      // A namespaced template may name a cluster model (e.g. a service's derived template over
      // a cluster template): every namespace's templates of that name.
      .watches(types::aim_cluster_models(),
               [c](const Json& m) {
                 return templates_of_model(*c, types::aim_service_templates(), "", name_of(m));
               })
      // A discovery pod pulls with its model's pull secrets, in the template's namespace.
      .watches(kube::types::secrets(), secret_names_selector(),
               [c](const Json& s) {
                 Requests out;
                 const std::string ns = namespace_of(s);
                 for (const auto& model_type : {types::aim_models(), types::aim_cluster_models()}) {
                   for (const auto& m : naming_pull_secret(
                            *c, model_type, model_type.namespaced ? ns : "", name_of(s))) {
                     auto more = templates_of_model(*c, types::aim_service_templates(), ns, m.name);
                     out.insert(out.end(), more.begin(), more.end());
                   }
                 }
                 return out;
               })
      .watches(kube::types::pods(), job_pods_selector(),
               [](const Json& p) -> Requests {
                 std::string t = label(p, api::kLabelTemplate);
                 if (t.empty() || label(p, "aim.eai.amd.com/service-template.name").empty()) {
                   return {};
                 }
                 return {{namespace_of(p), t}};
               })
      .complete([c, ns_scope, discovery](const kube::Request& r) {
        return reconcile_template(*c, ns_scope, r, discovery);
      });

  auto cl_scope = TemplateScope::cluster_scoped();
  mgr.controller("cluster-service-template")
      .for_type(cl_scope.template_type)
      .owns(kube::types::jobs())
      .watches(types::aim_cluster_runtime_configs(),
               [c](const Json& rc) {
                 return by_runtime_config<api::AIMServiceTemplate>(
                     *c, types::aim_cluster_service_templates(), "", true, name_of(rc));
               })
      .watches(kube::types::nodes(),
               [c, cl_filter](const Json& node) -> Requests {
                 if (!cl_filter->changed(*c, node)) return {};
                 return gpu_templates(*c, types::aim_cluster_service_templates());
               })
      .watches(types::aim_cluster_models(),
               [c](const Json& m) {
                 return templates_of_model(*c, types::aim_cluster_service_templates(), "",
                                           name_of(m));
               })
      // Cluster discovery pods run in the operator namespace, with the cluster model's secrets.
      .watches(kube::types::secrets(), secret_names_selector(),
               [c](const Json& s) {
                 Requests out;
                 if (namespace_of(s) != c->operator_namespace) return out;
                 for (const auto& m :
                      naming_pull_secret(*c, types::aim_cluster_models(), "", name_of(s))) {
                   auto more =
                       templates_of_model(*c, types::aim_cluster_service_templates(), "", m.name);
                   out.insert(out.end(), more.begin(), more.end());
                 }
                 return out;
               })
      .watches(kube::types::pods(), job_pods_selector(),
               [c](const Json& p) -> Requests {
                 std::string t = label(p, api::kLabelTemplate);
                 if (t.empty() || namespace_of(p) != c->operator_namespace ||
                     label(p, "aim.eai.amd.com/cluster-service-template.name").empty()) {
                   return {};
                 }
                 return {{"", t}};
               })
      .complete([c, cl_scope, discovery](const kube::Request& r) {
        return reconcile_template(*c, cl_scope, r, discovery);
      });
}

void register_runtime_configs(kube::Manager& mgr, const Context& ctx) {
  const Context* c = &ctx;
  mgr.controller("runtime-config")
      .for_type(types::aim_runtime_configs())
      .watches(types::aim_cluster_runtime_configs(),
               [c](const Json& cl) {
                 Requests out;
                 for (const auto& o : c->cache(types::aim_runtime_configs()).list()) {
                   if (name_of(*o) == name_of(cl)) out.push_back({namespace_of(*o), name_of(*o)});
                 }
                 return out;
               })
      .complete([c](const kube::Request& r) { return reconcile_runtime_config(*c, false, r); });
  mgr.controller("cluster-runtime-config")
      .for_type(types::aim_cluster_runtime_configs())
      .complete([c](const kube::Request& r) { return reconcile_runtime_config(*c, true, r); });
}

// A non-negative number of seconds from the environment, else `fallback`.
}  // namespace

DiscoveryOptions DiscoveryOptions::from_env() {
  DiscoveryOptions o;
  o.deadline = env_seconds("AIM_DISCOVERY_DEADLINE_SECONDS", o.deadline, true);
  if (o.deadline.count() == 0) o.deadline = DiscoveryOptions{}.deadline;
  o.unschedulable_grace =
      env_seconds("AIM_UNSCHEDULABLE_GRACE_SECONDS", o.unschedulable_grace, true);
  return o;
}

void register_catalog_controllers(kube::Manager& mgr, const Context& ctx, const Options& options) {
  configure_caches(*ctx.informers);
  // Caches every catalog reconcile reads, created before the manager starts so they sync.
  for (const auto& t : {types::aim_runtime_configs(), types::aim_cluster_runtime_configs(),
                        kube::types::nodes(), kube::types::jobs(), types::aim_template_caches()}) {
    (void)ctx.cache(t);
  }
  (void)job_pods(ctx);
  if (options.models) register_models(mgr, ctx);
  if (options.templates) register_templates(mgr, ctx, options.discovery);
  if (options.runtime_configs) register_runtime_configs(mgr, ctx);
  if (options.model_sources) register_model_source_controller(mgr, ctx);
}

}  // namespace aim::controllers::catalog

namespace aim::controllers {
void register_catalog_controllers(kube::Manager& mgr, const Context& ctx) {
  catalog::Options options;
  options.discovery = catalog::DiscoveryOptions::from_env();
  catalog::register_catalog_controllers(mgr, ctx, options);
}
}  // namespace aim::controllers
