// Semantic versions and version ranges with the grammar of blang/semver v4, which the
// reference's AIMClusterModelSource uses (behavior.md §4.11): strict MAJOR.MINOR.PATCH with
// optional -prerelease and +build; ranges of comparators `>`, `>=`, `<`, `<=`, `=`, `==`, `!=`,
// `!` (none means `=`), space = AND, `||` = OR, and `x` wildcards (`1.x`, `>=1.2.x`). `~` and `^`
// are not part of the grammar. Blang's quirks are kept, e.g. `!=1.x` matches nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace aim::engine {

struct SemverPre {
  bool numeric = false;
  std::uint64_t num = 0;
  std::string str;
};

struct Semver {
  std::uint64_t major = 0, minor = 0, patch = 0;
  std::vector<SemverPre> pre;
  std::vector<std::string> build;
};

// Strict parse (blang `semver.Parse`).
Result<Semver, std::string> parse_semver(std::string_view s);

// -1, 0, 1 by semver precedence (build metadata ignored).
int compare_semver(const Semver& a, const Semver& b);

using SemverRange = std::function<bool(const Semver&)>;

// blang `semver.ParseRange`.
Result<SemverRange, std::string> parse_semver_range(std::string_view s);

}  // namespace aim::engine
