// Where download progress goes. The downloader reports events to a ProgressSink; sinks turn
// them into a terminal progress bar, a JSON-lines stream (one object per line, for machines),
// or (later, in the operator) AIMArtifact status patches through a KubeStatusSink.
//
// JSON-lines events ("event" names the kind; byte counts are integers):
//   {"event":"start","uri":…,"revision":…,"filesTotal":N,"totalBytes":N,"resumedBytes":N}
//   {"event":"progress","downloadedBytes":N,"totalBytes":N,"percentage":P,"displayPercentage":"P
//   %",
//    "bytesPerSecond":N,"etaSeconds":N,"filesDone":N,"filesTotal":N}
//   {"event":"file","path":…,"size":N,"sha256":…}
//   {"event":"retry","path":…,"attempt":N,"delayMs":N,"class":…,"message":…}
//   {"event":"wait","message":…}   (another aim-fetch holds the destination; before "start")
//   {"event":"done","revision":…,"digest":"sha256:…","files":N,"totalBytes":N,"seconds":S,"bytesPerSecond":N}
//   {"event":"error","class":…,"exitCode":N,"message":…}
// The last line is always "done" or "error".
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fetch/failure.h"

namespace aim::fetch {

struct StartInfo {
  std::string uri;  // redacted
  std::string revision;
  std::uint64_t files_total = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t resumed_bytes = 0;  // already on disk (complete files and partial ranges)
  std::vector<std::string> files;   // the paths being fetched, sorted
  std::string selection;            // the include / exclude patterns, when any chose them
};

struct ProgressSnapshot {
  std::uint64_t downloaded_bytes = 0;  // includes resumed bytes
  std::uint64_t total_bytes = 0;
  std::uint64_t files_done = 0;
  std::uint64_t files_total = 0;
  double bytes_per_second = 0;  // over this run's transfer, not counting resumed bytes
  double eta_seconds = -1;      // negative when unknown
};

struct FileDone {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;
};

struct RetryInfo {
  std::string path;
  int attempt = 0;
  std::chrono::milliseconds delay{0};
  Failure failure;
};

struct Summary {
  std::string uri;
  std::string revision;
  std::string digest;  // "sha256:<hex>" over the manifest entries
  std::uint64_t files = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t transferred_bytes = 0;  // fetched over the network in this run
  double seconds = 0;
  std::uint64_t direct_bytes = 0;  // of transferred_bytes, written with O_DIRECT (not in the JSON)
};

// Where a download reports. The downloader's worker threads call file_done and retrying
// concurrently (and progress comes from its reporter thread): an implementation locks what they
// share (JsonLinesSink and KubeStatusSink hold a mutex).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void started(const StartInfo& info) = 0;
  virtual void progress(const ProgressSnapshot& snapshot) = 0;
  virtual void file_done(const FileDone& file) = 0;
  virtual void retrying(const RetryInfo& retry) = 0;
  virtual void finished(const Summary& summary) = 0;
  virtual void failed(const Failure& failure) = 0;
  // The run is blocked on something outside it (another aim-fetch writing the destination).
  virtual void waiting(const std::string& /*message*/) {}
};

// Integer percent, capped at 99 until the download is finished (as the reference monitor does).
int percent_of(std::uint64_t done, std::uint64_t total, bool finished);

// One JSON object per line on a FILE* (an inherited descriptor or a file); flushed per line.
class JsonLinesSink final : public ProgressSink {
 public:
  explicit JsonLinesSink(std::FILE* out, bool owns = false) : out_(out), owns_(owns) {}
  ~JsonLinesSink() override;
  void started(const StartInfo& info) override;
  void progress(const ProgressSnapshot& snapshot) override;
  void file_done(const FileDone& file) override;
  void retrying(const RetryInfo& retry) override;
  void finished(const Summary& summary) override;
  void failed(const Failure& failure) override;
  void waiting(const std::string& message) override;

 private:
  void write(const std::string& line);
  std::mutex mu_;
  std::FILE* out_;
  bool owns_;
};

// Human output on a terminal: a redrawn progress bar on a TTY, a line every few seconds otherwise.
class TerminalSink final : public ProgressSink {
 public:
  TerminalSink(std::FILE* out, bool tty) : out_(out), tty_(tty) {}
  void started(const StartInfo& info) override;
  void progress(const ProgressSnapshot& snapshot) override;
  void file_done(const FileDone&) override {}
  void retrying(const RetryInfo& retry) override;
  void finished(const Summary& summary) override;
  void failed(const Failure& failure) override;
  void waiting(const std::string& message) override;

 private:
  std::mutex mu_;
  std::FILE* out_;
  bool tty_;
  bool bar_drawn_ = false;
  std::chrono::steady_clock::time_point last_line_{};
};

class FanoutSink final : public ProgressSink {
 public:
  void add(std::unique_ptr<ProgressSink> sink) { sinks_.push_back(std::move(sink)); }
  void started(const StartInfo& i) override {
    for (auto& s : sinks_) s->started(i);
  }
  void progress(const ProgressSnapshot& p) override {
    for (auto& s : sinks_) s->progress(p);
  }
  void file_done(const FileDone& f) override {
    for (auto& s : sinks_) s->file_done(f);
  }
  void retrying(const RetryInfo& r) override {
    for (auto& s : sinks_) s->retrying(r);
  }
  void finished(const Summary& s2) override {
    for (auto& s : sinks_) s->finished(s2);
  }
  void failed(const Failure& f) override {
    for (auto& s : sinks_) s->failed(f);
  }
  void waiting(const std::string& m) override {
    for (auto& s : sinks_) s->waiting(m);
  }

 private:
  std::vector<std::unique_ptr<ProgressSink>> sinks_;
};

std::string human_bytes(double bytes);

}  // namespace aim::fetch
