// The AIMArtifact reconciler (behavior.md §3.7, §4.13 with aim-fetch as the downloader; the
// differences are listed in docs/caching.md).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>

#include "api/constants.h"
#include "controllers/cache/artifact.h"
#include "controllers/cache/cache.h"
#include "controllers/cache/internal.h"
#include "core/chrono.h"
#include "engine/pod_issue.h"
#include "engine/runtime_config.h"
#include "engine/secret_check.h"
#include "fetch/uri.h"
#include "kube/log.h"

namespace aim::controllers {

namespace {

using artifact::DownloadFailure;
using engine::ComponentHealth;
using engine::ComponentState;
using engine::Dependency;

constexpr const char* kController = "aim-artifact-controller";
constexpr const char* kFieldManager = "aim-artifact-controller";

std::string str(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The first of spec.include / spec.exclude that aim-fetch would refuse, as a message that says
// which one and what to fix (the CRD only bounds their length).
std::optional<std::string> bad_file_pattern(const Json& spec) {
  const auto filter = artifact::file_patterns(spec);
  for (const auto& [key, list] :
       {std::pair{"include", &filter.include}, std::pair{"exclude", &filter.exclude}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      if (auto ok = fetch::check_pattern((*list)[i]); !ok.ok())
        return "spec." + std::string(key) + "[" + std::to_string(i) + "]: " + ok.error() +
               ": fix the glob (*, ?, [a-z], a trailing / for a directory; see "
               "docs/aim-fetch.md#selecting-files)";
    }
  }
  return std::nullopt;
}

bool job_condition(const Json& job, const char* type, std::string* ltt = nullptr) {
  for (auto& c : job.value("status", Json::object()).value("conditions", Json::array())) {
    if (str(c, "type") == type && str(c, "status") == "True") {
      if (ltt) *ltt = str(c, "lastTransitionTime");
      return true;
    }
  }
  return false;
}

// The newest terminated state of `container` among the job's pods with the given phase.
struct PodOutcome {
  bool found = false;
  int exit_code = 0;
  std::string message;
  std::string pod;
};
PodOutcome pod_outcome(const std::vector<kube::ObjectPtr>& pods, std::string_view container,
                       std::string_view phase) {
  PodOutcome best;
  std::string best_ts;
  for (auto& p : pods) {
    const Json& st = p->value("status", Json::object());
    if (str(st, "phase") != phase) continue;
    for (auto& cs : st.value("containerStatuses", Json::array())) {
      if (str(cs, "name") != container) continue;
      auto t = cs.value("state", Json::object()).value("terminated", Json::object());
      if (t.empty()) continue;
      std::string ts = str(t, "finishedAt");
      if (best.found && ts < best_ts) continue;
      best = PodOutcome{true, t.value("exitCode", 0), str(t, "message"), name_of(*p)};
      best_ts = ts;
    }
  }
  return best;
}

std::vector<kube::ObjectPtr> pods_of_job(const Context& ctx, const std::string& ns,
                                         const std::string& job) {
  return job_pods(ctx).by_labels({{"job-name", job}}, ns);
}

std::vector<Json> as_values(const std::vector<kube::ObjectPtr>& objects) {
  std::vector<Json> out;
  out.reserve(objects.size());
  for (auto& o : objects) out.push_back(*o);
  return out;
}

// The reason of the Job's Failed condition ("DeadlineExceeded", "BackoffLimitExceeded", ...).
std::string job_failed_reason(const Json& job) {
  for (auto& c : job.value("status", Json::object()).value("conditions", Json::array()))
    if (str(c, "type") == "Failed" && str(c, "status") == "True") return str(c, "reason");
  return {};
}

// Why a failed Job failed: its deadline, an eviction of its last pod, else the exit code of the
// newest failed container (aim-fetch's classes).
DownloadFailure job_failure(const Json& job, const std::vector<kube::ObjectPtr>& pods,
                            std::string_view container) {
  if (job_failed_reason(job) == "DeadlineExceeded")
    return artifact::deadline_failure(std::chrono::seconds(
        job.value("spec", Json::object()).value("activeDeadlineSeconds", int64_t{0})));
  auto newest = engine::job_pods_issue(as_values(pods), 0);
  if (newest.issue && newest.issue->reason == engine::kReasonEvicted)
    return artifact::eviction_failure(newest.issue->message);
  auto out = pod_outcome(pods, container, "Failed");
  return artifact::classify_exit(out.found ? out.exit_code : 1, out.message);
}

// Was the Job made for an older spec of the artifact?
bool job_outdated(const Json& job, const Json& artifact) {
  std::string g = job.value("metadata", Json::object())
                      .value("annotations", Json::object())
                      .value(std::string(artifact::kAnnotationGeneration), std::string());
  int64_t gen = artifact.value("metadata", Json::object()).value("generation", int64_t{0});
  return !g.empty() && g != std::to_string(gen);
}

bool is_commit(const std::string& rev) {
  return rev.size() == 40 && std::all_of(rev.begin(), rev.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

int64_t parse_time(const std::string& rfc3339) {
  return parse_rfc3339(rfc3339).value_or(0);
}

Json condition_json(const Json& object, std::string_view type) {
  for (auto& c : object.value("status", Json::object()).value("conditions", Json::array()))
    if (str(c, "type") == type) return c;
  return Json();
}

// Artifact components are downstream unless said otherwise.
ComponentHealth health(std::string component, ComponentState state, std::string reason,
                       std::string message, Dependency dep = Dependency::Downstream,
                       std::optional<engine::ErrorCategory> error = std::nullopt) {
  return engine::component_health(std::move(component), state, std::move(reason),
                                  std::move(message), dep, error);
}

kube::ResourceType rolebindings() {
  return kube::ResourceType{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
}

Json status_updater_binding(const std::string& ns) {
  const std::string name = "aim-engine-artifact-status-updater";
  return Json{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels", {{std::string(api::kLabelK8sManagedBy), std::string(api::kManagedByEngine)}}}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", name}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "default"}, {"namespace", ns}}}}};
}

ComponentState failed_state(const DownloadFailure& f) {
  return engine::is_infrastructure(f.category) ? ComponentState::Degraded : ComponentState::Failed;
}

// A stuck pod of a running Job as the Job component's health. No error category: the pod is the
// kubelet's to retry, so nothing is blocked, and Ready carries the pod's own reason.
ComponentHealth issue_health(std::string component, const engine::PodIssue& issue,
                             const std::string& prefix = {}) {
  return health(std::move(component), issue.state, issue.reason, prefix + issue.message);
}

class ArtifactReconciler {
 public:
  ArtifactReconciler(const Context& ctx, CacheOptions options)
      : ctx_(ctx), options_(std::move(options)) {}

