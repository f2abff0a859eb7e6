// AIMArtifact: the pure parts of the controller (names, sizes, Job and PVC specs, the meaning of
// a downloader's exit code, retry delays). controllers/cache/artifact_controller.cpp does the I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/artifact.h"
#include "api/artifact_downloader.h"
#include "api/k8s_views.h"
#include "controllers/cache/cache.h"
#include "engine/error_class.h"
#include "engine/quantity.h"
#include "fetch/file_filter.h"

namespace aim::controllers::artifact {

using Json = nlohmann::json;

inline constexpr std::string_view kDownloadContainer = "model-download";
inline constexpr std::string_view kCheckSizeContainer = "check-size";
inline constexpr std::string_view kMountPath = "/cache";

// A Kubernetes quantity ("16106127360", "15Gi", "1.5G", 1000) in bytes; nullopt when malformed
// or negative.
inline std::optional<int64_t> quantity_bytes(const Json& quantity) {
  return engine::quantity_value(quantity);
}
// behavior.md §4.14: "0 B", "42 GiB", "8.2 GiB", "1.5 TiB".
std::string display_size(int64_t bytes);
// ceilToGiB(int64(size * (1 + headroom/100))), at least 1 GiB.
int64_t pvc_request_bytes(int64_t size, int headroom_percent);
// "<n>Gi" for whole GiB, else plain bytes.
std::string gib_quantity(int64_t bytes);

// Why a claim of `request_bytes` (for an artifact of `size_bytes`) cannot be provisioned, known
// before it is created: above the operator's `max_bytes` (0 = no limit; reason ArtifactTooLarge)
// or above what the StorageClass `storage_class` can give one volume according to its
// CSIStorageCapacity objects (`capacities`: the largest maximumVolumeSize, else capacity, over
// the objects of that class; reason InsufficientStorage). Nothing is known, and nothing is
// reported, for a class without such objects.
struct StorageProblem {
  std::string reason;
  std::string message;
  bool policy = false;  // the operator's limit (fixed by changing the artifact), not capacity
};
std::optional<StorageProblem> storage_problem(
    int64_t request_bytes, int64_t size_bytes, int64_t max_bytes,
    const std::optional<std::string>& storage_class,
    const std::vector<api::CSIStorageCapacity>& capacities);

std::string pvc_name(const std::string& artifact, const std::string& uid);
std::string download_job_name(const std::string& artifact, const std::string& uid);
std::string check_size_job_name(const std::string& artifact, const std::string& uid);

// What a downloader's exit code means (aim-fetch: docs/aim-fetch.md "Exit codes").
struct DownloadFailure {
  std::string reason;  // condition reason: AuthFailed, ModelNotFound, RateLimited, DiskFull,
                       // ChecksumMismatch, DownloadTimeout, NetworkError, UnsafePath,
                       // InvalidDownloadSpec, DownloadFailed
  std::string message;
  engine::ErrorCategory category = engine::ErrorCategory::kUnknown;
  bool transient = true;  // retrying soon can help
};
DownloadFailure classify_exit(int exit_code, const std::string& termination_message);
// A Job that failed with reason DeadlineExceeded (it ran longer than its activeDeadlineSeconds):
// DownloadTimeout, infrastructure, retried like a stalled download.
DownloadFailure deadline_failure(std::chrono::seconds deadline);
// A Job whose last pod was evicted (engine::classify_pod said Evicted): Evicted, infrastructure.
DownloadFailure eviction_failure(const std::string& message);
// Is `reason` one of the failure reasons above (Evicted included)?
bool is_failure_reason(std::string_view reason);
// The wait before attempt `attempt + 1` after `attempt` failed.
std::chrono::seconds retry_delay(int attempt, bool transient, const CacheOptions& options);

// The image of the Jobs: a custom downloader's, else spec.modelDownloadImage unless it is empty
// or the reference's default, else the aim-fetch image.
std::string job_image(const api::AIMArtifactSpec& spec,
                      const api::AIMClusterArtifactDownloader* downloader,
                      const CacheOptions& options);

struct JobInput {
  api::AIMArtifact artifact;
  Json runtime_env;  // merged runtime config env (array or null)
  // The AIMClusterArtifactDownloader chosen; none: aim-fetch.
  std::optional<api::AIMClusterArtifactDownloader> downloader;
  std::string job_name;
  std::string pvc_name;  // download only
  int64_t expected_size = 0;
  std::string revision;  // the revision to fetch ("" = the source's default)
  int attempt = 1;
  int64_t generation = 0;  // the artifact's, recorded on the Job (a spec change retries at once)
};
inline constexpr std::string_view kAnnotationAttempt = "aim.eai.amd.com/download-attempt";
inline constexpr std::string_view kAnnotationGeneration = "aim.eai.amd.com/artifact-generation";
// The download Job (behavior.md §4.13, with aim-fetch as the container).
// spec.include / spec.exclude, as aim-fetch takes them (--include / --exclude) and checks them.
fetch::FileFilter file_patterns(const api::AIMArtifactSpec& spec);

Json download_job(const JobInput& in, const CacheOptions& options);
// The check-size Job: `aim-fetch --check-size <uri>` printing {"url","sizeBytes","revision"} on
// stdout and into the termination message.
Json check_size_job(const JobInput& in, const CacheOptions& options);
Json cache_pvc(const api::AIMArtifact& artifact, const std::string& name, int64_t request_bytes,
               const std::optional<std::string>& storage_class);

// {"sizeBytes": N (0 < N <= 2^50), "revision"?: …} from a check-size result line.
struct SizeResult {
  int64_t size_bytes = 0;
  std::string revision;
};
std::optional<SizeResult> parse_size_output(std::string_view text);

// The custom downloader for a source: spec.downloaderRef by name, else the first downloader
// (by name) whose schemes contain the URI's scheme or whose prefixes prefix it; none when the
// source is for aim-fetch (hf, s3, ngc, https, http).
// Error text when downloaderRef names no downloader or no downloader serves a custom scheme.
struct DownloaderChoice {
  std::optional<api::AIMClusterArtifactDownloader> downloader;  // none: aim-fetch
  std::string error;
};
DownloaderChoice choose_downloader(
    const api::AIMArtifactSpec& spec,
    const std::vector<api::AIMClusterArtifactDownloader>& downloaders);

}  // namespace aim::controllers::artifact
