// The caching controllers (behavior.md §3.6, §3.7, §4.13 and the DynamoModel-style extensions of
// spec README §5): AIMArtifact (size check, PVC, download Job running aim-fetch, progress,
// failure taxonomy, retry with backoff) and AIMTemplateCache (one artifact per model source).
// See docs/caching.md.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "controllers/framework.h"
#include "kube/manager.h"

namespace aim::controllers {

struct CacheOptions {
  // Image of the download and check-size Jobs when the artifact does not name one (or names the
  // reference's downloader image, which is the CRD default): $AIM_FETCH_IMAGE.
  std::string fetch_image = "ghcr.io/amd/aim-fetch:0.1.0";
  // Extra labels on download / check-size pod templates: $AIM_DOWNLOAD_POD_LABELS ("k=v,k=v").
  // The integration tests set sim.aim.eai.amd.com/runner=external so that KWOK holds the pods
  // while a test-side runner executes aim-fetch for them.
  std::map<std::string, std::string> download_pod_labels;
  // Retry after a failed download: base * 2^(attempt-1), capped. Transient failures (rate
  // limited, timeout, network, disk full, checksum) start at `retry_base`, permanent ones (auth,
  // not found) at `permanent_retry_base`. $AIM_ARTIFACT_RETRY_BASE_SECONDS overrides the first.
  std::chrono::seconds retry_base{30};
  std::chrono::seconds permanent_retry_base{300};
  std::chrono::seconds retry_max{3600};
  // Pod retries inside one Job (the reference's backoffLimit).
  int backoff_limit = 2;
  // Seconds between status patches of aim-fetch.
  int status_interval_seconds = 5;

  static CacheOptions from_env();
};

void register_cache_controllers(kube::Manager& mgr, const controllers::Context& ctx);
void register_cache_controllers(kube::Manager& mgr, const controllers::Context& ctx,
                                const CacheOptions& options);

}  // namespace aim::controllers
