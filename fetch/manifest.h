// The record of what a download produced: every file with its size and sha256, the resolved
// revision, and one content digest over the lot. Written to DEST/.aim-manifest.json and put in
// the final progress line, so a cache can be pinned and audited later.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace aim::fetch {

struct ManifestEntry {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;
};

inline constexpr const char* kManifestName = ".aim-manifest.json";

// "sha256:<hex>" of the lines "<path>\t<size>\t<sha256>\n" sorted by path. Paths are validated
// (no control characters), so the encoding is unambiguous.
std::string content_digest(std::vector<ManifestEntry> entries);

// fsync(2) of a directory, so the renames into it are durable; 0 or the errno (EINVAL, a file
// system that cannot sync directories, counts as success).
int fsync_directory(const std::filesystem::path& dir);

// `selection` describes the include / exclude patterns that chose the files (empty: all files);
// it is recorded as "selection" so a partial download is never mistaken for the whole repository.
std::string manifest_json(const std::string& uri, const std::string& revision,
                          std::vector<ManifestEntry> entries, const std::string& selection = {});

// Writes DEST/.aim-manifest.json atomically: the new text goes to a temporary file in `staging` (a
// directory on DEST's file system that is not part of the model, so a kill mid-write never leaves a
// stray file among the model's files), fsynced, renamed over the manifest, and DEST is fsynced.
Result<void, std::string> write_manifest(const std::filesystem::path& dest,
                                         const std::filesystem::path& staging,
                                         const std::string& uri, const std::string& revision,
                                         const std::vector<ManifestEntry>& entries,
                                         const std::string& selection = {});

}  // namespace aim::fetch
