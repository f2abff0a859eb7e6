#include "controllers/framework.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>
#include <mutex>

#include "api/conditions.h"
#include "api/constants.h"
#include "api/kinds.h"
#include "api/runtime_config.h"
#include "api/template_cache.h"
#include "controllers/typed.h"
#include "core/chrono.h"
#include "core/digest.h"
#include "core/json_fields.h"
#include "core/strings.h"
#include "engine/secret_check.h"
#include "kube/log.h"

namespace aim::controllers {

kube::ResourceType resource_type(const api::KindInfo& info) {
  return kube::ResourceType{std::string(info.group), std::string(info.version),
                            std::string(info.plural), std::string(info.kind), info.namespaced};
}

namespace types {
kube::ResourceType aim_models() {
  return resource_type(api::AIMModel::kind_info);
}
kube::ResourceType aim_cluster_models() {
  return resource_type(api::AIMClusterModel::kind_info);
}
kube::ResourceType aim_service_templates() {
  return resource_type(api::AIMServiceTemplate::kind_info);
}
kube::ResourceType aim_cluster_service_templates() {
  return resource_type(api::AIMClusterServiceTemplate::kind_info);
}
kube::ResourceType aim_runtime_configs() {
  return resource_type(api::AIMRuntimeConfig::kind_info);
}
kube::ResourceType aim_cluster_runtime_configs() {
  return resource_type(api::AIMClusterRuntimeConfig::kind_info);
}
kube::ResourceType aim_cluster_model_sources() {
  return resource_type(api::AIMClusterModelSource::kind_info);
}
kube::ResourceType aim_services() {
  return resource_type(api::AIMService::kind_info);
}
kube::ResourceType aim_template_caches() {
  return resource_type(api::AIMTemplateCache::kind_info);
}
kube::ResourceType aim_artifacts() {
  return resource_type(api::AIMArtifact::kind_info);
}
kube::ResourceType aim_cluster_artifact_downloaders() {
  return resource_type(api::AIMClusterArtifactDownloader::kind_info);
}
kube::ResourceType dynamo_models() {
  return resource_type(api::DynamoModel::kind_info);
}
kube::ResourceType inference_services() {
  return {"serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", true};
}
kube::ResourceType http_routes() {
  return {"gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", true};
}
kube::ResourceType horizontal_pod_autoscalers() {
  return {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true};
}
kube::ResourceType core_events() {
  return {"", "v1", "events", "Event", true};
}
}  // namespace types

// ---- context -----------------------------------------------------------------------------------

std::string detect_operator_namespace() {
  if (const char* env = std::getenv(std::string(api::kOperatorNamespaceEnv).c_str());
      env != nullptr && *env != '\0') {
    return env;
  }
  std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  std::string ns;
  if (in && std::getline(in, ns)) {
    auto b = ns.find_first_not_of(" \t\r\n");
    auto e = ns.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) return ns.substr(b, e - b + 1);
  }
  return std::string(api::kDefaultOperatorNamespace);
}

int64_t Context::now() const {
  if (clock) return clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Context::now_rfc3339() const {
  return format_rfc3339(now());
}

kube::Store& Context::cache(const kube::ResourceType& type,
                            const kube::ListOptions& selectors) const {
  return informers->informer(type, {}, selectors)->store();
}

kube::EventRecorder* Context::events(const std::string& reporting_controller) const {
  return manager != nullptr ? &manager->event_recorder(reporting_controller) : nullptr;
}

// ---- pods of the operator's Jobs ---------------------------------------------------------------

kube::ListOptions job_pods_selector() {
  kube::ListOptions o;
  o.label_selector =
      std::string(api::kLabelComponent) + " in (" + std::string(api::kComponentCheckSize) + "," +
      std::string(api::kComponentDownload) + "," + std::string(api::kComponentValueDiscovery) + ")";
  return o;
}

kube::Store& job_pods(const Context& ctx) {
  return ctx.cache(kube::types::pods(), job_pods_selector());
}

std::chrono::seconds env_seconds(const char* name, std::chrono::seconds fallback, bool allow_zero) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || n < 0 || (n == 0 && !allow_zero)) {
    kube::log::Logger("setup").warn("ignoring an invalid number of seconds",
                                    {{"variable", name}, {"value", v}});
    return fallback;
  }
  return std::chrono::seconds(n);
}

