#include "fetch/downloader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fetch/buffer_pool.h"
#include "fetch/dest_lock.h"
#include "fetch/digest.h"
#include "fetch/manifest.h"
#include "fetch/partial.h"
#include "fetch/uri.h"

namespace aim::fetch {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kUnknownEnd = ~0ull;
constexpr std::uint64_t kSaveEvery = 64ull << 20;
constexpr std::uint64_t kWritebackEvery = 8ull << 20;
constexpr std::size_t kReadBackSize = 2u << 20;  // a hasher's read of bytes it was not handed
// Writes through the page cache go in pieces of this size. A 1 MiB write at a 1 MiB boundary
// makes the kernel allocate a large folio for it: on the 2-core machine measured, the download
// then took 2-3 times the system time of the previous aim-fetch (fragmented memory, a full page
// cache); 64 KiB pieces brought it back (1.5 s instead of 3.4 s).
constexpr std::size_t kPageCacheWrite = 64u << 10;
constexpr std::uint64_t kHandOverWindow = 4;      // buffers a hasher may be behind a hand-over
constexpr std::uint64_t kHashTurn = 32ull << 20;  // a hasher moves to another file after this

struct Hashes {
  std::unique_ptr<Digest> sha256, md5, sha1, checksum;
  void init(const RemoteFile& f) {
    sha256 = std::make_unique<Digest>(DigestAlgorithm::kSha256);
    md5 = f.md5.empty() ? nullptr : std::make_unique<Digest>(DigestAlgorithm::kMd5);
    checksum = f.checksum_algorithm ? std::make_unique<Digest>(*f.checksum_algorithm) : nullptr;
    sha1.reset();
    if (!f.git_sha1.empty() && f.size_known) {
      sha1 = std::make_unique<Digest>(DigestAlgorithm::kSha1);
      sha1->update(git_blob_header(f.size));
    }
  }
  void update(std::string_view d) {
    sha256->update(d);
    if (md5) md5->update(d);
    if (sha1) sha1->update(d);
    if (checksum) checksum->update(d);
  }
  // The digests other than SHA-256, finished: {md5, sha1, checksum} ("" where not computed).
  std::array<std::string, 3> others() {
    return {md5 ? md5->hex() : "", sha1 ? sha1->hex() : "", checksum ? checksum->hex() : ""};
  }
};

// Bytes a transfer wrote that extended its file's written prefix, handed to the hasher as they
// lie in memory.
struct Piece {
  PooledBuffer buf;
  std::uint64_t offset = 0;
  std::size_t size = 0;
  std::uint64_t end() const { return offset + size; }
};

struct FileJob {
  RemoteFile remote;
  fs::path final_path, part_path, state_path;
  int fd = -1;   // through the page cache: what is not handed to the hasher, tails, read-back
  int dfd = -1;  // the same file opened with O_DIRECT, or -1
  std::atomic<bool> direct{false};  // dfd is in use (cleared when a direct write is refused)
  std::mutex mu;
  std::condition_variable idle;  // `hashing` went false
  PartialState state;
  std::vector<ByteRange> ranges;
  int ranges_left = 0;
  std::uint64_t unsaved = 0;
  std::uint64_t written_unknown = 0;  // bytes written when the size is unknown
  // The digests cover [0, hashed) and only a hasher thread moves them, one at a time per file
  // (`hashing`), in file order: from `pieces` when they reach `hashed`, else by reading back
  // what other ranges wrote ahead (written_prefix() says how far the file is complete).
  std::uint64_t hashed = 0;
  bool hashing = false;
  bool in_ready = false;  // queued for a hasher (guarded by Run::hmu_)
  std::deque<Piece> pieces;
  bool all_written = false;  // every range done and fdatasynced: the hasher finishes the file
  bool settled = false;      // renamed into place
  Hashes hashes;
  int verify_failures = 0;
  int location_refreshes = 0;
  std::mutex refresh_mu;
};

struct Task {
  FileJob* job;
  size_t range;
};

// Rejects a destination path whose existing parents include a symlink (it could point anywhere).
Result<void, Failure> make_parents(const fs::path& dest, const std::string& rel) {
  fs::path cur = dest;
  fs::path relp(rel);
  for (auto it = relp.begin(); it != relp.end(); ++it) {
    if (std::next(it) == relp.end()) break;
    cur /= *it;
    struct stat st {};
    if (::lstat(cur.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
        return fail(Failure{FailureClass::kUnsafePath,
                            rel + ": a parent in the destination is not a plain directory"});
      continue;
    }
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      return fail(classify_errno(errno, "mkdir " + rel));
  }
  return Ok{};
}

// `others` is Hashes::others(): {md5, sha1, checksum}.
std::string verify_mismatch(const RemoteFile& f, const std::string& sha256,
                            const std::array<std::string, 3>& others) {
  const auto& [md5, sha1, checksum] = others;
  if (!f.sha256.empty() && f.sha256 != sha256)
    return "sha256 " + sha256 + " != published " + f.sha256;
  if (!f.md5.empty() && f.md5 != md5) return "md5 " + md5 + " != ETag " + f.md5;
  if (!f.git_sha1.empty() && !sha1.empty() && f.git_sha1 != sha1)
    return "git blob " + sha1 + " != published " + f.git_sha1;
  if (f.checksum_algorithm && f.checksum != checksum)
    return std::string(digest_name(*f.checksum_algorithm)) + " " + checksum + " != published " +
           f.checksum;
  return {};
}

// Hashes [from, to) of an open file.
Result<void, Failure> hash_range(int fd, std::uint64_t from, std::uint64_t to, Hashes& h,
                                 const std::string& what) {
  std::string buf(4 << 20, '\0');
  std::uint64_t off = from;
  while (off < to) {
    ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), to - off),
                        static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(classify_errno(n < 0 ? errno : EIO, "read " + what));
    h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    off += static_cast<std::uint64_t>(n);
  }
  return Ok{};
}

