#include "fetch/kube_status_sink.h"

#include <cmath>
#include <cstdio>

namespace aim::fetch {

using Json = nlohmann::json;

kube::ResourceType artifact_resource_type() {
  return kube::ResourceType{"aim.eai.amd.com", "v1alpha1", "aimartifacts", "AIMArtifact", true};
}

namespace {

// RFC 7386 merge of `patch` into `target` (null values kept: they delete on the server).
void merge_into(Json& target, const Json& patch) {
  if (!patch.is_object() || !target.is_object()) {
    target = patch;
    return;
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it.value().is_object() && target.contains(it.key()) && target[it.key()].is_object())
      merge_into(target[it.key()], it.value());
    else
      target[it.key()] = it.value();
  }
}

}  // namespace

KubeStatusSink::KubeStatusSink(std::shared_ptr<kube::Client> client, kube::ResourceType type,
                               std::string ns, std::string name, std::string protocol,
                               std::chrono::milliseconds min_interval)
    : client_(std::move(client)),
      type_(std::move(type)),
      ns_(std::move(ns)),
      name_(std::move(name)),
      protocol_(std::move(protocol)),
      min_interval_(min_interval) {
  worker_ = std::thread([this] { run(); });
}

KubeStatusSink::~KubeStatusSink() {
  flush_and_stop();
}

int KubeStatusSink::patches_sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

Json KubeStatusSink::progress_patch(const ProgressSnapshot& p, bool finished) {
  std::uint64_t total = p.total_bytes;
  std::uint64_t done = finished ? total : p.downloaded_bytes;
  int pct = percent_of(done, total, finished);
  Json progress{{"totalBytes", total},
                {"downloadedBytes", done},
                {"percentage", pct},
                {"displayPercentage", std::to_string(pct) + " %"},
                {"bytesPerSecond", static_cast<std::int64_t>(std::max(0.0, p.bytes_per_second))}};
  if (finished)
    progress["etaSeconds"] = 0;
  else if (p.eta_seconds >= 0)
    progress["etaSeconds"] = static_cast<std::int64_t>(std::ceil(p.eta_seconds));
  else
    progress["etaSeconds"] = nullptr;
  return Json{{"status", {{"progress", progress}}}};
}

void KubeStatusSink::started(const StartInfo& info) {
  ProgressSnapshot p;
  p.total_bytes = info.total_bytes;
  p.downloaded_bytes = info.resumed_bytes;
  p.eta_seconds = -1;
  Json patch = progress_patch(p, false);
  std::string msg = "Downloading " + std::to_string(info.files_total) + " files";
  if (info.resumed_bytes > 0) msg += " (resuming, " + human_bytes(info.resumed_bytes) + " on disk)";
  patch["status"]["download"] = {{"protocol", protocol_}, {"message", msg}};
  patch["status"]["resolvedFiles"] = resolved_files(info);
  queue(std::move(patch), true);
}

Json KubeStatusSink::resolved_files(const StartInfo& info) {
  Json paths = Json::array();
  for (size_t i = 0; i < info.files.size() && i < kMaxResolvedPaths; ++i)
    paths.push_back(info.files[i]);
  return Json{{"count", info.files.size()},
              {"totalBytes", info.total_bytes},
              {"paths", paths},
              {"truncated", info.files.size() > kMaxResolvedPaths}};
}

void KubeStatusSink::progress(const ProgressSnapshot& snapshot) {
  queue(progress_patch(snapshot, false), false);
}

void KubeStatusSink::retrying(const RetryInfo& retry) {
  queue(Json{{"status",
              {{"download",
                {{"message", "Retrying (attempt " + std::to_string(retry.attempt) + ", " +
                                 std::string(to_string(retry.failure.cls)) + ")"}}}}}},
        false);
}

void KubeStatusSink::finished(const Summary& summary) {
  ProgressSnapshot p;
  p.total_bytes = summary.total_bytes;
  p.downloaded_bytes = summary.total_bytes;
  p.bytes_per_second =
      summary.seconds > 0 ? static_cast<double>(summary.transferred_bytes) / summary.seconds : 0;
  Json patch = progress_patch(p, true);
  patch["status"]["download"] = {{"protocol", protocol_}, {"message", "Verified"}};
  if (!summary.revision.empty()) patch["status"]["resolvedRevision"] = summary.revision;
  if (!summary.digest.empty()) patch["status"]["contentDigest"] = summary.digest;
  queue(std::move(patch), true);
  flush_and_stop();
}

void KubeStatusSink::failed(const Failure& failure) {
  // Failure messages are already redacted by the sources (no tokens, no signed URLs).
  std::string msg = "Failed: " + std::string(to_string(failure.cls)) + ": " + failure.message;
  if (msg.size() > 512) msg.resize(512);
  Json patch{{"status", {{"download", {{"protocol", protocol_}, {"message", msg}}}}}};
  if (failure.cls != FailureClass::kInvalidArgument)
    patch["status"]["progress"] = {{"displayPercentage", "N/A"}};
  queue(std::move(patch), true);
  flush_and_stop();
}

void KubeStatusSink::queue(Json patch, bool urgent) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (pending_.is_null())
      pending_ = std::move(patch);
    else
      merge_into(pending_, patch);
    urgent_ = urgent_ || urgent;
  }
  cv_.notify_one();
}

void KubeStatusSink::flush_and_stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (worker_.joinable()) worker_.join();
}

void KubeStatusSink::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (pending_.is_null()) {
      if (stopping_) return;
      cv_.wait(lock, [&] { return stopping_ || !pending_.is_null(); });
      continue;
    }
    auto due = last_sent_ + min_interval_;
    if (!urgent_ && !stopping_ && std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due, [&] { return stopping_ || urgent_; });
      continue;
    }
    Json patch = std::move(pending_);
    pending_ = nullptr;
    urgent_ = false;
    lock.unlock();
    send(patch);
    lock.lock();
    last_sent_ = std::chrono::steady_clock::now();
    ++sent_;
  }
}

void KubeStatusSink::send(const Json& patch) {
  auto r = client_->merge_patch(type_, ns_, name_, patch, "status");
  if (!r.ok()) {
    std::lock_guard lock(mu_);
    if (!warned_) {
      std::fprintf(stderr, "aim-fetch: cannot patch the status of %s/%s: %s\n", ns_.c_str(),
                   name_.c_str(), r.error().describe().c_str());
      warned_ = true;
    }
  }
}

}  // namespace aim::fetch
