// Range planning and resume bookkeeping for one file being downloaded.
//
// A file is fetched into DEST/.aim-fetch/<key>.part (preallocated sparse, written with pwrite)
// and split into fixed-size ranges fetched in parallel. Beside it, <key>.part.json records how
// many bytes of each range are on disk, so a crash or a dropped connection resumes where it
// stopped instead of starting over. The record also names what the bytes belong to (size plus
// an identity such as the LFS sha256 or the ETag); when that no longer matches, the partial file
// is discarded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"

namespace aim::fetch {

struct ByteRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;  // exclusive
  std::uint64_t size() const { return end - begin; }
  bool operator==(const ByteRange&) const = default;
};

// Splits [0, size) into ranges of chunk_size (the last may be shorter). A zero-size file gives
// one empty range, so every file has at least one unit of work.
std::vector<ByteRange> plan_ranges(std::uint64_t size, std::uint64_t chunk_size);

struct PartialState {
  std::string path;  // relative path in the destination
  std::uint64_t size = 0;
  std::string identity;
  std::uint64_t chunk_size = 0;
  std::vector<std::uint64_t> done;  // bytes on disk from the start of each range

  static PartialState fresh(std::string path, std::uint64_t size, std::string identity,
                            std::uint64_t chunk_size);
  std::vector<ByteRange> ranges() const { return plan_ranges(size, chunk_size); }
  bool matches(std::uint64_t size, const std::string& identity, std::uint64_t chunk_size) const;
  std::uint64_t bytes_done() const;
  bool complete() const;

  std::string to_json() const;
  static Result<PartialState, std::string> from_json(const std::string& text);
};

// Writes to a temporary name, fsyncs, renames: the record is either the old one or the new one.
Result<void, std::string> save_state(const std::filesystem::path& file, const PartialState& state);
Result<PartialState, std::string> load_state(const std::filesystem::path& file);

}  // namespace aim::fetch
