// AIMServiceTemplate / AIMClusterServiceTemplate (behavior.md §3.2, §4.2-§4.4, fixed per spec
// README §4: Discovered ends True/DiscoveryComplete, an empty discovery is a failure, the backoff
// arms a timer, node-affinity values are sorted).
#include "controllers/catalog/template_controller.h"

#include <algorithm>
#include <set>

#include "api/constants.h"
#include "api/k8s_views.h"
#include "api/template_cache.h"
#include "controllers/typed.h"
#include "engine/backoff.h"
#include "engine/discovery_output.h"
#include "engine/gpu.h"
#include "engine/pod_issue.h"

namespace aim::controllers::catalog {

using engine::ComponentHealth;
using engine::ComponentState;
using engine::ErrorCategory;

TemplateScope TemplateScope::namespaced() {
  return {false, types::aim_service_templates(), types::aim_models(), "service-template", "Model"};
}
TemplateScope TemplateScope::cluster_scoped() {
  return {true, types::aim_cluster_service_templates(), types::aim_cluster_models(),
          "cluster-service-template", "ClusterModel"};
}

// ---- discovery slots ---------------------------------------------------------------------------

DiscoverySlots& DiscoverySlots::instance() {
  static DiscoverySlots slots;
  return slots;
}

namespace {
bool is_discovery_job(const api::Job& job) {
  return api::label(job.metadata, api::kLabelK8sName) == api::kDiscoveryAppName &&
         api::label(job.metadata, api::kLabelK8sComponent) == api::kComponentDiscovery &&
         api::label(job.metadata, api::kLabelK8sManagedBy) == api::kManagedByController;
}
}  // namespace

int DiscoverySlots::count_locked(const Context& ctx, int64_t now) {
  // One snapshot of the cache for both counts: a Job the informer adds between a list and a
  // later lookup would otherwise be counted by neither.
  std::set<std::string> cached;
  int active = 0;
  for (const auto& j : ctx.cache(kube::types::jobs()).list()) {
    cached.insert(kube::object_key(namespace_of(*j), name_of(*j)));
    auto job = typed<api::Job>(j);
    if (job && is_discovery_job(job->typed) && !job_finished(job->typed)) ++active;
  }
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (cached.contains(it->first) || now - it->second > kUnseenSeconds || now < it->second) {
      it = recent_.erase(it);  // the snapshot shows it (counted above), or it never will
    } else {
      ++active;
      ++it;
    }
  }
  return active;
}

void DiscoverySlots::clear() {
  std::lock_guard lock(mu_);
  recent_.clear();
}

int DiscoverySlots::active(const Context& ctx) {
  std::lock_guard lock(mu_);
  return count_locked(ctx, ctx.now());
}

bool DiscoverySlots::run_if_free(const Context& ctx, const std::string& job_key,
                                 const std::function<bool()>& create) {
  std::lock_guard lock(mu_);
  int64_t now = ctx.now();
  if (count_locked(ctx, now) >= kLimit) return false;
  if (create()) recent_[job_key] = now;
  return true;
}

// ---- discovery job -----------------------------------------------------------------------------

namespace {
// The label that names a discovery Job's template ("aim.eai.amd.com/service-template.name").
std::string owner_label(const TemplateScope& scope) {
  return std::string(api::kAimLabelDomain) + "/" + scope.controller + ".name";
}
}  // namespace

engine::DiscoveryJobNaming discovery_naming(const TemplateScope& scope,
                                            const api::AIMServiceTemplate& tmpl,
                                            const api::AIMModelSpec* model) {
  const auto& spec = tmpl.spec;
  engine::DiscoveryJobNaming n;
  n.template_name = name_of(tmpl.metadata);
  n.model_name = spec.model_name;
  if (model) {
    n.image = model->image;
    n.service_account = model->service_account_name.value_or(std::string());
    n.pull_secrets = pull_secret_names(model->image_pull_secrets);
  }
  if (!scope.cluster && spec.env) {
    for (const auto& e : *spec.env) n.env.emplace_back(e.name, e.value.value_or(std::string()));
  }
  n.metric = spec.metric.value_or(std::string());
  n.precision = spec.precision.value_or(std::string());
  if (spec.hardware && spec.hardware->gpu) {
    const auto& gpu = *spec.hardware->gpu;
    n.gpu = engine::DiscoveryJobNaming::Gpu{gpu.model.value_or(std::string()),
                                            gpu.requests.value_or(0)};
  }
  n.profile_id = spec.profile_id.value_or(std::string());
  return n;
}

