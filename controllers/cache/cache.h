// The caching controllers (behavior.md §3.6, §3.7, §4.13 and the DynamoModel-style extensions of
// spec README §5): AIMArtifact (size check, PVC, download Job running aim-fetch, progress,
// failure taxonomy, retry with backoff) and AIMTemplateCache (one artifact per model source).
// See docs/caching.md.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "api/k8s_views.h"
#include "controllers/framework.h"
#include "kube/manager.h"

namespace aim::controllers {

// The downloader image when nothing else names one: aim-engine:<project version>, the project's
// own image (it holds aim-engine, aimctl and aim-fetch).
std::string default_fetch_image();

struct CacheOptions {
  // Image of the download and check-size Jobs when the artifact does not name one (or names the
  // reference's downloader image, which is the CRD default). The operator sets it at start-up
  // (resolve_fetch_image): $AIM_FETCH_IMAGE, else the image of its own container, else
  // default_fetch_image().
  std::string fetch_image = default_fetch_image();
  // Extra labels on download / check-size pod templates: $AIM_DOWNLOAD_POD_LABELS ("k=v,k=v").
  // The integration tests set sim.aim.eai.amd.com/runner=external so that KWOK holds the pods
  // while a test-side runner executes aim-fetch for them.
  std::map<std::string, std::string> download_pod_labels;
  // Where download and check-size pods may run: $AIM_DOWNLOAD_NODE_SELECTOR ("k=v,k=v") and
  // $AIM_DOWNLOAD_TOLERATIONS (a JSON array of tolerations), e.g. nodes with fast egress.
  std::map<std::string, std::string> download_node_selector;
  std::vector<api::Toleration> download_tolerations;
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
  // activeDeadlineSeconds of the Jobs: a download Job still running after this long fails with
  // DeadlineExceeded (reported as DownloadTimeout, then retried like one; aim-fetch resumes).
  // $AIM_DOWNLOAD_DEADLINE_SECONDS, $AIM_CHECK_SIZE_DEADLINE_SECONDS.
  std::chrono::seconds download_deadline{4 * 3600};
  std::chrono::seconds check_size_deadline{600};
  // How long a download or check-size pod may be Unschedulable before the artifact reports it
  // ($AIM_UNSCHEDULABLE_GRACE_SECONDS). Image pull and other pod errors are reported at once.
  std::chrono::seconds unschedulable_grace{30};
  // The largest PersistentVolumeClaim an artifact may request, in bytes (0: no limit):
  // $AIM_MAX_ARTIFACT_SIZE, a quantity such as "2Ti" (Helm value cache.maxArtifactSize). Above
  // it the artifact fails with ArtifactTooLarge and no claim is made.
  int64_t max_artifact_bytes = 0;

  static CacheOptions from_env();
};

// The downloader image when $AIM_FETCH_IMAGE is unset, decided once at start-up: the image of
// the operator's own container (the Pod $POD_NAME in $POD_NAMESPACE, given by the downward API;
// the container named $AIM_OPERATOR_CONTAINER, else the first one), else default_fetch_image().
// `env_image` is $AIM_FETCH_IMAGE; `own_pod` the operator's Pod (null when not known or not
// readable). `source` says where the image came from, for the start-up log.
struct FetchImageChoice {
  std::string image;
  std::string
      source;  // "AIM_FETCH_IMAGE", "operator pod <ns>/<name> container <c>", "built-in default"
};
FetchImageChoice choose_fetch_image(const std::string& env_image, const api::Pod* own_pod,
                                    const std::string& container);
// The same with the I/O: reads the environment and the operator's Pod (one GET), logs the
// choice and stores it in options.fetch_image.
void resolve_fetch_image(CacheOptions& options, kube::Client* client);

void register_cache_controllers(kube::Manager& mgr, const controllers::Context& ctx);
void register_cache_controllers(kube::Manager& mgr, const controllers::Context& ctx,
                                const CacheOptions& options);

}  // namespace aim::controllers
