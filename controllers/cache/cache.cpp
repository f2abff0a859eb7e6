#include "controllers/cache/cache.h"

#include <cstdlib>
#include <sstream>

#include "controllers/cache/internal.h"
#include "controllers/typed.h"
#include "engine/quantity.h"
#include "kube/log.h"

namespace aim::controllers {

#ifndef AIM_ENGINE_VERSION
#error "AIM_ENGINE_VERSION must be defined by the build (the project version)"
#endif

namespace {

// "k=v,k=v" as a map (entries without '=' or with an empty key are skipped).
std::map<std::string, std::string> parse_pairs(const char* text) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string kv;
  while (std::getline(ss, kv, ',')) {
    auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace

std::string default_fetch_image() {
  return std::string("aim-engine:") + AIM_ENGINE_VERSION;
}

CacheOptions CacheOptions::from_env() {
  CacheOptions o;
  if (const char* img = std::getenv("AIM_FETCH_IMAGE"); img && *img) o.fetch_image = img;
  if (const char* labels = std::getenv("AIM_DOWNLOAD_POD_LABELS"); labels && *labels)
    o.download_pod_labels = parse_pairs(labels);
  if (const char* sel = std::getenv("AIM_DOWNLOAD_NODE_SELECTOR"); sel && *sel)
    o.download_node_selector = parse_pairs(sel);
  if (const char* tol = std::getenv("AIM_DOWNLOAD_TOLERATIONS"); tol && *tol) {
    auto parsed =
        api::decode<std::vector<api::Toleration>>(nlohmann::json::parse(tol, nullptr, false));
    if (parsed)
      o.download_tolerations = std::move(*parsed.value);
    else
      kube::log::Logger("setup").warn(
          "ignoring AIM_DOWNLOAD_TOLERATIONS: not a JSON array of tolerations",
          {{"value", tol}, {"error", parsed.error}});
  }
  o.retry_base = env_seconds("AIM_ARTIFACT_RETRY_BASE_SECONDS", o.retry_base, false);
  o.download_deadline = env_seconds("AIM_DOWNLOAD_DEADLINE_SECONDS", o.download_deadline, false);
  o.check_size_deadline =
      env_seconds("AIM_CHECK_SIZE_DEADLINE_SECONDS", o.check_size_deadline, false);
  o.unschedulable_grace =
      env_seconds("AIM_UNSCHEDULABLE_GRACE_SECONDS", o.unschedulable_grace, true);
  if (const char* max = std::getenv("AIM_MAX_ARTIFACT_SIZE"); max && *max) {
    if (auto bytes = engine::quantity_value(nlohmann::json(max)); bytes && *bytes > 0)
      o.max_artifact_bytes = *bytes;
    else
      kube::log::Logger("setup").warn(
          "ignoring AIM_MAX_ARTIFACT_SIZE: not a positive quantity such as 2Ti", {{"value", max}});
  }
  return o;
}

FetchImageChoice choose_fetch_image(const std::string& env_image, const api::Pod* own_pod,
                                    const std::string& container) {
  if (!env_image.empty()) return {env_image, "AIM_FETCH_IMAGE"};
  if (own_pod != nullptr && own_pod->spec.containers) {
    for (const auto& c : *own_pod->spec.containers) {
      const std::string name = c.name.value_or("");
      if (!container.empty() && name != container) continue;
      const std::string image = c.image.value_or("");
      if (image.empty()) break;
      return {image, "operator pod " + namespace_of(own_pod->metadata) + "/" +
                         name_of(own_pod->metadata) + " container " + name};
    }
  }
  return {default_fetch_image(), "built-in default"};
}

void resolve_fetch_image(CacheOptions& options, kube::Client* client) {
  kube::log::Logger log("setup");
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v != nullptr ? v : "");
  };
  std::optional<api::Pod> pod;
  const std::string pod_name = env("POD_NAME"), pod_ns = env("POD_NAMESPACE");
  if (env("AIM_FETCH_IMAGE").empty() && client != nullptr && !pod_name.empty() && !pod_ns.empty()) {
    auto got = client->get(kube::types::pods(), pod_ns, pod_name);
    std::string error = got.ok() ? std::string() : got.error().describe();
    if (got.ok()) {
      auto decoded = api::decode<api::Pod>(got.value());
      pod = std::move(decoded.value);
      error = decoded.error;
    }
    if (!pod)
      log.warn("cannot read the operator's own pod to find its image",
               {{"pod", pod_ns + "/" + pod_name}, {"error", error}});
  }
  auto choice = choose_fetch_image(env("AIM_FETCH_IMAGE"), pod ? &*pod : nullptr,
                                   env("AIM_OPERATOR_CONTAINER"));
  options.fetch_image = choice.image;
  log.info("downloader image chosen", {{"image", choice.image}, {"source", choice.source}});
}

void register_cache_controllers(kube::Manager& mgr, const Context& ctx) {
  CacheOptions options = CacheOptions::from_env();
  resolve_fetch_image(options, ctx.client.get());
  register_cache_controllers(mgr, ctx, options);
}

void register_cache_controllers(kube::Manager& mgr, const Context& ctx,
                                const CacheOptions& options) {
  configure_caches(*ctx.informers);
  register_artifact_controller(mgr, ctx, options);
  register_template_cache_controller(mgr, ctx, options);
  // DynamoModel only when its optional CRD is installed (AIM_ENABLE_DYNAMO_MODEL=true at cluster
  // start): an informer on a missing resource would never sync.
  if (ctx.client &&
      ctx.client->get(kube::types::custom_resource_definitions(), "", "dynamomodels.nvidia.com")
          .ok())
    register_dynamo_model_controller(mgr, ctx);
}

}  // namespace aim::controllers