  kube::ReconcileResult reconcile(const kube::Request& req);

 private:
  // The pods of a running Job: a stuck one (engine/pod_issue.h), or nullopt. An Unschedulable
  // pod inside its grace period arms a requeue for the end of it.
  std::optional<engine::PodIssue> stuck_pod(
      const std::string& ns, const std::string& job,
      const std::function<void(std::chrono::seconds)>& recheck);

  // artifact::storage_problem() for a claim of `request` bytes of class `sc` (unset: the
  // cluster's default StorageClass), from the cached StorageClasses and CSIStorageCapacities.
  std::optional<artifact::StorageProblem> storage_problem(int64_t request, int64_t size,
                                                          std::optional<std::string> sc) const;

  const Context& ctx_;
  CacheOptions options_;
  std::atomic<bool> warned_rbac_{false};
};

std::optional<engine::PodIssue> ArtifactReconciler::stuck_pod(
    const std::string& ns, const std::string& job,
    const std::function<void(std::chrono::seconds)>& recheck) {
  engine::PodIssueOptions o;
  o.unschedulable_grace = options_.unschedulable_grace;
  auto r = engine::job_pods_issue(as_values(pods_of_job(ctx_, ns, job)), ctx_.now(), o);
  if (r.recheck_after) recheck(*r.recheck_after);
  return r.issue;
}

std::optional<artifact::StorageProblem> ArtifactReconciler::storage_problem(
    int64_t request, int64_t size, std::optional<std::string> sc) const {
  if (!sc || sc->empty()) {
    sc.reset();
    for (const auto& c : ctx_.cache(kube::types::storage_classes()).list()) {
      const Json& ann = c->value("metadata", Json::object()).value("annotations", Json());
      if (ann.is_object() &&
          ann.value("storageclass.kubernetes.io/is-default-class", std::string()) == "true")
        sc = name_of(*c);
    }
  }
  std::vector<Json> capacities;
  if (sc)
    for (const auto& c : ctx_.cache(kube::types::csi_storage_capacities()).list())
      if (c->value("storageClassName", std::string()) == *sc) capacities.push_back(*c);
  return artifact::storage_problem(request, size, options_.max_artifact_bytes, sc, capacities);
}

kube::ReconcileResult ArtifactReconciler::reconcile(const kube::Request& req) {
  auto obj_ptr = ctx_.cache(types::aim_artifacts()).get(req.ns, req.name);
  if (!obj_ptr || is_being_deleted(*obj_ptr)) return kube::Action::done();
  if (is_paused(*obj_ptr))
    return report_paused(ctx_, types::aim_artifacts(), *obj_ptr, kController);
  const Json& obj = *obj_ptr;
  const Json spec = obj.value("spec", Json::object());
  const Json old_status = obj.value("status", Json::object());
  const std::string ns = namespace_of(obj), name = name_of(obj), uid = uid_of(obj);
  Json status = old_status.is_object() ? old_status : Json::object();
  std::vector<ComponentHealth> comps;
  std::vector<engine::Condition> extra_conditions;
  std::optional<std::chrono::seconds> requeue;
  auto want_requeue = [&](std::chrono::seconds d) {
    d = std::max(d, std::chrono::seconds(1));
    if (!requeue || d < *requeue) requeue = d;
  };

  // ---- runtime config (upstream) ----
  auto rc = cache_internal::resolve_runtime_config(ctx_, ns, str(spec, "runtimeConfigName"));
  if (rc.outcome == engine::RuntimeConfigOutcome::kNotFound)
    comps.push_back(health("RuntimeConfig", ComponentState::Failed, rc.reason, rc.message,
                           Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
  const Json rc_spec = rc.spec.is_object() ? rc.spec : Json::object();
  const Json rc_env = rc_spec.value("env", Json::array());

  // ---- downloader (custom scheme or downloaderRef) ----
  Json downloaders = Json::array();
  for (auto& d : ctx_.cache(types::aim_cluster_artifact_downloaders()).list())
    downloaders.push_back(*d);
  auto choice = artifact::choose_downloader(spec, downloaders);
  if (!choice.error.empty())
    comps.push_back(health("Downloader", ComponentState::Failed, "DownloaderNotFound", choice.error,
                           Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
  // A URI of a built-in scheme is checked by aim-fetch's own rules before any claim or Job: a
  // repo id the downloader would refuse (percent-encoding, a '..' segment) fails here instead.
  if (!choice.downloader.is_object() && choice.error.empty()) {
    if (auto parsed = fetch::parse_source_uri(str(spec, "sourceUri")); !parsed.ok())
      comps.push_back(
          health("SourceUri", ComponentState::Failed, "InvalidSourceUri",
                 "spec.sourceUri: " + parsed.error() +
                     ": fix the URI (hf://org/model[/path][@revision], s3://bucket[/prefix], "
                     "ngc://org/[team/]model[:version] or https://host/path)",
                 Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  }

  const bool ready_before = str(old_status, "status") == api::kStatusReady;

  // ---- credentials Secret (upstream; read only while not Ready) ----
  if (!ready_before && spec.contains("credentialsSecretRef")) {
    std::string secret = str(spec["credentialsSecretRef"], "name");
    if (!secret.empty()) {
      // From the watched Secret metadata: creating the Secret reconciles this artifact at once.
      if (!secret_names(ctx_).get(ns, secret)) {
        comps.push_back(health("CredentialsSecret", ComponentState::Failed,
                               std::string(api::kReasonReferenceNotFound),
                               "credentials Secret \"" + secret + "\" not found in namespace \"" +
                                   ns + "\": create it, or fix spec.credentialsSecretRef.name",
                               Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
      } else if (!choice.downloader.is_object()) {
        // aim-fetch reads fixed variables per scheme: check the keys (never the values) once
        // per reconcile while not Ready. Editing the Secret reconciles through its metadata.
        const std::string uri = str(spec, "sourceUri");
        const auto sep = uri.find("://");
        auto got = ctx_.client->get(kube::types::secrets(), ns, secret);
        if (!got && !got.error().is(kube::ErrorCode::kNotFound)) {
          comps.push_back(health(
              "CredentialsSecret", ComponentState::Degraded, "SecretAccessFailed",
              "credentials Secret \"" + secret + "\" could not be read: " + got.error().message,
              Dependency::Upstream, engine::ErrorCategory::kInfrastructure));
        } else if (got && sep != std::string::npos) {
          if (auto p = engine::check_credentials_secret(*got, uri.substr(0, sep)))
            comps.push_back(health("CredentialsSecret", ComponentState::Failed, p->reason,
                                   p->message, Dependency::Upstream,
                                   engine::ErrorCategory::kInvalidSpec));
        }
      }
    }
  }

  // ---- image pull secrets of the Jobs' pods (read only while not Ready) ----
  if (!ready_before) {
    auto pull = check_pull_secrets(ctx_, ns, spec.value("imagePullSecrets", Json::array()),
                                   Dependency::Upstream);
    if (!pull && choice.downloader.is_object())
      pull = check_pull_secrets(
          ctx_, ns,
          choice.downloader.value("spec", Json::object()).value("imagePullSecrets", Json()),
          Dependency::Upstream,
          "the imagePullSecrets of AIMClusterArtifactDownloader \"" + name_of(choice.downloader) +
              "\"");
    if (pull) comps.push_back(std::move(*pull));
  }

  // ---- include / exclude: a glob the downloader would refuse fails here, before any Job ----
  if (auto bad = bad_file_pattern(spec))
    comps.push_back(health("FilePatterns", ComponentState::Failed, "InvalidFilePattern", *bad,
                           Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));

  // ---- revision: a recorded commit wins, so a pinned artifact never drifts ----
  // A commit in spec.revision is used as is; a branch or tag resolves once.
  std::string revision = str(spec, "revision");
  if (!is_commit(revision) && !str(old_status, "resolvedRevision").empty())
    revision = str(old_status, "resolvedRevision");
  const int64_t generation = obj.value("metadata", Json::object()).value("generation", int64_t{0});

  // ---- size ----
  int64_t size = 0;
  if (spec.contains("size") && !spec["size"].is_null()) {
    // Admission bounds it (0 to 1Pi); a cluster with older CRDs still gets a precise refusal
    // instead of a silently ignored size.
    if (auto b = artifact::quantity_bytes(spec["size"]))
      size = *b;
    else
      comps.push_back(health("Size", ComponentState::Failed, "InvalidSize",
                             "spec.size " + spec["size"].dump() +
                                 " is not a non-negative quantity: write it as e.g. 15Gi, or "
                                 "leave it out to have the size checked",
                             Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  }
  if (size == 0 && old_status.contains("discoveredSizeBytes") &&
      old_status["discoveredSizeBytes"].is_number_integer())
    size = old_status["discoveredSizeBytes"].get<int64_t>();
  const bool upstream_ok = comps.empty();

  if (size == 0 && choice.downloader.is_object()) {
    comps.push_back(health("CheckSizeJob", ComponentState::Failed, "SizeRequired",
                           "A custom downloader needs spec.size (there is no size check for it)",
                           Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  } else if (size == 0 && upstream_ok) {
    std::string job_name = artifact::check_size_job_name(name, uid);
    auto job = ctx_.cache(kube::types::jobs()).get(ns, job_name);
    std::string failed_at;
    if (!job) {
      artifact::JobInput in{obj, rc_env, Json(), job_name, "", 0, revision, 1, generation};
      Json desired = artifact::check_size_job(in, options_);
      label_child(desired, obj, "artifact", rc_spec);
      set_controller_owner(desired, obj);
      auto created = create_child(ctx_, kube::types::jobs(), desired);
      if (!created.ok()) return cache_internal::create_failed(ctx_, ns, created.error());
      comps.push_back(health("CheckSizeJob", ComponentState::Progressing, "CheckingSize",
                             "Checking the size of the source"));
    } else if (job_condition(*job, "Complete")) {
      auto pods = pods_of_job(ctx_, ns, job_name);
      auto out = pod_outcome(pods, artifact::kCheckSizeContainer, "Succeeded");
      std::optional<artifact::SizeResult> parsed;
      if (out.found) parsed = artifact::parse_size_output(out.message);
      if (!parsed && out.found) {
        auto log = ctx_.client->get_raw("/api/v1/namespaces/" + ns + "/pods/" + out.pod +
                                        "/log?container=check-size&tailLines=1");
        if (log.ok()) parsed = artifact::parse_size_output(log.value());
      }
      if (parsed) {
        size = parsed->size_bytes;
        status["discoveredSizeBytes"] = size;
        if (!parsed->revision.empty() && str(old_status, "resolvedRevision").empty()) {
          status["resolvedRevision"] = parsed->revision;
          revision = parsed->revision;
        }
      } else {
        comps.push_back(health("CheckSizeOutput", ComponentState::Failed, "InvalidSizeOutput",
                               "The size check did not print {\"sizeBytes\": N}",
                               Dependency::Unspecified, engine::ErrorCategory::kUnknown));
      }
    } else if (job_condition(*job, "Failed", &failed_at)) {
      auto f = job_failure(*job, pods_of_job(ctx_, ns, job_name), artifact::kCheckSizeContainer);
      comps.push_back(health("CheckSizeJob", failed_state(f), f.reason, "Size check: " + f.message,
                             Dependency::Downstream, f.category));
      auto retry_at =
          parse_time(failed_at) + artifact::retry_delay(1, f.transient, options_).count();
      if (ctx_.now() >= retry_at || job_outdated(*job, obj)) {
        kube::DeleteOptions del;
        del.propagation_policy = "Background";
        auto r = ctx_.client->remove(kube::types::jobs(), ns, job_name, del);
        if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
          return aim::fail(kube::ReconcileError(r.error()));
      } else {
        want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
      }
    } else if (auto issue = stuck_pod(ns, job_name, want_requeue)) {
      comps.push_back(issue_health("CheckSizeJob", *issue, "Size check: "));
    } else {
      comps.push_back(health("CheckSizeJob", ComponentState::Progressing, "CheckingSize",
                             "Checking the size of the source"));
    }
  }

  if (size > 0) status["displaySize"] = artifact::display_size(size);

  // ---- PVC ----
  bool pvc_exists = false;
  std::string pvc_name = str(spec, "existingClaimName");
  const bool reuse = !pvc_name.empty();
  if (!reuse) pvc_name = artifact::pvc_name(name, uid);
  if (size > 0 && upstream_ok) {
    // The operator caches only the claims it made; a reused claim is the user's and is read
    // from the API server (and rechecked by timer until it is bound, since no watch sees it).
    kube::ObjectPtr pvc;
    if (reuse) {
      auto got = ctx_.client->get(kube::types::persistent_volume_claims(), ns, pvc_name);
      if (got.ok())
        pvc = std::make_shared<const Json>(std::move(got).value());
      else if (!got.error().is(kube::ErrorCode::kNotFound))
        return cache_internal::create_failed(ctx_, ns, got.error());
    } else {
      pvc = ctx_.cache(kube::types::persistent_volume_claims()).get(ns, pvc_name);
    }
    int headroom = engine::runtime_pvc_headroom_percent(rc_spec);
    if (!pvc && reuse) {
      comps.push_back(health("CachePvc", ComponentState::Failed, "ReferenceNotFound",
                             "PersistentVolumeClaim " + pvc_name + " (existingClaimName) not found",
                             Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
      want_requeue(std::chrono::seconds(30));  // claims we do not own are not mapped back
    } else if (!pvc) {
      auto sc = spec.contains("storageClassName") && !str(spec, "storageClassName").empty()
                    ? std::optional<std::string>(str(spec, "storageClassName"))
                    : engine::runtime_storage_class(rc_spec);
      const int64_t request = artifact::pvc_request_bytes(size, headroom);
      if (auto problem = storage_problem(request, size, sc)) {
        // Known not to fit: no claim that would stay Pending. A change of the artifact, the
        // StorageClass or its CSIStorageCapacity reconciles again.
        comps.push_back(problem->policy
                            ? health("CachePvc", ComponentState::Failed, problem->reason,
                                     problem->message, Dependency::Upstream,
                                     engine::ErrorCategory::kInvalidSpec)
                            : health("CachePvc", ComponentState::NotAvailable, problem->reason,
                                     problem->message, Dependency::Upstream));
      } else {
        // A claim binds a volume at once, so it is made only for an artifact the API server
        // still has. The artifact and claim caches are separate watches: a reconcile can see a
        // deleted artifact after the garbage collector removed its claim, and re-creating that
        // claim took the static volume meant for the artifact's successor.
        auto current = ctx_.client->get(types::aim_artifacts(), ns, name);
        if (!current.ok() && current.error().is(kube::ErrorCode::kNotFound))
          return kube::Action::done();
        if (!current.ok()) return cache_internal::create_failed(ctx_, ns, current.error());
        if (uid_of(*current) != uid) return kube::Action::done();  // replaced: its own event
        Json desired = artifact::cache_pvc(obj, pvc_name, request, sc);
        label_child(desired, obj, "artifact", rc_spec);
        set_controller_owner(desired, obj);
        auto created = create_child(ctx_, kube::types::persistent_volume_claims(), desired);
        if (!created.ok()) return cache_internal::create_failed(ctx_, ns, created.error());
        pvc_exists = true;
        comps.push_back(health("CachePvc", ComponentState::Progressing, "PvcCreated",
                               "PersistentVolumeClaim " + pvc_name + " created"));
      }
    } else {
      pvc_exists = true;
      std::string phase = str(pvc->value("status", Json::object()), "phase");
      if (phase == "Lost")
        comps.push_back(health("CachePvc", ComponentState::Failed, "PvcLost",
                               "PersistentVolumeClaim " + pvc_name + " lost its volume",
                               Dependency::Downstream, engine::ErrorCategory::kInfrastructure));
      else if (phase == "Bound")
        comps.push_back(health("CachePvc", ComponentState::Ready, "PvcBound",
                               "PersistentVolumeClaim " + pvc_name + " is bound"));
      else
        comps.push_back(health("CachePvc", ComponentState::Progressing, "PvcPending",
                               "PersistentVolumeClaim " + pvc_name +
                                   " is waiting for a volume (or for its first consumer)"));
      if (reuse && phase != "Bound") want_requeue(std::chrono::seconds(30));
      if (!status.contains("allocatedSize") || status["allocatedSize"].is_null()) {
        Json req = pvc->value("spec", Json::object())
                       .value("resources", Json::object())
                       .value("requests", Json::object())
                       .value("storage", Json());
        if (!req.is_null()) {
          status["allocatedSize"] = req;
          if (!reuse) status["headroomPercent"] = headroom;
        }
      }
      status["persistentVolumeClaim"] = pvc_name;
    }
  }

  // ---- download Job ----
  const std::string job_name = artifact::download_job_name(name, uid);
  int attempt = old_status.value("download", Json::object()).value("attempt", 0);
  const Json old_dc = condition_json(obj, api::kConditionDownloadComplete);
  auto dc = [&](const char* st, std::string reason, std::string message) {
    extra_conditions.push_back(engine::Condition{std::string(api::kConditionDownloadComplete),
                                                 st,
                                                 std::move(reason),
                                                 std::move(message),
                                                 "",
                                                 {}});
  };
  auto job = ctx_.cache(kube::types::jobs()).get(ns, job_name);
  const bool verified = ready_before && str(old_dc, "reason") == "Verified";
  if (verified && !job) {
    dc("True", "Verified", "Download and verification complete");
  } else if (job) {
    status["downloadJobName"] = job_name;
    // The Job says which attempt it is. The status write that recorded it may have lost a
    // conflict after the Job was created; the next reconcile puts it back from here.
    const std::string job_attempt = job->value("metadata", Json::object())
                                        .value("annotations", Json::object())
                                        .value(std::string(artifact::kAnnotationAttempt), "");
    if (int n = std::atoi(job_attempt.c_str()); n > 0 && n != attempt) {
      attempt = n;
      Json& d = status["download"];
      if (!d.is_object()) d = Json::object();
      d["attempt"] = n;
    }
    std::string failed_at;
    if (job_condition(*job, "Complete")) {
      dc("True", "Verified", "Download and verification complete");
      comps.push_back(health("DownloadJob", ComponentState::Ready, "Verified",
                             "Download and verification complete"));
      std::string done = str(job->value("status", Json::object()), "completionTime");
      if (!done.empty()) status["lastDownloadTime"] = done;
      Json& p = status["progress"];
      if (!p.is_object()) p = Json::object();
      int64_t total = p.value("totalBytes", int64_t{0});
      if (total <= 0) total = size;
      p["totalBytes"] = total;
      p["downloadedBytes"] = total;
      p["percentage"] = 100;
      p["displayPercentage"] = "100 %";
      p["etaSeconds"] = 0;
      if (status.contains("download") && status["download"].is_object())
        status["download"]["message"] = "Complete";
    } else if (job_condition(*job, "Failed", &failed_at)) {
      auto f = job_failure(*job, pods_of_job(ctx_, ns, job_name), artifact::kDownloadContainer);
      if (status["progress"].is_object()) status["progress"]["displayPercentage"] = "N/A";
      auto retry_at = parse_time(failed_at) +
                      artifact::retry_delay(std::max(attempt, 1), f.transient, options_).count();
      const bool outdated = job_outdated(*job, obj);
      if (ctx_.now() >= retry_at || outdated) {
        // Retry now: the failed Job goes, the next reconcile creates the next attempt.
        kube::DeleteOptions del;
        del.propagation_policy = "Background";
        auto r = ctx_.client->remove(kube::types::jobs(), ns, job_name, del);
        if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
          return aim::fail(kube::ReconcileError(r.error()));
        std::string why = outdated ? "the spec changed" : f.reason;
        dc("False", "Retrying", "Retrying the download (" + why + ")");
        comps.push_back(health("DownloadJob", ComponentState::Progressing, "Retrying",
                               "Retrying the download after: " + f.message));
      } else {
        dc("False", f.reason, f.message);
        comps.push_back(health("DownloadJob", failed_state(f), f.reason, f.message,
                               Dependency::Downstream, f.category));
        want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
      }
    } else if (auto issue = stuck_pod(ns, job_name, want_requeue)) {
      dc("False", issue->reason, issue->message);
      comps.push_back(issue_health("DownloadJob", *issue));
    } else {
      int pct = status.value("progress", Json::object()).value("percentage", 0);
      if (pct >= 100)
        dc("False", "Verifying", "Download complete, verifying integrity...");
      else
        dc("False", "Downloading", "Download in progress");
      comps.push_back(health("DownloadJob", ComponentState::Progressing, "Downloading",
                             "Download in progress"));
    }
  } else if (size > 0 && pvc_exists && upstream_ok) {
    // No job: the first attempt, or a retry once the backoff after the last failure is over.
    bool waiting = false;
    if (!old_dc.is_null() && str(old_dc, "status") == "False" &&
        artifact::is_failure_reason(str(old_dc, "reason")) && attempt > 0) {
      auto f = artifact::classify_exit(0, "");
      f.transient = !(
          str(old_dc, "reason") == "AuthFailed" || str(old_dc, "reason") == "ModelNotFound" ||
          str(old_dc, "reason") == "UnsafePath" || str(old_dc, "reason") == "InvalidDownloadSpec");
      auto retry_at = parse_time(str(old_dc, "lastTransitionTime")) +
                      artifact::retry_delay(attempt, f.transient, options_).count();
      if (ctx_.now() < retry_at) {
        waiting = true;
        dc("False", str(old_dc, "reason"), str(old_dc, "message"));
        comps.push_back(health(
            "DownloadJob", ComponentState::Degraded, str(old_dc, "reason"),
            str(old_dc, "message") + "; retrying in " + std::to_string(retry_at - ctx_.now()) + "s",
            Dependency::Downstream, engine::ErrorCategory::kInfrastructure));
        want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
      }
    }
    if (!waiting) {
      // The download pod (service account `default`) patches this artifact's status: bind it
      // to the ClusterRole the deployment installs (behavior.md §4.13; unowned, made once per
      // Job creation, an existing one is left alone).
      auto rb = ctx_.client->create(rolebindings(), status_updater_binding(ns));
      if (!rb.ok() && !rb.error().is(kube::ErrorCode::kAlreadyExists) && !warned_rbac_) {
        warned_rbac_ = true;
        kube::log::Logger("controller.aimartifact")
            .warn(
                "cannot create the RoleBinding aim-engine-artifact-status-updater; download "
                "progress will not reach the status",
                {{"namespace", ns}, {"error", rb.error().describe()}});
      }
      artifact::JobInput in{obj,  rc_env,   choice.downloader, job_name,  pvc_name,
                            size, revision, attempt + 1,       generation};
      Json desired = artifact::download_job(in, options_);
      label_child(desired, obj, "artifact", rc_spec);
      set_controller_owner(desired, obj);
      auto created = create_child(ctx_, kube::types::jobs(), desired);
      if (!created.ok()) return cache_internal::create_failed(ctx_, ns, created.error());
      if (created.value()) {
        Json& d = status["download"];
        if (!d.is_object()) d = Json::object();
        d["attempt"] = attempt + 1;
        d["message"] = "Download job created";
        status["downloadJobName"] = job_name;
      }
      dc("False", "Downloading", "Download in progress");
      comps.push_back(health("DownloadJob", ComponentState::Progressing, "JobCreated",
                             "Download job " + job_name + " created"));
    }
  }

  // ---- status ----
  status["mode"] = obj.value("metadata", Json::object()).contains("ownerReferences") &&
                           !obj["metadata"]["ownerReferences"].empty()
                       ? api::kCachingDedicated
                       : api::kCachingShared;
  auto old_conditions = conditions_of(obj);
  auto state = engine::derive_state(comps, old_conditions);
  std::string root = engine::to_string(state.root);
  // Ready only after verification.
  bool is_verified = false;
  for (auto& c : extra_conditions)
    if (c.type == api::kConditionDownloadComplete && c.status == "True") is_verified = true;
  if (root == api::kStatusReady && !is_verified) root = std::string(api::kStatusProgressing);
  status["status"] = root;
  auto conditions = state.conditions;
  for (auto& c : extra_conditions) conditions.push_back(c);
  if (!is_verified)
    for (auto& c : conditions)
      if (c.type == api::kConditionReady && c.status == "True") {
        c.status = "False";
        c.reason = "Downloading";
        c.message = "Waiting for the download to be verified";
      }
  set_conditions(status, obj, conditions, ctx_.now_rfc3339());
  if (obj.value("metadata", Json::object()).contains("generation"))
    status["observedGeneration"] = obj["metadata"]["generation"];
  auto written = write_status(ctx_, types::aim_artifacts(), obj, status);
  if (!written.ok()) return aim::fail(kube::ReconcileError(written.error()));
  if (written.value())
    emit_condition_events(ctx_.events(kController), obj, old_conditions,
                          conditions_of(Json{{"status", status}}), comps);

  if (requeue) return kube::Action::requeue_after(*requeue);
  if (root == api::kStatusProgressing) return kube::Action::requeue_after(std::chrono::seconds(10));
  return kube::Action::done();
}

}  // namespace

kube::ReconcileResult reconcile_artifact(const Context& ctx, const CacheOptions& options,
                                         const kube::Request& req) {
  ArtifactReconciler r(ctx, options);
  return r.reconcile(req);
}

void register_artifact_controller(kube::Manager& mgr, const Context& ctx,
                                  const CacheOptions& options) {
  auto reconciler = std::make_shared<ArtifactReconciler>(ctx, options);
  auto by_cache_label = [](const Json& o) {
    std::vector<kube::Request> out;
    std::string a = label(o, api::kLabelCacheName);
    if (!a.empty()) out.push_back(kube::Request{namespace_of(o), a});
    return out;
  };
  auto all_in_namespace = [&ctx](const Json& o) {
    std::vector<kube::Request> out;
    for (auto& a : ctx.cache(types::aim_artifacts()).list(namespace_of(o)))
      out.push_back(kube::Request{namespace_of(*a), name_of(*a)});
    return out;
  };
  auto all = [&ctx](const Json&) {
    std::vector<kube::Request> out;
    for (auto& a : ctx.cache(types::aim_artifacts()).list())
      out.push_back(kube::Request{namespace_of(*a), name_of(*a)});
    return out;
  };
  // Storage that changed: the artifacts whose claim did not fit the StorageClass.
  auto waiting_for_storage = [&ctx](const Json&) {
    std::vector<kube::Request> out;
    for (auto& a : ctx.cache(types::aim_artifacts()).list()) {
      const Json pvc = condition_json(*a, "CachePvcReady");
      if (pvc.is_object() && str(pvc, "reason") == "InsufficientStorage")
        out.push_back(kube::Request{namespace_of(*a), name_of(*a)});
    }
    return out;
  };
  // The artifacts of the Secret's namespace that name it as their credentials or pull secret.
  auto by_secret = [&ctx](const Json& s) {
    std::vector<kube::Request> out;
    for (auto& a : ctx.cache(types::aim_artifacts()).list(namespace_of(s))) {
      const Json spec = a->value("spec", Json::object());
      const Json& ref = spec.value("credentialsSecretRef", Json());
      auto pulls = pull_secret_names(spec.value("imagePullSecrets", Json()));
      bool named = (ref.is_object() && ref.value("name", std::string()) == name_of(s)) ||
                   std::find(pulls.begin(), pulls.end(), name_of(s)) != pulls.end();
      // A downloader's pull secret: the artifacts that reported one missing or unusable.
      bool pull_failed = false;
      for (const auto& c : a->value("status", Json::object()).value("conditions", Json::array()))
        if (c.is_object() && c.value("type", "") == "ImagePullSecretReady") pull_failed = true;
      if (named || pull_failed) out.push_back(kube::Request{namespace_of(*a), name_of(*a)});
    }
    return out;
  };
  mgr.controller("aimartifact")
      .for_type(types::aim_artifacts())
      .owns(kube::types::jobs())
      .owns(kube::types::persistent_volume_claims())
      .watches(kube::types::pods(), job_pods_selector(), by_cache_label)
      .watches(types::aim_runtime_configs(), all_in_namespace)
      .watches(types::aim_cluster_runtime_configs(), all)
      .watches(types::aim_cluster_artifact_downloaders(), all)
      .watches(kube::types::secrets(), secret_names_selector(), by_secret)
      .watches(kube::types::storage_classes(), waiting_for_storage)
      .watches(kube::types::csi_storage_capacities(), waiting_for_storage)
      .max_concurrent_reconciles(2)
      .complete([reconciler](const kube::Request& r) { return reconciler->reconcile(r); });
}

}  // namespace aim::controllers