Json discovery_job(const TemplateScope& scope, const api::AIMServiceTemplate& tmpl,
                   const api::AIMModelSpec& model, const std::string& job_namespace,
                   std::chrono::seconds deadline) {
  const auto naming = discovery_naming(scope, tmpl, &model);
  const std::string name = engine::discovery_job_name(naming);
  const std::string owner = owner_label(scope);

  api::EnvList env = {env_var("AIM_LOG_LEVEL_ROOT", "CRITICAL"),
                      env_var("AIM_LOG_LEVEL", "CRITICAL")};
  if (!scope.cluster && tmpl.spec.env)
    env.insert(env.end(), tmpl.spec.env->begin(), tmpl.spec.env->end());
  auto add_env = [&](std::string_view k, const std::string& v) {
    if (!v.empty()) env.push_back(env_var(std::string(k), v));
  };
  add_env(api::kEnvMetric, naming.metric);
  add_env(api::kEnvPrecision, naming.precision);
  if (naming.gpu) {
    add_env("AIM_GPU_MODEL", naming.gpu->model);
    if (naming.gpu->requests > 0) add_env("AIM_GPU_COUNT", std::to_string(naming.gpu->requests));
  }
  add_env(api::kEnvProfileId, naming.profile_id);

  api::Container container;
  container.name = "discovery";
  container.image = naming.image;
  container.args = std::vector<std::string>{"dry-run", "--format=json"};
  container.env = std::move(env);
  container.security_context.emplace();
  container.security_context->allow_privilege_escalation = false;
  container.security_context->run_as_non_root = true;
  container.security_context->capabilities.emplace();
  container.security_context->capabilities->drop = {"ALL"};

  api::PodSpec pod;
  pod.restart_policy = "Never";
  pod.security_context.emplace();
  pod.security_context->run_as_non_root = true;
  pod.security_context->run_as_user = 65532;
  pod.security_context->seccomp_profile.emplace();
  pod.security_context->seccomp_profile->type = "RuntimeDefault";
  pod.containers = std::vector<api::Container>{std::move(container)};
  if (model.image_pull_secrets) pod.image_pull_secrets = *model.image_pull_secrets;
  if (!naming.service_account.empty()) pod.service_account_name = naming.service_account;

  const std::string tname = name_of(tmpl.metadata);
  api::Job job;
  job.metadata.name = name;
  job.metadata.namespace_ = job_namespace;
  job.metadata.labels =
      api::StringMap{{std::string(api::kLabelK8sName), std::string(api::kDiscoveryAppName)},
                     {std::string(api::kLabelK8sComponent), std::string(api::kComponentDiscovery)},
                     {std::string(api::kLabelK8sManagedBy), std::string(api::kManagedByController)},
                     {std::string(api::kLabelTemplate), tname},
                     {owner, tname}};
  job.spec.backoff_limit = 0;
  job.spec.ttl_seconds_after_finished = 60;
  job.spec.active_deadline_seconds = deadline.count();
  job.spec.template_.emplace();
  job.spec.template_->metadata.labels = api::StringMap{
      {std::string(api::kLabelTemplate), tname},
      {owner, tname},
      // What the operator's Job-pod watch selects (job_pods_selector()).
      {std::string(api::kLabelComponent), std::string(api::kComponentValueDiscovery)}};
  job.spec.template_->spec = std::move(pod);
  return api::encode(job);
}

// ---- reconcile ---------------------------------------------------------------------------------
//
// fetch (template, runtime config, model) -> observe (model, GPUs, the discovery Job and its
// pods) -> derive the state -> status decoration (what discovery or the spec says) -> apply (the
// discovery Job within the slot limit, the template cache) -> status write.

