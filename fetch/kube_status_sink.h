// KubeStatusSink: aim-fetch's progress as JSON merge patches on the status subresource of the
// AIMArtifact it downloads for (run in the operator's download Job). Patches are coalesced and
// sent by one background thread at most once per `min_interval`, so a fast download never
// floods the API server; start, finish and failure are always sent. A failed patch is logged
// once to stderr and never stops the download.
//
// Fields written (the controller owns everything else in status):
//   status.progress = {totalBytes, downloadedBytes, percentage (capped at 99 until done),
//                      displayPercentage "<p> %", bytesPerSecond, etaSeconds}
//   status.download = {protocol: <scheme>, message}
//   status.resolvedFiles = {count, totalBytes, paths (sorted, the first kMaxResolvedPaths),
//                           truncated} at the start: what the include / exclude patterns chose
//   on success also status.resolvedRevision and status.contentDigest.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fetch/progress.h"
#include "kube/client.h"

namespace aim::fetch {

// aim.eai.amd.com/v1alpha1 aimartifacts.
kube::ResourceType artifact_resource_type();

class KubeStatusSink final : public ProgressSink {
 public:
  KubeStatusSink(std::shared_ptr<kube::Client> client, kube::ResourceType type, std::string ns,
                 std::string name, std::string protocol,
                 std::chrono::milliseconds min_interval = std::chrono::seconds(5));
  ~KubeStatusSink() override;
  KubeStatusSink(const KubeStatusSink&) = delete;
  KubeStatusSink& operator=(const KubeStatusSink&) = delete;

  void started(const StartInfo& info) override;
  void progress(const ProgressSnapshot& snapshot) override;
  void file_done(const FileDone&) override {}
  void retrying(const RetryInfo& retry) override;
  void finished(const Summary& summary) override;
  void failed(const Failure& failure) override;

  // Patches sent so far (for tests and the final log line).
  int patches_sent() const;

  // The merge patch for a progress snapshot (pure; exposed for tests).
  static nlohmann::json progress_patch(const ProgressSnapshot& p, bool finished);
  // status.resolvedFiles for a start event (pure; exposed for tests). The list is bounded so a
  // repository of many small files cannot push the object towards etcd's size limit.
  static constexpr size_t kMaxResolvedPaths = 256;
  static nlohmann::json resolved_files(const StartInfo& info);

 private:
  void queue(nlohmann::json patch, bool urgent);
  void flush_and_stop();
  void run();
  void send(const nlohmann::json& patch);

  std::shared_ptr<kube::Client> client_;
  kube::ResourceType type_;
  std::string ns_, name_, protocol_;
  std::chrono::milliseconds min_interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  nlohmann::json pending_;  // merged, not yet sent; null when nothing pending
  bool urgent_ = false;
  bool stopping_ = false;
  bool warned_ = false;
  int sent_ = 0;
  std::chrono::steady_clock::time_point last_sent_{};
  std::thread worker_;
};

}  // namespace aim::fetch
