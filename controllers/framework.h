// The reconcile framework every AIM controller shares (behavior.md §2, fixed per spec README §4):
// resource types, the pause annotation, finalizers and namespace termination, child objects
// (owner reference, controller labels, label propagation, create-or-converge without needless
// writes), the one place that writes status (only when it changed), and condition events.
//
// A controller's reconcile reads its primary object and everything else from informer caches,
// computes component health with engine/ (pure), and converges:
//
//   auto obj = ctx.cache(types::aim_models()).get(req.ns, req.name);   // nullptr: deleted
//   if (!obj || is_paused(*obj)) return kube::Action::done();
//   ... std::vector<engine::ComponentHealth> health = ...;
//   auto state = engine::derive_state(health, old_conditions(*obj));
//   if (state.should_apply) TRY(apply_child(ctx, types::..., desired, "aim-model-controller"));
//   Json status = ...; set_conditions(status, *obj, state.conditions, ctx.now());
//   write_status(ctx, types::aim_models(), *obj, status);   // no-op when unchanged
//   emit_condition_events(*recorder, *obj, old, new);       // on transitions only
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/resource.h"
#include "core/result.h"
#include "engine/health.h"
#include "engine/runtime_config.h"
#include "kube/client.h"
#include "kube/controller.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/manager.h"
#include "kube/object.h"

namespace aim::controllers {

using Json = nlohmann::json;

// ---- resource types ---------------------------------------------------------------------------

kube::ResourceType resource_type(const api::KindInfo& info);

namespace types {
kube::ResourceType aim_models();
kube::ResourceType aim_cluster_models();
kube::ResourceType aim_service_templates();
kube::ResourceType aim_cluster_service_templates();
kube::ResourceType aim_runtime_configs();
kube::ResourceType aim_cluster_runtime_configs();
kube::ResourceType aim_cluster_model_sources();
kube::ResourceType aim_services();
kube::ResourceType aim_template_caches();
kube::ResourceType aim_artifacts();
kube::ResourceType aim_cluster_artifact_downloaders();  // extension kind
kube::ResourceType dynamo_models();                     // nvidia.com/v1alpha1 (optional CRD)
kube::ResourceType inference_services();                // serving.kserve.io/v1beta1
kube::ResourceType http_routes();                       // gateway.networking.k8s.io/v1
kube::ResourceType horizontal_pod_autoscalers();        // autoscaling/v2
kube::ResourceType core_events();                       // v1 Event (involvedObject)
}  // namespace types

// ---- process context -------------------------------------------------------------------------

// The operator namespace (behavior.md §1.2): $AIM_SYSTEM_NAMESPACE, else the service account's
// namespace file, else "aim-system".
std::string detect_operator_namespace();

// What every reconciler needs. Built once by the process (or a test) and shared.
struct Context {
  std::shared_ptr<kube::Client> client;
  kube::InformerFactory* informers = nullptr;
  kube::Manager* manager = nullptr;  // event recorders; may be null in unit tests
  std::string operator_namespace = "aim-system";
  // Reconciles at once of the controllers whose work grows with the user's objects (AIMService,
  // AIMArtifact, AIMTemplateCache): --workers.
  int workers = 4;
  // Wall clock in Unix seconds (tests may fake it).
  std::function<int64_t()> clock;

