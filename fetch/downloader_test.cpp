// The download engine against an in-process HTTP server: parallel ranges, resume after a dropped
// connection, checksum detection, 429 with Retry-After, unsafe listings.
#include "fetch/downloader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fetch/digest.h"
#include "fetch/manifest.h"
#include "test/support/loopback_server.h"

namespace aim::fetch {
namespace {
namespace fs = std::filesystem;

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Serves blobs at /f/<name> with Range support, plus scripted faults.
struct Fixture {
  std::map<std::string, std::string> blobs;
  std::atomic<int> fail_429{0};
  std::atomic<int> truncate_next{-1};  // drop the next body after this many bytes
  std::atomic<bool> corrupt{false};
  std::atomic<int> corrupt_times{0};  // corrupt this many responses that hold the middle byte
  std::atomic<int> range_requests{0};
  std::atomic<int> min_generation{0};
  testing::LoopbackServer server{[this](const testing::ServerRequest& r) { return handle(r); }};

  testing::ServerResponse handle(const testing::ServerRequest& r) {
    testing::ServerResponse resp;
    if (fail_429 > 0) {
      --fail_429;
      resp.status = 429;
      resp.headers.emplace_back("Retry-After", "1");
      return resp;
    }
    std::string target = r.target;
    if (target.rfind("/signed/", 0) ==
        0) {  // /signed/<generation>/<name>: expires below min_generation
      auto slash = target.find('/', 8);
      if (std::stoi(target.substr(8, slash - 8)) < min_generation) {
        resp.status = 403;
        return resp;
      }
      target = "/f" + target.substr(slash);
    }
    auto it = blobs.find(target.substr(3));
    if (target.rfind("/f/", 0) != 0 || it == blobs.end()) {
      resp.status = 404;
      return resp;
    }
    std::string body = it->second;
    if (corrupt && !body.empty()) body[body.size() / 2] ^= 0x5a;
    auto range = r.headers.find("range");
    unsigned long long b = 0, e = body.empty() ? 0 : body.size() - 1;
    if (range != r.headers.end()) std::sscanf(range->second.c_str(), "bytes=%llu-%llu", &b, &e);
    if (!body.empty() && b <= body.size() / 2 && body.size() / 2 <= e && corrupt_times-- > 0)
      body[body.size() / 2] ^= 0x5a;
    if (range != r.headers.end()) {
      ++range_requests;
      resp.status = 206;
      resp.headers.emplace_back("Content-Range", "bytes " + std::to_string(b) + "-" +
                                                     std::to_string(e) + "/" +
                                                     std::to_string(body.size()));
      body = body.substr(b, e - b + 1);
    }
    resp.body = body;
    int t = truncate_next.exchange(-1);
    if (t >= 0) resp.truncate_body_at = t;
    return resp;
  }
};

class TestSource final : public Source {
 public:
  TestSource(Fixture& fx, std::vector<RemoteFile> files) : fx_(fx), files_(std::move(files)) {}
  Result<Listing, Failure> list(Transport&) override {
    Listing l;
    l.revision = "rev1";
    for (auto f : files_) {
      f.url = fx_.server.url() + "/f/" + f.path;
      l.files.push_back(f);
    }
    return l;
  }
  // With `signed_urls`, prepare() hands out short-lived locations, as the Hub's CDN redirects are.
  Result<void, Failure> prepare(Transport&, RemoteFile& f) override {
    if (!signed_urls) return Ok{};
    ++prepares;
    if (f.resolved_from.empty()) f.resolved_from = f.url;
    f.url = fx_.server.url() + "/signed/" + std::to_string(prepares) + "/" + f.path;
    return Ok{};
  }
  bool signed_urls = false;
  int prepares = 0;

  http::Request request(const RemoteFile& f, std::optional<ByteRange> range) override {
    http::Request req;
    req.url = f.url;
    if (range)
      req.headers.emplace_back(
          "Range", "bytes=" + std::to_string(range->begin) + "-" + std::to_string(range->end - 1));
    return req;
  }

 private:
  Fixture& fx_;
  std::vector<RemoteFile> files_;
};

// Worker threads report finished files and retries at the same time (ProgressSink's contract):
// the recording is locked. Read it once the download returned.
class RecordingSink final : public ProgressSink {
 public:
  void started(const StartInfo& i) override { start = i; }
  void progress(const ProgressSnapshot&) override {}
  void file_done(const FileDone& f) override {
    std::lock_guard lock(mu_);
    done.push_back(f.path);
  }
  void retrying(const RetryInfo& r) override {
    std::lock_guard lock(mu_);
    retries.push_back(r);
  }
  void finished(const Summary&) override {}
  void failed(const Failure&) override {}
  StartInfo start;
  std::vector<std::string> done;
  std::vector<RetryInfo> retries;

