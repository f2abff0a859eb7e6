#include "fetch/manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "fetch/digest.h"

namespace aim::fetch {

std::string content_digest(std::vector<ManifestEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  Digest d(DigestAlgorithm::kSha256);
  for (const auto& e : entries)
    d.update(e.path + "\t" + std::to_string(e.size) + "\t" + e.sha256 + "\n");
  return "sha256:" + d.hex();
}

std::string manifest_json(const std::string& uri, const std::string& revision,
                          std::vector<ManifestEntry> entries, const std::string& selection) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  nlohmann::json files = nlohmann::json::array();
  std::uint64_t total = 0;
  for (const auto& e : entries) {
    files.push_back({{"path", e.path}, {"size", e.size}, {"sha256", e.sha256}});
    total += e.size;
  }
  nlohmann::json j{{"version", 1},         {"uri", uri},
                   {"revision", revision}, {"digest", content_digest(entries)},
                   {"totalBytes", total},  {"files", files}};
  if (!selection.empty()) j["selection"] = selection;
  return j.dump(2) + "\n";
}

int fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  return rc != 0 && e != EINVAL ? e : 0;
}

namespace {

// Writes `text` to `path` and fsyncs it.
Result<void, std::string> write_synced(const std::filesystem::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot write " + path.string() + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      ::close(fd);
      return fail("cannot write " + path.string() + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0 && e != EINVAL)
    return fail("cannot fsync " + path.string() + ": " + std::strerror(e));
  return Ok{};
}

}  // namespace

Result<void, std::string> write_manifest(const std::filesystem::path& dest,
                                         const std::filesystem::path& staging,
                                         const std::string& uri, const std::string& revision,
                                         const std::vector<ManifestEntry>& entries,
                                         const std::string& selection) {
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) return fail("cannot create " + staging.string() + ": " + ec.message());
  auto tmp = staging / (std::string(kManifestName) + ".tmp");
  if (auto w = write_synced(tmp, manifest_json(uri, revision, entries, selection)); !w.ok())
    return w;
  std::filesystem::rename(tmp, dest / kManifestName, ec);
  if (ec) return fail("cannot rename manifest: " + ec.message());
  (void)fsync_directory(dest);  // best effort: the manifest itself is already on disk
  return Ok{};
}

}  // namespace aim::fetch