Result<void, Failure> hash_file(int fd, std::uint64_t size, Hashes& h, const std::string& what) {
  return hash_range(fd, 0, size, h, what);
}

// End of the completely written prefix of a file (caller holds job.mu).
std::uint64_t written_prefix(const FileJob& job) {
  if (!job.remote.size_known) return job.written_unknown;
  std::uint64_t end = 0;
  for (size_t i = 0; i < job.ranges.size(); ++i) {
    const ByteRange& r = job.ranges[i];
    if (r.begin != end) break;
    end = r.begin + job.state.done[i];
    if (job.state.done[i] < r.size()) break;
  }
  return end;
}

// The digests start over (caller holds job.mu and no hasher is in the file).
void reset_digests(FileJob& job) {
  job.hashed = 0;
  job.hashes.init(job.remote);
  job.pieces.clear();
}

// Whether a hasher has something to do for the file (caller holds job.mu).
bool hash_work(const FileJob& job) {
  return !job.settled && (job.hashed < written_prefix(job) || job.all_written);
}

void close_fds(FileJob& job) {
  if (job.fd >= 0) ::close(job.fd);
  if (job.dfd >= 0) ::close(job.dfd);
  job.fd = job.dfd = -1;
  job.direct = false;
}

class Run {
 public:
  Run(Source& source, http::SessionPool& pool, ProgressSink& sink, const DownloadOptions& o,
      const std::atomic<bool>* external_cancel)
      : source_(source),
        sink_(sink),
        opts_(o),
        external_(external_cancel),
        transport_(pool, o.retry, &sink, &stop_),
        buffers_(o.write_buffer, 2 * static_cast<std::size_t>(std::max(1, o.jobs))) {}

  Result<Summary, Failure> go(const std::string& uri, const fs::path& dest);

 private:
  Result<void, Failure> setup(FileJob& job, std::uint64_t& needed);
  Result<void, Failure> open_direct(FileJob& job);
  Result<void, Failure> fetch_range(FileJob& job, size_t idx);
  int write_at(FileJob& job, const char* data, std::size_t size, std::uint64_t offset, bool direct);
  void run_task(const Task& t);
  bool refresh_location(FileJob& job, const std::string& failed_url);
  bool finalize(FileJob& job);
  void complete(FileJob& job, const std::string& sha256, std::uint64_t size);
  void worker();
  void schedule(FileJob& job);
  void hasher();
  void hash_turn(FileJob& job, const AlignedBuffer& readback);
  Result<std::size_t, Failure> read_back(FileJob& job, std::uint64_t from, std::uint64_t to,
                                         char* buf);
  void file_settled();
  void set_fatal(Failure f);
  void save(FileJob& job);  // caller holds job.mu
  ProgressSnapshot snapshot(double elapsed, double rate) const;

  Source& source_;
  ProgressSink& sink_;
  DownloadOptions opts_;
  const std::atomic<bool>* external_;
  std::atomic<bool> stop_{false};
  Transport transport_;
  BufferPool buffers_;  // before jobs_: their pieces go back to it

  fs::path dest_, staging_;
  DestLock lock_;  // held from before the first change in DEST until the run ends
  std::vector<std::unique_ptr<FileJob>> jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  int pending_ = 0;
  std::optional<Failure> fatal_;
  std::vector<ManifestEntry> entries_;
  std::set<fs::path> renamed_into_;  // directories whose entries must be fsynced at the end

  // Files with bytes to hash, for the hasher threads.
  std::mutex hmu_;
  std::condition_variable hcv_;
  std::deque<FileJob*> ready_;
  bool hstop_ = false;

  std::uint64_t total_bytes_ = 0;
  std::uint64_t resumed_bytes_ = 0;
  std::atomic<std::uint64_t> transferred_{0};
  std::atomic<std::uint64_t> direct_bytes_{0};
  std::atomic<std::uint64_t> files_done_{0};
};

