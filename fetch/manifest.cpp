#include "fetch/manifest.h"

#include <algorithm>
#include <fstream>
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
                          std::vector<ManifestEntry> entries) {
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
  return j.dump(2) + "\n";
}

Result<void, std::string> write_manifest(const std::filesystem::path& dest,
                                         const std::filesystem::path& staging,
                                         const std::string& uri, const std::string& revision,
                                         const std::vector<ManifestEntry>& entries) {
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) return fail("cannot create " + staging.string() + ": " + ec.message());
  auto tmp = staging / (std::string(kManifestName) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << manifest_json(uri, revision, entries);
    if (!out) return fail("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, dest / kManifestName, ec);
  if (ec) return fail("cannot rename manifest: " + ec.message());
  return Ok{};
}

}  // namespace aim::fetch