namespace {

// Both kinds read through the namespaced declaration: the cluster kind's spec is the same less
// `caching` (which its schema prunes), and they share one status.
using Template = api::AIMServiceTemplate;
using TemplateStatus = api::AIMServiceTemplateStatus;

engine::Clock::time_point tp(int64_t unix_seconds) {
  return engine::Clock::time_point(std::chrono::seconds(unix_seconds));
}

engine::DiscoveryState discovery_state_from(const std::optional<api::DiscoveryState>& d) {
  engine::DiscoveryState s;
  if (!d) return s;
  s.attempts = d->attempts.value_or(0);
  if (d->last_attempt_time && !d->last_attempt_time->empty())
    s.last_attempt_time = tp(parse_rfc3339(*d->last_attempt_time).value_or(0));
  s.last_failure_reason = d->last_failure_reason.value_or(std::string());
  s.last_failure_code = d->last_failure_code.value_or(std::string());
  if (s.attempts > 0 && s.last_failure_code.empty())
    s.last_failure_code = "DiscoveryFailed";  // recorded before lastFailureCode existed
  s.spec_hash = d->spec_hash.value_or(std::string());
  return s;
}

api::DiscoveryState discovery_state_typed(const engine::DiscoveryState& s,
                                          api::DiscoveryState d /* keeps unknown keys */) {
  d.attempts = s.attempts;
  d.last_attempt_time.reset();
  if (s.last_attempt_time) {
    d.last_attempt_time = format_rfc3339(
        std::chrono::duration_cast<std::chrono::seconds>(s.last_attempt_time->time_since_epoch())
            .count());
  }
  d.last_failure_reason = non_empty(s.last_failure_reason);
  d.last_failure_code = non_empty(s.last_failure_code);
  d.spec_hash = non_empty(s.spec_hash);
  d.next_attempt_time.reset();
  if (auto at = engine::discovery_retry_at(s, s.spec_hash))
    d.next_attempt_time =
        format_rfc3339(std::chrono::ceil<std::chrono::seconds>(at->time_since_epoch()).count());
  return d;
}

// ---- fetch ----

// The model a template names. A namespaced template whose model is not in its namespace uses the
// cluster model of that name (a service's derived template over a cluster template does).
struct ModelRef {
  std::string name;
  std::optional<Cached<api::AIMModel>> model;
  std::string unreadable;  // why the model does not read as its kind
  bool cluster = false;    // an AIMClusterModel
  std::string kind;        // for messages: "AIMModel", "AIMClusterModel", or both when absent
};

ModelRef fetch_model(const Context& ctx, const TemplateScope& scope, const std::string& ns,
                     const std::string& name) {
  ModelRef r;
  r.name = name;
  r.cluster = scope.cluster;
  // AIMModel and AIMClusterModel share one spec and status: the namespaced declaration reads both.
  auto got = typed<api::AIMModel>(ctx.cache(scope.model_type).get(ns, name));
  if (!got.ok() && got.error().absent && !scope.cluster) {
    got = typed<api::AIMModel>(ctx.cache(types::aim_cluster_models()).get("", name));
    r.cluster = got.ok() || !got.error().absent;
  }
  if (got.ok()) {
    r.model = std::move(got).value();
  } else if (!got.error().absent) {
    r.unreadable = got.error().message;
  }
  const bool found = r.model || !r.unreadable.empty();
  r.kind = r.cluster ? "AIMClusterModel" : "AIMModel";
  if (!found && !scope.cluster) r.kind = "AIMModel or AIMClusterModel";
  return r;
}

// ---- observe ----

// The model's failure that is not caused by its templates (cuts the model<->template loop).
bool model_failed_elsewhere(const api::AIMModelStatus& status) {
  const std::string s = status.status.value_or(std::string());
  if (s != "Failed" && s != "Degraded") return false;
  for (const auto& c : status.conditions) {
    if (c.type.size() > 5 && c.type.ends_with("Ready") && c.type != "ServiceTemplatesReady" &&
        c.type != "ClusterServiceTemplatesReady" && c.status == "False") {
      return true;
    }
  }
  return false;
}

ComponentHealth upstream_health(const TemplateScope& scope, ComponentState state,
                                std::string reason, std::string message) {
  ComponentHealth h;
  h.component = scope.model_component;
  h.dependency = engine::Dependency::Upstream;
  h.state = state;
  h.reason = std::move(reason);
  h.message = std::move(message);
  return h;
}

// The model component; `usable` when discovery and caching may use the model.
struct ModelCheck {
  ComponentHealth health;
  bool usable = false;
};

ModelCheck observe_model(const TemplateScope& scope, const ModelRef& ref) {
  const auto up = engine::Dependency::Upstream;
  if (!ref.unreadable.empty()) {
    return {error_health(
        scope.model_component, ErrorCategory::kInvalidSpec, "InvalidModel",
        ref.kind + " \"" + ref.name + "\" does not read as its kind: " + ref.unreadable, up)};
  }
  if (!ref.model) {
    return {error_health(scope.model_component, ErrorCategory::kMissingUpstream,
                         "ReferenceNotFound", ref.kind + " \"" + ref.name + "\" not found", up)};
  }
  const auto& model = ref.model->typed;
  if (model.spec.image.empty()) {
    return {error_health(scope.model_component, ErrorCategory::kInvalidSpec, "ImageNotSpecified",
                         ref.kind + " has no image", up)};
  }
  if (model_failed_elsewhere(model.status)) {
    const std::string s = model.status.status.value_or(std::string());
    return {upstream_health(
        scope, s == "Failed" ? ComponentState::Failed : ComponentState::Degraded,
        scope.cluster ? "ClusterModelFailed" : "ModelFailed", ref.kind + " is in " + s + " state")};
  }
  return {upstream_health(scope, ComponentState::Ready,
                          scope.cluster ? "ClusterModelFound" : "ModelFound", ref.kind + " found"),
          true};
}

// One pod's GPU count against the largest node of its model: NotAvailable when no node can
// allocate that many (the pod would stay Pending), nothing when it fits or nothing is known.
std::optional<engine::GpuHealth> gpu_count_check(const Context& ctx, engine::GpuRequirement gpu,
                                                 const api::AIMServiceTemplateSpec& spec,
                                                 const TemplateStatus& old_status) {
  if (gpu.requests <= 0 && old_status.resolved_hardware &&
      old_status.resolved_hardware->gpu) {  // no count in the spec: the one discovery found
    gpu.requests = old_status.resolved_hardware->gpu->requests.value_or(0);
  }
  if (gpu.requests <= 0) return std::nullopt;
  std::string resource;
  if (spec.hardware && spec.hardware->gpu)
    resource = spec.hardware->gpu->resource_name.value_or(std::string());
  if (resource.empty()) resource = std::string(engine::kGpuResourceName);
  std::vector<engine::NodeCapacity> nodes;
  for (const auto& n : ctx.cache(kube::types::nodes()).list())
    nodes.push_back(engine::node_capacity(*n));
  return engine::gpu_count_health(gpu, resource,
                                  engine::largest_gpu_node(nodes, gpu.model, resource));
}

engine::GpuInventory inventory(const Context& ctx) {
  std::vector<engine::NodeLabels> nodes;
  for (const auto& n : ctx.cache(kube::types::nodes()).list()) {
    engine::NodeLabels labels;
    const Json& l = labels_of(*n);
    if (l.is_object()) {
      for (const auto& [k, v] : l.items()) {
        if (v.is_string()) labels[k] = v.get<std::string>();
      }
    }
    nodes.push_back(std::move(labels));
  }
  return engine::gpu_inventory(nodes);
}

ComponentState gpu_state(const std::string& s) {
  if (s == "Ready") return ComponentState::Ready;
  if (s == "NotAvailable") return ComponentState::NotAvailable;
  return ComponentState::Degraded;
}

// The GPU component (when the template asks for a GPU); `ok` when a node has the GPU and one
// can hold the pod (no discovery pod nor cache download for a pod no node can hold).
struct GpuCheck {
  std::optional<engine::GpuRequirement> req;
  engine::GpuInventory inv;
  std::optional<ComponentHealth> health;
  bool ok = true;
};

GpuCheck observe_gpu(const Context& ctx, const Template& tmpl) {
  GpuCheck g;
  g.req = engine::gpu_requirement(json_of(tmpl.spec.hardware));
  if (!engine::gpu_required(g.req)) return g;
  g.inv = inventory(ctx);
  auto h = engine::gpu_health(g.req, g.inv, std::nullopt);
  bool fits = true;
  if (h && h->state == "Ready") {
    if (auto count = gpu_count_check(ctx, *g.req, tmpl.spec, tmpl.status)) {
      h = std::move(count);
      fits = false;
    }
  }
  if (h) {
    ComponentHealth c;
    c.component = "GPU";
    c.state = gpu_state(h->state);
    c.reason = h->reason;
    c.message = h->message;
    g.health = std::move(c);
  }
  g.ok = fits && engine::gpu_available(*g.req, g.inv);
  return g;
}

// A component in `state` with no error category: nothing is blocked and Ready carries `reason`
// (an error category would replace it with AuthError / InvalidSpec / ReferenceNotFound).
ComponentHealth health_without_error(std::string component, std::string reason, std::string message,
                                     ComponentState state = ComponentState::Failed) {
  ComponentHealth h;
  h.component = std::move(component);
  h.state = state;
  h.reason = std::move(reason);
  h.message = std::move(message);
  h.dependency = engine::Dependency::Downstream;
  return h;
}

// The newest discovery Job of a template.
std::optional<Cached<api::Job>> newest_discovery_job(const Context& ctx, const TemplateScope& scope,
                                                     const std::string& job_ns,
                                                     const std::string& tname) {
  std::optional<Cached<api::Job>> newest;
  const std::string owner = owner_label(scope);
  for (const auto& j : ctx.cache(kube::types::jobs()).list(job_ns)) {
    if (label(*j, api::kLabelTemplate) != tname || label(*j, owner) != tname) continue;
    auto job = typed<api::Job>(j);
    if (!job.ok()) continue;
    if (!newest || job.value()->metadata.creation_timestamp.value_or(std::string()) >
                       newest->typed.metadata.creation_timestamp.value_or(std::string())) {
      newest = std::move(job).value();
    }
  }
  return newest;
}

// The discovery output of a completed Job: the log of its succeeded pod, parsed.
Result<engine::DiscoveryOutput, std::string> read_output(const Context& ctx,
                                                         const std::string& job_ns,
                                                         const std::vector<kube::ObjectPtr>& pods) {
  for (const auto& p : typed_list<api::Pod>(pods)) {
    if (p->status.phase.value_or(std::string()) != "Succeeded") continue;
    auto log = ctx.client->get_raw("/api/v1/namespaces/" + job_ns + "/pods/" +
                                   name_of(p->metadata) + "/log?container=discovery");
    if (!log) return fail("reading the discovery log failed: " + log.error().message);
    return engine::parse_discovery_output(*log);
  }
  return fail(std::string("no succeeded discovery pod to read the output from"));
}

// What the discovery Job of a template that still needs discovery shows.
//
// A failed attempt says one thing until an attempt succeeds (issue 27): what failed is recorded
// in status.discovery (the failed pod's reason and message when a pod failed, else the Job's),
// and while no retry runs, one DiscoveryJob component carries that reason and message, with the
// time of the next attempt, to DiscoveryJobReady, Discovered and Ready, whether the failed Job
// still exists or its TTL has removed it.
struct DiscoveryObservation {
  std::optional<Cached<api::Job>> job;
  std::vector<ComponentHealth> components;  // DiscoveryJob, then DiscoveryPods when there are pods
  std::optional<engine::PodIssue> pod_issue;  // a stuck discovery pod
  std::optional<engine::DiscoveryOutput> output;
  std::optional<std::chrono::seconds> requeue;  // re-check a pod that may become stuck
  std::string hash;                             // of the discovery inputs
  engine::DiscoveryState state;                 // attempts, with this Job's failure recorded
  bool failed = false;          // the latest attempt of this spec failed; no retry runs
  bool retrying = false;        // a retry runs after a failed attempt of this spec
  std::string failure_message;  // while `failed`: what failed and when the next attempt is
};

// The DiscoveryJob component; reads the output of a completed Job into `o.output`.
ComponentHealth job_component(const Context& ctx, const std::string& job_ns,
                              const std::vector<kube::ObjectPtr>& pods,
                              const DiscoveryOptions& options, DiscoveryObservation& o) {
  if (!o.job) {
    ComponentHealth h;
    h.component = "DiscoveryJob";
    h.state = ComponentState::Pending;
    h.reason = "JobNotCreated";
    h.message = "Discovery job not created yet";
    h.dependency = engine::Dependency::Downstream;
    return h;
  }
  const api::Job& job = o.job->typed;
  const api::Condition* failed = api::true_condition(job, "Failed");
  if (failed && failed->reason == "DeadlineExceeded") {
    // Not the reference's JobDeadlineExceeded (InvalidSpec, which hides the reason behind
    // Ready=InvalidSpec): the template says plainly that discovery ran out of time.
    return health_without_error(
        "DiscoveryJob", "DiscoveryTimeout",
        "Discovery did not finish within " +
            std::to_string(job.spec.active_deadline_seconds.value_or(options.deadline.count())) +
            " s (activeDeadlineSeconds of Job " + name_of(job.metadata) + ")");
  }
  if (api::true_condition(job, "Complete")) {
    auto parsed = read_output(ctx, job_ns, pods);
    if (!parsed) {
      return error_health("DiscoveryJob", ErrorCategory::kInvalidSpec, "DiscoveryOutputInvalid",
                          "Discovery produced no usable result: " + parsed.error(),
                          engine::Dependency::Downstream);
    }
    o.output = std::move(*parsed);
  }
  return job_health("DiscoveryJob", &o.job->typed);
}

// The DiscoveryPods component, when the Job has pods: a stuck pod (with a re-check of a pod
// that may become stuck), else the pods' health.
std::optional<ComponentHealth> pods_component(const Context& ctx, const std::string& job_ns,
                                              const std::vector<Json>& pods, bool job_running,
                                              const DiscoveryOptions& options, int64_t now,
                                              DiscoveryObservation& o) {
  if (job_running) {
    engine::PodIssueOptions po;
    po.unschedulable_grace = options.unschedulable_grace;
    auto stuck = engine::job_pods_issue(pods, now, po);
    o.requeue = stuck.recheck_after;
    o.pod_issue = std::move(stuck.issue);
  }
  if (o.pod_issue) {
    // Before the reference's pod inspector: a stuck pod gets its own reason (ImagePullFailed,
    // Unschedulable, ...) on DiscoveryPodsReady, Discovered and Ready, and blocks nothing.
    return health_without_error("DiscoveryPods", o.pod_issue->reason, o.pod_issue->message,
                                o.pod_issue->state);
  }
  if (pods.empty()) return std::nullopt;
  std::vector<api::Pod> typed_pods;
  for (const auto& p : pods)
    if (auto d = api::decode<api::Pod>(p)) typed_pods.push_back(std::move(*d.value));
  return pods_health(
      "DiscoveryPods", typed_pods, [&](const api::Pod& pod, const std::string& container) {
        auto log =
            ctx.client->get_raw("/api/v1/namespaces/" + job_ns + "/pods/" + name_of(pod.metadata) +
                                "/log?container=" + container + "&tailLines=50");
        return log ? *log : std::string();
      });
}

// The DiscoveryJob component of a failed attempt (no error category: Ready carries its reason).
void report_failure(DiscoveryObservation& o, int64_t now) {
  o.failed = true;
  o.failure_message = engine::discovery_failed_message(
      o.state, engine::discovery_retry_at(o.state, o.hash), tp(now));
  o.components = {
      health_without_error("DiscoveryJob", o.state.last_failure_code, o.failure_message)};
}

// What failed in a failed attempt: the Job's own reason for a timeout or an unusable output, else
// the failed pod's (its exit code, message and log excerpt say more than BackoffLimitExceeded).
std::pair<std::string, std::string> failure_of(const ComponentHealth& job,
                                               const std::optional<ComponentHealth>& pods) {
  const bool job_says_more =
      job.reason == "DiscoveryTimeout" || job.reason == "DiscoveryOutputInvalid";
  if (!job_says_more && pods && pods->state != ComponentState::Ready)
    return {pods->reason, pods->message};
  return {job.reason, job.message};
}

DiscoveryObservation observe_discovery(const Context& ctx, const TemplateScope& scope,
                                       const Template& tmpl, const ModelRef& model,
                                       const std::string& job_ns, const DiscoveryOptions& options,
                                       int64_t now) {
  DiscoveryObservation o;
  o.state = discovery_state_from(tmpl.status.discovery);
  o.hash = engine::discovery_spec_hash(
      discovery_naming(scope, tmpl, model.model ? &model.model->typed.spec : nullptr));
  const bool failed_before = o.state.attempts > 0 && o.state.spec_hash == o.hash;
  o.job = newest_discovery_job(ctx, scope, job_ns, name_of(tmpl.metadata));
  if (!o.job) {
    if (failed_before) {
      report_failure(o, now);  // the failed Job is gone (its TTL): the status still says why
    } else {
      o.components.push_back(job_component(ctx, job_ns, {}, options, o));
    }
    return o;
  }
  const api::Job& job = o.job->typed;
  auto pods =
      job_pods(ctx).by_labels({{std::string(api::kLabelJobName), name_of(job.metadata)}}, job_ns);
  ComponentHealth jh = job_component(ctx, job_ns, pods, options, o);
  const bool failed = api::true_condition(job, "Failed") != nullptr;
  const bool running = !failed && !api::true_condition(job, "Complete");
  auto ph = pods_component(ctx, job_ns, as_values(pods), running, options, now, o);
  if (failed || jh.reason == "DiscoveryOutputInvalid") {  // a failed attempt
    auto [code, message] = failure_of(jh, ph);
    o.state = engine::record_discovery_failure(
        o.state, tp(parse_rfc3339(job.metadata.creation_timestamp.value_or("")).value_or(0)),
        tp(now), std::move(code), std::move(message), o.hash);
    report_failure(o, now);
    return o;
  }
  o.retrying = running && failed_before;
  o.components.push_back(std::move(jh));
  if (ph) o.components.push_back(std::move(*ph));
  return o;
}

// ---- status decoration ----

void set_hardware(TemplateStatus& st, const Template& tmpl, const GpuCheck& gpu,
                  const std::optional<engine::DiscoveredGpu>& discovered) {
  Json hw = engine::resolved_hardware(json_of(tmpl.spec.hardware), discovered);
  st.resolved_hardware = typed_or_none<api::HardwareRequirements>(hw);
  st.hardware_summary = non_empty(engine::hardware_summary(hw));
  st.resolved_node_affinity =
      typed_or_none<api::NodeAffinity>(engine::gpu_node_affinity(gpu.req, gpu.inv));
}

// What the template's status says its model needs, from the spec (inline sources) or from
// discovery; returns the Discovered condition.
engine::Condition decorate(TemplateStatus& st, const Template& tmpl, const GpuCheck& gpu,
                           bool inline_sources, bool discovered, const DiscoveryObservation& d) {
  const auto& spec = tmpl.spec;
  if (inline_sources) {
    st.model_sources = spec.model_sources;
    api::ProfileMetadata md;
    if (gpu.req && gpu.req->requests > 0) md.gpu_count = static_cast<int32_t>(gpu.req->requests);
    if (gpu.req && !gpu.req->model.empty()) md.gpu = gpu.req->model;
    md.metric = non_empty(spec.metric);
    md.precision = non_empty(spec.precision);
    md.type = non_empty(spec.type);
    st.profile = api::Profile{};
    st.profile->metadata = std::move(md);
    set_hardware(st, tmpl, gpu, std::nullopt);
    st.discovery.reset();
    return make_condition("Discovered", true, "InlineModelSources",
                          "Model sources provided in-line in spec");
  }
  if (discovered) {
    const api::Condition* c = controllers::find_condition(tmpl.status.conditions, "Discovered");
    return make_condition("Discovered", true, c->reason, c->message);
  }
  if (d.output) {
    if (st.discovery) st.discovery->next_attempt_time.reset();  // no next attempt: it succeeded
    st.model_sources = typed_or_none<std::vector<api::ModelSource>>(d.output->model_sources_json());
    st.profile = typed_or_none<api::Profile>(d.output->profile);
    if (st.profile && non_empty(spec.type)) {
      if (!st.profile->metadata) st.profile->metadata = api::ProfileMetadata{};
      st.profile->metadata->type = spec.type;
    }
    set_hardware(st, tmpl, gpu, d.output->gpu);
    return make_condition(
        "Discovered", true, "DiscoveryComplete",
        "Discovery found " + std::to_string(d.output->model_sources.size()) + " model source(s)");
  }
  if (d.failed) {
    return make_condition("Discovered", false, d.state.last_failure_code, d.failure_message);
  }
  if (d.pod_issue) {
    return make_condition("Discovered", false, d.pod_issue->reason,
                          "Discovery is stuck: " + d.pod_issue->message);
  }
  if (d.retrying) {
    return make_condition("Discovered", false, d.state.last_failure_code,
                          engine::discovery_retrying_message(d.state));
  }
  return make_condition("Discovered", false, "AwaitingDiscovery",
                        "Waiting for discovery to complete");
}

// ---- apply ----

struct Applied {
  std::string error;  // the first apply that failed
  std::optional<std::chrono::seconds> requeue;
  std::string discovered_message;  // replaces the Discovered message when set
};

// The discovery Job, after the backoff of failed attempts and within the slot limit.
void apply_discovery_job(const Context& ctx, const TemplateScope& scope,
                         const Cached<Template>& tmpl, const api::AIMModelSpec& model,
                         const engine::ResolvedRuntimeConfig& rc, const std::string& job_ns,
                         const DiscoveryOptions& options, const DiscoveryObservation& d,
                         int64_t now, Applied& out) {
  auto wait = engine::discovery_wait(d.state, d.hash, tp(now));
  if (wait.count() > 0) {
    out.requeue = wait;  // Discovered already says when (the failure's message)
    return;
  }
  Json desired = discovery_job(scope, tmpl.typed, model, job_ns, options.deadline);
  set_controller_owner(desired, *tmpl.raw);
  label_child(desired, *tmpl.raw, scope.controller, rc.spec);
  const std::string key = kube::object_key(job_ns, name_of(desired));
  bool free = DiscoverySlots::instance().run_if_free(ctx, key, [&] {
    auto live = ctx.cache(kube::types::jobs()).get(job_ns, name_of(desired));
    auto applied = apply_child(ctx, kube::types::jobs(), desired, live.get(),
                               "aim-" + scope.controller + "-controller");
    if (!applied) {
      out.error = applied.error().message;
      return false;
    }
    return applied->first == ApplyOutcome::kCreated;
  });
  if (!free) {
    out.discovered_message = "Waiting for a discovery slot (" +
                             std::to_string(DiscoverySlots::kLimit) +
                             " discovery jobs are running)";
    if (d.failed) out.discovered_message = d.failure_message + "; " + out.discovered_message;
    out.requeue = std::chrono::seconds(5);
  }
}

// The template cache of a namespaced template with caching enabled (behavior.md §3.2), unless
// one it controls exists, or another Shared cache of the template (a service's).
void apply_template_cache(const Context& ctx, const TemplateScope& scope,
                          const Cached<Template>& tmpl, const engine::ResolvedRuntimeConfig& rc,
                          Applied& out) {
  const std::string ns = namespace_of(tmpl->metadata);
  const std::string name = name_of(tmpl->metadata);
  for (const auto& c : ctx.cache(types::aim_template_caches()).list(ns)) {
    if (is_controlled_by(*c, *tmpl.raw)) return;
  }
  api::AIMTemplateCache cache;
  cache.api_version = types::aim_template_caches().api_version();
  cache.kind = types::aim_template_caches().kind;
  cache.metadata.name = name;
  cache.metadata.namespace_ = ns;
  cache.metadata.owner_references = {{controller_reference(tmpl.typed)}};
  cache.spec.template_name = name;
  cache.spec.template_scope = std::string(api::kScopeNamespace);
  const auto& caching = tmpl->spec.caching;
  if (caching && caching->env && !caching->env->empty()) cache.spec.env = caching->env;
  cache.spec.runtime_config_name = non_empty(tmpl->spec.runtime_config_name);
  Json desired = api::encode(cache);
  label_child(desired, *tmpl.raw, scope.controller, rc.spec);
  // Not when a service already made the template's Shared cache (one per template).
  create_shared_template_cache_once(ctx, ns, name, [&] {
    auto live = ctx.cache(types::aim_template_caches()).get(ns, name);
    auto applied = apply_child(ctx, types::aim_template_caches(), desired, live.get(),
                               "aim-" + scope.controller + "-controller");
    if (!applied) out.error = applied.error().message;
    return applied.ok();
  });
}

// status: the conditions of `state`, DependenciesReachable=False when an apply failed, and
// Discovered; written only when it changed.
kube::ReconcileResult write_status_and_finish(const Context& ctx, const TemplateScope& scope,
                                              const Json& raw, TemplateStatus st,
                                              const engine::DerivedState& state,
                                              const std::vector<ComponentHealth>& components,
                                              engine::Condition discovered,
                                              const Applied& applied) {
  std::vector<engine::Condition> desired = state.conditions;
  if (!applied.error.empty()) {
    std::erase_if(desired,
                  [](const engine::Condition& c) { return c.type == "DependenciesReachable"; });
    desired.push_back(make_condition("DependenciesReachable", false, "InfrastructureError",
                                     "Failed to apply resources: " + applied.error));
  }
  desired.push_back(std::move(discovered));
  st.status = status_string(state.root);
  Json status = api::encode(st);
  set_conditions(status, raw, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, scope.template_type, raw, status);
  emit_condition_events(ctx.events("aim-" + scope.controller + "-controller"), raw,
                        conditions_of(raw), status_conditions(status), components);
  if (!written) return fail(kube::ReconcileError(written.error()));
  if (!applied.error.empty()) return fail(kube::ReconcileError("apply failed: " + applied.error));
  return finish(state, components, applied.requeue);
}

}  // namespace

