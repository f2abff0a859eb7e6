// Pieces of the AIMService controller that are pure functions of typed objects (model names from
// images, quantities, the pod and HTTPRoute inspectors, selection candidates, index values), kept
// apart from the reconcile so unit tests reach them directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/k8s_views.h"
#include "api/model.h"
#include "api/service.h"
#include "api/service_template.h"
#include "api/template_cache.h"
#include "controllers/typed.h"
#include "core/result.h"
#include "engine/health.h"
#include "engine/pod_issue.h"
#include "engine/quantity.h"
#include "engine/selection.h"
#include "kube/client.h"

namespace aim::controllers::service {

using Json = nlohmann::json;

// Cache index names (registered by add_service_indexes).
namespace index {
// AIMService: spec.template.name, the derived template name its overrides give, and
// status.resolvedTemplate.name.
inline constexpr const char* kTemplateRef = "aim-service/template-ref";
// AIMService: spec.model.name and status.resolvedModel.name.
inline constexpr const char* kModelRef = "aim-service/model-ref";
// AIMService: spec.model.image (trimmed).
inline constexpr const char* kModelImage = "aim-service/model-image";
// AIMService: spec.runtimeConfigName, "default" when empty.
inline constexpr const char* kRuntimeConfig = "aim-service/runtime-config";
// AIMService: the names in spec.imagePullSecrets.
inline constexpr const char* kPullSecret = "aim-service/pull-secret";
// AIMService: "true" while an automatically selecting service has no resolvedTemplate.
inline constexpr const char* kUnresolvedAuto = "aim-service/unresolved-auto";
// AIMModel / AIMClusterModel: spec.image.
inline constexpr const char* kSpecImage = "aim-service/spec.image";
// AIMServiceTemplate / AIMClusterServiceTemplate: spec.modelName.
inline constexpr const char* kTemplateModel = "aim-service/spec.modelName";
// AIMTemplateCache: spec.templateName.
inline constexpr const char* kCacheTemplate = "aim-service/spec.templateName";
// core Event: "<ns>/<name>" of an involved InferenceService.
inline constexpr const char* kIsvcEvents = "aim-service/isvc-events";
}  // namespace index

// The kinds the service controller reads, as their declarations. A cluster model reads as an
// AIMModel and a cluster template as an AIMServiceTemplate (same spec less what the cluster
// schema prunes, same status), as in the catalog controllers.
using Service = api::AIMService;
using Model = api::AIMModel;
using Template = api::AIMServiceTemplate;
using TemplateCache = api::AIMTemplateCache;

// Values of the AIMService indexes.
std::vector<std::string> template_ref_values(const Service& service);
std::vector<std::string> model_ref_values(const Service& service);

std::string trim(std::string_view s);
// The value of an optional string, trimmed ("" when absent).
inline std::string trimmed(const std::optional<std::string>& v) {
  return v ? trim(*v) : std::string();
}

// The AIMModel name for an image (behavior.md §4.9 "AIMModel from image"): derived name of
// [image name, image tag] hashed with the image URI. Fails with a message for an image that has
// no repository name or tag.
Result<std::string, std::string> model_name_for_image(std::string_view image);
// Why `image` (the value of `field`) is not an image reference the registry client can pull;
// nullopt when it is.
std::optional<std::string> image_reference_problem(std::string_view field,
                                                   const std::string& image);

// The AIMModel name for a custom model: [first modelId] (or "custom-model") hashed with the base
// image and each source's modelId, sourceUri and AWS_ENDPOINT_URL value.
std::string custom_model_name(const std::string& base_image,
                              const std::vector<api::ModelSource>& model_sources);

// Do two modelSources lists name the same sources (same order; modelId, sourceUri and the
// AWS_ENDPOINT_URL env value equal)?
bool same_model_sources(const std::vector<api::ModelSource>& a,
                        const std::vector<api::ModelSource>& b);

// A Kubernetes quantity as bytes ("16Gi", "1.5G", "1000", 1000); nullopt when unreadable.
inline std::optional<int64_t> quantity_bytes(const Json& q) {
  return engine::quantity_value(q);
}

// GPU models present on the nodes (engine::node_gpu of each node's labels).
std::set<std::string> cluster_gpu_models(const std::vector<kube::ObjectPtr>& nodes);

// A template as a selection candidate.
engine::TemplateCandidate template_candidate(const Template& tmpl, engine::TemplateScope scope);

// The pods the service controller watches and caches: those of InferenceServices (label
// serving.kserve.io/inferenceservice), not every pod of the cluster.
kube::ListOptions inference_pods_selector();

// The pods of an InferenceService as one health entry (behavior.md §2.8 "Pods", without log or
// event inspection), first match wins: image pull errors (the reference's reasons); then what
// engine/pod_issue.h reads from a pod (issue 27: no silent stuck service): CrashLoopBackOff,
// PodConfigError, Evicted (only when no other pod replaced it) and Unschedulable once a pod has
// been unschedulable for `options.unschedulable_grace`; then failed pods, Running+Ready,
// Running, Pending. Pods being deleted (a rollout's old ones) are left out. A stuck pod's issue
// carries no error category, so Ready names the pod's own reason and nothing is blocked (the
// kubelet or scheduler may still heal it).
struct PodsHealth {
  engine::ComponentHealth health;
  // A pod unschedulable for less than the grace period: look again after this long.
  std::optional<std::chrono::seconds> recheck_after;
};
using Pods = std::vector<Cached<api::Pod>>;
PodsHealth predictor_pods_health(const Pods& pods, int64_t now_unix,
                                 const engine::PodIssueOptions& options = {});
// predictor_pods_health without a clock (no Unschedulable report).
engine::ComponentHealth pods_health(const Pods& pods);

// The HTTPRoute inspector (behavior.md §2.8 "HTTPRoute").
engine::ComponentHealth http_route_health(const api::HTTPRoute& route);

// The InferenceService's Ready condition is True.
bool isvc_ready(const api::InferenceService& isvc);

}  // namespace aim::controllers::service