std::vector<Json> as_values(const std::vector<kube::ObjectPtr>& objects) {
  std::vector<Json> out;
  out.reserve(objects.size());
  for (const auto& o : objects) out.push_back(*o);
  return out;
}

// ---- runtime configs ---------------------------------------------------------------------------

engine::ResolvedRuntimeConfig resolve_runtime_config(const Context& ctx, std::string_view ns,
                                                     std::string_view requested) {
  const std::string name = engine::effective_runtime_config_name(requested);
  // An object that exists is present even when it does not read as its kind (its own
  // controller reports why); its spec is then empty.
  auto spec_of = [](const kube::ObjectPtr& c) -> std::optional<Json> {
    if (!c) return std::nullopt;
    auto rc = typed<api::AIMRuntimeConfig>(c);
    return rc ? api::encode(rc->typed.spec) : Json::object();
  };
  std::optional<Json> ns_spec;
  if (!ns.empty())
    ns_spec = spec_of(ctx.cache(types::aim_runtime_configs()).get(std::string(ns), name));
  return engine::resolve_runtime_config(
      requested, ns_spec, spec_of(ctx.cache(types::aim_cluster_runtime_configs()).get("", name)));
}

// ---- what the operator caches ------------------------------------------------------------------

kube::ListOptions managed_children_selector() {
  kube::ListOptions o;
  o.label_selector =
      std::string(api::kLabelManagedByAim) + "=" + std::string(api::kManagedByEngine);
  return o;
}

void configure_caches(kube::InformerFactory& informers) {
  static const std::vector<kube::ResourceType> children = {
      kube::types::jobs(), kube::types::persistent_volume_claims(), types::inference_services(),
      types::http_routes()};
  if (informers.has_rule(kube::types::nodes())) return;  // configured by an earlier register_*
  const std::string selector = managed_children_selector().label_selector;
  // Kinds with an object per service are stored packed: read by key, they are most of the cache.
  for (const auto& type : children)
    informers.set_rule(type, {selector, {}, {}, type == types::inference_services()});
  informers.set_rule(types::aim_services(), {{}, {}, {}, true});
  informers.set_rule(kube::types::nodes(), {{}, {}, node_for_cache});
  informers.set_rule(types::core_events(),
                     {{}, "involvedObject.kind=InferenceService", event_for_cache, true});
}

void mark_managed(Json& child) {
  kube::set_label(child, std::string(api::kLabelManagedByAim), std::string(api::kManagedByEngine));
}

Result<bool, kube::Error> create_child(const Context& ctx, const kube::ResourceType& type,
                                       const Json& desired) {
  Json body = desired;
  mark_managed(body);
  auto created = ctx.client->create(type, body);
  if (created) return true;
  if (!created.error().is(kube::ErrorCode::kAlreadyExists)) return fail(created.error());
  const std::string ns = namespace_of(body), name = name_of(body);
  auto live = ctx.client->get(type, ns, name);
  if (!live) return fail(live.error());
  const std::string label(api::kLabelManagedByAim);
  if (kube::label_of(*live, label) == api::kManagedByEngine) return false;
  // Only a child of the controller owner the desired child names is taken over.
  if (!kube::is_controlled_by(*live, kube::controller_uid(body))) return false;
  auto patched = ctx.client->merge_patch(
      type, ns, name, kube::label_patch(label, std::string(api::kManagedByEngine)));
  if (!patched) return fail(patched.error());
  return false;
}

kube::ListOptions secret_names_selector() {
  kube::ListOptions o;
  o.metadata_only = true;
  return o;
}

kube::Store& secret_names(const Context& ctx) {
  return ctx.cache(kube::types::secrets(), secret_names_selector());
}