kube::ReconcileResult reconcile_template(const Context& ctx, const TemplateScope& scope,
                                         const kube::Request& req,
                                         const DiscoveryOptions& discovery) {
  auto got = typed<Template>(ctx.cache(scope.template_type).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(scope.template_type.kind, req, got.error());
  const Cached<Template>& tmpl = got.value();
  const Json& raw = *tmpl.raw;
  const std::string controller_name = "aim-" + scope.controller + "-controller";
  if (is_being_deleted(raw)) return kube::Action::done();
  if (is_paused(raw)) return report_paused(ctx, scope.template_type, raw, controller_name);
  const auto& spec = tmpl->spec;
  const std::string ns = scope.cluster ? std::string() : namespace_of(tmpl->metadata);
  const std::string job_ns = scope.cluster ? ctx.operator_namespace : ns;
  const int64_t now = ctx.now();

  // fetch and observe
  std::vector<ComponentHealth> components;
  auto rc = resolve_runtime_config(ctx, ns, spec.runtime_config_name.value_or(std::string()));
  components.push_back(runtime_config_health(rc, scope.cluster));
  const ModelRef model = fetch_model(ctx, scope, ns, spec.model_name);
  const ModelCheck model_check = observe_model(scope, model);
  components.push_back(model_check.health);
  const GpuCheck gpu = observe_gpu(ctx, tmpl.typed);
  if (gpu.health) components.push_back(*gpu.health);

  const bool inline_sources = spec.model_sources && !spec.model_sources->empty();
  const api::Condition* was_discovered =
      controllers::find_condition(tmpl->status.conditions, "Discovered");
  const bool discovered = was_discovered && was_discovered->status == "True" &&
                          tmpl->status.model_sources && !tmpl->status.model_sources->empty();
  const bool track = !inline_sources && !discovered;

  TemplateStatus st = tmpl->status;
  if (model.model) {
    api::ResolvedReference ref;
    ref.name = spec.model_name;
    if (!scope.cluster) ref.namespace_ = ns;
    st.resolved_model = std::move(ref);
  }
  DiscoveryObservation d;  // stays empty when discovery is not tracked
  if (track) {
    d = observe_discovery(ctx, scope, tmpl.typed, model, job_ns, discovery, now);
    components.insert(components.end(), d.components.begin(), d.components.end());
    if (d.job) {
      api::ResolvedReference ref;
      ref.name = name_of(d.job->typed.metadata);
      ref.namespace_ = job_ns;
      st.discovery_job = std::move(ref);
    }
    if (d.failed)
      st.discovery = discovery_state_typed(d.state, st.discovery.value_or(api::DiscoveryState{}));
  }
  // The discovery pod pulls the model image with the model's pull secrets: before its first
  // Job, they must exist in the Job's namespace and be of a type the kubelet reads.
  if (track && !d.job && model.model) {
    if (auto pull = check_pull_secrets(
            ctx, job_ns, pull_secret_names(model.model->typed.spec.image_pull_secrets),
            engine::Dependency::Upstream,
            "spec.imagePullSecrets of " + model.kind + " \"" + spec.model_name + "\""))
      components.push_back(std::move(*pull));
  }

  auto state = engine::derive_state(components, conditions_of(raw));
  engine::Condition discovered_cond = decorate(st, tmpl.typed, gpu, inline_sources, discovered, d);

  // apply
  Applied applied;
  applied.requeue = d.requeue;
  const bool may_apply = state.should_apply && model_check.usable && gpu.ok;
  if (track && !d.job && !d.output && may_apply) {
    Applied job;
    apply_discovery_job(ctx, scope, tmpl, model.model->typed.spec, rc, job_ns, discovery, d, now,
                        job);
    applied.error = job.error;
    if (!job.discovered_message.empty()) discovered_cond.message = job.discovered_message;
    if (job.requeue && (!applied.requeue || *job.requeue < *applied.requeue))
      applied.requeue = job.requeue;
  }
  if (!scope.cluster && may_apply && spec.caching && spec.caching->enabled.value_or(false) &&
      (inline_sources || (discovered && state.root == ComponentState::Ready))) {
    Applied cache;
    apply_template_cache(ctx, scope, tmpl, rc, cache);
    if (!cache.error.empty()) applied.error = cache.error;
  }

  return write_status_and_finish(ctx, scope, raw, std::move(st), state, components,
                                 std::move(discovered_cond), applied);
}

}  // namespace aim::controllers::catalog