  int64_t now() const;
  std::string now_rfc3339() const;
  // The shared informer cache of a type (cluster-wide). Created on first use; a controller that
  // reads a type must also watch it (or call this before the manager starts) so it syncs.
  // With selectors: the cache of only the matching objects (the informer a
  // `watches(type, selectors, map)` of the same selectors feeds).
  kube::Store& cache(const kube::ResourceType& type, const kube::ListOptions& selectors = {}) const;
  // The recorder of a reporting controller ("aim-model-controller"); null without a manager.
  kube::EventRecorder* events(const std::string& reporting_controller) const;
};

// ---- pods of the operator's Jobs ---------------------------------------------------------------

// The pods of the Jobs this operator creates (download, check-size, discovery) all carry
// `aim.eai.amd.com/component` with one of these values on their pod template; the controllers
// that follow them watch and cache only those pods (`job_pods_selector()`), never every pod of
// the cluster.
kube::ListOptions job_pods_selector();
// ctx.cache(pods, job_pods_selector()): the shared cache of those pods.
kube::Store& job_pods(const Context& ctx);
// A whole number of seconds from the environment variable `name`, else `fallback` (unset or
// empty); a value that is not a number of seconds (or 0 without `allow_zero`) is logged and
// ignored.
std::chrono::seconds env_seconds(const char* name, std::chrono::seconds fallback, bool allow_zero);
// The objects of a cache listing as values, for the engine's functions that take JSON objects
// (engine/pod_issue.h, the pod inspectors).
std::vector<Json> as_values(const std::vector<kube::ObjectPtr>& objects);

// ---- runtime configs ---------------------------------------------------------------------------

// Runtime config resolution from the informer caches (behavior.md §4.12): the AIMRuntimeConfig
// `requested` (or `default` when empty) in `ns` (skipped when `ns` is empty, i.e. for
// cluster-scoped objects) merged over the AIMClusterRuntimeConfig of that name, with presence
// semantics. One for every controller. Reads only caches: call it from a controller that watches
// both config kinds (or after ctx.cache() of both types was created before the manager started).
engine::ResolvedRuntimeConfig resolve_runtime_config(const Context& ctx, std::string_view ns,
                                                     std::string_view requested);

// ---- what the operator caches ------------------------------------------------------------------

// The label every child the operator creates carries (`aim.eai.amd.com/managed-by: aim-engine`),
// set by label_child and apply_child. Jobs, PersistentVolumeClaims, InferenceServices and
// HTTPRoutes are cached only when they carry it, so a cluster's other objects of those kinds
// cost the operator nothing.
kube::ListOptions managed_children_selector();
// Sets the cache rules of the informer factory (idempotent; before any informer of those kinds
// exists): the kinds above restricted to managed_children_selector(), Nodes reduced to their
// name, labels and allocatable resources (node_for_cache), Events to those about an
// InferenceService (KServe's warnings, the only Events a controller reads; the operator's own,
// about four per AIMService, stay out), reduced by event_for_cache.
void configure_caches(kube::InformerFactory& informers);
// What a cached Event and Node keep (kube/object.h): an Event its identity, involvedObject,
// reason, message and type; a Node its identity, labels and status.allocatable, everything the
// controllers read from a Node without its images, conditions and addresses.
inline void event_for_cache(Json& event) {
  kube::keep_event_summary(event);
}
inline void node_for_cache(Json& node) {
  kube::keep_node_capacity(node);
}

// ---- referenced Secrets ------------------------------------------------------------------------

// Secrets are watched as metadata only (PartialObjectMetadata): the operator learns which exist,
// and reconciles what references one the moment it appears, without a secret value ever reaching
// the process. Controllers that need a value read that one Secret when they need it.
kube::ListOptions secret_names_selector();
// ctx.cache(secrets, secret_names_selector()): the shared cache of Secret metadata.
kube::Store& secret_names(const Context& ctx);
// The names of a LocalObjectReference list such as imagePullSecrets ([{name}]), blanks skipped.
std::vector<std::string> pull_secret_names(const Json& refs);
// Checks the imagePullSecrets `names` of an object in `ns` before a pod uses them: each must exist
// (the metadata cache; its appearance reconciles whoever watches secret_names) and be of a type
// the kubelet reads (one GET of that Secret; engine::check_pull_secret). The first problem as
// the component `ImagePullSecret`: SecretNotFound (MissingUpstream), InvalidPullSecret
// (InvalidSpec) or SecretAccessFailed (Infrastructure). The message says which field to fix.
std::optional<engine::ComponentHealth> check_pull_secrets(
    const Context& ctx, const std::string& ns, const std::vector<std::string>& names,
    engine::Dependency dependency, std::string_view field = "spec.imagePullSecrets");

// ---- one Shared template cache per template -----------------------------------------------------

// Two controllers create Shared AIMTemplateCaches, under the reference's two names: the template
// controller (a namespaced template with spec.caching.enabled; named after the template) and the
// service controller (a service that needs a Shared cache; a name derived from the template and
// the namespace). There must be one per template and namespace, whichever runs first (issue 27).
// Both create through this gate: under one process-wide lock it looks for a Shared cache of the
// template in the namespace (spec.templateName, mode Shared or unset, not being deleted) in the
// informer cache, and for one this process created that the cache has not shown yet; only when
// there is none does it run `create`, which returns whether it created one. True when a cache
// exists or was created. (One operator process writes at a time: leader election.)
bool create_shared_template_cache_once(const Context& ctx, const std::string& ns,
                                       const std::string& template_name,
                                       const std::function<bool()>& create);
// Forgets the caches created but not yet seen in the informer cache (tests).
void forget_created_shared_template_caches();

// ---- primary object helpers --------------------------------------------------------------------

// metadata.annotations["aim.eai.amd.com/reconciliation-paused"] == "true" exactly.
bool is_paused(const Json& object);
using kube::is_being_deleted;

// What a reconcile of a paused object does (behavior.md §2.1 step 1, plus visibility): nothing,
// except that the first time it writes the condition Paused=True (reason ReconciliationPaused,
// naming the annotation to remove) into the otherwise untouched status and records one Normal
// event. Later reconciles see the condition and write nothing. Once the annotation goes, the next
// full reconcile drops the condition with the other conditions that no longer apply.
kube::ReconcileResult report_paused(const Context& ctx, const kube::ResourceType& type,
                                    const Json& object, const std::string& controller);
// The metadata accessors every kind shares (kube/object.h).
using kube::annotation_of;
using kube::has_finalizer;
using kube::labels_of;
using kube::name_of;
using kube::namespace_of;
using kube::uid_of;
inline std::string label(const Json& object, std::string_view key) {  // "" when absent
  return kube::label_of(object, key);
}

// Adds / removes a finalizer with an optimistic-concurrency update (resourceVersion). Conflict
// and NotFound come back as errors; callers requeue on Conflict.
Result<Json, kube::Error> add_finalizer(const Context& ctx, const kube::ResourceType& type,
                                        const Json& object, std::string_view finalizer);
Result<Json, kube::Error> remove_finalizer(const Context& ctx, const kube::ResourceType& type,
                                           const Json& object, std::string_view finalizer);

// True when the namespace is gone, being deleted, or cannot be read for lack of permission
// (behavior.md §2.9): cleanup is skipped so namespace deletion is never blocked.
Result<bool, kube::Error> namespace_terminating(const Context& ctx, std::string_view ns);

// ---- child objects -----------------------------------------------------------------------------

// The single controller owner reference (kube/object.h).
using kube::set_controller_owner;
// Does `child` carry a controller owner reference to `owner` (by uid)?
inline bool is_controlled_by(const Json& child, const Json& owner) {
  return kube::is_controlled_by(child, kube::uid_view(owner));
}

// Labels a child (behavior.md §2.5, §2.1 step 9), adding only keys the child lacks:
// the parent's `aim.eai.amd.com/*` labels; the parent's other labels matching the runtime
// config's labelPropagation (when enabled); `app.kubernetes.io/managed-by:
// aim-<controller>-controller` and `aim.eai.amd.com/<controller>.name: <parent name>`. For a Job
// the propagated labels and the `.name` label also go on spec.template.
void label_child(Json& child, const Json& parent, std::string_view controller,
                 const Json& runtime_config_spec = Json());

// Is every field of `desired` present with the same value in `live` (kube/object.h)?
using kube::json_subset;

// Sets the managed label on a child (overwriting whatever value the key had).
void mark_managed(Json& child);

// Creates a child (marked managed). Returns true when created, false when it existed already:
// then, when it is controlled by the same owner but lacks the managed label (made by an
// operator that did not label its children yet, so the cache cannot see it), it is labelled so
// that the watch brings it in; anything else of that name is left alone.
Result<bool, kube::Error> create_child(const Context& ctx, const kube::ResourceType& type,
                                       const Json& desired);

enum class ApplyOutcome { kCreated, kUpdated, kUnchanged };

// Converges a child (marked managed first) by server-side apply with `field_manager` and force:
// the operator owns the fields it sets, and a field it stops setting (a label removed from the
// parent, an annotation of a feature turned off) is removed by the API server. The child carries
// the annotation aim.eai.amd.com/applied-hash, a hash of what was applied; no request at all is
// made when `live` carries the hash of `desired` and still holds every field of it (nothing
// changed on either side). `live` nullptr: the child is absent from the cache (apply creates
// it). Returns the outcome and the object as the server has it (or `live` when unchanged).
Result<std::pair<ApplyOutcome, Json>, kube::Error> apply_child(const Context& ctx,
                                                               const kube::ResourceType& type,
                                                               const Json& desired,
                                                               const Json* live,
                                                               std::string_view field_manager);

// ---- status and conditions ---------------------------------------------------------------------

// The object's status.conditions as engine conditions.
std::vector<engine::Condition> conditions_of(const Json& object);
// The conditions of a status object (what a reconcile is about to write), without wrapping it.
std::vector<engine::Condition> status_conditions(const Json& status);
// Merges `desired` into the old conditions (engine::merge_conditions: timestamps kept when status
// and reason are unchanged, stale conditions dropped), stamps observedGeneration and writes
// them into status.conditions.
void set_conditions(Json& status, const Json& object, const std::vector<engine::Condition>& desired,
                    const std::string& now);

// The one place that writes status. `status` is the complete desired status. Writes (PUT on the
// status subresource, with the object's resourceVersion) only when it differs from the object's
// current status. Returns true when written. A Conflict is not an error: it returns false and
// the watch brings the newer object back.
Result<bool, kube::Error> write_status(const Context& ctx, const kube::ResourceType& type,
                                       const Json& object, const Json& status);

// One event per condition that is new or changed status or reason (behavior.md §2.6, but on
// transitions only: a steady failure does not re-emit every reconcile). Normal for True, Warning
// for False conditions whose reason is an error, Normal otherwise. `action` as events.k8s.io.
void emit_condition_events(kube::EventRecorder* recorder, const Json& object,
                           const std::vector<engine::Condition>& old_conditions,
                           const std::vector<engine::Condition>& new_conditions,
                           const std::vector<engine::ComponentHealth>& components = {});

// ---- errors ------------------------------------------------------------------------------------

// The condition a failed create or apply of a child sets (behavior.md §2.1 step 10):
// DependenciesReachable=False, "Failed to apply resources: <Kind> <name>: <error>". A 422 means the
// API server rejected an object the operator built, which is an operator bug rather than an
// infrastructure failure: reason InternalError, and the server's message, which names the field.
engine::Condition apply_failure_condition(std::string_view kind, std::string_view name,
                                          const kube::Error& error);

// A kube::Error as a component error (behavior.md §2.7): category, reason, message.
engine::ClassifiedError classify(const kube::Error& error);
// Component health from a failed read of a dependency: NotFound becomes MissingUpstream
// (`ReferenceNotFound`) for upstream or MissingDownstream for downstream; others classified.
engine::ComponentHealth health_from_error(std::string component, const kube::Error& error,
                                          engine::Dependency dependency);

}  // namespace aim::controllers