std::optional<engine::ComponentHealth> check_pull_secrets(const Context& ctx, const std::string& ns,
                                                          const std::vector<std::string>& names,
                                                          engine::Dependency dependency,
                                                          std::string_view field) {
  auto problem = [&](engine::ComponentState state, std::string reason, std::string message,
                     engine::ErrorCategory category) {
    return engine::component_health("ImagePullSecret", state, std::move(reason), std::move(message),
                                    dependency, category);
  };
  for (const auto& name : names) {
    const std::string quoted = "imagePullSecret \"" + name + "\"";
    auto not_found = [&] {
      return problem(engine::ComponentState::Failed, "SecretNotFound",
                     quoted + " not found in namespace \"" + ns +
                         "\": create it, or remove it from " + std::string(field),
                     engine::ErrorCategory::kMissingUpstream);
    };
    // The metadata cache first: a missing Secret costs no request.
    if (!secret_names(ctx).get(ns, name)) return not_found();
    auto got = ctx.client->get(kube::types::secrets(), ns, name);
    if (!got) {
      if (got.error().is(kube::ErrorCode::kNotFound)) return not_found();
      return problem(engine::ComponentState::Degraded, "SecretAccessFailed",
                     quoted + " could not be read: " + got.error().message,
                     engine::ErrorCategory::kInfrastructure);
    }
    if (auto p = engine::check_pull_secret(*got)) {
      return problem(engine::ComponentState::Failed, p->reason, p->message,
                     engine::ErrorCategory::kInvalidSpec);
    }
  }
  return std::nullopt;
}

// ---- primary object helpers --------------------------------------------------------------------

bool is_paused(const Json& object) {
  return annotation_of(object, api::kAnnotationReconciliationPaused) == "true";
}

namespace {
Result<Json, kube::Error> update_finalizers(const Context& ctx, const kube::ResourceType& type,
                                            const Json& object, std::string_view finalizer,
                                            bool add) {
  Json updated = object;
  if (!kube::set_finalizer(updated, finalizer, add)) return updated;
  kube::drop_status(updated);
  return ctx.client->update(type, updated);
}
}  // namespace

Result<Json, kube::Error> add_finalizer(const Context& ctx, const kube::ResourceType& type,
                                        const Json& object, std::string_view finalizer) {
  return update_finalizers(ctx, type, object, finalizer, true);
}

Result<Json, kube::Error> remove_finalizer(const Context& ctx, const kube::ResourceType& type,
                                           const Json& object, std::string_view finalizer) {
  return update_finalizers(ctx, type, object, finalizer, false);
}

Result<bool, kube::Error> namespace_terminating(const Context& ctx, std::string_view ns) {
  auto got = ctx.client->get(kube::types::namespaces(), "", ns);
  if (!got) {
    if (got.error().is(kube::ErrorCode::kNotFound) || got.error().is(kube::ErrorCode::kForbidden))
      return true;
    return fail(got.error());
  }
  if (is_being_deleted(*got)) return true;
  return kube::phase_of(*got) == "Terminating";
}

kube::ReconcileResult report_paused(const Context& ctx, const kube::ResourceType& type,
                                    const Json& object, const std::string& controller) {
  const Json& status = kube::status_of(object);
  Json conditions = Json::array();
  for (const auto& c : kube::conditions_in(status)) {
    if (!c.is_object()) continue;
    auto parsed = engine::condition_from_json(c);
    if (parsed && parsed->type == "Paused" && parsed->status == "True") return kube::Action::done();
    if (!parsed || parsed->type != "Paused") conditions.push_back(c);
  }
  Json next = status;
  engine::Condition paused;
  paused.type = "Paused";
  paused.status = "True";
  paused.reason = "ReconciliationPaused";
  paused.message = "Reconciliation is paused by the annotation " +
                   std::string(api::kAnnotationReconciliationPaused) + "=true; remove it to resume";
  paused.last_transition_time = ctx.now_rfc3339();
  conditions.push_back(engine::to_json(paused));
  kube::set_conditions_in(next, std::move(conditions));
  auto written = write_status(ctx, type, object, next);
  if (!written) return aim::fail(kube::ReconcileError(written.error()));
  if (written.value()) {
    if (auto* recorder = ctx.events(controller))
      recorder->normal(object, paused.reason, "Reconcile", paused.message);
  }
  return kube::Action::done();
}

// ---- child objects -----------------------------------------------------------------------------