 private:
  std::mutex mu_;
};

RemoteFile file_of(const std::string& path, const std::string& data) {
  RemoteFile f;
  f.path = path;
  f.size = data.size();
  f.sha256 = sha256_hex(data);
  f.identity = "sha256:" + f.sha256;
  return f;
}

std::vector<RemoteFile> block_edge_files(Fixture& fx);  // below, with the O_DIRECT tests

class DownloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dest = fs::temp_directory_path() /
           ("fetch-dl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dest);
    opts.jobs = 4;
    opts.chunk_size = 64 * 1024;
    opts.retry.base = std::chrono::milliseconds(10);
    opts.retry.max_attempts = 4;
    opts.progress_interval = std::chrono::milliseconds(50);
    opts.write_buffer = 8192;
  }
  void TearDown() override { fs::remove_all(dest); }

  Result<Summary, Failure> run(std::vector<RemoteFile> files, bool signed_urls = false) {
    TestSource src(fx, std::move(files));
    src.signed_urls = signed_urls;
    http::SessionPool pool;
    Downloader d(src, pool, sink, opts, nullptr);
    auto r = d.run("test://x", dest);
    prepares_seen = src.prepares;
    return r;
  }
  int prepares_seen = 0;  // Source::prepare calls in the last run (with signed_urls)

  // What an earlier run of `f` (content `data`) left: the first `kept` bytes of the partial file
  // and the record of each range's progress (`done`).
  void leave_earlier_run(const RemoteFile& f, const std::string& data, std::size_t kept,
                         std::vector<std::uint64_t> done) {
    fs::create_directories(dest / kStagingDir);
    const std::string key = sha256_hex(f.path).substr(0, 32);
    {
      std::ofstream out(dest / kStagingDir / (key + ".part"), std::ios::binary);
      std::string partial = data.substr(0, kept);
      partial.resize(data.size(), '\0');
      out << partial;
    }
    auto st = PartialState::fresh(f.path, data.size(), f.identity, opts.chunk_size);
    st.done = std::move(done);
    ASSERT_TRUE(save_state(dest / kStagingDir / (key + ".part.json"), st).ok());
  }

  // The files around the 4 KiB block edges come out byte-identical with no byte written by
  // O_DIRECT (off, or refused).
  void expect_block_edge_files_through_the_page_cache() {
    auto files = block_edge_files(fx);
    auto r = run(files);
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (const auto& f : files) EXPECT_EQ(read_file(dest / f.path), fx.blobs[f.path]) << f.path;
    EXPECT_EQ(r->direct_bytes, 0u);
  }

  Fixture fx;
  RecordingSink sink;
  DownloadOptions opts;
  fs::path dest;
};

TEST_F(DownloaderTest, DownloadsFilesInParallelRangesAndWritesTheManifest) {
  fx.blobs["big.bin"] = pattern(300 * 1024 + 17, 1);
  fx.blobs["small.json"] = "{\"a\":1}";
  fx.blobs["empty"] = "";
  auto r = run({file_of("big.bin", fx.blobs["big.bin"]),
                file_of("small.json", fx.blobs["small.json"]), file_of("empty", "")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "big.bin"), fx.blobs["big.bin"]);
  EXPECT_EQ(read_file(dest / "small.json"), fx.blobs["small.json"]);
  EXPECT_TRUE(fs::exists(dest / "empty"));
  EXPECT_GE(fx.range_requests.load(), 5);  // 300 KiB in 64 KiB ranges
  EXPECT_FALSE(fs::exists(dest / kStagingDir));
  auto m = nlohmann::json::parse(read_file(dest / kManifestName));
  EXPECT_EQ(m["revision"], "rev1");
  EXPECT_EQ(m["files"].size(), 3u);
  std::vector<ManifestEntry> expect{
      {"big.bin", fx.blobs["big.bin"].size(), sha256_hex(fx.blobs["big.bin"])},
      {"small.json", 7, sha256_hex("{\"a\":1}")},
      {"empty", 0, sha256_hex("")}};
  EXPECT_EQ(m["digest"], content_digest(expect));
  EXPECT_EQ(r->digest, content_digest(expect));
}

TEST_F(DownloaderTest, ResumesAfterADroppedConnection) {
  fx.blobs["a.bin"] = pattern(50 * 1024, 2);  // one range
  fx.truncate_next = 10000;
  auto r = run({file_of("a.bin", fx.blobs["a.bin"])});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "a.bin"), fx.blobs["a.bin"]);
  ASSERT_FALSE(sink.retries.empty());
  EXPECT_EQ(sink.retries[0].failure.cls, FailureClass::kNetwork);
  // The retry asked only for what was missing.
  EXPECT_EQ(fx.range_requests.load(), 1);
  EXPECT_LT(r->transferred_bytes, fx.blobs["a.bin"].size() + 10000);
}

