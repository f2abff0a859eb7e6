#include "controllers/cache/artifact.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "api/constants.h"
#include "controllers/typed.h"
#include "engine/env_merge.h"
#include "engine/service_names.h"

namespace aim::controllers::artifact {

namespace sn = engine::service_names;

namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// An env list as engine::merge_env takes it; [] when unset.
Json json_env(const std::optional<api::EnvList>& list) {
  return list ? api::encode(*list) : Json::array();
}

std::string scheme_of(const std::string& uri) {
  auto p = uri.find("://");
  if (p == std::string::npos) return {};
  std::string s = uri.substr(0, p);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::string display_size(int64_t bytes) {
  if (bytes <= 0) return "0 B";
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (u < 6 && bytes >= (int64_t{1} << (10 * (u + 1)))) ++u;
  double v = static_cast<double>(bytes) / static_cast<double>(int64_t{1} << (10 * u));
  char buf[64];
  if (v >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f %s", v, kUnits[u]);
  } else {
    double r = std::round(v * 10) / 10;
    if (r == std::floor(r))
      std::snprintf(buf, sizeof buf, "%.0f %s", r, kUnits[u]);
    else
      std::snprintf(buf, sizeof buf, "%.1f %s", r, kUnits[u]);
  }
  return buf;
}

int64_t pvc_request_bytes(int64_t size, int headroom_percent) {
  auto raw = static_cast<int64_t>(static_cast<double>(std::max<int64_t>(size, 0)) *
                                  (1.0 + static_cast<double>(headroom_percent) / 100.0));
  int64_t gib = (raw + kGiB - 1) / kGiB;
  return std::max<int64_t>(gib, 1) * kGiB;
}

std::optional<StorageProblem> storage_problem(
    int64_t request_bytes, int64_t size_bytes, int64_t max_bytes,
    const std::optional<std::string>& storage_class,
    const std::vector<api::CSIStorageCapacity>& capacities) {
  const std::string claim = "a " + display_size(request_bytes) + " PersistentVolumeClaim (" +
                            display_size(size_bytes) + " of model plus headroom)";
  if (max_bytes > 0 && request_bytes > max_bytes) {
    return StorageProblem{"ArtifactTooLarge",
                          "The artifact needs " + claim + ", above the operator's limit of " +
                              display_size(max_bytes) +
                              " (maxArtifactSize): check spec.size and the source, or raise the "
                              "limit",
                          true};
  }
  if (!storage_class || storage_class->empty()) return std::nullopt;
  std::optional<int64_t> largest;
  for (const auto& c : capacities) {
    if (c.storage_class_name != *storage_class) continue;
    std::optional<int64_t> v;
    if (c.maximum_volume_size)
      v = quantity_bytes(c.maximum_volume_size->value);
    else if (c.capacity)
      v = quantity_bytes(c.capacity->value);
    if (v) largest = std::max(largest.value_or(0), *v);
  }
  if (!largest || request_bytes <= *largest) return std::nullopt;
  return StorageProblem{"InsufficientStorage",
                        "The artifact needs " + claim + ", but StorageClass \"" + *storage_class +
                            "\" can provision at most " + display_size(*largest) +
                            " per volume (its CSIStorageCapacity): choose a StorageClass with "
                            "room (spec.storageClassName), or free capacity",
                        false};
}

std::string gib_quantity(int64_t bytes) {
  if (bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "Gi";
  return std::to_string(bytes);
}

std::string pvc_name(const std::string& artifact, const std::string& uid) {
  return sn::derived_name({artifact, "cache"}, {Json(uid)});
}
std::string download_job_name(const std::string& artifact, const std::string& uid) {
  return sn::derived_name({artifact, "download"}, {Json(uid)});
}
std::string check_size_job_name(const std::string& artifact, const std::string& uid) {
  return sn::derived_name({artifact, "check-size"}, {Json(uid)});
}

DownloadFailure classify_exit(int code, const std::string& termination_message) {
  using C = engine::ErrorCategory;
  auto with = [&](std::string reason, std::string what, C cat, bool transient) {
    std::string msg = what;
    if (!termination_message.empty()) {
      std::string t = termination_message;
      while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
      if (t.size() > 300) t = t.substr(0, 300) + "...";
      msg += ": " + t;
    }
    msg += " (exit code " + std::to_string(code) + ")";
    return DownloadFailure{std::move(reason), std::move(msg), cat, transient};
  };
  switch (code) {
    case 2:
      return with("InvalidDownloadSpec", "The downloader rejected its arguments", C::kInvalidSpec,
                  false);
    case 3:
      return with("AuthFailed", "The source refused the credentials", C::kAuth, false);
    case 4:
      return with("ModelNotFound", "The model or revision does not exist at the source",
                  C::kInvalidSpec, false);
    case 5:
      return with("RateLimited", "The source rate-limited the download", C::kInfrastructure, true);
    case 6:
      return with("DiskFull", "The volume ran out of space", C::kInfrastructure, true);
    case 7:
      return with("ChecksumMismatch", "A downloaded file failed verification", C::kInfrastructure,
                  true);
    case 8:
      return with("DownloadTimeout", "The download stalled or timed out", C::kInfrastructure, true);
    case 9:
      return with("NetworkError", "The source could not be reached", C::kInfrastructure, true);
    case 10:
      return with("UnsafePath", "The source listed a file outside the target directory",
                  C::kInvalidSpec, false);
    default:
      return with("DownloadFailed", "The downloader failed", C::kUnknown, true);
  }
}

DownloadFailure deadline_failure(std::chrono::seconds deadline) {
  return DownloadFailure{"DownloadTimeout",
                         "The Job did not finish within its deadline of " +
                             std::to_string(deadline.count()) + " s (activeDeadlineSeconds)",
                         engine::ErrorCategory::kInfrastructure, true};
}

DownloadFailure eviction_failure(const std::string& message) {
  return DownloadFailure{"Evicted", message, engine::ErrorCategory::kInfrastructure, true};
}

bool is_failure_reason(std::string_view r) {
  static const std::string_view kReasons[] = {
      "InvalidDownloadSpec", "AuthFailed",   "ModelNotFound",
      "RateLimited",         "DiskFull",     "ChecksumMismatch",
      "DownloadTimeout",     "NetworkError", "UnsafePath",
      "DownloadFailed",      "Evicted"};
  return std::find(std::begin(kReasons), std::end(kReasons), r) != std::end(kReasons);
}

std::chrono::seconds retry_delay(int attempt, bool transient, const CacheOptions& o) {
  auto base = transient ? o.retry_base : o.permanent_retry_base;
  int shift = std::clamp(attempt - 1, 0, 20);
  auto d = base * (int64_t{1} << shift);
  return std::min(d, o.retry_max);
}

std::string job_image(const api::AIMArtifactSpec& spec,
                      const api::AIMClusterArtifactDownloader* downloader,
                      const CacheOptions& options) {
  if (downloader != nullptr && !downloader->spec.image.empty()) return downloader->spec.image;
  std::string img = spec.model_download_image.value_or("");
  if (img.empty() || img == api::kDefaultDownloadImage) return options.fetch_image;
  return img;
}

namespace {

api::StringMap job_labels(const api::AIMArtifact& artifact, std::string_view component,
                          const CacheOptions& options, bool pod) {
  api::StringMap l{{std::string(api::kLabelCacheName), name_of(artifact.metadata)},
                   {std::string(api::kLabelCacheType), std::string(api::kCacheTypeArtifact)},
                   {std::string(api::kLabelComponent), std::string(component)}};
  if (pod)
    for (auto& [k, v] : options.download_pod_labels) l[k] = v;
  return l;
}

// The env shared by both Jobs: runtime config env < artifact env, plus the credentials Secret.
api::EnvList base_env(const JobInput& in, const api::EnvList& defaults) {
  Json env = engine::merge_env(api::encode(defaults), in.runtime_env);
  if (in.downloader) env = engine::merge_env(env, json_env(in.downloader->spec.env));
  env = engine::merge_env(env, json_env(in.artifact.spec.env));
  // Every entry came from a typed list or the runtime config's typed env, so it reads back.
  auto typed = api::decode<api::EnvList>(env);
  return typed ? std::move(*typed.value) : defaults;
}

api::PodSpec pod_spec(const JobInput& in, api::Container container, bool fs_group,
                      const CacheOptions& options) {
  api::PodSpec pod;
  pod.restart_policy = "Never";
  pod.security_context.emplace();
  pod.security_context->run_as_user = 1000;
  pod.security_context->run_as_group = 1000;
  pod.security_context->run_as_non_root = true;
  if (fs_group) pod.security_context->fs_group = 1000;
  pod.containers = {std::move(container)};
  if (!options.download_node_selector.empty())
    pod.node_selector = api::StringMap(options.download_node_selector.begin(),
                                       options.download_node_selector.end());
  pod.tolerations = options.download_tolerations;
  pod.image_pull_secrets =
      in.artifact.spec.image_pull_secrets.value_or(std::vector<api::LocalObjectReference>{});
  if (in.downloader && in.downloader->spec.image_pull_secrets)
    for (const auto& p : *in.downloader->spec.image_pull_secrets)
      pod.image_pull_secrets.push_back(p);
  return pod;
}

// Exit codes after which another pod of the same Job cannot do better.
api::PodFailurePolicy fail_job_policy(std::string_view container) {
  api::PodFailurePolicyRule rule;
  rule.action = "FailJob";
  rule.on_exit_codes.emplace();
  rule.on_exit_codes->container_name = std::string(container);
  rule.on_exit_codes->operator_ = "In";
  rule.on_exit_codes->values = {2, 3, 4, 10};
  api::PodFailurePolicy policy;
  policy.rules = {std::move(rule)};
  return policy;
}

Json job_object(const JobInput& in, std::string_view component, api::PodSpec pod,
                const CacheOptions& options, int ttl, std::chrono::seconds deadline,
                std::optional<std::string_view> fail_policy_container) {
  api::Job job;
  job.metadata.name = in.job_name;
  job.metadata.namespace_ = namespace_of(in.artifact.metadata);
  job.metadata.labels = job_labels(in.artifact, component, options, false);
  job.metadata.annotations =
      api::StringMap{{std::string(kAnnotationAttempt), std::to_string(in.attempt)},
                     {std::string(kAnnotationGeneration), std::to_string(in.generation)}};
  job.spec.backoff_limit = options.backoff_limit;
  job.spec.ttl_seconds_after_finished = ttl;
  job.spec.active_deadline_seconds = deadline.count();
  job.spec.template_.emplace();
  job.spec.template_->metadata.labels = job_labels(in.artifact, component, options, true);
  job.spec.template_->spec = std::move(pod);
  if (fail_policy_container) job.spec.pod_failure_policy = fail_job_policy(*fail_policy_container);
  return api::encode(job);
}

// The credentials Secret as the container's envFrom; none when the artifact names none.
std::vector<api::EnvFromSource> credentials_env_from(const api::AIMArtifactSpec& spec) {
  std::vector<api::EnvFromSource> out;
  const std::string name =
      spec.credentials_secret_ref ? spec.credentials_secret_ref->name.value_or("") : "";
  if (!name.empty()) {
    api::EnvFromSource from;
    from.secret_ref.emplace();
    from.secret_ref->name = name;
    out.push_back(std::move(from));
  }
  return out;
}

// spec.include / spec.exclude as aim-fetch arguments (`--include P`, `--exclude P`).
void push_file_patterns(const api::AIMArtifactSpec& spec, std::vector<std::string>& args) {
  const auto filter = file_patterns(spec);
  for (const auto& [flag, list] :
       {std::pair{"--include", &filter.include}, std::pair{"--exclude", &filter.exclude}})
    for (const auto& p : *list) {
      args.emplace_back(flag);
      args.push_back(p);
    }
}

// The same patterns for a custom downloader: AIM_INCLUDE / AIM_EXCLUDE, one glob per line.
void push_file_pattern_env(const api::AIMArtifactSpec& spec, api::EnvList& env) {
  const auto filter = file_patterns(spec);
  for (const auto& [name, list] :
       {std::pair{"AIM_INCLUDE", &filter.include}, std::pair{"AIM_EXCLUDE", &filter.exclude}}) {
    std::string lines;
    for (const auto& p : *list) lines += (lines.empty() ? "" : "\n") + p;
    if (!lines.empty()) env.push_back(env_var(name, lines));
  }
}

// A container of an artifact's Jobs: the fetch image, pulled if not present.
api::Container job_container(std::string_view name, std::string image) {
  api::Container c;
  c.name = std::string(name);
  c.image = std::move(image);
  c.image_pull_policy = "IfNotPresent";
  return c;
}

}  // namespace

fetch::FileFilter file_patterns(const api::AIMArtifactSpec& spec) {
  fetch::FileFilter filter;
  filter.include = spec.include.value_or(std::vector<std::string>{});
  filter.exclude = spec.exclude.value_or(std::vector<std::string>{});
  return filter;
}

Json download_job(const JobInput& in, const CacheOptions& options) {
  const api::AIMArtifactSpec& spec = in.artifact.spec;
  const api::ObjectMeta& meta = in.artifact.metadata;
  const std::string& uri = spec.source_uri;
  const std::string mount(kMountPath);
  api::EnvList defaults = {env_var("TMPDIR", "/tmp/"),
                           env_var("HF_HOME", "/tmp/.hf"),
                           env_var("EXPECTED_SIZE_BYTES", std::to_string(in.expected_size)),
                           env_var("MOUNT_PATH", mount),
                           env_var("ARTIFACT_NAME", name_of(meta)),
                           env_var("ARTIFACT_NAMESPACE", namespace_of(meta)),
                           env_var("STALL_TIMEOUT", "120"),
                           env_var("TARGET_DIR", mount)};
  if (!in.revision.empty()) defaults.push_back(env_var("ARTIFACT_REVISION", in.revision));
  const bool aim_fetch = !in.downloader;
  if (!aim_fetch) {
    // The custom downloader contract (AIMClusterArtifactDownloader's description).
    defaults.push_back(env_var("AIM_SOURCE_URI", uri));
    defaults.push_back(env_var("AIM_TARGET_DIR", mount));
    if (!in.revision.empty()) defaults.push_back(env_var("AIM_REVISION", in.revision));
    push_file_pattern_env(spec, defaults);
  }
  api::Container container = job_container(
      kDownloadContainer, job_image(spec, in.downloader ? &*in.downloader : nullptr, options));
  container.security_context.emplace();
  container.security_context->run_as_user = 1000;
  container.security_context->run_as_group = 1000;
  container.env = base_env(in, defaults);
  container.volume_mounts = {api::VolumeMount{"cache", mount, std::nullopt, {}}};
  container.env_from = credentials_env_from(spec);
  if (aim_fetch) {
    std::vector<std::string> args{uri,
                                  mount,
                                  "--quiet",
                                  "--stall-timeout",
                                  "120",
                                  "--status-interval",
                                  std::to_string(options.status_interval_seconds),
                                  "--termination-log",
                                  "/dev/termination-log"};
    if (!in.revision.empty()) {
      args.emplace_back("--revision");
      args.push_back(in.revision);
    }
    push_file_patterns(spec, args);
    container.command = std::vector<std::string>{"aim-fetch"};
    container.args = std::move(args);
  } else {
    const api::AIMClusterArtifactDownloaderSpec& ds = in.downloader->spec;
    container.command = ds.command;
    std::vector<std::string> args = ds.args.value_or(std::vector<std::string>{});
    args.push_back(uri);
    args.push_back(mount);
    container.args = std::move(args);
    container.resources = ds.resources;
  }
  api::PodSpec pod = pod_spec(in, std::move(container), true, options);
  api::Volume cache;
  cache.name = "cache";
  cache.persistent_volume_claim.emplace();
  cache.persistent_volume_claim->claim_name = in.pvc_name;
  pod.volumes = std::vector<api::Volume>{std::move(cache)};
  return job_object(in, api::kComponentDownload, std::move(pod), options, 600,
                    options.download_deadline,
                    aim_fetch ? std::optional(kDownloadContainer) : std::nullopt);
}

Json check_size_job(const JobInput& in, const CacheOptions& options) {
  const api::AIMArtifactSpec& spec = in.artifact.spec;
  std::vector<std::string> args{"--check-size", spec.source_uri, "--termination-log",
                                "/dev/termination-log"};
  if (!in.revision.empty()) {
    args.emplace_back("--revision");
    args.push_back(in.revision);
  }
  push_file_patterns(spec, args);
  api::Container container = job_container(kCheckSizeContainer, job_image(spec, nullptr, options));
  container.command = std::vector<std::string>{"aim-fetch"};
  container.args = std::move(args);
  container.env = base_env(in, {env_var("HF_HOME", "/tmp/.hf")});
  container.env_from = credentials_env_from(spec);
  return job_object(in, api::kComponentCheckSize,
                    pod_spec(in, std::move(container), false, options), options, 300,
                    options.check_size_deadline, kCheckSizeContainer);
}

Json cache_pvc(const api::AIMArtifact& artifact, const std::string& name, int64_t request_bytes,
               const std::optional<std::string>& storage_class) {
  const api::ObjectMeta& meta = artifact.metadata;
  api::StringMap labels{{std::string(api::kLabelCacheName), name_of(meta)}};
  if (api::label(meta, api::kLabelTemplateCreated) == "true")
    labels[std::string(api::kLabelCacheType)] = std::string(api::kCacheTypeTemplateCache);
  const std::string& uri = artifact.spec.source_uri;
  auto p = uri.find("://");
  auto source = sn::sanitize_label_value(p == std::string::npos ? uri : uri.substr(p + 3));
  if (source.ok()) labels[std::string(api::kLabelSourceModel)] = source.value();
  std::string mode = artifact.spec.access_mode.value_or("");
  if (mode.empty()) mode = "ReadWriteMany";
  api::PersistentVolumeClaim pvc;
  pvc.metadata.name = name;
  pvc.metadata.namespace_ = namespace_of(meta);
  pvc.metadata.labels = std::move(labels);
  pvc.spec.access_modes = std::vector<std::string>{mode};
  pvc.spec.resources.emplace();
  pvc.spec.resources->requests =
      std::map<std::string, api::Quantity>{{"storage", gib_quantity(request_bytes)}};
  if (storage_class && !storage_class->empty()) pvc.spec.storage_class_name = *storage_class;
  return api::encode(pvc);
}

std::optional<SizeResult> parse_size_output(std::string_view text) {
  // The last non-empty line.
  std::string t(text);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  auto nl = t.rfind('\n');
  std::string line = nl == std::string::npos ? t : t.substr(nl + 1);
  auto out = api::decode<api::SizeCheckOutput>(Json::parse(line, nullptr, false));
  // Not JSON, not an object, a size that is not an integer: no result.
  if (!out || !out.value->size_bytes) return std::nullopt;
  const int64_t n = *out.value->size_bytes;
  if (n <= 0 || n > (int64_t{1} << 50)) return std::nullopt;
  return SizeResult{n, out.value->revision.value_or("")};
}

DownloaderChoice choose_downloader(
    const api::AIMArtifactSpec& spec,
    const std::vector<api::AIMClusterArtifactDownloader>& downloaders) {
  const std::string ref = spec.downloader_ref.value_or("");
  const std::string& uri = spec.source_uri;
  std::vector<const api::AIMClusterArtifactDownloader*> sorted;
  for (const auto& d : downloaders) sorted.push_back(&d);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return name_of(a->metadata) < name_of(b->metadata);
  });
  if (!ref.empty()) {
    for (const auto* d : sorted)
      if (name_of(d->metadata) == ref) return {*d, ""};
    return {std::nullopt, "AIMClusterArtifactDownloader " + ref + " not found"};
  }
  const std::string scheme = scheme_of(uri);
  for (const auto* d : sorted) {
    for (const auto& p : d->spec.prefixes.value_or(std::vector<std::string>{}))
      if (!p.empty() && uri.rfind(p, 0) == 0) return {*d, ""};
    for (const auto& s : d->spec.schemes.value_or(std::vector<std::string>{}))
      if (scheme_of(s + "://") == scheme) return {*d, ""};
  }
  static const std::string_view kBuiltin[] = {"hf", "s3", "ngc", "https", "http"};
  if (std::find(std::begin(kBuiltin), std::end(kBuiltin), scheme) != std::end(kBuiltin))
    return {std::nullopt, ""};
  return {std::nullopt, "no AIMClusterArtifactDownloader serves the scheme \"" + scheme + "://\""};
}

}  // namespace aim::controllers::artifact