namespace {
// The label patterns of a runtime config's labelPropagation, when it is enabled.
std::vector<std::string> propagated_patterns(const Json& runtime_config_spec) {
  if (!runtime_config_spec.is_object()) return {};
  auto spec = api::decode<api::AIMRuntimeConfigSpec>(runtime_config_spec);
  if (!spec || !spec.value->label_propagation) return {};
  const api::LabelPropagation& lp = *spec.value->label_propagation;
  if (!lp.enabled.value_or(false)) return {};
  return lp.match.value_or(std::vector<std::string>{});
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& key) {
  // fnmatch without FNM_PATHNAME treats '/' as an ordinary character, like the reference's
  // filepath.Match on label keys in practice; an invalid pattern simply does not match.
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    return fnmatch(pattern.c_str(), key.c_str(), 0) == 0;
  });
}

void add_absent(Json& labels, const std::string& key, const Json& value) {
  if (!labels.contains(key)) labels[key] = value;
}
}  // namespace

void label_child(Json& child, const Json& parent, std::string_view controller,
                 const Json& runtime_config_spec) {
  Json& labels = kube::mutable_labels(child);
  Json* pod_labels = kube::pod_template_labels(child);
  const std::string aim_prefix = std::string(api::kAimLabelDomain) + "/";
  const std::vector<std::string> patterns = propagated_patterns(runtime_config_spec);
  for (const auto& [key, value] : labels_of(parent).items()) {
    if (key.rfind(aim_prefix, 0) == 0 || matches_any(patterns, key)) {
      add_absent(labels, key, value);
      if (pod_labels != nullptr) add_absent(*pod_labels, key, value);
    }
  }
  const std::string name_label = aim_prefix + std::string(controller) + ".name";
  add_absent(labels, std::string(api::kLabelK8sManagedBy),
             "aim-" + std::string(controller) + "-controller");
  add_absent(labels, name_label, name_of(parent));
  if (pod_labels != nullptr) add_absent(*pod_labels, name_label, name_of(parent));
  mark_managed(child);
}

Result<std::pair<ApplyOutcome, Json>, kube::Error> apply_child(const Context& ctx,
                                                               const kube::ResourceType& type,
                                                               const Json& desired,
                                                               const Json* live,
                                                               std::string_view field_manager) {
  Json body = desired;
  mark_managed(body);
  kube::clear_resource_version(body);
  const std::string hash_key(api::kAnnotationAppliedHash);
  Json compared = kube::applied_fields(body);
  const std::string hash = sha256_hex(compared.dump()).substr(0, 16);
  kube::set_annotation(body, hash_key, hash);
  kube::set_annotation(compared, hash_key, hash);
  const bool absent = live == nullptr || live->is_null();
  if (!absent && annotation_of(*live, hash_key) == hash && json_subset(compared, *live))
    return std::pair{ApplyOutcome::kUnchanged, *live};
  // Created by apply as well, so every field is owned by the apply of `field_manager` and one
  // it stops setting later is removed (a field set by a create belongs to that create).
  kube::ApplyOptions options;
  options.field_manager = std::string(field_manager);
  options.force = true;
  auto applied = ctx.client->apply(type, body, options);
  if (!applied) return fail(applied.error());
  return std::pair{absent ? ApplyOutcome::kCreated : ApplyOutcome::kUpdated,
                   std::move(applied).value()};
}

// ---- status and conditions ---------------------------------------------------------------------

std::vector<engine::Condition> conditions_of(const Json& object) {
  return status_conditions(kube::status_of(object));
}

std::vector<engine::Condition> status_conditions(const Json& status) {
  std::vector<engine::Condition> out;
  for (const auto& c : kube::conditions_in(status))
    if (auto parsed = engine::condition_from_json(c)) out.push_back(std::move(*parsed));
  return out;
}

void set_conditions(Json& status, const Json& object, const std::vector<engine::Condition>& desired,
                    const std::string& now) {
  const std::optional<int64_t> generation = kube::generation_of(object);
  std::vector<engine::Condition> stamped = desired;
  for (auto& c : stamped) c.observed_generation = generation;
  auto merged = engine::merge_conditions(conditions_of(object), stamped, now);
  Json list = Json::array();
  for (const auto& c : merged) list.push_back(engine::to_json(c));
  kube::set_conditions_in(status, std::move(list));
}

