// The AIMArtifact reconciler (behavior.md §3.7, §4.13 with aim-fetch as the downloader; the
// differences are listed in docs/caching.md).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>

#include "api/artifact.h"
#include "api/artifact_downloader.h"
#include "api/constants.h"
#include "api/k8s_views.h"
#include "api/runtime_config.h"
#include "controllers/cache/artifact.h"
#include "controllers/cache/cache.h"
#include "controllers/cache/internal.h"
#include "controllers/typed.h"
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

// The first of spec.include / spec.exclude that aim-fetch would refuse, as a message that says
// which one and what to fix (the CRD only bounds their length).
std::optional<std::string> bad_file_pattern(const api::AIMArtifactSpec& spec) {
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
  for (const auto& p : typed_list<api::Pod>(pods)) {
    if (p->status.phase.value_or(std::string()) != phase || !p->status.container_statuses) continue;
    for (const auto& cs : *p->status.container_statuses) {
      if (cs.name != container || !cs.state || !cs.state->terminated) continue;
      const auto& t = *cs.state->terminated;
      std::string ts = t.finished_at.value_or(std::string());
      if (best.found && ts < best_ts) continue;
      best = PodOutcome{true, t.exit_code, t.message.value_or(std::string()), name_of(p->metadata)};
      best_ts = ts;
    }
  }
  return best;
}

std::vector<kube::ObjectPtr> pods_of_job(const Context& ctx, const std::string& ns,
                                         const std::string& job) {
  return job_pods(ctx).by_labels({{"job-name", job}}, ns);
}

// Why a failed Job failed: its deadline, an eviction of its last pod, else the exit code of the
// newest failed container (aim-fetch's classes).
DownloadFailure job_failure(const api::Job& job, const std::vector<kube::ObjectPtr>& pods,
                            std::string_view container) {
  const api::Condition* failed = api::true_condition(job, "Failed");
  if (failed && failed->reason == "DeadlineExceeded")
    return artifact::deadline_failure(
        std::chrono::seconds(job.spec.active_deadline_seconds.value_or(0)));
  auto newest = engine::job_pods_issue(as_values(pods), 0);
  if (newest.issue && newest.issue->reason == engine::kReasonEvicted)
    return artifact::eviction_failure(newest.issue->message);
  auto out = pod_outcome(pods, container, "Failed");
  return artifact::classify_exit(out.found ? out.exit_code : 1, out.message);
}

// Was the Job made for an older spec of the artifact?
bool job_outdated(const api::Job& job, const api::AIMArtifact& artifact) {
  std::string g = api::annotation(job.metadata, artifact::kAnnotationGeneration);
  return !g.empty() && g != std::to_string(artifact.metadata.generation.value_or(0));
}

bool is_commit(const std::string& rev) {
  return rev.size() == 40 && std::all_of(rev.begin(), rev.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c));
         });
}

