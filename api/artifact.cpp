#include "api/artifact.h"

namespace aim::api {
namespace {

// spec.include / spec.exclude: bounded lists of non-empty globs (aim-fetch checks the syntax).
FieldBuilder describe_file_patterns(FieldBuilder b) {
  return b.max_items(64)
      .cel("self.all(p, size(p) >= 1 && size(p) <= 1024)",
           "each file pattern must be 1 to 1024 characters")
      .extension("Partial downloads: one GGUF file, only the safetensors, an adapter (issue 15).");
}

}  // namespace

void AIMArtifactSpec::describe(Fields<AIMArtifactSpec>& f) {
  f.doc("Desired state of an artifact.");
  uri_segment_rules(f.field("sourceUri", &AIMArtifactSpec::source_uri,
                            "Where to download from; identifies the artifact. `hf://org/model`, "
                            "`s3://bucket/key`, `ngc://org/model`, `https://host/path`, or the "
                            "scheme of a custom downloader. Immutable."))
      .required()
      .min_length(1)
      .pattern(std::string(kArtifactSourceUriPattern))
      .immutable("sourceUri is immutable")
      .extension(
          "The pattern is widened from `^(hf|s3)://` to any URI scheme (ngc, https and custom "
          "downloader schemes).");
  f.field("modelId", &AIMArtifactSpec::model_id,
          "`{org}/{name}`; download path `/workspace/cache/{modelId}`. Derived from the URI for "
          "`hf://`, needed for other schemes.")
      .pattern(std::string(kModelIdPattern));
  f.field("storageClassName", &AIMArtifactSpec::storage_class_name,
          "Storage class of the PVC; empty means the cluster default.");
  quantity_bounds(
      f.field("size", &AIMArtifactSpec::size,
              "Requested model size; zero or absent lets a check-size job discover it."),
      "size", kMaxModelSize);
  describe_env(f, "Download environment (e.g. `HF_TOKEN`).");
  image_reference(f.field("modelDownloadImage", &AIMArtifactSpec::model_download_image,
                          "Image of the download and check-size jobs.")
                      .default_value("ghcr.io/silogen/aim-artifact-downloader:0.2.0"),
                  "modelDownloadImage");
  describe_image_pull_secrets(f, "Secrets for the downloader image.");
  describe_runtime_config_ref(f);
  f.field("revision", &AIMArtifactSpec::revision,
          "Version pin: a commit SHA, tag or branch of the source. The resolved commit is "
          "recorded in status.resolvedRevision so every consumer sees the same files. Immutable.")
      .immutable("revision is immutable")
      .extension("Version pinning from the DynamoModel design (seed 003).");
  f.field("credentialsSecretRef", &AIMArtifactSpec::credentials_secret_ref,
          "Secret whose keys (e.g. `HF_TOKEN`, `AWS_ACCESS_KEY_ID`, `NGC_API_KEY`) are exposed "
          "to the downloader as environment variables.")
      .extension("Credential injection from the DynamoModel design (seed 003).");
  f.field("downloaderRef", &AIMArtifactSpec::downloader_ref,
          "Name of an AIMClusterArtifactDownloader to use instead of the built-in downloader; "
          "absent selects by URI scheme.")
      .extension("Custom downloaders from the DynamoModel design (seed 003).");
  f.field("existingClaimName", &AIMArtifactSpec::existing_claim_name,
          "Reuse this existing PVC instead of creating one (the model may already be on it). "
          "Immutable.")
      .immutable("existingClaimName is immutable")
      .extension("PVC reuse from the DynamoModel design (seed 003).");
  f.field("accessMode", &AIMArtifactSpec::access_mode, "Access mode of the created PVC.")
      .default_value("ReadWriteMany")
      .enums({"ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany", "ReadWriteOncePod"})
      .extension("PVC access mode from the DynamoModel design (seed 003).");
  describe_file_patterns(
      f.field(
          "include", &AIMArtifactSpec::include,
          "Fetch only the files whose repository-relative path matches one of these globs "
          "(`*.safetensors`, `gguf/model-Q4_K_M.gguf`, `adapters/`): `*` and `?` also match `/`, "
          "`[...]` is a character class, a trailing `/` selects a directory. Absent: every file. "
          "What was selected is recorded in status.resolvedFiles. Immutable."))
      .immutable("include is immutable");
  describe_file_patterns(f.field("exclude", &AIMArtifactSpec::exclude,
                                 "Skip the files matching one of these globs (same syntax as "
                                 "include; an exclude wins over an include). Immutable."))
      .immutable("exclude is immutable");
}

void ResolvedFiles::describe(Fields<ResolvedFiles>& f) {
  f.doc("The files the downloader fetches, after spec.include / spec.exclude.");
  f.field("count", &ResolvedFiles::count, "Number of files.");
  f.field("totalBytes", &ResolvedFiles::total_bytes, "Their total size.");
  f.field("paths", &ResolvedFiles::paths,
          "Their paths, sorted; at most the first 256 (see truncated).");
  f.field("truncated", &ResolvedFiles::truncated, "True when paths lists only the first 256.");
}

void DownloadProgress::describe(Fields<DownloadProgress>& f) {
  f.doc("Download progress, written by the downloader.");
  f.field("totalBytes", &DownloadProgress::total_bytes, "Expected bytes.");
  f.field("downloadedBytes", &DownloadProgress::downloaded_bytes, "Bytes so far.");
  f.field("percentage", &DownloadProgress::percentage, "Percent done.").minimum(0).maximum(100);
  f.field("displayPercentage", &DownloadProgress::display_percentage,
          "E.g. `45 %`; `100 %` when done, `N/A` on failure.");
  f.field("bytesPerSecond", &DownloadProgress::bytes_per_second, "Current download rate.")
      .extension("Download observability.");
  f.field("etaSeconds", &DownloadProgress::eta_seconds, "Estimated seconds to completion.")
      .extension("Download observability.");
}

void DownloadState::describe(Fields<DownloadState>& f) {
  f.doc("State of the download, written by the downloader.");
  f.field("protocol", &DownloadState::protocol, "Active protocol (`XET`, `HF_TRANSFER`, `HTTP`).");
  f.field("attempt", &DownloadState::attempt, "1-based attempt number.");
  f.field("totalAttempts", &DownloadState::total_attempts, "Attempts configured.");
  f.field("protocolSequence", &DownloadState::protocol_sequence, "E.g. `HF_TRANSFER,XET`.");
  f.field("message", &DownloadState::message, "Human message (`Complete` when finished).");
}

void AIMArtifactStatus::describe(Fields<AIMArtifactStatus>& f) {
  f.doc("Observed state of an artifact.");
  f.field("observedGeneration", &AIMArtifactStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMArtifactStatus::conditions, "Current conditions.").list_map({"type"});
  f.field("status", &AIMArtifactStatus::status, "Aggregate state.")
      .default_value("Pending")
      .enums({"Pending", "Progressing", "Ready", "Degraded", "Failed", "NotAvailable"});
  f.field("progress", &AIMArtifactStatus::progress, "");
  f.field("download", &AIMArtifactStatus::download, "");
  f.field("displaySize", &AIMArtifactStatus::display_size, "Human-readable size.");
  f.field("lastUsed", &AIMArtifactStatus::last_used, "Last deployment using the artifact.")
      .format("date-time");
  f.field("persistentVolumeClaim", &AIMArtifactStatus::persistent_volume_claim, "PVC name.");
  f.field("mode", &AIMArtifactStatus::mode,
          "`Dedicated` when the artifact has owner references, else `Shared`.")
      .enums({"Dedicated", "Shared"});
  f.field("discoveredSizeBytes", &AIMArtifactStatus::discovered_size_bytes,
          "Size found by the check-size job.");
  f.field("allocatedSize", &AIMArtifactStatus::allocated_size, "PVC request including headroom.");
  f.field("headroomPercent", &AIMArtifactStatus::headroom_percent, "Headroom applied.");
  f.field("downloadJobName", &AIMArtifactStatus::download_job_name, "Name of the download Job.")
      .extension("Download bookkeeping from the DynamoModel design (seed 003).");
  f.field("lastDownloadTime", &AIMArtifactStatus::last_download_time,
          "When the last successful download finished.")
      .format("date-time")
      .extension("Download bookkeeping from the DynamoModel design (seed 003).");
  f.field("resolvedRevision", &AIMArtifactStatus::resolved_revision,
          "The commit (or object version) spec.revision resolved to.")
      .extension("Version pinning from the DynamoModel design (seed 003).");
  f.field("contentDigest", &AIMArtifactStatus::content_digest,
          "Digest over the downloaded files (`sha256:<hex>`), for end-to-end integrity.")
      .extension("End-to-end integrity (README, beyond the reference).");
  f.field("resolvedFiles", &AIMArtifactStatus::resolved_files,
          "The files being fetched (after spec.include / spec.exclude), written by the "
          "downloader when it starts.")
      .extension("Partial downloads (issue 15).");
}

void SizeCheckOutput::describe(Fields<SizeCheckOutput>& f) {
  f.doc("What a check-size Job prints: the source, its size and its revision.");
  f.field("url", &SizeCheckOutput::url, "The source, without credentials.");
  f.field("sizeBytes", &SizeCheckOutput::size_bytes, "The bytes to download.");
  f.field("revision", &SizeCheckOutput::revision, "The revision the size is for.");
}

}  // namespace aim::api