Result<bool, kube::Error> write_status(const Context& ctx, const kube::ResourceType& type,
                                       const Json& object, const Json& status) {
  if (kube::status_of(object) == status) return false;
  auto written = ctx.client->update_status(type, kube::status_update_body(type, object, status));
  if (!written) {
    if (written.error().is(kube::ErrorCode::kConflict) ||
        written.error().is(kube::ErrorCode::kNotFound)) {
      return false;
    }
    return fail(written.error());
  }
  return true;
}

void emit_condition_events(kube::EventRecorder* recorder, const Json& object,
                           const std::vector<engine::Condition>& old_conditions,
                           const std::vector<engine::Condition>& new_conditions,
                           const std::vector<engine::ComponentHealth>& components) {
  if (recorder == nullptr) return;
  for (const auto& c : new_conditions) {
    auto old = std::find_if(old_conditions.begin(), old_conditions.end(),
                            [&](const engine::Condition& o) { return o.type == c.type; });
    if (old != old_conditions.end() && old->status == c.status && old->reason == c.reason) {
      continue;
    }
    bool warning = false;
    if (c.status == "False") {
      // A component in an error state, or a framework condition that reports a failure.
      warning =
          c.type == "DependenciesReachable" || c.type == "AuthValid" || c.type == "ConfigValid";
      for (const auto& h : components) {
        if (h.component + "Ready" == c.type && engine::is_error_state(h.state)) warning = true;
      }
      if (c.type == "Ready") {
        warning = std::any_of(components.begin(), components.end(), [](const auto& h) {
          return h.affects_readiness && engine::is_error_state(h.state);
        });
      }
    }
    std::string note = c.message;
    if (note.empty()) {
      std::string component = c.type;
      if (component.size() > 5 && component.ends_with("Ready")) {
        component.resize(component.size() - 5);
      }
      note = component + (c.status == "True" ? " is ready: " : " is not ready: ") + c.reason;
    }
    const std::string reason = c.reason.empty() ? c.type : c.reason;
    if (warning) {
      recorder->warning(object, reason, "Reconcile", note);
    } else {
      recorder->normal(object, reason, "Reconcile", note);
    }
  }
}

// ---- errors ------------------------------------------------------------------------------------

engine::ClassifiedError classify(const kube::Error& error) {
  using engine::ErrorCategory;
  engine::ClassifiedError out;
  out.message = error.describe();
  switch (error.code) {
    case kube::ErrorCode::kNotFound:
      out.category = ErrorCategory::kMissingDownstream;
      out.reason = "NotFound";
      break;
    case kube::ErrorCode::kUnauthorized:
      out.category = ErrorCategory::kAuth;
      out.reason = "Unauthorized";
      break;
    case kube::ErrorCode::kForbidden:
      out.category = ErrorCategory::kAuth;
      out.reason = "Forbidden";
      break;
    case kube::ErrorCode::kInvalid:
      out.category = ErrorCategory::kInvalidSpec;
      out.reason = "InvalidSpec";
      break;
    case kube::ErrorCode::kAlreadyExists:
      out.category = ErrorCategory::kInvalidSpec;
      out.reason = "AlreadyExists";
      break;
    case kube::ErrorCode::kConflict:
      out.category = ErrorCategory::kInfrastructure;
      out.reason = "Conflict";
      break;
    case kube::ErrorCode::kTimeout:
      out.category = ErrorCategory::kInfrastructure;
      out.reason = "Timeout";
      break;
    case kube::ErrorCode::kTooManyRequests:
      out.category = ErrorCategory::kInfrastructure;
      out.reason = "RateLimited";
      break;
    case kube::ErrorCode::kServerError:
      out.category = ErrorCategory::kInfrastructure;
      out.reason = error.http_status == 503 || error.http_status == 500 ? "ServiceUnavailable"
                                                                        : "ServerError";
      break;
    case kube::ErrorCode::kBadRequest:
    case kube::ErrorCode::kMethodNotAllowed:
      out.category = ErrorCategory::kInvalidSpec;
      out.reason = "ClientError";
      break;
    case kube::ErrorCode::kNetwork:
    case kube::ErrorCode::kTls:
      out.category = ErrorCategory::kInfrastructure;
      out.reason = "NetworkError";
      break;
    default:
      out.category = ErrorCategory::kUnknown;
      out.reason = "UnknownError";
      break;
  }
  return out;
}

