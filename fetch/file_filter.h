// Which files of a source to fetch: include / exclude glob patterns over the repository-relative
// path, as `huggingface_hub`'s allow_patterns / ignore_patterns. A file is fetched when it
// matches at least one include pattern (or none are given) and no exclude pattern.
//
// Patterns are shell globs matched against the whole path: `*` and `?` also match `/`
// (`*.safetensors` selects the files of every directory), `[...]` is a character class, and a
// pattern ending in `/` selects everything under that directory (`adapters/`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "fetch/failure.h"
#include "fetch/source.h"

namespace aim::fetch {

struct FileFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;

  bool empty() const { return include.empty() && exclude.empty(); }
  bool selects(std::string_view path) const;
  // "include *.gguf, exclude *-Q2*" (empty when there are no patterns).
  std::string describe() const;
};

// A usable pattern: non-empty, at most 1024 bytes, no control characters, balanced brackets.
Result<void, std::string> check_pattern(const std::string& pattern);

// Drops the files the filter does not select. Fails (not_found) when nothing is left, naming the
// patterns and how many files the source listed, so a typo does not look like an empty model.
Result<void, Failure> apply_filter(Listing& listing, const FileFilter& filter,
                                   const std::string& display_uri);

}  // namespace aim::fetch