int64_t parse_time(const std::string& rfc3339) {
  return parse_rfc3339(rfc3339).value_or(0);
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
  api::RoleBinding binding;
  binding.metadata.name = name;
  binding.metadata.namespace_ = ns;
  binding.metadata.labels =
      api::StringMap{{std::string(api::kLabelK8sManagedBy), std::string(api::kManagedByEngine)}};
  binding.role_ref = api::RoleRef{"rbac.authorization.k8s.io", "ClusterRole", name, {}};
  binding.subjects = {api::Subject{"ServiceAccount", "default", ns, std::nullopt, {}}};
  return api::encode(binding);
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

// One reconcile of one artifact: what the stages read and what they decide. The stages run in
// order (upstream checks, size, claim, download, status); each adds component health, may ask
// for a requeue, and builds `status` from the old status.
struct ArtifactRun {
  Cached<api::AIMArtifact> artifact;
  std::string ns, name, uid;
  api::AIMArtifactStatus status;  // the new status without its conditions
  std::vector<ComponentHealth> comps;
  std::vector<engine::Condition> extra_conditions;  // DownloadComplete
  std::optional<std::chrono::seconds> requeue;
  engine::ResolvedRuntimeConfig rc;
  Json rc_spec = Json::object();
  Json rc_env = Json::array();
  artifact::DownloaderChoice choice;
  bool ready_before = false;
  std::string revision;
  int64_t generation = 0;
  int64_t size = 0;
  bool upstream_ok = false;
  std::string pvc_name;
  bool reuse = false;
  bool pvc_exists = false;

  const api::AIMArtifactSpec& spec() const { return artifact->spec; }
  const api::AIMArtifactStatus& old_status() const { return artifact->status; }
  const Json& raw() const { return *artifact.raw; }
  bool custom_downloader() const { return choice.downloader.has_value(); }
  void want_requeue(std::chrono::seconds d) {
    d = std::max(d, std::chrono::seconds(1));
    if (!requeue || d < *requeue) requeue = d;
  }
  void download_complete(const char* st, std::string reason, std::string message) {
    extra_conditions.push_back(engine::Condition{std::string(api::kConditionDownloadComplete),
                                                 st,
                                                 std::move(reason),
                                                 std::move(message),
                                                 "",
                                                 {}});
  }
  api::DownloadState& download() {
    if (!status.download) status.download = api::DownloadState{};
    return *status.download;
  }
};

// Set when a stage ends the reconcile early (a failed create, an artifact gone).
using Stop = std::optional<kube::ReconcileResult>;

class ArtifactReconciler {
 public:
  ArtifactReconciler(const Context& ctx, CacheOptions options)
      : ctx_(ctx), options_(std::move(options)) {}

  kube::ReconcileResult reconcile(const kube::Request& req);

 private:
  // Stages, in the order reconcile() runs them.
  void check_upstream(ArtifactRun& run);
  void check_credentials(ArtifactRun& run);
  void resolve_size(ArtifactRun& run);
  Stop check_size(ArtifactRun& run);
  Stop converge_claim(ArtifactRun& run);
  Stop create_claim(ArtifactRun& run, int headroom);
  void observe_claim(ArtifactRun& run, const api::PersistentVolumeClaim& pvc, int headroom);
  Stop converge_download(ArtifactRun& run);
  Stop follow_download_job(ArtifactRun& run, const api::Job& job, const std::string& job_name);
  Stop start_download(ArtifactRun& run, const std::string& job_name);
  kube::ReconcileResult write(ArtifactRun& run);

  // The pods of a running Job: a stuck one (engine/pod_issue.h), or nullopt. An Unschedulable
  // pod inside its grace period arms a requeue for the end of it.
  std::optional<engine::PodIssue> stuck_pod(ArtifactRun& run, const std::string& job);

  // artifact::storage_problem() for a claim of `request` bytes of class `sc` (unset: the
  // cluster's default StorageClass), from the cached StorageClasses and CSIStorageCapacities.
  std::optional<artifact::StorageProblem> storage_problem(int64_t request, int64_t size,
                                                          std::optional<std::string> sc) const;

  const Context& ctx_;
  CacheOptions options_;
  std::atomic<bool> warned_rbac_{false};
};

std::optional<engine::PodIssue> ArtifactReconciler::stuck_pod(ArtifactRun& run,
                                                              const std::string& job) {
  engine::PodIssueOptions o;
  o.unschedulable_grace = options_.unschedulable_grace;
  auto r = engine::job_pods_issue(as_values(pods_of_job(ctx_, run.ns, job)), ctx_.now(), o);
  if (r.recheck_after) run.want_requeue(*r.recheck_after);
  return r.issue;
}

std::optional<artifact::StorageProblem> ArtifactReconciler::storage_problem(
    int64_t request, int64_t size, std::optional<std::string> sc) const {
  if (!sc || sc->empty()) {
    sc.reset();
    for (const auto& c : ctx_.cache(kube::types::storage_classes()).list()) {
      auto head = api::decode<api::ObjectHead>(*c);
      if (head && api::annotation(head.value->metadata,
                                  "storageclass.kubernetes.io/is-default-class") == "true")
        sc = name_of(head.value->metadata);
    }
  }
  std::vector<api::CSIStorageCapacity> capacities;
  if (sc)
    for (const auto& c : ctx_.cache(kube::types::csi_storage_capacities()).list()) {
      auto cap = api::decode<api::CSIStorageCapacity>(*c);
      if (cap && cap.value->storage_class_name == *sc) capacities.push_back(std::move(*cap.value));
    }
  return artifact::storage_problem(request, size, options_.max_artifact_bytes, sc, capacities);
}

// ---- upstream: runtime config, downloader, URI, secrets, file patterns ----
void ArtifactReconciler::check_upstream(ArtifactRun& run) {
  run.rc =
      resolve_runtime_config(ctx_, run.ns, run.spec().runtime_config_name.value_or(std::string()));
  if (run.rc.outcome == engine::RuntimeConfigOutcome::kNotFound)
    run.comps.push_back(health("RuntimeConfig", ComponentState::Failed, run.rc.reason,
                               run.rc.message, Dependency::Upstream,
                               engine::ErrorCategory::kMissingUpstream));
  if (run.rc.spec.is_object()) {
    run.rc_spec = run.rc.spec;
    auto rc = api::decode<api::AIMRuntimeConfigSpec>(run.rc_spec);
    if (rc && rc.value->env) run.rc_env = api::encode(*rc.value->env);
  }

  // Downloader: a custom scheme or spec.downloaderRef.
  std::vector<api::AIMClusterArtifactDownloader> downloaders;
  for (auto& d : typed_list<api::AIMClusterArtifactDownloader>(
           ctx_.cache(types::aim_cluster_artifact_downloaders()).list()))
    downloaders.push_back(std::move(d.typed));
  run.choice = artifact::choose_downloader(run.spec(), downloaders);
  if (!run.choice.error.empty())
    run.comps.push_back(health("Downloader", ComponentState::Failed, "DownloaderNotFound",
                               run.choice.error, Dependency::Upstream,
                               engine::ErrorCategory::kMissingUpstream));
  // Credentials in the URI would be copied into the Job's arguments: refused for every source
  // (the CRD refuses them at admission; this catches objects stored before that rule). The
  // message names the part, never its value.
  if (auto part = fetch::credential_in_uri(run.spec().source_uri))
    run.comps.push_back(
        health("SourceUri", ComponentState::Failed, "InvalidSourceUri",
               "spec.sourceUri holds a credential (" + *part +
                   "), which would be copied into the download Job and the status: write the URI "
                   "without it and put it in the Secret named by spec.credentialsSecretRef "
                   "(HTTPS_TOKEN for a bearer token, AIM_SIGNED_URL for the whole signed URL)",
               Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  // A URI of a built-in scheme is checked by aim-fetch's own rules before any claim or Job: a
  // repo id the downloader would refuse (percent-encoding, a '..' segment) fails here instead.
  if (!run.custom_downloader() && run.choice.error.empty()) {
    if (auto parsed = fetch::parse_source_uri(run.spec().source_uri); !parsed.ok())
      run.comps.push_back(
          health("SourceUri", ComponentState::Failed, "InvalidSourceUri",
                 "spec.sourceUri: " + parsed.error() +
                     ": fix the URI (hf://org/model[/path][@revision], s3://bucket[/prefix], "
                     "ngc://org/[team/]model[:version] or https://host/path)",
                 Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  }

  // Secrets are read only while not Ready.
  if (!run.ready_before) {
    check_credentials(run);
    auto pull = check_pull_secrets(ctx_, run.ns, pull_secret_names(run.spec().image_pull_secrets),
                                   Dependency::Upstream);
    if (!pull && run.custom_downloader()) {
      const auto& dl = *run.choice.downloader;
      pull = check_pull_secrets(
          ctx_, run.ns, pull_secret_names(dl.spec.image_pull_secrets), Dependency::Upstream,
          "the imagePullSecrets of AIMClusterArtifactDownloader \"" + name_of(dl.metadata) + "\"");
    }
    if (pull) run.comps.push_back(std::move(*pull));
  }

  // include / exclude: a glob the downloader would refuse fails here, before any Job.
  if (auto bad = bad_file_pattern(run.spec()))
    run.comps.push_back(health("FilePatterns", ComponentState::Failed, "InvalidFilePattern", *bad,
                               Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
}

// ---- the credentials Secret (upstream) ----
void ArtifactReconciler::check_credentials(ArtifactRun& run) {
  const auto& ref = run.spec().credentials_secret_ref;
  const std::string secret = ref ? ref->name.value_or(std::string()) : std::string();
  if (secret.empty()) return;
  // From the watched Secret metadata: creating the Secret reconciles this artifact at once.
  if (!secret_names(ctx_).get(run.ns, secret)) {
    run.comps.push_back(health("CredentialsSecret", ComponentState::Failed,
                               std::string(api::kReasonReferenceNotFound),
                               "credentials Secret \"" + secret + "\" not found in namespace \"" +
                                   run.ns + "\": create it, or fix spec.credentialsSecretRef.name",
                               Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
    return;
  }
  if (run.custom_downloader()) return;
  // aim-fetch reads fixed variables per scheme: check the keys (never the values) once per
  // reconcile while not Ready. Editing the Secret reconciles through its metadata.
  const std::string& uri = run.spec().source_uri;
  const auto sep = uri.find("://");
  auto got = ctx_.client->get(kube::types::secrets(), run.ns, secret);
  if (!got && !got.error().is(kube::ErrorCode::kNotFound)) {
    run.comps.push_back(
        health("CredentialsSecret", ComponentState::Degraded, "SecretAccessFailed",
               "credentials Secret \"" + secret + "\" could not be read: " + got.error().message,
               Dependency::Upstream, engine::ErrorCategory::kInfrastructure));
  } else if (got && sep != std::string::npos) {
    if (auto p = engine::check_credentials_secret(*got, uri.substr(0, sep)))
      run.comps.push_back(health("CredentialsSecret", ComponentState::Failed, p->reason, p->message,
                                 Dependency::Upstream, engine::ErrorCategory::kInvalidSpec));
  }
}

// ---- revision and size: a recorded commit wins, so a pinned artifact never drifts ----
void ArtifactReconciler::resolve_size(ArtifactRun& run) {
  // A commit in spec.revision is used as is; a branch or tag resolves once.
  run.revision = run.spec().revision.value_or(std::string());
  const std::string resolved = run.old_status().resolved_revision.value_or(std::string());
  if (!is_commit(run.revision) && !resolved.empty()) run.revision = resolved;
  run.generation = run.artifact->metadata.generation.value_or(0);

  if (run.spec().size && !run.spec().size->value.is_null()) {
    // Admission bounds it (0 to 1Pi); a cluster with older CRDs still gets a precise refusal
    // instead of a silently ignored size.
    if (auto b = artifact::quantity_bytes(run.spec().size->value))
      run.size = *b;
    else
      run.comps.push_back(health("Size", ComponentState::Failed, "InvalidSize",
                                 "spec.size " + run.spec().size->value.dump() +
                                     " is not a non-negative quantity: write it as e.g. 15Gi, or "
                                     "leave it out to have the size checked",
                                 Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
  }
  if (run.size == 0 && run.old_status().discovered_size_bytes)
    run.size = *run.old_status().discovered_size_bytes;
  run.upstream_ok = run.comps.empty();
}

// ---- the check-size Job, while the size is unknown ----
Stop ArtifactReconciler::check_size(ArtifactRun& run) {
  if (run.size != 0) return std::nullopt;
  if (run.custom_downloader()) {
    run.comps.push_back(
        health("CheckSizeJob", ComponentState::Failed, "SizeRequired",
               "A custom downloader needs spec.size (there is no size check for it)",
               Dependency::Unspecified, engine::ErrorCategory::kInvalidSpec));
    return std::nullopt;
  }
  if (!run.upstream_ok) return std::nullopt;
  const std::string job_name = artifact::check_size_job_name(run.name, run.uid);
  auto job_ptr = ctx_.cache(kube::types::jobs()).get(run.ns, job_name);
  auto job = typed<api::Job>(job_ptr);
  const auto checking = [] {
    return health("CheckSizeJob", ComponentState::Progressing, "CheckingSize",
                  "Checking the size of the source");
  };
  if (!job_ptr) {
    artifact::JobInput in{run.artifact.typed, run.rc_env, std::nullopt,  job_name, "", 0,
                          run.revision,       1,          run.generation};
    Json desired = artifact::check_size_job(in, options_);
    label_child(desired, run.raw(), "artifact", run.rc_spec);
    set_controller_owner(desired, run.raw());
    auto created = create_child(ctx_, kube::types::jobs(), desired);
    if (!created.ok()) return cache_internal::create_failed(ctx_, run.ns, created.error());
    run.comps.push_back(checking());
    return std::nullopt;
  }
  if (!job.ok())
    return aim::fail(kube::ReconcileError("Job " + job_name + ": " + job.error().message));
  if (api::true_condition(job->typed, "Complete")) {
    auto out = pod_outcome(pods_of_job(ctx_, run.ns, job_name), artifact::kCheckSizeContainer,
                           "Succeeded");
    std::optional<artifact::SizeResult> parsed;
    if (out.found) parsed = artifact::parse_size_output(out.message);
    if (!parsed && out.found) {
      auto log = ctx_.client->get_raw("/api/v1/namespaces/" + run.ns + "/pods/" + out.pod +
                                      "/log?container=check-size&tailLines=1");
      if (log.ok()) parsed = artifact::parse_size_output(log.value());
    }
    if (!parsed) {
      run.comps.push_back(health("CheckSizeOutput", ComponentState::Failed, "InvalidSizeOutput",
                                 "The size check did not print {\"sizeBytes\": N}",
                                 Dependency::Unspecified, engine::ErrorCategory::kUnknown));
      return std::nullopt;
    }
    run.size = parsed->size_bytes;
    run.status.discovered_size_bytes = run.size;
    if (!parsed->revision.empty() &&
        run.old_status().resolved_revision.value_or(std::string()).empty()) {
      run.status.resolved_revision = parsed->revision;
      run.revision = parsed->revision;
    }
  } else if (const api::Condition* failed = api::true_condition(job->typed, "Failed")) {
    auto f =
        job_failure(job->typed, pods_of_job(ctx_, run.ns, job_name), artifact::kCheckSizeContainer);
    run.comps.push_back(health("CheckSizeJob", failed_state(f), f.reason,
                               "Size check: " + f.message, Dependency::Downstream, f.category));
    auto retry_at = parse_time(failed->last_transition_time) +
                    artifact::retry_delay(1, f.transient, options_).count();
    if (ctx_.now() >= retry_at || job_outdated(job->typed, run.artifact.typed)) {
      kube::DeleteOptions del;
      del.propagation_policy = "Background";
      auto r = ctx_.client->remove(kube::types::jobs(), run.ns, job_name, del);
      if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
        return aim::fail(kube::ReconcileError(r.error()));
    } else {
      run.want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
    }
  } else if (auto issue = stuck_pod(run, job_name)) {
    run.comps.push_back(issue_health("CheckSizeJob", *issue, "Size check: "));
  } else {
    run.comps.push_back(checking());
  }
  return std::nullopt;
}

// ---- the claim: made by the operator, or the user's (spec.existingClaimName) ----
Stop ArtifactReconciler::converge_claim(ArtifactRun& run) {
  run.pvc_name = run.spec().existing_claim_name.value_or(std::string());
  run.reuse = !run.pvc_name.empty();
  if (!run.reuse) run.pvc_name = artifact::pvc_name(run.name, run.uid);
  if (run.size <= 0 || !run.upstream_ok) return std::nullopt;
  // The operator caches only the claims it made; a reused claim is the user's and is read from
  // the API server (and rechecked by timer until it is bound, since no watch sees it).
  kube::ObjectPtr pvc;
  if (run.reuse) {
    auto got = ctx_.client->get(kube::types::persistent_volume_claims(), run.ns, run.pvc_name);
    if (got.ok())
      pvc = std::make_shared<const Json>(std::move(got).value());
    else if (!got.error().is(kube::ErrorCode::kNotFound))
      return cache_internal::create_failed(ctx_, run.ns, got.error());
  } else {
    pvc = ctx_.cache(kube::types::persistent_volume_claims()).get(run.ns, run.pvc_name);
  }
  const int headroom = engine::runtime_pvc_headroom_percent(run.rc_spec);
  if (!pvc && run.reuse) {
    run.comps.push_back(
        health("CachePvc", ComponentState::Failed, "ReferenceNotFound",
               "PersistentVolumeClaim " + run.pvc_name + " (existingClaimName) not found",
               Dependency::Upstream, engine::ErrorCategory::kMissingUpstream));
    run.want_requeue(std::chrono::seconds(30));  // claims we do not own are not mapped back
    return std::nullopt;
  }
  if (!pvc) return create_claim(run, headroom);
  auto claim = typed<api::PersistentVolumeClaim>(pvc);
  if (!claim.ok())
    return aim::fail(kube::ReconcileError("PersistentVolumeClaim " + run.pvc_name + ": " +
                                          claim.error().message));
  observe_claim(run, claim->typed, headroom);
  return std::nullopt;
}

Stop ArtifactReconciler::create_claim(ArtifactRun& run, int headroom) {
  const std::string spec_sc = run.spec().storage_class_name.value_or(std::string());
  auto sc = !spec_sc.empty() ? std::optional<std::string>(spec_sc)
                             : engine::runtime_storage_class(run.rc_spec);
  const int64_t request = artifact::pvc_request_bytes(run.size, headroom);
  if (auto problem = storage_problem(request, run.size, sc)) {
    // Known not to fit: no claim that would stay Pending. A change of the artifact, the
    // StorageClass or its CSIStorageCapacity reconciles again.
    run.comps.push_back(problem->policy
                            ? health("CachePvc", ComponentState::Failed, problem->reason,
                                     problem->message, Dependency::Upstream,
                                     engine::ErrorCategory::kInvalidSpec)
                            : health("CachePvc", ComponentState::NotAvailable, problem->reason,
                                     problem->message, Dependency::Upstream));
    return std::nullopt;
  }
  // A claim binds a volume at once, so it is made only for an artifact the API server still
  // has. The artifact and claim caches are separate watches: a reconcile can see a deleted
  // artifact after the garbage collector removed its claim, and re-creating that claim took the
  // static volume meant for the artifact's successor.
  auto current = ctx_.client->get(types::aim_artifacts(), run.ns, run.name);
  if (!current.ok() && current.error().is(kube::ErrorCode::kNotFound))
    return kube::ReconcileResult(kube::Action::done());
  if (!current.ok()) return cache_internal::create_failed(ctx_, run.ns, current.error());
  if (uid_of(*current) != run.uid)
    return kube::ReconcileResult(kube::Action::done());  // replaced: its own event
  Json desired = artifact::cache_pvc(run.artifact.typed, run.pvc_name, request, sc);
  label_child(desired, run.raw(), "artifact", run.rc_spec);
  set_controller_owner(desired, run.raw());
  auto created = create_child(ctx_, kube::types::persistent_volume_claims(), desired);
  if (!created.ok()) return cache_internal::create_failed(ctx_, run.ns, created.error());
  run.pvc_exists = true;
  run.comps.push_back(health("CachePvc", ComponentState::Progressing, "PvcCreated",
                             "PersistentVolumeClaim " + run.pvc_name + " created"));
  return std::nullopt;
}

void ArtifactReconciler::observe_claim(ArtifactRun& run, const api::PersistentVolumeClaim& pvc,
                                       int headroom) {
  run.pvc_exists = true;
  const std::string phase = pvc.status.phase.value_or(std::string());
  if (phase == "Lost")
    run.comps.push_back(health("CachePvc", ComponentState::Failed, "PvcLost",
                               "PersistentVolumeClaim " + run.pvc_name + " lost its volume",
                               Dependency::Downstream, engine::ErrorCategory::kInfrastructure));
  else if (phase == "Bound")
    run.comps.push_back(health("CachePvc", ComponentState::Ready, "PvcBound",
                               "PersistentVolumeClaim " + run.pvc_name + " is bound"));
  else
    run.comps.push_back(health("CachePvc", ComponentState::Progressing, "PvcPending",
                               "PersistentVolumeClaim " + run.pvc_name +
                                   " is waiting for a volume (or for its first consumer)"));
  if (run.reuse && phase != "Bound") run.want_requeue(std::chrono::seconds(30));
  if (!run.status.allocated_size || run.status.allocated_size->value.is_null()) {
    if (auto req = api::storage_request(pvc)) {
      run.status.allocated_size = *req;
      if (!run.reuse) run.status.headroom_percent = headroom;
    }
  }
  run.status.persistent_volume_claim = run.pvc_name;
}

// ---- the download Job ----
Stop ArtifactReconciler::converge_download(ArtifactRun& run) {
  const std::string job_name = artifact::download_job_name(run.name, run.uid);
  auto job_ptr = ctx_.cache(kube::types::jobs()).get(run.ns, job_name);
  const api::Condition* old_dc =
      find_condition(run.old_status().conditions, api::kConditionDownloadComplete);
  const bool verified = run.ready_before && old_dc && old_dc->reason == "Verified";
  if (verified && !job_ptr) {
    run.download_complete("True", "Verified", "Download and verification complete");
    return std::nullopt;
  }
  if (job_ptr) {
    auto job = typed<api::Job>(job_ptr);
    if (!job.ok())
      return aim::fail(kube::ReconcileError("Job " + job_name + ": " + job.error().message));
    return follow_download_job(run, job->typed, job_name);
  }
  if (run.size > 0 && run.pvc_exists && run.upstream_ok) return start_download(run, job_name);
  return std::nullopt;
}

Stop ArtifactReconciler::follow_download_job(ArtifactRun& run, const api::Job& job,
                                             const std::string& job_name) {
  run.status.download_job_name = job_name;
  int attempt = run.status.download ? run.status.download->attempt.value_or(0) : 0;
  // The Job says which attempt it is. The status write that recorded it may have lost a
  // conflict after the Job was created; the next reconcile puts it back from here.
  const std::string job_attempt = api::annotation(job.metadata, artifact::kAnnotationAttempt);
  if (int n = std::atoi(job_attempt.c_str()); n > 0 && n != attempt) {
    attempt = n;
    run.download().attempt = n;
  }
  if (api::true_condition(job, "Complete")) {
    run.download_complete("True", "Verified", "Download and verification complete");
    run.comps.push_back(health("DownloadJob", ComponentState::Ready, "Verified",
                               "Download and verification complete"));
    if (!job.status.completion_time.value_or(std::string()).empty())
      run.status.last_download_time = job.status.completion_time;
    if (!run.status.progress) run.status.progress = api::DownloadProgress{};
    auto& p = *run.status.progress;
    int64_t total = p.total_bytes.value_or(0);
    if (total <= 0) total = run.size;
    p.total_bytes = total;
    p.downloaded_bytes = total;
    p.percentage = 100;
    p.display_percentage = "100 %";
    p.eta_seconds = 0;
    if (run.status.download) run.status.download->message = "Complete";
  } else if (const api::Condition* failed = api::true_condition(job, "Failed")) {
    auto f = job_failure(job, pods_of_job(ctx_, run.ns, job_name), artifact::kDownloadContainer);
    if (run.status.progress) run.status.progress->display_percentage = "N/A";
    auto retry_at = parse_time(failed->last_transition_time) +
                    artifact::retry_delay(std::max(attempt, 1), f.transient, options_).count();
    const bool outdated = job_outdated(job, run.artifact.typed);
    if (ctx_.now() >= retry_at || outdated) {
      // Retry now: the failed Job goes, the next reconcile creates the next attempt.
      kube::DeleteOptions del;
      del.propagation_policy = "Background";
      auto r = ctx_.client->remove(kube::types::jobs(), run.ns, job_name, del);
      if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound))
        return aim::fail(kube::ReconcileError(r.error()));
      std::string why = outdated ? "the spec changed" : f.reason;
      run.download_complete("False", "Retrying", "Retrying the download (" + why + ")");
      run.comps.push_back(health("DownloadJob", ComponentState::Progressing, "Retrying",
                                 "Retrying the download after: " + f.message));
    } else {
      run.download_complete("False", f.reason, f.message);
      run.comps.push_back(health("DownloadJob", failed_state(f), f.reason, f.message,
                                 Dependency::Downstream, f.category));
      run.want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
    }
  } else if (auto issue = stuck_pod(run, job_name)) {
    run.download_complete("False", issue->reason, issue->message);
    run.comps.push_back(issue_health("DownloadJob", *issue));
  } else {
    const int pct = run.status.progress ? run.status.progress->percentage.value_or(0) : 0;
    if (pct >= 100)
      run.download_complete("False", "Verifying", "Download complete, verifying integrity...");
    else
      run.download_complete("False", "Downloading", "Download in progress");
    run.comps.push_back(
        health("DownloadJob", ComponentState::Progressing, "Downloading", "Download in progress"));
  }
  return std::nullopt;
}

// No Job: the first attempt, or a retry once the backoff after the last failure is over.
Stop ArtifactReconciler::start_download(ArtifactRun& run, const std::string& job_name) {
  const int attempt = run.status.download ? run.status.download->attempt.value_or(0) : 0;
  const api::Condition* old_dc =
      find_condition(run.old_status().conditions, api::kConditionDownloadComplete);
  if (old_dc && old_dc->status == "False" && artifact::is_failure_reason(old_dc->reason) &&
      attempt > 0) {
    const std::string& reason = old_dc->reason;
    const bool transient = !(reason == "AuthFailed" || reason == "ModelNotFound" ||
                             reason == "UnsafePath" || reason == "InvalidDownloadSpec");
    auto retry_at = parse_time(old_dc->last_transition_time) +
                    artifact::retry_delay(attempt, transient, options_).count();
    if (ctx_.now() < retry_at) {
      run.download_complete("False", reason, old_dc->message);
      run.comps.push_back(
          health("DownloadJob", ComponentState::Degraded, reason,
                 old_dc->message + "; retrying in " + std::to_string(retry_at - ctx_.now()) + "s",
                 Dependency::Downstream, engine::ErrorCategory::kInfrastructure));
      run.want_requeue(std::chrono::seconds(retry_at - ctx_.now()));
      return std::nullopt;
    }
  }
  // The download pod (service account `default`) patches this artifact's status: bind it to
  // the ClusterRole the deployment installs (behavior.md §4.13; unowned, made once per Job
  // creation, an existing one is left alone).
  auto rb = ctx_.client->create(rolebindings(), status_updater_binding(run.ns));
  if (!rb.ok() && !rb.error().is(kube::ErrorCode::kAlreadyExists) && !warned_rbac_) {
    warned_rbac_ = true;
    kube::log::Logger("controller.aimartifact")
        .warn(
            "cannot create the RoleBinding aim-engine-artifact-status-updater; download "
            "progress will not reach the status",
            {{"namespace", run.ns}, {"error", rb.error().describe()}});
  }
  artifact::JobInput in{run.artifact.typed, run.rc_env,   run.choice.downloader,
                        job_name,           run.pvc_name, run.size,
                        run.revision,       attempt + 1,  run.generation};
  Json desired = artifact::download_job(in, options_);
  label_child(desired, run.raw(), "artifact", run.rc_spec);
  set_controller_owner(desired, run.raw());
  auto created = create_child(ctx_, kube::types::jobs(), desired);
  if (!created.ok()) return cache_internal::create_failed(ctx_, run.ns, created.error());
  if (created.value()) {
    run.download().attempt = attempt + 1;
    run.download().message = "Download job created";
    run.status.download_job_name = job_name;
  }
  run.download_complete("False", "Downloading", "Download in progress");
  run.comps.push_back(health("DownloadJob", ComponentState::Progressing, "JobCreated",
                             "Download job " + job_name + " created"));
  return std::nullopt;
}

// ---- status: Ready only after verification ----
kube::ReconcileResult ArtifactReconciler::write(ArtifactRun& run) {
  if (run.size > 0) run.status.display_size = artifact::display_size(run.size);
  run.status.mode =
      has_owner(run.artifact->metadata) ? api::kCachingDedicated : api::kCachingShared;
  const Json& obj = run.raw();
  auto old_conditions = conditions_of(obj);
  auto state = engine::derive_state(run.comps, old_conditions);
  std::string root = engine::to_string(state.root);
  bool is_verified = false;
  for (auto& c : run.extra_conditions)
    if (c.type == api::kConditionDownloadComplete && c.status == "True") is_verified = true;
  if (root == api::kStatusReady && !is_verified) root = std::string(api::kStatusProgressing);
  run.status.status = root;
  auto conditions = state.conditions;
  for (auto& c : run.extra_conditions) conditions.push_back(c);
  if (!is_verified)
    for (auto& c : conditions)
      if (c.type == api::kConditionReady && c.status == "True") {
        c.status = "False";
        c.reason = "Downloading";
        c.message = "Waiting for the download to be verified";
      }
  if (run.artifact->metadata.generation)
    run.status.observed_generation = run.artifact->metadata.generation;
  Json status = api::encode(run.status);
  set_conditions(status, obj, conditions, ctx_.now_rfc3339());
  auto written = write_status(ctx_, types::aim_artifacts(), obj, status);
  if (!written.ok()) return aim::fail(kube::ReconcileError(written.error()));
  if (written.value())
    emit_condition_events(ctx_.events(kController), obj, old_conditions, status_conditions(status),
                          run.comps);

  if (run.requeue) return kube::Action::requeue_after(*run.requeue);
  if (root == api::kStatusProgressing) return kube::Action::requeue_after(std::chrono::seconds(10));
  return kube::Action::done();
}

kube::ReconcileResult ArtifactReconciler::reconcile(const kube::Request& req) {
  auto got = typed<api::AIMArtifact>(ctx_.cache(types::aim_artifacts()).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(types::aim_artifacts().kind, req, got.error());
  if (is_being_deleted(*got->raw)) return kube::Action::done();
  if (is_paused(*got->raw))
    return report_paused(ctx_, types::aim_artifacts(), *got->raw, kController);
  ArtifactRun run{std::move(got).value()};
  run.ns = namespace_of(run.artifact->metadata);
  run.name = name_of(run.artifact->metadata);
  run.uid = uid_of(run.artifact->metadata);
  run.status = run.old_status();
  run.ready_before = run.old_status().status.value_or(std::string()) == api::kStatusReady;

  check_upstream(run);
  resolve_size(run);
  if (Stop stop = check_size(run)) return std::move(*stop);
  if (Stop stop = converge_claim(run)) return std::move(*stop);
  if (Stop stop = converge_download(run)) return std::move(*stop);
  return write(run);
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
    // Only the conditions are read (conditions_of), not the whole artifact: every artifact of
    // the cluster is looked at on each StorageClass or capacity event.
    for (const auto& a : ctx.cache(types::aim_artifacts()).list()) {
      for (const auto& c : conditions_of(*a))
        if (c.type == "CachePvcReady" && c.reason == "InsufficientStorage")
          out.push_back(kube::Request{namespace_of(*a), name_of(*a)});
    }
    return out;
  };
  // The artifacts of the Secret's namespace that name it as their credentials or pull secret.
  auto by_secret = [&ctx](const Json& s) {
    std::vector<kube::Request> out;
    const std::string secret = name_of(s);
    for (const auto& a :
         typed_list<api::AIMArtifact>(ctx.cache(types::aim_artifacts()).list(namespace_of(s)))) {
      const auto& spec = a->spec;
      bool named = spec.credentials_secret_ref &&
                   spec.credentials_secret_ref->name.value_or(std::string()) == secret;
      if (spec.image_pull_secrets)
        for (const auto& ref : *spec.image_pull_secrets)
          if (ref.name.value_or(std::string()) == secret) named = true;
      // A downloader's pull secret: the artifacts that reported one missing or unusable.
      const bool pull_failed = find_condition(a->status.conditions, "ImagePullSecretReady");
      if (named || pull_failed)
        out.push_back(kube::Request{namespace_of(a->metadata), name_of(a->metadata)});
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
      .max_concurrent_reconciles(ctx.workers)
      .complete([reconciler](const kube::Request& r) { return reconciler->reconcile(r); });
}

}  // namespace aim::controllers
