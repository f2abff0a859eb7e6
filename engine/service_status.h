// AIMService status derivation and caching decisions (behavior.md §2.3, §3.5; api.md §4.3;
// seed 001 "Caching" and "Status"; spec README §3 and §4).
//
// From what the controller observed (model, template, runtime config, InferenceService, its
// pods, the cache, routing, the HPA) this computes one health entry per component, the
// conditions (ModelReady, TemplateReady, ..., Ready and the framework conditions), and
// status.status (Pending / Starting / Running / Degraded / Failed / NotAvailable).
// merge_conditions() keeps lastTransitionTime when status and reason are unchanged and drops
// conditions that no longer apply, so a reconcile that observed nothing new writes nothing.
//
// Caching (decide_caching): Always / Shared wait for a Ready shared AIMTemplateCache; Dedicated
// waits for a service-owned one; Auto deploys at once from a service-owned PVC and switches the
// InferenceService to the cache once it is Ready; Never uses only the service-owned PVC.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/error_class.h"
#include "engine/health.h"
#include "engine/inference_service.h"
#include "engine/routing.h"
#include "engine/selection.h"

namespace aim::engine {

// ---------------------------------------------------------------------------------------------
// Observations

struct ObservedError {
  ErrorCategory category = ErrorCategory::kUnknown;
  std::string reason;
  std::string message;
};

struct ModelObservation {
  enum class Kind { NotFound, WillCreate, Error, Found };
  Kind kind = Kind::NotFound;
  std::string kind_name;  // "AIMModel" / "AIMClusterModel"
  std::string name;
  std::string status;          // the model's status.status
  std::string create_message;  // WillCreate: "Model will be created for image <uri>"
  ObservedError error;         // Error
};

struct TemplateObservation {
  enum class Kind { None, Error, Found, Selection, WaitingForDerived };
  Kind kind = Kind::None;
  std::string kind_name;  // "AIMServiceTemplate" / "AIMClusterServiceTemplate"
  std::string name;
  std::string status;  // Found / WaitingForDerived: the template's status
  // Found / WaitingForDerived: why the template is not Ready, from its own conditions (the
  // GPUReady message when that is what fails, else Ready's); appended to the Template message.
  std::string detail;
  ObservedError error;                         // Error
  std::optional<TemplateSelection> selection;  // Selection: a selection that chose nothing
};

struct RuntimeConfigObservation {
  bool found = false;                  // a config exists (Ready, RuntimeConfigResolved)
  std::optional<ObservedError> error;  // the read or the lookup failed (e.g. ConfigNotFound)
};

struct IsvcObservation {
  enum class Kind { NotFound, Error, Present };
  Kind kind = Kind::NotFound;
  ObservedError error;               // Error
  bool ready = false;                // condition Ready=True
  bool serverless_rejected = false;  // an event with reason ServerlessModeRejected
  std::string internal_error_event;  // message of the latest Warning InternalError event, if any
};

struct RoutingObservation {
  bool enabled = false;
  std::optional<RouteError> render_error;  // GatewayNotConfigured / PathTemplateInvalid / ...
  enum class Route { NotFound, Error, Present };
  Route route = Route::NotFound;
  ObservedError error;                    // Route::Error
  std::optional<ComponentHealth> health;  // Route::Present: the HTTPRoute inspector's verdict
};

struct HpaObservation {
  bool configured = false;  // spec.autoScaling, minReplicas or maxReplicas set
  enum class Kind { NotFound, Error, Present };
  Kind kind = Kind::NotFound;
  ObservedError error;
  std::optional<bool> scaling_active;  // condition ScalingActive (nullopt when absent)
  std::string scaling_active_message;
  std::optional<bool> able_to_scale;
};

// ---------------------------------------------------------------------------------------------
// Caching

enum class CachingMode { Always, Auto, Never, Shared, Dedicated };
const char* to_string(CachingMode m);
// spec.caching.mode as written. An empty mode is Auto: seed 001 calls Auto the default (a CRD
// default of Shared, if the API keeps one, arrives here as Shared and behaves as Always).
CachingMode parse_caching_mode(const std::string& mode);

struct CachingInput {
  CachingMode mode = CachingMode::Auto;
  bool template_ready = false;        // the resolved template is Ready
  bool template_has_sources = false;  // its status.modelSources is non-empty
  bool model_ready = false;
  enum class Cache { Absent, Ready, Progressing, Failed, Other };
  Cache cache = Cache::Absent;  // the usable template cache found for this service
  std::string cache_status;     // its status.status (for messages)
  bool isvc_exists = false;
  // The live ISVC has a PVC volume other than dshm and the service PVC.
  bool isvc_mounts_template_cache = false;
  // Every model source has a size (service_pvc_bytes() gave a value). Without it no service PVC
  // can be sized: Auto / Never then deploy with no model volume (the container downloads into
  // its own ephemeral storage) and say so in the Cache message.
  bool model_size_known = true;
};

struct CachingDecision {
  bool create_template_cache = false;
  std::string template_cache_mode;  // "Shared" / "Dedicated" when create_template_cache
  bool create_service_pvc = false;  // a service-owned PVC (Auto while waiting, Never)
  bool apply_isvc = false;          // create or re-apply the InferenceService now
  ModelStorage::Kind storage = ModelStorage::Kind::None;  // what the ISVC mounts
  std::string waiting;           // why the ISVC is not created yet (empty when it is)
  ComponentHealth cache_health;  // the `Cache` component
};

CachingDecision decide_caching(const CachingInput& in);

// PVC size for the service-owned PVC: total × (1 + headroom/100), rounded up to whole GiB;
// nullopt when some model size is unknown.
std::optional<int64_t> service_pvc_bytes(const std::vector<std::optional<int64_t>>& sizes,
                                         int32_t headroom_percent);

// ---------------------------------------------------------------------------------------------
// status.runtime (behavior.md §3.5 "Runtime status")

struct HpaReplicas {
  std::optional<int32_t> min_replicas;  // hpa.spec.minReplicas (nil counts as 0)
  int32_t max_replicas = 0;             // hpa.spec.maxReplicas
  int32_t current_replicas = 0;         // hpa.status.currentReplicas
  int32_t desired_replicas = 0;         // hpa.status.desiredReplicas
};

// {currentReplicas, desiredReplicas, minReplicas, maxReplicas, replicas}: from the HPA when it
// exists, else all four = spec.minReplicas, else spec.replicas, else 1. `replicas` is "<current>"
// when min == max, else "<current>/<desired> (<min>-<max>)".
nlohmann::json runtime_status(const std::optional<HpaReplicas>& hpa,
                              std::optional<int32_t> spec_min_replicas,
                              std::optional<int32_t> spec_replicas);

// ---------------------------------------------------------------------------------------------
// Derivation

struct ServiceObservation {
  ModelObservation model;
  TemplateObservation template_;
  std::optional<RuntimeConfigObservation> runtime_config;  // omitted when no config and no error
  // A problem with spec.imagePullSecrets (component ImagePullSecret), found before the
  // InferenceService exists; omitted when there is none.
  std::optional<ComponentHealth> pull_secrets;
  IsvcObservation isvc;
  std::optional<ComponentHealth> pods;  // the pod inspector, when the ISVC exists
  ComponentHealth cache;                // CachingDecision::cache_health
  RoutingObservation routing;
  HpaObservation hpa;
};

// The component entries, in condition order: Model, Template, RuntimeConfig, ImagePullSecret,
// InferenceService, InferenceServicePods, Cache, HTTPRoute, HPA (absent ones left out).
std::vector<ComponentHealth> service_components(const ServiceObservation& o);

// The state engine's result plus the AIMService status string (the root state, with Progressing
// and Starting stored as Starting and Ready as Running).
struct DerivedStatus : DerivedState {
  std::string status;  // Pending / Starting / Running / Degraded / Failed / NotAvailable
};

// derive_state() for an AIMService.
DerivedStatus derive_service_status(const std::vector<ComponentHealth>& components,
                                    const std::vector<Condition>& old_conditions);

}  // namespace aim::engine
