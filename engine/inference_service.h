// The KServe InferenceService (serving.kserve.io/v1beta1) an AIMService runs, rendered as JSON
// exactly as behavior.md §4.9 describes: name, labels and annotations, one `kserve-container` on
// port 8000, the /dev/shm volume, model storage mounts under /workspace/cache, the AIM_* env,
// resources with the GPU request, node affinity, pull secrets, service account, and fixed
// replicas or KEDA autoscaling (api.md §3.11).
//
// Pure: the controller gathers the inputs, adds the owner reference and propagated labels (the
// pipeline does both for every child) and applies the result with server-side apply.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/env_merge.h"

namespace aim::engine {

// One Ready artifact of the Ready template cache (its status.artifacts entry).
struct CacheMount {
  std::string artifact_name;
  std::string pvc_name;
  std::string model_id;  // mounted at /workspace/cache/<modelId>
};

// Where the model weights come from.
struct ModelStorage {
  enum class Kind {
    None,           // no volume: the container downloads on its own (no cache of any kind)
    TemplateCache,  // the template cache's artifact PVCs, one mount per model
    ServicePvc,  // a service-owned PVC at /workspace/cache (caching Never, or Auto while waiting)
    Live,        // keep the volumes and mounts of the running ISVC (update path)
  };
  Kind kind = Kind::None;
  std::vector<CacheMount> mounts;  // TemplateCache
  std::string pvc_name;            // ServicePvc
  nlohmann::json live_isvc;        // Live: the existing InferenceService object
};

struct InferenceServiceInput {
  // The AIMService.
  std::string service_name;
  std::string service_namespace;
  std::optional<int32_t> replicas;
  std::optional<int32_t> min_replicas;
  std::optional<int32_t> max_replicas;
  nlohmann::json autoscaling;         // spec.autoScaling (null when unset)
  nlohmann::json image_pull_secrets;  // spec.imagePullSecrets (only the service's are used)
  std::string service_account;        // spec.serviceAccountName
  nlohmann::json service_resources;   // spec.resources

  // The resolved model.
  std::string image;

  // The resolved template.
  std::string template_name;
  std::string template_model_name;    // spec.modelName
  std::string profile_metric;         // status.profile.metadata.metric (label)
  std::string profile_precision;      // status.profile.metadata.precision (label)
  nlohmann::json template_resources;  // spec.resources
  int64_t gpu_count = 0;              // status.resolvedHardware.gpu.requests
  std::string gpu_resource_name;  // status.resolvedHardware.gpu.resourceName ("" -> amd.com/gpu)
  nlohmann::json node_affinity;   // status.resolvedNodeAffinity (null when none)

  InferenceEnvInput env;
  ModelStorage storage;
};

// True when spec.autoScaling, minReplicas or maxReplicas is set.
bool autoscaling_configured(const InferenceServiceInput& in);

// The container resources: GPU defaults (cpu 4N, memory 32N Gi, limit memory 48N Gi, gpu N),
// then every template key, then every service key.
nlohmann::json inference_resources(int64_t gpu_count, const std::string& gpu_resource_name,
                                   const nlohmann::json& template_resources,
                                   const nlohmann::json& service_resources);

// "/workspace/cache/<modelId>" with ".." removed and the path cleaned.
std::string cache_mount_path(const std::string& model_id);

// The whole object. Fails only when the name cannot be formed (namespace longer than 42).
Result<nlohmann::json, std::string> render_inference_service(const InferenceServiceInput& in);

}  // namespace aim::engine