TEST_F(DownloaderTest, ResumesFromTheRecordOfAnEarlierRun) {
  const std::string data = pattern(200 * 1024, 3);
  fx.blobs["m.bin"] = data;
  // An earlier run left the first two ranges (and 100 bytes of the third) on disk.
  auto f = file_of("m.bin", data);
  leave_earlier_run(f, data, 128 * 1024 + 100, {64 * 1024, 64 * 1024, 100, 0});
  auto r = run({f});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "m.bin"), data);
  EXPECT_EQ(sink.start.resumed_bytes, 128u * 1024 + 100);
  EXPECT_EQ(r->transferred_bytes, data.size() - (128 * 1024 + 100));
}

TEST_F(DownloaderTest, DetectsCorruptionAndFailsWithChecksumMismatch) {
  fx.blobs["c.bin"] = pattern(10000, 4);
  fx.corrupt = true;
  auto r = run({file_of("c.bin", fx.blobs["c.bin"])});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kChecksumMismatch);
  EXPECT_FALSE(fs::exists(dest / "c.bin"));  // never renamed into place
  EXPECT_FALSE(fs::exists(dest / kManifestName));
}

TEST_F(DownloaderTest, DetectsCorruptionInAFileDownloadedInParallelRanges) {
  // The digest of a ranged file is built while its ranges arrive (out of order); a corrupted
  // body must still be caught, and a clean one still verify (see the manifest test above).
  fx.blobs["r.bin"] = pattern(300 * 1024 + 5, 6);
  fx.corrupt = true;
  auto r = run({file_of("r.bin", fx.blobs["r.bin"])});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kChecksumMismatch);
  EXPECT_GE(fx.range_requests.load(), 5);
  EXPECT_FALSE(fs::exists(dest / "r.bin"));
}