void Run::set_fatal(Failure f) {
  {
    std::lock_guard lock(mu_);
    if (!fatal_) fatal_ = std::move(f);
    stop_ = true;
    cv_.notify_all();
  }
  buffers_.cancel();
  { std::lock_guard lock(hmu_); }  // a hasher between its check of stop_ and its wait sees it
  hcv_.notify_all();
}

void Run::save(FileJob& job) {
  job.unsaved = 0;
  if (!job.remote.size_known) return;
  (void)save_state(job.state_path, job.state);  // best effort: a lost record only costs a re-fetch
}

Result<void, Failure> Run::setup(FileJob& job, std::uint64_t& needed) {
  RemoteFile& f = job.remote;
  // A file already in place from an earlier run is kept when it still verifies.
  struct stat st {};
  if (::lstat(job.final_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && f.size_known &&
      static_cast<std::uint64_t>(st.st_size) == f.size) {
    int fd = ::open(job.final_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      Hashes h;
      h.init(f);
      auto r = hash_file(fd, f.size, h, f.path);
      ::close(fd);
      if (r.ok()) {
        std::string sha = h.sha256->hex();
        if (verify_mismatch(f, sha, h.others()).empty()) {
          resumed_bytes_ += f.size;
          complete(job, sha, f.size);
          return Ok{};
        }
      }
    }
  }

  if (!f.size_known || f.size > std::min(opts_.chunk_size, kPrepareAbove)) {
    auto p = source_.prepare(transport_, f);
    if (!p.ok()) return fail(p.error());
  }

  if (!f.size_known) {
    job.fd = ::open(job.part_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (job.fd < 0) return fail(classify_errno(errno, "open partial file for " + f.path));
    job.ranges = {ByteRange{0, kUnknownEnd}};
    job.state = PartialState::fresh(f.path, 0, f.identity, 0);
    job.hashes.init(f);
    job.ranges_left = 1;
    return open_direct(job);
  }

  const std::uint64_t chunk = f.ranges && f.size > opts_.chunk_size ? opts_.chunk_size : 0;
  bool resumed = false;
  if (auto old = load_state(job.state_path);
      old.ok() && old->matches(f.size, f.identity, chunk) && old->path == f.path) {
    job.fd = ::open(job.part_path.c_str(), O_RDWR | O_CLOEXEC);
    struct stat pst {};
    if (job.fd >= 0 && ::fstat(job.fd, &pst) == 0 &&
        static_cast<std::uint64_t>(pst.st_size) == f.size) {
      job.state = std::move(old).value();
      resumed = true;
    } else if (job.fd >= 0) {
      ::close(job.fd);
      job.fd = -1;
    }
  }
  if (!resumed) {
    job.state = PartialState::fresh(f.path, f.size, f.identity, chunk);
    job.fd = ::open(job.part_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (job.fd < 0) return fail(classify_errno(errno, "open partial file for " + f.path));
    needed += f.size;
  }
  resumed_bytes_ += job.state.bytes_done();
  job.ranges = job.state.ranges();
  job.ranges_left = static_cast<int>(job.ranges.size());
  job.hashes.init(f);
  return open_direct(job);
}

// A second descriptor with O_DIRECT for the whole 4 KiB blocks (a file smaller than one has
// none). A filesystem that refuses it (EINVAL: tmpfs before Linux 6.6, some FUSE and network
// filesystems) leaves the file on the page cache, unless --direct-io=on.
Result<void, Failure> Run::open_direct(FileJob& job) {
  if (opts_.direct_io == DirectIo::kOff) return Ok{};
  if (job.remote.size_known && job.remote.size < kIoAlign) return Ok{};
  int fd = -1;
  if (opts_.direct_io_fault == DirectIoFault::kRefuseOpen)
    errno = EINVAL;
  else
    fd = ::open(job.part_path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    if (opts_.direct_io == DirectIo::kOn)
      return fail(Failure{FailureClass::kInvalidArgument,
                          "--direct-io=on, but the destination refuses O_DIRECT (" +
                              std::string(std::strerror(errno)) + ") for " + job.remote.path});
    return Ok{};
  }
  job.dfd = fd;
  job.direct = true;
  return Ok{};
}

// Writes [data, data + size) at `offset`. With `direct`, the whole blocks go through the O_DIRECT
// descriptor when the file has one and everything is aligned; the rest (a head up to the next
// block after an unaligned resume point, the file's tail, a short write) goes through the page
// cache. 0 or an errno.
int Run::write_at(FileJob& job, const char* data, std::size_t size, std::uint64_t offset,
                  bool direct) {
  std::size_t off = 0;
  if (direct && job.direct && offset % kIoAlign == 0 &&
      reinterpret_cast<std::uintptr_t>(data) % kIoAlign == 0) {
    const std::size_t blocks = size / kIoAlign * kIoAlign;
    while (off < blocks) {
      ssize_t n = -1;
      if (opts_.direct_io_fault == DirectIoFault::kRefuseWrite)
        errno = EINVAL;
      else
        n = ::pwrite(job.dfd, data + off, blocks - off, static_cast<off_t>(offset + off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL && opts_.direct_io == DirectIo::kAuto) {
        job.direct = false;  // refused: this file goes through the page cache from here on
        break;
      }
      if (n <= 0) return n < 0 ? errno : EIO;
      off += static_cast<std::size_t>(n);
      direct_bytes_ += static_cast<std::uint64_t>(n);
      if (off % kIoAlign != 0) break;  // off the block grid: the rest through the page cache
    }
  }
  while (off < size) {
    const std::size_t piece = std::min(kPageCacheWrite, size - off);
    ssize_t n = ::pwrite(job.fd, data + off, piece, static_cast<off_t>(offset + off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    off += static_cast<std::size_t>(n);
  }
  return 0;
}

Result<void, Failure> Run::fetch_range(FileJob& job, size_t idx) {
  RemoteFile f;  // a copy: another range may refresh the location concurrently
  const ByteRange range = job.ranges[idx];
  std::uint64_t begin;
  {
    std::unique_lock lock(job.mu);
    f = job.remote;
    // Unknown size: no resume; a server without ranges: a partial range cannot be continued.
    if (!f.size_known || (!f.ranges && job.state.done[idx] > 0)) {
      job.idle.wait(lock, [&] { return !job.hashing; });
      reset_digests(job);
      if (f.size_known) {
        job.state.done[idx] = 0;
      } else {
        job.written_unknown = 0;
        if (::ftruncate(job.fd, 0) != 0) return fail(classify_errno(errno, "truncate " + f.path));
      }
    }
    begin = range.begin + (f.size_known ? job.state.done[idx] : 0);
  }
  if (f.size_known && begin >= range.end) return Ok{};

  const bool ranged = f.size_known && f.ranges && (begin > 0 || job.ranges.size() > 1);
  std::optional<ByteRange> rr;
  if (ranged) rr = ByteRange{begin, range.end};
  http::Request req = source_.request(f, rr);
  req.timeout = std::chrono::milliseconds(0);
  req.stall_bytes_per_second = 1;
  req.stall_seconds = opts_.stall_seconds;
  req.cancel = &stop_;
  req.receive_buffer = static_cast<long>(opts_.write_buffer);

  long status = 0;
  http::Headers error_headers;
  bool http_error = false, protocol_error = false, overflow = false;
  int write_errno = 0;
  // Bytes are gathered in a pool buffer `cur` holding [offset, offset + fill); everything before
  // `offset` is on disk and recorded. A buffer is written once full, at the end of the range, or
  // when the transfer stops; it then either goes to the hasher (it extends the file's written
  // prefix) or is filled again.
  PooledBuffer cur;
  std::size_t fill = 0;
  std::uint64_t offset = begin;
  // How much `cur` takes: a whole buffer, except after a resume point off the block grid, where
  // the first one ends at the next block so the ones after it can go to disk with O_DIRECT.
  auto limit = [&]() -> std::size_t {
    const std::size_t head = kIoAlign - static_cast<std::size_t>(offset % kIoAlign);
    return head == kIoAlign ? buffers_.buffer_size() : std::min(head, buffers_.buffer_size());
  };

  // Writeback of what this range wrote through the page cache is started every kWritebackEvery
  // bytes (sync_file_range), so the disk works while the network does and the fdatasync before
  // the rename only waits for the last few MiB. (O_DIRECT bytes are on the device already.)
  std::uint64_t writeback_from = begin;
  auto start_writeback = [&](bool all) {
    if (offset <= writeback_from || (!all && offset - writeback_from < kWritebackEvery)) return;
    (void)::sync_file_range(job.fd, static_cast<off_t>(writeback_from),
                            static_cast<off_t>(offset - writeback_from), SYNC_FILE_RANGE_WRITE);
    writeback_from = offset;
  };

  // Writes `cur`, then does the bookkeeping: range progress, the record every kSaveEvery bytes,
  // the hand-over to the hasher.
  auto flush = [&]() -> bool {
    if (fill == 0) return true;
    // Bytes that extend the file's written prefix while its hasher is close behind go to the
    // hasher as they are, and to the disk with O_DIRECT. The others (ahead of the prefix, or
    // behind a hasher that is further back: reading back, or slower than the network, as MD5
    // is) go through the page cache, where the hasher reads them back from memory, so a transfer
    // never waits for a hasher and the page cache, not the pool, holds the backlog. (Only
    // this range writes at `offset`, and `hashed` only grows: the choice stays right.)
    bool hand_over;
    {
      std::lock_guard lock(job.mu);
      hand_over = written_prefix(job) == offset &&
                  offset - job.hashed <= kHandOverWindow * buffers_.buffer_size();
    }
    if (int e = write_at(job, cur.data(), fill, offset, hand_over)) {
      write_errno = e;
      return false;
    }
    {
      std::lock_guard lock(job.mu);
      const std::uint64_t before = written_prefix(job);
      if (f.size_known)
        job.state.done[idx] += fill;
      else
        job.written_unknown += fill;
      job.unsaved += fill;
      transferred_ += fill;
      if (job.unsaved >= kSaveEvery) save(job);
      if (hand_over) job.pieces.push_back(Piece{std::move(cur), offset, fill});
      // The prefix grew: by these bytes, and maybe on into what later ranges wrote already.
      if (written_prefix(job) > before) schedule(job);
    }
    offset += fill;
    fill = 0;
    start_writeback(false);
    return true;
  };

  http::StreamHandler handler;
  handler.on_headers = [&](long st, const http::Headers& h) {
    status = st;
    bool ok = ranged ? st == 206 : st == 200;
    if (!ok) {
      http_error = !(st >= 200 && st < 300);
      protocol_error = !http_error;
      error_headers = h;
      return false;
    }
    if (ranged) {
      auto cr = h.get("Content-Range").value_or("");
      if (cr.rfind("bytes " + std::to_string(begin) + "-", 0) != 0) {
        protocol_error = true;
        return false;
      }
    }
    return true;
  };
  handler.on_data = [&](std::string_view d) {
    if (f.size_known && offset + fill + d.size() > range.end) {
      overflow = true;
      return false;
    }
    while (!d.empty()) {
      if (!cur) {
        cur = buffers_.acquire();  // waits while the hashers hold every buffer
        if (!cur) return false;    // stopping
      }
      const std::size_t n = std::min(limit() - fill, d.size());
      std::memcpy(cur.data() + fill, d.data(), n);
      fill += n;
      d.remove_prefix(n);
      if (fill == limit() && !flush()) return false;
    }
    return true;
  };

  auto r = transport_.pool().acquire()->stream(req, handler);
  if (fill > 0) flush();  // what arrived before the end or the failure is kept
  cur.reset();
  start_writeback(true);
  {
    std::lock_guard lock(job.mu);
    save(job);
  }
  if (write_errno) return fail(classify_errno(write_errno, "write " + f.path));
  if (http_error) return fail(classify_http(status, error_headers, f.path));
  if (protocol_error)
    return fail(Failure{
        FailureClass::kNetwork,
        f.path + ": unexpected HTTP " + std::to_string(status) + " for a range request", status});
  if (overflow)
    return fail(Failure{FailureClass::kChecksumMismatch,
                        f.path + ": server sent more bytes than the listed size"});
  if (!r.ok()) {
    if (stop_) return fail(Failure{FailureClass::kCancelled, "cancelled"});
    Failure fl = classify_transport(r.error(), f.path);
    if (fl.cls == FailureClass::kCancelled) fl.cls = FailureClass::kNetwork;
    return fail(fl);
  }
  if (f.size_known) {
    std::lock_guard lock(job.mu);
    if (job.state.done[idx] < range.size())
      return fail(Failure{FailureClass::kNetwork, f.path + ": connection closed after " +
                                                      std::to_string(job.state.done[idx]) + " of " +
                                                      std::to_string(range.size()) + " bytes"});
  }
  return Ok{};
}

void Run::run_task(const Task& t) {
  FileJob& job = *t.job;
  for (int attempt = 1;; ++attempt) {
    if (stop_) return;
    std::string used_url;
    {
      std::lock_guard lock(job.mu);
      used_url = job.remote.url;
    }
    auto r = fetch_range(job, t.range);
    if (r.ok()) break;
    if (stop_) return;
    if (r.error().cls == FailureClass::kAuth && refresh_location(job, used_url)) continue;
    if (!r.error().retryable() || attempt >= opts_.retry.max_attempts) {
      set_fatal(r.error());
      return;
    }
    transport_.wait_before_retry(job.remote.path, attempt, r.error());
  }
  bool last;
  {
    std::lock_guard lock(job.mu);
    last = --job.ranges_left == 0;
  }
  if (!last) return;
  // The data is made durable here, while the hasher may still be catching up; the hasher checks
  // the digests and renames the file once it has hashed the last byte.
  if (::fdatasync(job.fd) != 0 && errno != EINVAL)
    return set_fatal(classify_errno(errno, "fsync " + job.remote.path));
  std::lock_guard lock(job.mu);
  job.all_written = true;
  schedule(job);
}

// Signed CDN locations expire (about an hour on the Hub); a 401/403 there means "resolve again",
// not "bad credentials". Bounded, so a real auth failure still surfaces.
bool Run::refresh_location(FileJob& job, const std::string& failed_url) {
  std::lock_guard serial(job.refresh_mu);  // ranges failing together wait for one refresh
  RemoteFile fresh;
  {
    std::lock_guard lock(job.mu);
    if (job.remote.resolved_from.empty()) return false;
    if (job.remote.url != failed_url) return true;  // another range already refreshed it
    if (job.location_refreshes >= 3) return false;
    ++job.location_refreshes;
    fresh = job.remote;
  }
  fresh.url = fresh.resolved_from;
  fresh.send_auth = true;
  auto p = source_.prepare(transport_, fresh);
  if (!p.ok()) return false;
  std::lock_guard lock(job.mu);
  job.remote.url = fresh.url;
  job.remote.send_auth = fresh.send_auth;
  return true;
}

void Run::complete(FileJob& job, const std::string& sha256, std::uint64_t size) {
  {
    std::lock_guard lock(mu_);
    entries_.push_back(ManifestEntry{job.remote.path, size, sha256});
  }
  ++files_done_;
  sink_.file_done(FileDone{job.remote.path, size, sha256});
}

// Runs on the hasher that hashed the file's last byte (or, for an empty file, before the
// transfers start): every byte is on disk and in the digests. True when the file is settled
// (renamed into place, or the run failed); false when it was queued to be fetched again.
bool Run::finalize(FileJob& job) {
  RemoteFile& f = job.remote;
  const std::uint64_t size = f.size_known ? f.size : job.written_unknown;
  if (job.hashed != size) {
    set_fatal(Failure{FailureClass::kInternal, f.path + ": " + std::to_string(job.hashed) + " of " +
                                                   std::to_string(size) +
                                                   " bytes hashed at the end"});
    return true;
  }
  const std::string sha = job.hashes.sha256->hex();
  const std::array<std::string, 3> others = job.hashes.others();
  std::string mismatch = verify_mismatch(f, sha, others);
  if (!mismatch.empty()) {
    Failure fl{FailureClass::kChecksumMismatch, f.path + ": " + mismatch};
    if (job.verify_failures++ > 0) {
      set_fatal(fl);
      return true;
    }
    // Fetch the whole file once more: the corruption may have happened in transit.
    sink_.retrying(RetryInfo{f.path, 1, std::chrono::milliseconds(0), fl});
    std::lock_guard glock(mu_);
    std::lock_guard lock(job.mu);
    std::fill(job.state.done.begin(), job.state.done.end(), 0);
    job.written_unknown = 0;
    job.all_written = false;
    reset_digests(job);  // this thread is the file's hasher
    transferred_ -= std::min<std::uint64_t>(transferred_, size);
    save(job);
    job.ranges_left = static_cast<int>(job.ranges.size());
    for (size_t i = 0; i < job.ranges.size(); ++i) queue_.push_back(Task{&job, i});
    pending_ += static_cast<int>(job.ranges.size());
    cv_.notify_all();
    return false;
  }
  {
    std::lock_guard lock(job.mu);
    close_fds(job);
    job.settled = true;
  }
  auto parents = make_parents(dest_, f.path);
  if (!parents.ok()) {
    set_fatal(parents.error());
    return true;
  }
  struct stat st {};
  if (::lstat(job.final_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    set_fatal(Failure{FailureClass::kUnsafePath, f.path + ": a directory is in the way"});
    return true;
  }
  if (::rename(job.part_path.c_str(), job.final_path.c_str()) != 0) {
    set_fatal(classify_errno(errno, "rename into place " + f.path));
    return true;
  }
  ::unlink(job.state_path.c_str());
  {
    std::lock_guard lock(mu_);
    renamed_into_.insert(job.final_path.parent_path());
  }
  complete(job, sha, size);
  return true;
}

// A settled file gives back the unit of work go() counted for it.
void Run::file_settled() {
  std::lock_guard lock(mu_);
  if (--pending_ == 0) cv_.notify_all();
}

void Run::schedule(FileJob& job) {
  {
    std::lock_guard lock(hmu_);
    if (job.in_ready) return;
    job.in_ready = true;
    ready_.push_back(&job);
  }
  hcv_.notify_one();
}

// A hasher thread: takes files with bytes to hash, one turn (up to kHashTurn bytes) at a time.
void Run::hasher() {
  const AlignedBuffer readback = aligned_buffer(kReadBackSize);
  while (true) {
    FileJob* job;
    {
      std::unique_lock lock(hmu_);
      hcv_.wait(lock, [&] { return hstop_ || stop_ || !ready_.empty(); });
      if (hstop_ || stop_) return;
      job = ready_.front();
      ready_.pop_front();
      job->in_ready = false;
    }
    hash_turn(*job, readback);
  }
}

void Run::hash_turn(FileJob& job, const AlignedBuffer& readback) {
  std::unique_lock lock(job.mu);
  // Another hasher is in the file; it sees whatever got the file scheduled before it leaves
  // (it re-checks under job.mu).
  if (job.hashing) return;
  job.hashing = true;
  std::uint64_t budget = kHashTurn;
  bool finish = false;
  while (!stop_ && budget > 0) {
    while (!job.pieces.empty() && job.pieces.front().end() <= job.hashed) job.pieces.pop_front();
    const std::uint64_t from = job.hashed;
    if (!job.pieces.empty() && job.pieces.front().offset <= from) {
      Piece p = std::move(job.pieces.front());
      job.pieces.pop_front();
      lock.unlock();
      job.hashes.update(std::string_view(p.buf.data() + (from - p.offset), p.end() - from));
      p.buf.reset();
      lock.lock();
      job.hashed = p.end();
      budget -= std::min(budget, p.end() - from);
      continue;
    }
    // Bytes the hasher was not handed (written by a range ahead of the prefix, or on disk from
    // an earlier run) are read back up to the next piece or the end of the written prefix.
    const std::uint64_t to = job.pieces.empty() ? written_prefix(job) : job.pieces.front().offset;
    if (to > from) {
      lock.unlock();
      auto n = read_back(job, from, to, readback.get());
      if (!n.ok()) {
        set_fatal(n.error());
        lock.lock();
        break;
      }
      job.hashes.update(std::string_view(readback.get(), *n));
      lock.lock();
      job.hashed = from + *n;
      budget -= std::min<std::uint64_t>(budget, *n);
      continue;
    }
    finish = job.all_written && !job.settled;
    break;
  }
  bool settled = false;
  if (finish && !stop_) {
    lock.unlock();
    settled = finalize(job);  // still the file's hasher
    lock.lock();
  }
  job.hashing = false;
  job.idle.notify_all();
  const bool more = !stop_ && !settled && hash_work(job);
  lock.unlock();
  if (settled) file_settled();
  if (more) schedule(job);
}

// Reads up to kReadBackSize bytes of [from, to) into `buf`, through the page cache: bytes other
// ranges wrote ahead of the prefix are still there (they were written through it for this), and
// an earlier run's bytes come from the disk with the kernel's readahead. Returns the bytes read.
Result<std::size_t, Failure> Run::read_back(FileJob& job, std::uint64_t from, std::uint64_t to,
                                            char* buf) {
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, kReadBackSize));
  while (true) {
    ssize_t n = ::pread(job.fd, buf, want, static_cast<off_t>(from));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(classify_errno(n < 0 ? errno : EIO, "read " + job.remote.path));
    return static_cast<std::size_t>(n);
  }
}

void Run::worker() {
  while (true) {
    Task t;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty() || pending_ == 0; });
      if (stop_ || queue_.empty()) return;
      t = queue_.front();
      queue_.pop_front();
    }
    run_task(t);
    {
      std::lock_guard lock(mu_);
      if (--pending_ == 0) cv_.notify_all();
    }
  }
}

ProgressSnapshot Run::snapshot(double elapsed, double rate) const {
  ProgressSnapshot s;
  s.total_bytes = total_bytes_;
  s.downloaded_bytes = std::min(total_bytes_, resumed_bytes_ + transferred_.load());
  s.files_done = files_done_.load();
  s.files_total = jobs_.size();
  s.bytes_per_second = rate;
  if (rate > 0) s.eta_seconds = static_cast<double>(total_bytes_ - s.downloaded_bytes) / rate;
  (void)elapsed;
  return s;
}

Result<Summary, Failure> Run::go(const std::string& uri, const fs::path& dest) {
  const auto t0 = std::chrono::steady_clock::now();
  auto listing = source_.list(transport_);
  if (!listing.ok()) return fail(listing.error());

  // Every path is checked before anything touches the disk.
  std::map<std::string, bool> seen;
  for (auto& f : listing->files) {
    auto safe = safe_relative_path(f.path);
    if (!safe.ok())
      return fail(Failure{FailureClass::kUnsafePath, "refusing remote listing: " + safe.error()});
    if (f.path == kManifestName || f.path.rfind(std::string(kStagingDir) + "/", 0) == 0 ||
        f.path == kStagingDir)
      return fail(Failure{FailureClass::kUnsafePath,
                          "remote path collides with aim-fetch's own files: " + f.path});
    if (seen[f.path])
      return fail(Failure{FailureClass::kUnsafePath, "duplicate path in listing: " + f.path});
    seen[f.path] = true;
  }
  if (auto selected = apply_filter(*listing, opts_.filter, uri); !selected.ok())
    return fail(selected.error());

  std::error_code ec;
  dest_ = dest;
  staging_ = dest / kStagingDir;
  fs::create_directories(dest, ec);
  if (ec) return fail(classify_errno(ec.value(), "create " + dest.string()));
  auto locked = DestLock::acquire(
      staging_, [this](const std::string& m) { sink_.waiting(m); }, &stop_, external_);
  if (!locked.ok()) return fail(locked.error());
  lock_ = std::move(locked).value();
  fs::remove(dest / kManifestName, ec);

  std::uint64_t needed = 0;
  for (auto& f : listing->files) {
    auto job = std::make_unique<FileJob>();
    job->remote = f;
    job->final_path = dest / f.path;
    const std::string key = sha256_hex(f.path).substr(0, 32);
    job->part_path = staging_ / (key + ".part");
    job->state_path = staging_ / (key + ".part.json");
    if (f.size_known) total_bytes_ += f.size;
    jobs_.push_back(std::move(job));
  }
  for (auto& job : jobs_) {
    if (stop_ || (external_ && *external_))
      return fail(Failure{FailureClass::kCancelled, "cancelled"});
    auto r = setup(*job, needed);
    if (!r.ok()) return fail(r.error());
    if (!job->remote.size_known) total_bytes_ += 0;
  }

  // Capacity check before any byte moves: preallocate, which fails fast on a full disk.
  struct statvfs vfs {};
  if (::statvfs(staging_.c_str(), &vfs) == 0) {
    auto avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (needed > avail)
      return fail(Failure{FailureClass::kDiskFull,
                          "need " + human_bytes(static_cast<double>(needed)) + " but only " +
                              human_bytes(static_cast<double>(avail)) + " free at " +
                              dest.string()});
  }
  for (auto& job : jobs_) {
    if (job->fd < 0 || !job->remote.size_known || job->remote.size == 0) continue;
    if (::fallocate(job->fd, 0, 0, static_cast<off_t>(job->remote.size)) != 0) {
      int e = errno;
      if (e == EOPNOTSUPP || e == ENOSYS) {
        if (::ftruncate(job->fd, static_cast<off_t>(job->remote.size)) != 0)
          return fail(classify_errno(errno, "size " + job->remote.path));
      } else {
        return fail(classify_errno(e, "preallocate " + job->remote.path));
      }
    }
  }

  StartInfo start{uri, listing->revision, jobs_.size(), total_bytes_, resumed_bytes_, {}, {}};
  for (const auto& job : jobs_) start.files.push_back(job->remote.path);
  std::sort(start.files.begin(), start.files.end());
  start.selection = opts_.filter.describe();
  sink_.started(start);

  // pending_ counts the ranges to fetch and, per file, its settling (verified and renamed by a
  // hasher), so the workers stay until no file can be queued again after a mismatch.
  int files_in_flight = 0;
  for (auto& job : jobs_) {
    if (job->fd < 0) continue;  // already complete
    if (job->remote.size_known && job->remote.size == 0) {
      if (::fdatasync(job->fd) != 0 && errno != EINVAL)
        return fail(classify_errno(errno, "fsync " + job->remote.path));
      if (!finalize(*job)) ++files_in_flight;  // queued again
      continue;
    }
    for (size_t i = 0; i < job->ranges.size(); ++i) queue_.push_back(Task{job.get(), i});
    ++files_in_flight;
  }
  pending_ = static_cast<int>(queue_.size()) + files_in_flight;

  std::vector<std::thread> hashers;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int nh =
      std::max(1, std::min(opts_.hash_threads > 0 ? opts_.hash_threads : std::min(cores, 4),
                           std::max(1, files_in_flight)));
  for (int i = 0; i < nh; ++i) hashers.emplace_back([this] { hasher(); });
  std::vector<std::thread> workers;
  const int n = std::max(1, std::min<int>(opts_.jobs, std::max<int>(1, pending_)));
  for (int i = 0; i < n; ++i) workers.emplace_back([this] { worker(); });

  // Progress, and the external cancel flag, on this thread.
  {
    double rate = 0;
    std::uint64_t last_bytes = transferred_.load();
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!(pending_ == 0 || stop_)) {
      cv_.wait_for(lock, opts_.progress_interval);
      if (external_ && *external_ && !stop_) {
        lock.unlock();
        set_fatal(Failure{FailureClass::kCancelled, "cancelled by signal"});
        lock.lock();
        break;
      }
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - last).count();
      if (dt < 0.2) continue;
      std::uint64_t b = transferred_.load();
      double inst = static_cast<double>(b - std::min(b, last_bytes)) / dt;
      rate = rate == 0 ? inst : 0.7 * rate + 0.3 * inst;
      last_bytes = b;
      last = now;
      auto snap = snapshot(std::chrono::duration<double>(now - t0).count(), rate);
      lock.unlock();
      sink_.progress(snap);
      lock.lock();
    }
  }
  for (auto& w : workers) w.join();
  {
    std::lock_guard lock(hmu_);
    hstop_ = true;
  }
  hcv_.notify_all();
  for (auto& h : hashers) h.join();
  for (auto& job : jobs_) close_fds(*job);
  if (fatal_) return fail(*fatal_);

  // The renames are durable only once their directories are (the data already is).
  for (const auto& dir : renamed_into_) {
    if (int e = fsync_directory(dir)) return fail(classify_errno(e, "fsync " + dir.string()));
  }
  auto m =
      write_manifest(dest, staging_, uri, listing->revision, entries_, opts_.filter.describe());
  if (!m.ok()) return fail(Failure{FailureClass::kInternal, m.error()});
  fs::remove_all(staging_, ec);

  Summary s;
  s.uri = uri;
  s.revision = listing->revision;
  s.digest = content_digest(entries_);
  s.files = entries_.size();
  for (const auto& e : entries_) s.total_bytes += e.size;
  s.transferred_bytes = transferred_.load();
  s.direct_bytes = direct_bytes_.load();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace

Result<Summary, Failure> Downloader::run(const std::string& display_uri, const fs::path& dest) {
  Run run(source_, pool_, sink_, options_, cancel_);
  return run.go(display_uri, dest);
}

}  // namespace aim::fetch
