// AIMTemplateCache: the pure parts (behavior.md §3.6, §4.9). The reconcile runs in stages:
//
//   fetch    (template_cache_controller.cpp) the cache, its template, its runtime config and the
//            namespace's artifacts, as typed objects from the informer caches;
//   observe  (here, pure) which artifact serves each model source, which sources have none, and
//            the health of the template and the artifacts;
//   plan     (here, pure) the AIMArtifact to create for each source without one;
//   apply    (controller) create them, reporting a failure on the cache;
//   status   (here, pure) the status the cache should have; the controller writes it when it
//            changed.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/artifact.h"
#include "api/service_template.h"
#include "api/template_cache.h"
#include "controllers/typed.h"
#include "engine/health.h"

namespace aim::controllers::template_cache {

using Json = nlohmann::json;

// The label value of aim.eai.amd.com/template-cache.name.
std::string sanitized_cache_name(const std::string& name);
// derived_name([sourceUri with '.'->'-'], [sourceUri, merged env or null, storageClassName]
// (+ "dedicated", cache name), 10, 63). `merged_env_out` receives cache env < source env.
std::string artifact_name(const api::ModelSource& source, const api::AIMTemplateCacheSpec& spec,
                          const std::string& cache_name, bool dedicated,
                          Json* merged_env_out = nullptr);
// The source's modelId, else the one its hf:// URI names (api::ModelSource::effective_model_id),
// else "".
std::string source_model_id(const api::ModelSource& source);
// The AIMArtifact planned for a model source without a matching artifact (JSON, as it is sent).
Json artifact_for_source(const api::AIMTemplateCache& cache, const api::ModelSource& source,
                         int index, const std::string& template_scope);

// ---- observe --------------------------------------------------------------------------------

// The template a cache names, found in its scope (Namespace first unless the cache says Cluster).
struct TemplateRef {
  std::optional<api::AIMServiceTemplateStatus> status;  // nullopt: not found
  std::string scope;                                    // Namespace or Cluster
};

struct Match {
  const Cached<api::AIMArtifact>* artifact = nullptr;
  std::string model_id;
};

struct Observation {
  std::vector<engine::ComponentHealth> components;  // ServiceTemplate, Artifacts (+ RuntimeConfig)
  std::vector<Match> matched;                       // one per source that has an artifact
  std::vector<const api::ModelSource*> missing;     // sources without one, in template order
};

// The best artifact of each model source of the template (same sourceUri, the cache's storage
// class when it names one, owned by the cache in Dedicated mode and unowned in Shared mode, a
// status already; the highest status priority wins), and the template's and artifacts' health.
// `runtime_config` is the RuntimeConfig component when its lookup failed.
Observation observe(const api::AIMTemplateCache& cache, const TemplateRef& tpl,
                    const std::vector<Cached<api::AIMArtifact>>& artifacts,
                    std::optional<engine::ComponentHealth> runtime_config);

// ---- status ---------------------------------------------------------------------------------

// The status without its conditions: status.status, one status.artifacts entry per matched
// artifact (none: the key removed), the cache's observedGeneration; what this controller does not
// set is kept from `old_status` (unknown keys included).
api::AIMTemplateCacheStatus status_without_conditions(api::AIMTemplateCacheStatus old_status,
                                                      engine::ComponentState root,
                                                      const std::vector<Match>& matched,
                                                      std::optional<int64_t> generation);

}  // namespace aim::controllers::template_cache
