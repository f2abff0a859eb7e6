// AIMTemplateCache: the pure parts (artifact names and specs per model source, behavior.md §3.6,
// §4.9). controllers/cache/template_cache_controller.cpp does the I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aim::controllers::template_cache {

using Json = nlohmann::json;

// The label value of aim.eai.amd.com/template-cache.name.
std::string sanitized_cache_name(const std::string& name);
// derived_name([sourceUri with '.'->'-'], [sourceUri, merged env or null, storageClassName]
// (+ "dedicated", cache name), 10, 63). `merged_env_out` receives cache env < source env.
std::string artifact_name(const Json& source, const Json& cache_spec, const std::string& cache_name,
                          bool dedicated, Json* merged_env_out = nullptr);
// The AIMArtifact planned for a model source without a matching artifact.
// The source's modelId, else the one its hf:// URI names (api::ModelSource::effective_model_id),
// else "".
std::string source_model_id(const Json& source);

Json artifact_for_source(const Json& cache, const Json& source, int index,
                         const std::string& template_scope);

}  // namespace aim::controllers::template_cache
