// The download engine: takes a Source's listing and puts verified files into DEST.
//
// * Many files at once and large files in parallel byte ranges, over pooled keep-alive sessions.
// * Bytes stream to disk with pwrite into DEST/.aim-fetch/<key>.part from a bounded pool of
//   aligned buffers (buffer_pool.h), with range bookkeeping beside it (partial.h) so interrupted
//   runs resume.
// * Digests are computed off the transfer threads, so every file is hashed once, in order, while
//   it downloads. Hasher threads take the buffers that extend a file's written prefix from memory
//   (those go to the disk with O_DIRECT where the filesystem takes it: no page-cache copy) and
//   read back from the page cache what other ranges wrote ahead of it.
// * Each finished file is checked (size, published sha256 / MD5 / git blob id) once its last byte
//   is hashed, fsynced and renamed into place atomically; a mismatch is fetched once more, then
//   reported as checksum_mismatch.
// * Retries with jittered backoff and Retry-After; stalls are detected per transfer.
// * A manifest (path, size, sha256 for every file, revision, content digest) is written last;
//   the directories that received files and the manifest are fsynced, so a finished run survives
//   a power loss as a whole.
// * Include / exclude patterns (file_filter.h) pick part of a repository.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.h"
#include "fetch/failure.h"
#include "fetch/file_filter.h"
#include "fetch/progress.h"
#include "fetch/source.h"
#include "fetch/transport.h"

namespace aim::fetch {

// O_DIRECT for the partial files: kAuto uses it where the filesystem accepts it and falls back to
// the page cache where it does not (EINVAL at open or on a write); kOn fails the run instead;
// kOff never uses it.
enum class DirectIo { kAuto, kOn, kOff };

// Tests only: act as if the filesystem refused O_DIRECT at open or on the first write.
enum class DirectIoFault { kNone, kRefuseOpen, kRefuseWrite };

struct DownloadOptions {
  int jobs = 8;                              // concurrent transfers
  std::uint64_t chunk_size = 1024ull << 20;  // byte range per transfer for large files
  RetryPolicy retry;
  long stall_seconds = 30;  // abort a transfer that moves < 1 B/s this long
  std::chrono::milliseconds progress_interval{1000};
  std::uint64_t write_buffer = 1ull << 20;  // bytes gathered before one pwrite
  FileFilter filter;                        // which of the listed files to fetch
  DirectIo direct_io = DirectIo::kAuto;
  int hash_threads = 0;  // threads computing digests; 0: one per core, at most 4
  DirectIoFault direct_io_fault = DirectIoFault::kNone;
};

class Downloader {
 public:
  Downloader(Source& source, http::SessionPool& pool, ProgressSink& sink, DownloadOptions options,
             const std::atomic<bool>* cancel)
      : source_(source), pool_(pool), sink_(sink), options_(options), cancel_(cancel) {}

  // `display_uri` is what the progress stream and manifest show (already redacted).
  Result<Summary, Failure> run(const std::string& display_uri, const std::filesystem::path& dest);

 private:
  Source& source_;
  http::SessionPool& pool_;
  ProgressSink& sink_;
  DownloadOptions options_;
  const std::atomic<bool>* cancel_;
};

// The staging directory name inside DEST.
inline constexpr const char* kStagingDir = ".aim-fetch";
// A file larger than this, or than the range size, is prepared by its source before the
// download (Source::prepare: the Hub's CDN location, an S3 object's full-object checksum) even
// when it fits one range: an S3 object verified by its CRC instead of its MD5 ETag costs a
// fraction of the CPU.
inline constexpr std::uint64_t kPrepareAbove = 16ull << 20;

}  // namespace aim::fetch