TEST_F(DownloaderTest, HonoursRetryAfterOn429) {
  fx.blobs["r.bin"] = "payload";
  fx.fail_429 = 2;
  auto r = run({file_of("r.bin", "payload")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(sink.retries.size(), 2u);
  EXPECT_EQ(sink.retries[0].failure.cls, FailureClass::kRateLimited);
  EXPECT_GE(sink.retries[0].delay.count(), 1000);  // Retry-After: 1
}

TEST_F(DownloaderTest, PersistentRateLimitIsReportedAsSuch) {
  fx.blobs["r.bin"] = "payload";
  fx.fail_429 = 100;
  opts.retry.max_attempts = 2;
  opts.retry.max_retry_after = std::chrono::milliseconds(20);
  auto r = run({file_of("r.bin", "payload")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kRateLimited);
}

TEST_F(DownloaderTest, RejectsListingsThatEscapeTheDestination) {
  fx.blobs["x"] = "x";
  auto r = run({file_of("x", "x"), file_of("../escape", "x")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kUnsafePath);
  EXPECT_FALSE(fs::exists(dest / "x"));
  EXPECT_FALSE(fs::exists(dest.parent_path() / "escape"));
}

TEST_F(DownloaderTest, NotFoundIsNotRetried) {
  auto r = run({file_of("missing.bin", "abc")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kNotFound);
  EXPECT_TRUE(sink.retries.empty());
}

TEST_F(DownloaderTest, KeepsVerifiedFilesFromAnEarlierRun) {
  fx.blobs["k.bin"] = pattern(5000, 5);
  ASSERT_TRUE(run({file_of("k.bin", fx.blobs["k.bin"])}).ok());
  fx.blobs.erase("k.bin");  // a second run must not need the server for it
  auto r = run({file_of("k.bin", pattern(5000, 5))});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->transferred_bytes, 0u);
}

TEST_F(DownloaderTest, ReResolvesAnExpiredSignedLocation) {
  fx.blobs["big.bin"] = pattern(200 * 1024, 6);
  fx.min_generation = 2;  // the first location handed out has already expired
  auto r = run({file_of("big.bin", fx.blobs["big.bin"])}, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "big.bin"), fx.blobs["big.bin"]);
}

// A large file that fits one range is still prepared (for S3: its CRC checksum, so it is not
// verified by MD5), a small one is not (no extra request per small file).
TEST_F(DownloaderTest, PreparesLargeFilesThatFitOneRangeButNotSmallOnes) {
  opts.chunk_size = 1ull << 30;
  fx.blobs["large.bin"] = pattern(kPrepareAbove + 4096, 8);
  fx.blobs["small.bin"] = pattern(100 * 1024, 9);
  auto r = run(
      {file_of("large.bin", fx.blobs["large.bin"]), file_of("small.bin", fx.blobs["small.bin"])},
      true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "large.bin"), fx.blobs["large.bin"]);
  EXPECT_EQ(read_file(dest / "small.bin"), fx.blobs["small.bin"]);
  EXPECT_EQ(fx.range_requests.load(), 0);  // one range each: plain GETs
  EXPECT_EQ(prepares_seen, 1);
}

TEST_F(DownloaderTest, AuthFailuresThatReResolvingCannotFixStillFail) {
  fx.blobs["big.bin"] = pattern(200 * 1024, 7);
  fx.min_generation = 1000;
  auto r = run({file_of("big.bin", fx.blobs["big.bin"])}, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kAuth);
}

// Whether the test's destination takes O_DIRECT at all (ext4 and xfs do; tmpfs before Linux 6.6
// and some overlay setups do not).
bool direct_io_works(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path probe = dir / "probe";
  int fd = ::open(probe.c_str(), O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  fs::remove(probe);
  return fd >= 0;
}

// Sizes around the 4 KiB block: O_DIRECT writes whole aligned blocks, the page cache the rest.
std::vector<RemoteFile> block_edge_files(Fixture& fx) {
  std::vector<RemoteFile> files;
  unsigned seed = 10;
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{8191},
                   size_t{200 * 1024 + 3}, size_t{(3 << 20) + 123}}) {
    const std::string name = "f" + std::to_string(n) + ".bin";
    fx.blobs[name] = pattern(n, seed++);
    files.push_back(file_of(name, fx.blobs[name]));
  }
  return files;
}

TEST_F(DownloaderTest, DirectIoWritesByteIdenticalFilesOfEverySize) {
  if (!direct_io_works(dest)) GTEST_SKIP() << "the test directory refuses O_DIRECT";
  opts.direct_io = DirectIo::kOn;
  opts.write_buffer = 64 * 1024;
  auto files = block_edge_files(fx);
  auto r = run(files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& f : files) EXPECT_EQ(read_file(dest / f.path), fx.blobs[f.path]) << f.path;
  // In-order bytes went to the disk directly; bytes written ahead of the prefix (for the hasher
  // to read back from the page cache), the tails and the small files did not.
  EXPECT_GT(r->direct_bytes, 0u);
  EXPECT_LT(r->direct_bytes, r->transferred_bytes);
  EXPECT_FALSE(fs::exists(dest / kStagingDir));
}

TEST_F(DownloaderTest, DirectIoOffWritesThroughThePageCache) {
  opts.direct_io = DirectIo::kOff;
  expect_block_edge_files_through_the_page_cache();
}

TEST_F(DownloaderTest, FallsBackToThePageCacheWhenODirectIsRefusedAtOpen) {
  opts.direct_io_fault = DirectIoFault::kRefuseOpen;  // as on a filesystem without O_DIRECT
  expect_block_edge_files_through_the_page_cache();
}

TEST_F(DownloaderTest, FallsBackToThePageCacheWhenADirectWriteIsRefused) {
  opts.direct_io_fault = DirectIoFault::kRefuseWrite;  // opens, then EINVAL on the first write
  expect_block_edge_files_through_the_page_cache();
}

TEST_F(DownloaderTest, DirectIoOnFailsWhereODirectIsRefused) {
  opts.direct_io = DirectIo::kOn;
  opts.direct_io_fault = DirectIoFault::kRefuseOpen;
  fx.blobs["d.bin"] = pattern(100 * 1024, 11);
  auto r = run({file_of("d.bin", fx.blobs["d.bin"])});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dest / "d.bin"));
}

// An earlier run's record with a range stopped off the 4 KiB grid: the resumed range writes up
// to the next block through the page cache and the rest directly; the file still verifies.
TEST_F(DownloaderTest, ResumesOffTheBlockGridWithAndWithoutDirectIo) {
  const bool direct_ok = direct_io_works(dest);
  opts.write_buffer = 64 * 1024;  // the hasher stays within a hand-over of the resumed range
  for (DirectIo mode : {DirectIo::kOn, DirectIo::kAuto, DirectIo::kOff}) {
    if (mode == DirectIo::kOn && !direct_ok) continue;
    SCOPED_TRACE(static_cast<int>(mode));
    fs::remove_all(dest);
    opts.direct_io = mode;
    const std::string data = pattern(200 * 1024 + 77, 12);
    fx.blobs["m.bin"] = data;
    auto f = file_of("m.bin", data);
    leave_earlier_run(f, data, 128 * 1024 + 100, {64 * 1024, 64 * 1024, 100, 0});
    auto r = run({f});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(read_file(dest / "m.bin"), data);
    EXPECT_EQ(r->transferred_bytes, data.size() - (128 * 1024 + 100));
    if (mode == DirectIo::kOn) {
      EXPECT_GT(r->direct_bytes, 0u);
    }
    if (mode == DirectIo::kOff) {
      EXPECT_EQ(r->direct_bytes, 0u);
    }
  }
}

