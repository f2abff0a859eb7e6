// AIMServiceTemplate / AIMClusterServiceTemplate (behavior.md §3.2, §4.2-§4.4, fixed per spec
// README §4: Discovered ends True/DiscoveryComplete, an empty discovery is a failure, the backoff
// arms a timer, node-affinity values are sorted).
#include "controllers/catalog/template_controller.h"

#include <algorithm>
#include <set>

#include "api/constants.h"
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
bool is_discovery_job(const Json& job) {
  const Json& l = labels_of(job);
  return str_field(l, std::string(api::kLabelK8sName)) == api::kDiscoveryAppName &&
         str_field(l, std::string(api::kLabelK8sComponent)) == api::kComponentDiscovery &&
         str_field(l, std::string(api::kLabelK8sManagedBy)) == api::kManagedByController;
}
}  // namespace

int DiscoverySlots::count_locked(const Context& ctx, int64_t now) {
  // One snapshot of the cache for both counts: a Job the informer adds between a list and a
  // later lookup would otherwise be counted by neither.
  std::set<std::string> cached;
  int active = 0;
  for (const auto& j : ctx.cache(kube::types::jobs()).list()) {
    cached.insert(kube::object_key(namespace_of(*j), name_of(*j)));
    if (is_discovery_job(*j) && !job_finished(*j)) ++active;
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

engine::DiscoveryJobNaming discovery_naming(const TemplateScope& scope, const Json& tmpl,
                                            const Json& model) {
  const Json& spec = field(tmpl, "spec");
  const Json& mspec = field(model, "spec");
  engine::DiscoveryJobNaming n;
  n.template_name = name_of(tmpl);
  n.model_name = str_field(spec, "modelName");
  n.image = str_field(mspec, "image");
  n.service_account = str_field(mspec, "serviceAccountName");
  if (!scope.cluster && field(spec, "env").is_array()) {
    for (const auto& e : spec["env"])
      n.env.emplace_back(str_field(e, "name"), str_field(e, "value"));
  }
  n.pull_secrets = pull_secret_names(field(mspec, "imagePullSecrets"));
  n.metric = str_field(spec, "metric");
  n.precision = str_field(spec, "precision");
  const Json& gpu = field(field(spec, "hardware"), "gpu");
  if (gpu.is_object()) {
    engine::DiscoveryJobNaming::Gpu g;
    g.model = str_field(gpu, "model");
    g.requests = field(gpu, "requests").is_number_integer() ? gpu["requests"].get<int64_t>() : 0;
    n.gpu = g;
  }
  n.profile_id = str_field(spec, "profileId");
  return n;
}

Json discovery_job(const TemplateScope& scope, const Json& tmpl, const Json& model,
                   const std::string& job_namespace, std::chrono::seconds deadline) {
  const Json& spec = field(tmpl, "spec");
  const Json& mspec = field(model, "spec");
  auto naming = discovery_naming(scope, tmpl, model);
  std::string name = engine::discovery_job_name(naming);
  std::string owner_label = std::string(api::kAimLabelDomain) + "/" + scope.controller + ".name";

  Json env = Json::array({{{"name", "AIM_LOG_LEVEL_ROOT"}, {"value", "CRITICAL"}},
                          {{"name", "AIM_LOG_LEVEL"}, {"value", "CRITICAL"}}});
  if (!scope.cluster && field(spec, "env").is_array()) {
    for (const auto& e : spec["env"]) env.push_back(e);
  }
  auto add_env = [&](std::string_view k, const std::string& v) {
    if (!v.empty()) env.push_back({{"name", std::string(k)}, {"value", v}});
  };
  add_env(api::kEnvMetric, naming.metric);
  add_env(api::kEnvPrecision, naming.precision);
  if (naming.gpu) {
    add_env("AIM_GPU_MODEL", naming.gpu->model);
    if (naming.gpu->requests > 0) add_env("AIM_GPU_COUNT", std::to_string(naming.gpu->requests));
  }
  add_env(api::kEnvProfileId, naming.profile_id);

  Json container = {{"name", "discovery"},
                    {"image", naming.image},
                    {"args", Json::array({"dry-run", "--format=json"})},
                    {"env", env},
                    {"securityContext",
                     {{"allowPrivilegeEscalation", false},
                      {"runAsNonRoot", true},
                      {"capabilities", {{"drop", Json::array({"ALL"})}}}}}};
  Json pod_spec = {{"restartPolicy", "Never"},
                   {"securityContext",
                    {{"runAsNonRoot", true},
                     {"runAsUser", 65532},
                     {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                   {"containers", Json::array({container})}};
  if (non_empty_array(field(mspec, "imagePullSecrets"))) {
    pod_spec["imagePullSecrets"] = mspec["imagePullSecrets"];
  }
  if (!naming.service_account.empty()) pod_spec["serviceAccountName"] = naming.service_account;

  Json job = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata",
       {{"name", name},
        {"namespace", job_namespace},
        {"labels",
         {{std::string(api::kLabelK8sName), std::string(api::kDiscoveryAppName)},
          {std::string(api::kLabelK8sComponent), std::string(api::kComponentDiscovery)},
          {std::string(api::kLabelK8sManagedBy), std::string(api::kManagedByController)},
          {std::string(api::kLabelTemplate), name_of(tmpl)},
          {owner_label, name_of(tmpl)}}}}},
      {"spec",
       {{"backoffLimit", 0},
        {"ttlSecondsAfterFinished", 60},
        {"activeDeadlineSeconds", deadline.count()},
        {"template",
         {{"metadata",
           {{"labels",
             {{std::string(api::kLabelTemplate), name_of(tmpl)},
              {owner_label, name_of(tmpl)},
              // What the operator's Job-pod watch selects (job_pods_selector()).
              {std::string(api::kLabelComponent), std::string(api::kComponentValueDiscovery)}}}}},
          {"spec", pod_spec}}}}}};
  return job;
}

// ---- reconcile ---------------------------------------------------------------------------------

namespace {

engine::Clock::time_point tp(int64_t unix_seconds) {
  return engine::Clock::time_point(std::chrono::seconds(unix_seconds));
}

engine::DiscoveryState discovery_state_from(const Json& status) {
  engine::DiscoveryState s;
  const Json& d = field(status, "discovery");
  if (!d.is_object()) return s;
  if (field(d, "attempts").is_number_integer()) s.attempts = d["attempts"].get<int>();
  std::string t = str_field(d, "lastAttemptTime");
  if (!t.empty()) s.last_attempt_time = tp(parse_rfc3339(t).value_or(0));
  s.last_failure_reason = str_field(d, "lastFailureReason");
  s.spec_hash = str_field(d, "specHash");
  return s;
}

Json discovery_state_json(const engine::DiscoveryState& s) {
  Json d = {{"attempts", s.attempts}};
  if (s.last_attempt_time) {
    d["lastAttemptTime"] = format_rfc3339(
        std::chrono::duration_cast<std::chrono::seconds>(s.last_attempt_time->time_since_epoch())
            .count());
  }
  if (!s.last_failure_reason.empty()) d["lastFailureReason"] = s.last_failure_reason;
  if (!s.spec_hash.empty()) d["specHash"] = s.spec_hash;
  return d;
}

// The model's failure that is not caused by its templates (cuts the model<->template loop).
bool model_failed_elsewhere(const Json& model) {
  std::string s = str_field(field(model, "status"), "status");
  if (s != "Failed" && s != "Degraded") return false;
  const Json& conds = field(field(model, "status"), "conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    std::string type = str_field(c, "type");
    if (type.size() > 5 && type.ends_with("Ready") && type != "ServiceTemplatesReady" &&
        type != "ClusterServiceTemplatesReady" && str_field(c, "status") == "False") {
      return true;
    }
  }
  return false;
}

std::string job_failed_reason(const Json& job) {
  for (const auto& c : field(field(job, "status"), "conditions")) {
    if (str_field(c, "type") == "Failed" && str_field(c, "status") == "True") {
      return str_field(c, "reason");
    }
  }
  return {};
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

std::string failure_reason_of(const Json& job) {
  for (const auto& c : field(field(job, "status"), "conditions")) {
    if (str_field(c, "type") == "Failed") {
      if (!str_field(c, "message").empty()) return str_field(c, "message");
      if (!str_field(c, "reason").empty()) return str_field(c, "reason");
    }
  }
  return "Unknown failure";
}

// One pod's GPU count against the largest node of its model: NotAvailable when no node can
// allocate that many (the pod would stay Pending), nothing when it fits or nothing is known.
std::optional<engine::GpuHealth> gpu_count_check(const Context& ctx, engine::GpuRequirement gpu,
                                                 const Json& spec_gpu, const Json& old_status) {
  if (gpu.requests <= 0) {  // no count in the spec: the one discovery found, if any
    const Json& n = field(field(field(old_status, "resolvedHardware"), "gpu"), "requests");
    if (n.is_number_integer()) gpu.requests = n.get<int64_t>();
  }
  if (gpu.requests <= 0) return std::nullopt;
  std::string resource = str_field(spec_gpu, "resourceName");
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

void set_or_erase(Json& status, const char* key, const Json& v) {
  if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) {
    status.erase(key);
  } else {
    status[key] = v;
  }
}

}  // namespace

kube::ReconcileResult reconcile_template(const Context& ctx, const TemplateScope& scope,
                                         const kube::Request& req,
                                         const DiscoveryOptions& discovery) {
  auto obj = ctx.cache(scope.template_type).get(req.ns, req.name);
  if (!obj || is_being_deleted(*obj)) return kube::Action::done();
  if (is_paused(*obj))
    return report_paused(ctx, scope.template_type, *obj, "aim-" + scope.controller + "-controller");
  const Json& tmpl = *obj;
  const Json& spec = field(tmpl, "spec");
  const Json& old_status = field(tmpl, "status");
  std::string ns = scope.cluster ? std::string() : namespace_of(tmpl);
  std::string job_ns = scope.cluster ? ctx.operator_namespace : ns;
  std::string controller_name = "aim-" + scope.controller + "-controller";
  int64_t now = ctx.now();

  std::vector<ComponentHealth> components;
  auto rc = resolve_runtime_config(ctx, ns, str_field(spec, "runtimeConfigName"));
  components.push_back(runtime_config_health(rc, scope.cluster));

  // Model.
  std::string model_name = str_field(spec, "modelName");
  auto model = ctx.cache(scope.model_type).get(ns, model_name);
  // Namespace over cluster: a namespaced template whose model is not in its namespace uses the
  // cluster model of that name (a service's derived template over a cluster template does).
  bool cluster_model = scope.cluster;
  if (!model && !scope.cluster) {
    model = ctx.cache(types::aim_cluster_models()).get("", model_name);
    cluster_model = model != nullptr;
  }
  bool model_usable = false;
  {
    std::string kind = cluster_model ? "AIMClusterModel" : "AIMModel";
    if (!model && !scope.cluster) kind = "AIMModel or AIMClusterModel";
    if (!model) {
      components.push_back(
          error_health(scope.model_component, ErrorCategory::kMissingUpstream, "ReferenceNotFound",
                       kind + " \"" + model_name + "\" not found", engine::Dependency::Upstream));
    } else if (str_field(field(*model, "spec"), "image").empty()) {
      components.push_back(error_health(scope.model_component, ErrorCategory::kInvalidSpec,
                                        "ImageNotSpecified", kind + " has no image",
                                        engine::Dependency::Upstream));
    } else if (model_failed_elsewhere(*model)) {
      ComponentHealth h;
      h.component = scope.model_component;
      h.dependency = engine::Dependency::Upstream;
      std::string s = str_field(field(*model, "status"), "status");
      h.state = s == "Failed" ? ComponentState::Failed : ComponentState::Degraded;
      h.reason = scope.cluster ? "ClusterModelFailed" : "ModelFailed";
      h.message = kind + " is in " + s + " state";
      components.push_back(h);
    } else {
      ComponentHealth h;
      h.component = scope.model_component;
      h.dependency = engine::Dependency::Upstream;
      h.state = ComponentState::Ready;
      h.reason = scope.cluster ? "ClusterModelFound" : "ModelFound";
      h.message = kind + " found";
      components.push_back(h);
      model_usable = true;
    }
  }

  // GPU.
  auto gpu_req = engine::gpu_requirement(field(spec, "hardware"));
  bool needs_gpu = engine::gpu_required(gpu_req);
  engine::GpuInventory inv;
  bool gpu_ok = true;
  if (needs_gpu) {
    inv = inventory(ctx);
    auto g = engine::gpu_health(gpu_req, inv, std::nullopt);
    bool fits = true;  // no discovery pod nor cache download for a pod no node can hold
    if (g && g->state == "Ready") {
      if (auto count =
              gpu_count_check(ctx, *gpu_req, field(field(spec, "hardware"), "gpu"), old_status)) {
        g = std::move(count);
        fits = false;
      }
    }
    if (g) {
      ComponentHealth h;
      h.component = "GPU";
      h.state = gpu_state(g->state);
      h.reason = g->reason;
      h.message = g->message;
      components.push_back(h);
    }
    gpu_ok = fits && engine::gpu_available(*gpu_req, inv);
  }

  bool inline_sources = non_empty_array(field(spec, "modelSources"));
  bool discovered =
      condition_true(tmpl, "Discovered") && non_empty_array(field(old_status, "modelSources"));
  bool track = !inline_sources && !discovered;

  Json status = old_status.is_object() ? old_status : Json::object();
  if (model) {
    Json ref = {{"name", model_name}};
    if (!scope.cluster) ref["namespace"] = ns;
    status["resolvedModel"] = ref;
  }

  engine::Condition discovered_cond;
  std::optional<std::chrono::seconds> requeue;
  std::optional<engine::PodIssue> pod_issue;  // a stuck discovery pod
  std::string timeout_message;                // the discovery Job ran out of time
  std::optional<engine::DiscoveryOutput> output;
  kube::ObjectPtr job;
  std::string hash;
  engine::DiscoveryState ds = discovery_state_from(old_status);

  if (track) {
    // The newest discovery Job of this template.
    std::string owner_label = std::string(api::kAimLabelDomain) + "/" + scope.controller + ".name";
    for (const auto& j : ctx.cache(kube::types::jobs()).list(job_ns)) {
      if (label(*j, api::kLabelTemplate) != name_of(tmpl)) continue;
      if (label(*j, owner_label) != name_of(tmpl)) continue;
      if (!job || str_field(field(*j, "metadata"), "creationTimestamp") >
                      str_field(field(*job, "metadata"), "creationTimestamp")) {
        job = j;
      }
    }
    std::vector<Json> pods;
    if (job) {
      for (const auto& p :
           job_pods(ctx).by_labels({{std::string(api::kLabelJobName), name_of(*job)}}, job_ns)) {
        pods.push_back(*p);
      }
    }
    ComponentHealth jh;
    if (job && job_failed_reason(*job) == "DeadlineExceeded") {
      // Not the reference's JobDeadlineExceeded (InvalidSpec, which hides the reason behind
      // Ready=InvalidSpec): the template says plainly that discovery ran out of time.
      int64_t limit = field(field(*job, "spec"), "activeDeadlineSeconds").is_number_integer()
                          ? field(*job, "spec")["activeDeadlineSeconds"].get<int64_t>()
                          : discovery.deadline.count();
      timeout_message = "Discovery did not finish within " + std::to_string(limit) +
                        " s (activeDeadlineSeconds of Job " + name_of(*job) + ")";
      jh = health_without_error("DiscoveryJob", "DiscoveryTimeout", timeout_message);
    } else if (job) {
      jh = job_health("DiscoveryJob", job.get());
    } else {
      jh.component = "DiscoveryJob";
      jh.state = ComponentState::Pending;
      jh.reason = "JobNotCreated";
      jh.message = "Discovery job not created yet";
      jh.dependency = engine::Dependency::Downstream;
    }
    bool parse_failed = false;
    if (job && job_condition(*job, "Complete")) {
      const Json* succeeded = nullptr;
      for (const auto& p : pods) {
        if (str_field(field(p, "status"), "phase") == "Succeeded") {
          succeeded = &p;
          break;
        }
      }
      std::string error;
      if (succeeded == nullptr) {
        error = "no succeeded discovery pod to read the output from";
      } else {
        auto log = ctx.client->get_raw("/api/v1/namespaces/" + job_ns + "/pods/" +
                                       name_of(*succeeded) + "/log?container=discovery");
        if (!log) {
          error = "reading the discovery log failed: " + log.error().message;
        } else {
          auto parsed = engine::parse_discovery_output(*log);
          if (parsed) {
            output = std::move(*parsed);
          } else {
            error = parsed.error();
          }
        }
      }
      if (!output) {
        parse_failed = true;
        jh = error_health("DiscoveryJob", ErrorCategory::kInvalidSpec, "DiscoveryOutputInvalid",
                          "Discovery produced no usable result: " + error,
                          engine::Dependency::Downstream);
      }
    }
    components.push_back(jh);
    if (job && !job_finished(*job)) {
      engine::PodIssueOptions po;
      po.unschedulable_grace = discovery.unschedulable_grace;
      auto stuck = engine::job_pods_issue(pods, now, po);
      if (stuck.recheck_after && (!requeue || *stuck.recheck_after < *requeue)) {
        requeue = *stuck.recheck_after;
      }
      pod_issue = std::move(stuck.issue);
    }
    if (pod_issue) {
      // Before the reference's pod inspector: a stuck pod gets its own reason (ImagePullFailed,
      // Unschedulable, ...) on DiscoveryPodsReady, Discovered and Ready, and blocks nothing.
      components.push_back(health_without_error("DiscoveryPods", pod_issue->reason,
                                                pod_issue->message, pod_issue->state));
    } else if (!pods.empty()) {
      components.push_back(
          pods_health("DiscoveryPods", pods, [&](const Json& pod, const std::string& container) {
            auto log =
                ctx.client->get_raw("/api/v1/namespaces/" + job_ns + "/pods/" + name_of(pod) +
                                    "/log?container=" + container + "&tailLines=50");
            return log ? *log : std::string();
          }));
    }

    hash = engine::discovery_spec_hash(model ? discovery_naming(scope, tmpl, *model)
                                             : discovery_naming(scope, tmpl, Json::object()));
    if (job) {
      status["discoveryJob"] = {{"name", name_of(*job)}, {"namespace", job_ns}};
      if (job_condition(*job, "Failed") || parse_failed) {
        std::string reason = parse_failed ? jh.message : failure_reason_of(*job);
        ds = engine::record_discovery_failure(
            ds,
            tp(parse_rfc3339(str_field(field(*job, "metadata"), "creationTimestamp")).value_or(0)),
            tp(now), reason, hash);
        status["discovery"] = discovery_state_json(ds);
      }
    }
  }

  // The discovery pod pulls the model image with the model's pull secrets: before its first
  // Job, they must exist in the Job's namespace and be of a type the kubelet reads.
  if (track && !job && model) {
    if (auto pull =
            check_pull_secrets(ctx, job_ns, field(field(*model, "spec"), "imagePullSecrets"),
                               engine::Dependency::Upstream,
                               "spec.imagePullSecrets of " +
                                   std::string(cluster_model ? "AIMClusterModel" : "AIMModel") +
                                   " \"" + model_name + "\""))
      components.push_back(std::move(*pull));
  }

  auto old_conditions = conditions_of(tmpl);
  auto state = engine::derive_state(components, old_conditions);

  // ---- discovery decoration ----
  if (inline_sources) {
    status["modelSources"] = spec["modelSources"];
    Json md = Json::object();
    if (gpu_req && gpu_req->requests > 0) md["gpuCount"] = gpu_req->requests;
    if (gpu_req && !gpu_req->model.empty()) md["gpu"] = gpu_req->model;
    for (const char* k : {"metric", "precision", "type"}) {
      if (!str_field(spec, k).empty()) md[k] = spec[k];
    }
    status["profile"] = {{"metadata", md}};
    Json hw = engine::resolved_hardware(field(spec, "hardware"), std::nullopt);
    set_or_erase(status, "resolvedHardware", hw);
    set_or_erase(status, "hardwareSummary", engine::hardware_summary(hw));
    set_or_erase(status, "resolvedNodeAffinity", engine::gpu_node_affinity(gpu_req, inv));
    status.erase("discovery");
    discovered_cond = make_condition("Discovered", true, "InlineModelSources",
                                     "Model sources provided in-line in spec");
  } else if (discovered) {
    const Json* c = find_condition(tmpl, "Discovered");
    discovered_cond =
        make_condition("Discovered", true, str_field(*c, "reason"), str_field(*c, "message"));
  } else if (output) {
    status["modelSources"] = output->model_sources_json();
    Json profile = output->profile;
    if (!str_field(spec, "type").empty()) profile["metadata"]["type"] = spec["type"];
    status["profile"] = profile;
    Json hw = engine::resolved_hardware(field(spec, "hardware"), output->gpu);
    set_or_erase(status, "resolvedHardware", hw);
    set_or_erase(status, "hardwareSummary", engine::hardware_summary(hw));
    set_or_erase(status, "resolvedNodeAffinity", engine::gpu_node_affinity(gpu_req, inv));
    discovered_cond = make_condition(
        "Discovered", true, "DiscoveryComplete",
        "Discovery found " + std::to_string(output->model_sources.size()) + " model source(s)");
  } else if (pod_issue) {
    discovered_cond = make_condition("Discovered", false, pod_issue->reason,
                                     "Discovery is stuck: " + pod_issue->message);
  } else if (!timeout_message.empty()) {
    discovered_cond = make_condition("Discovered", false, "DiscoveryTimeout", timeout_message);
  } else {
    discovered_cond = make_condition("Discovered", false, "AwaitingDiscovery",
                                     "Waiting for discovery to complete");
  }

  // ---- plan ----
  bool apply_failed = false;
  std::string apply_error;
  if (track && !job && !output && state.should_apply && model_usable && gpu_ok) {
    auto wait = engine::discovery_wait(ds, hash, tp(now));
    if (wait.count() > 0) {
      discovered_cond.message = engine::discovery_wait_message(wait, ds.attempts);
      requeue = wait;
    } else {
      Json desired = discovery_job(scope, tmpl, *model, job_ns, discovery.deadline);
      set_controller_owner(desired, tmpl);
      label_child(desired, tmpl, scope.controller, rc.spec);
      std::string key = kube::object_key(job_ns, name_of(desired));
      bool free = DiscoverySlots::instance().run_if_free(ctx, key, [&] {
        auto live = ctx.cache(kube::types::jobs()).get(job_ns, name_of(desired));
        auto applied = apply_child(ctx, kube::types::jobs(), desired, live.get(), controller_name);
        if (!applied) {
          apply_failed = true;
          apply_error = applied.error().message;
          return false;
        }
        return applied->first == ApplyOutcome::kCreated;
      });
      if (!free) {
        discovered_cond.message = "Waiting for a discovery slot (" +
                                  std::to_string(DiscoverySlots::kLimit) +
                                  " discovery jobs are running)";
        requeue = std::chrono::seconds(5);
      }
    }
  }
  // Template cache of a namespaced template with caching enabled (behavior.md §3.2).
  if (!scope.cluster && state.should_apply && model_usable && gpu_ok &&
      field(field(spec, "caching"), "enabled") == true &&
      (inline_sources || (discovered && state.root == ComponentState::Ready))) {
    bool owned = false;
    for (const auto& c : ctx.cache(types::aim_template_caches()).list(ns)) {
      if (is_controlled_by(*c, tmpl)) owned = true;
    }
    if (!owned) {
      Json cache = {{"apiVersion", types::aim_template_caches().api_version()},
                    {"kind", types::aim_template_caches().kind},
                    {"metadata", {{"name", name_of(tmpl)}, {"namespace", ns}}},
                    {"spec",
                     {{"templateName", name_of(tmpl)},
                      {"templateScope", std::string(api::kScopeNamespace)}}}};
      if (non_empty_array(field(spec["caching"], "env"))) {
        cache["spec"]["env"] = spec["caching"]["env"];
      }
      if (!str_field(spec, "runtimeConfigName").empty()) {
        cache["spec"]["runtimeConfigName"] = spec["runtimeConfigName"];
      }
      set_controller_owner(cache, tmpl);
      label_child(cache, tmpl, scope.controller, rc.spec);
      auto live = ctx.cache(types::aim_template_caches()).get(ns, name_of(tmpl));
      auto applied =
          apply_child(ctx, types::aim_template_caches(), cache, live.get(), controller_name);
      if (!applied) {
        apply_failed = true;
        apply_error = applied.error().message;
      }
    }
  }

  std::vector<engine::Condition> desired = state.conditions;
  if (apply_failed) {
    std::erase_if(desired,
                  [](const engine::Condition& c) { return c.type == "DependenciesReachable"; });
    desired.push_back(make_condition("DependenciesReachable", false, "InfrastructureError",
                                     "Failed to apply resources: " + apply_error));
  }
  desired.push_back(discovered_cond);
  status["status"] = status_string(state.root);
  set_conditions(status, tmpl, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, scope.template_type, tmpl, status);
  emit_condition_events(ctx.events(controller_name), tmpl, old_conditions,
                        conditions_of(Json{{"status", status}}), components);
  if (!written) return fail(kube::ReconcileError(written.error()));
  if (apply_failed) return fail(kube::ReconcileError("apply failed: " + apply_error));
  return finish(state, components, requeue);
}

}  // namespace aim::controllers::catalog
