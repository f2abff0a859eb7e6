#include "fetch/file_filter.h"

#include <fnmatch.h>

#include <algorithm>

namespace aim::fetch {
namespace {

bool matches(const std::string& pattern, std::string_view path) {
  std::string p = pattern;
  if (!p.empty() && p.back() == '/') p.push_back('*');
  // No FNM_PATHNAME: `*` crosses directories, as Python's fnmatch does for huggingface_hub.
  return ::fnmatch(p.c_str(), std::string(path).c_str(), 0) == 0;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

bool FileFilter::selects(std::string_view path) const {
  bool in = include.empty() || std::any_of(include.begin(), include.end(),
                                           [&](const std::string& p) { return matches(p, path); });
  return in && std::none_of(exclude.begin(), exclude.end(),
                            [&](const std::string& p) { return matches(p, path); });
}

std::string FileFilter::describe() const {
  std::string out;
  if (!include.empty()) out = "include " + join(include);
  if (!exclude.empty()) out += (out.empty() ? "" : "; ") + std::string("exclude ") + join(exclude);
  return out;
}

Result<void, std::string> check_pattern(const std::string& pattern) {
  if (pattern.empty()) return fail(std::string("a file pattern must not be empty"));
  if (pattern.size() > 1024)
    return fail("file pattern longer than 1024 bytes: " + pattern.substr(0, 40) + "...");
  int depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const auto c = static_cast<unsigned char>(pattern[i]);
    if (c < 0x20 || c == 0x7f)
      return fail("file pattern '" + pattern + "' contains a control character");
    if (c == '\\') {
      ++i;  // an escaped character is literal
      continue;
    }
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
  }
  if (depth != 0) return fail("file pattern '" + pattern + "' has an unclosed '['");
  return Ok{};
}

Result<void, Failure> apply_filter(Listing& listing, const FileFilter& filter,
                                   const std::string& display_uri) {
  if (filter.empty()) return Ok{};
  const size_t listed = listing.files.size();
  std::erase_if(listing.files, [&](const RemoteFile& f) { return !filter.selects(f.path); });
  if (listing.files.empty())
    return fail(Failure{FailureClass::kNotFound, "no file of " + display_uri + " matches " +
                                                     filter.describe() + " (" +
                                                     std::to_string(listed) + " files listed)"});
  return Ok{};
}

}  // namespace aim::fetch