engine::Condition apply_failure_condition(std::string_view kind, std::string_view name,
                                          const kube::Error& error) {
  engine::Condition c;
  c.type = "DependenciesReachable";
  c.status = "False";
  const bool rejected = error.is(kube::ErrorCode::kInvalid);
  c.reason = rejected ? "InternalError" : "InfrastructureError";
  c.message = "Failed to apply resources: " + std::string(kind) + " " + std::string(name) + ": " +
              error.describe() +
              (rejected ? " (the operator built an object the API server rejects; please report "
                          "this as an aim-engine bug)"
                        : "");
  return c;
}

engine::ComponentHealth health_from_error(std::string component, const kube::Error& error,
                                          engine::Dependency dependency) {
  engine::ComponentHealth h;
  h.component = std::move(component);
  h.dependency = dependency;
  if (error.is(kube::ErrorCode::kNotFound)) {
    if (dependency == engine::Dependency::Upstream) {
      h.state = engine::ComponentState::Failed;
      h.error = engine::ErrorCategory::kMissingUpstream;
      h.reason = std::string(api::kReasonReferenceNotFound);
      h.message = "Upstream dependency not found";
    } else {
      h.state = engine::ComponentState::Progressing;
      h.error = engine::ErrorCategory::kMissingDownstream;
      h.reason = "ResourceNotReady";
      h.message = "Downstream resource not found or being created";
    }
    return h;
  }
  auto c = classify(error);
  h.error = c.category;
  h.reason = c.reason;
  h.message = c.message;
  switch (c.category) {
    case engine::ErrorCategory::kAuth:
    case engine::ErrorCategory::kInvalidSpec:
      h.state = engine::ComponentState::Failed;
      break;
    case engine::ErrorCategory::kInfrastructure:
    case engine::ErrorCategory::kMissingUpstream:
      h.state = engine::ComponentState::Degraded;
      break;
    default:
      h.state = engine::ComponentState::Progressing;
      break;
  }
  return h;
}

// ---- one Shared template cache per template -----------------------------------------------------

namespace {

struct CreatedSharedCaches {
  std::mutex mu;
  // "<ns>/<template>" -> creation time (Unix seconds); dropped once the informer cache shows a
  // Shared cache of that template, or after kUnseenSeconds (a cache deleted before the informer
  // saw it must not block a new one for long).
  std::map<std::string, int64_t> recent;
  static constexpr int64_t kUnseenSeconds = 30;
};

CreatedSharedCaches& created_shared_caches() {
  static CreatedSharedCaches c;
  return c;
}

bool shared_cache_in_informer(const Context& ctx, const std::string& ns,
                              const std::string& template_name) {
  for (const auto& c :
       typed_list<api::AIMTemplateCache>(ctx.cache(types::aim_template_caches()).list(ns))) {
    const std::string mode = c->spec.mode.value_or(std::string());
    if (c->spec.template_name == template_name && (mode.empty() || mode == "Shared") &&
        !c->metadata.deletion_timestamp)
      return true;
  }
  return false;
}

}  // namespace

bool create_shared_template_cache_once(const Context& ctx, const std::string& ns,
                                       const std::string& template_name,
                                       const std::function<bool()>& create) {
  auto& created = created_shared_caches();
  std::lock_guard lock(created.mu);
  const std::string key = kube::object_key(ns, template_name);
  if (shared_cache_in_informer(ctx, ns, template_name)) {
    created.recent.erase(key);
    return true;
  }
  const int64_t now = ctx.now();
  if (auto it = created.recent.find(key); it != created.recent.end()) {
    if (now >= it->second && now - it->second <= CreatedSharedCaches::kUnseenSeconds) return true;
    created.recent.erase(it);
  }
  if (!create()) return false;
  created.recent[key] = now;
  return true;
}

void forget_created_shared_template_caches() {
  auto& created = created_shared_caches();
  std::lock_guard lock(created.mu);
  created.recent.clear();
}

}  // namespace aim::controllers