TEST_F(DownloaderTest, ResumesAfterADropOffTheBlockGridWithDirectIo) {
  fx.blobs["a.bin"] = pattern(50 * 1024, 13);  // one range, dropped at 10000 bytes
  fx.truncate_next = 10000;
  auto r = run({file_of("a.bin", fx.blobs["a.bin"])});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "a.bin"), fx.blobs["a.bin"]);
  EXPECT_EQ(fx.range_requests.load(), 1);  // the retry asked for the rest only
}

// The hasher threads, not the transfers, compute the digests: an MD5-only file (an S3 object
// with a single-part ETag) whose ranges arrive out of order must still fail on a flipped byte,
// with one hasher thread serving several transfers.
TEST_F(DownloaderTest, OffThreadHasherFailsAFileOnAnMd5Mismatch) {
  opts.hash_threads = 1;
  const std::string data = pattern(500 * 1024 + 9, 14);
  fx.blobs["o.bin"] = data;
  RemoteFile f = file_of("o.bin", data);
  f.sha256.clear();
  Digest md5(DigestAlgorithm::kMd5);
  md5.update(data);
  f.md5 = md5.hex();
  f.identity = "etag:" + f.md5;
  fx.corrupt = true;
  auto r = run({f});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kChecksumMismatch);
  EXPECT_NE(r.error().message.find("md5"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dest / "o.bin"));  // nothing under its final name
  EXPECT_FALSE(fs::exists(dest / kManifestName));
}

TEST_F(DownloaderTest, OffThreadHasherPassesAnMd5FileAndTheRefetchAfterOneCorruptBody) {
  opts.hash_threads = 1;
  const std::string data = pattern(500 * 1024 + 9, 15);
  fx.blobs["o.bin"] = data;
  RemoteFile f = file_of("o.bin", data);
  Digest md5(DigestAlgorithm::kMd5);
  md5.update(data);
  f.md5 = md5.hex();
  fx.corrupt_times = 1;  // only the first fetch of the middle is damaged
  auto r = run({f});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "o.bin"), data);
  ASSERT_EQ(sink.retries.size(), 1u);
  EXPECT_EQ(sink.retries[0].failure.cls, FailureClass::kChecksumMismatch);
}

TEST_F(DownloaderTest, OneHasherThreadVerifiesManyRangedFilesAtOnce) {
  opts.hash_threads = 1;
  opts.jobs = 6;
  std::vector<RemoteFile> files;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "m" + std::to_string(i) + ".bin";
    fx.blobs[name] = pattern(300 * 1024 + static_cast<size_t>(i) * 4099, 20 + i);
    files.push_back(file_of(name, fx.blobs[name]));
  }
  auto r = run(files);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (const auto& f : files) EXPECT_EQ(read_file(dest / f.path), fx.blobs[f.path]) << f.path;
  EXPECT_EQ(sink.done.size(), files.size());
}

TEST_F(DownloaderTest, StreamsAFileOfUnknownSizeThroughTheHasher) {
  const std::string data = pattern((1 << 20) + 4097, 16);
  fx.blobs["u.bin"] = data;
  RemoteFile f = file_of("u.bin", data);
  f.size_known = false;
  f.size = 0;
  fx.truncate_next = 300000;  // the retry starts over (no resume without a size)
  auto r = run({f});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(read_file(dest / "u.bin"), data);
  EXPECT_EQ(r->total_bytes, data.size());
}

TEST_F(DownloaderTest, FailsAFileOfUnknownSizeThatDoesNotMatchItsSha256) {
  const std::string data = pattern(70 * 1024, 17);
  fx.blobs["u.bin"] = data;
  RemoteFile f = file_of("u.bin", data);
  f.size_known = false;
  f.size = 0;
  fx.corrupt = true;
  auto r = run({f});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kChecksumMismatch);
  EXPECT_FALSE(fs::exists(dest / "u.bin"));
}

}  // namespace
}  // namespace aim::fetch
