// AIMArtifact (namespaced): one downloaded model artifact on a PVC (api.md §4.5), plus the
// DynamoModel-style extensions of README §5 (revision pin, more URI schemes, custom downloaders,
// credentials Secret, PVC reuse, access mode, download bookkeeping, integrity and progress).
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

// Any URI scheme (hf, s3, ngc, https, or a custom downloader's scheme), no whitespace.
inline constexpr std::string_view kArtifactSourceUriPattern =
    R"(^[a-zA-Z][a-zA-Z0-9+.-]*://[^ \t\r\n]+$)";

struct AIMArtifactSpec {
  std::string source_uri;
  std::optional<std::string> model_id;
  std::optional<std::string> storage_class_name;
  std::optional<Quantity> size;
  std::optional<EnvList> env;
  std::optional<std::string> model_download_image;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<std::string> runtime_config_name;
  // Extensions.
  std::optional<std::string> revision;
  std::optional<LocalObjectReference> credentials_secret_ref;
  std::optional<std::string> downloader_ref;
  std::optional<std::string> existing_claim_name;
  std::optional<std::string> access_mode;
  std::optional<std::vector<std::string>> include;
  std::optional<std::vector<std::string>> exclude;
  Json extra;
  static void describe(Fields<AIMArtifactSpec>& f);
};

// What the include / exclude patterns selected, written by the downloader when it starts.
struct ResolvedFiles {
  std::optional<int64_t> count;
  std::optional<int64_t> total_bytes;
  std::optional<std::vector<std::string>> paths;
  std::optional<bool> truncated;
  Json extra;
  static void describe(Fields<ResolvedFiles>& f);
};

struct DownloadProgress {
  std::optional<int64_t> total_bytes;
  std::optional<int64_t> downloaded_bytes;
  std::optional<int32_t> percentage;
  std::optional<std::string> display_percentage;
  std::optional<int64_t> bytes_per_second;  // extension
  std::optional<int64_t> eta_seconds;       // extension
  Json extra;
  static void describe(Fields<DownloadProgress>& f);
};

struct DownloadState {
  std::optional<std::string> protocol;
  std::optional<int32_t> attempt;
  std::optional<int32_t> total_attempts;
  std::optional<std::string> protocol_sequence;
  std::optional<std::string> message;
  Json extra;
  static void describe(Fields<DownloadState>& f);
};

struct AIMArtifactStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  std::optional<std::string> status;
  std::optional<DownloadProgress> progress;
  std::optional<DownloadState> download;
  std::optional<std::string> display_size;
  std::optional<std::string> last_used;
  std::optional<std::string> persistent_volume_claim;
  std::optional<std::string> mode;
  std::optional<int64_t> discovered_size_bytes;
  std::optional<Quantity> allocated_size;
  std::optional<int32_t> headroom_percent;
  // Extensions.
  std::optional<std::string> download_job_name;
  std::optional<std::string> last_download_time;
  std::optional<std::string> resolved_revision;
  std::optional<std::string> content_digest;
  std::optional<ResolvedFiles> resolved_files;
  Json extra;
  static void describe(Fields<AIMArtifactStatus>& f);
};

struct AIMArtifactTag {
  using Spec = AIMArtifactSpec;
  using Status = AIMArtifactStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMArtifact",
      "aimartifacts",
      "aimartifact",
      "AIMArtifactList",
      true,
      {"aimart"},
      kAimCategories,
      {{{"Status", "string", ".status.status"},
        {"Mode", "string", ".status.mode"},
        {"Model Size", "string", ".status.displaySize"},
        {"Progress", "string", ".status.progress.displayPercentage"},
        {"Protocol", "string", ".status.download.protocol", 1},
        {"Attempt", "string", ".status.download.attempt", 1},
        {"Age", "date", ".metadata.creationTimestamp"}}},
      "AIMArtifact is one model artifact downloaded onto a PVC: a check-size job sizes it, a "
      "download job fetches it, and every workload that mounts it sees identical files."};
};

using AIMArtifact = Resource<AIMArtifactTag>;

// The line `aim-fetch --check-size` prints and writes to its termination log (the check-size
// Job's contract): {"url": ..., "sizeBytes": N, "revision": ...}.
struct SizeCheckOutput {
  std::optional<std::string> url;
  std::optional<int64_t> size_bytes;
  std::optional<std::string> revision;  // the pinned commit, when the source has revisions
  Json extra;
  static void describe(Fields<SizeCheckOutput>& f);
};

}  // namespace aim::api
