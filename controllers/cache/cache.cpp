#include "controllers/cache/cache.h"

#include <cstdlib>
#include <sstream>

#include "controllers/cache/internal.h"

namespace aim::controllers {

CacheOptions CacheOptions::from_env() {
  CacheOptions o;
  if (const char* img = std::getenv("AIM_FETCH_IMAGE"); img && *img) o.fetch_image = img;
  if (const char* labels = std::getenv("AIM_DOWNLOAD_POD_LABELS"); labels && *labels) {
    std::stringstream ss(labels);
    std::string kv;
    while (std::getline(ss, kv, ',')) {
      auto eq = kv.find('=');
      if (eq != std::string::npos && eq > 0)
        o.download_pod_labels[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (const char* b = std::getenv("AIM_ARTIFACT_RETRY_BASE_SECONDS"); b && *b) {
    long v = std::strtol(b, nullptr, 10);
    if (v > 0) o.retry_base = std::chrono::seconds(v);
  }
  return o;
}

void register_cache_controllers(kube::Manager& mgr, const Context& ctx) {
  register_cache_controllers(mgr, ctx, CacheOptions::from_env());
}

void register_cache_controllers(kube::Manager& mgr, const Context& ctx,
                                const CacheOptions& options) {
  register_artifact_controller(mgr, ctx, options);
  register_template_cache_controller(mgr, ctx, options);
  // DynamoModel only when its optional CRD is installed (AIM_ENABLE_DYNAMO_MODEL=true at cluster
  // start): an informer on a missing resource would never sync.
  if (ctx.client &&
      ctx.client->get(kube::types::custom_resource_definitions(), "", "dynamomodels.nvidia.com")
          .ok())
    register_dynamo_model_controller(mgr, ctx);
}

namespace cache_internal {

engine::ResolvedRuntimeConfig resolve_runtime_config(const Context& ctx, const std::string& ns,
                                                     const std::string& requested) {
  std::string name = engine::effective_runtime_config_name(requested);
  std::optional<Json> ns_spec, cl_spec;
  if (auto o = ctx.cache(types::aim_runtime_configs()).get(ns, name))
    ns_spec = engine::migrate_runtime_config(o->value("spec", Json::object()));
  if (auto o = ctx.cache(types::aim_cluster_runtime_configs()).get("", name))
    cl_spec = engine::migrate_runtime_config(o->value("spec", Json::object()));
  return engine::resolve_runtime_config(requested, ns_spec, cl_spec);
}

}  // namespace cache_internal

}  // namespace aim::controllers
