// fetch/uri, fetch/file_filter, fetch/failure: what aim-fetch reads from its command line and
// from servers besides the listings. Mode byte: 0 parse_source_uri (hf:// s3:// ngc:// https://),
// 1 safe_relative_path and encode_path (listed paths), 2 redact_url / url_origin / resolve_url
// (a base URL, "\n", a Location header), 3 parse_retry_after, 4 include / exclude glob patterns
// (first line the pattern, further lines paths).
#include <chrono>

#include "fetch/failure.h"
#include "fetch/file_filter.h"
#include "fetch/uri.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 5);
  switch (mode) {
    case 0: {
      auto uri = fetch::parse_source_uri(text);
      if (uri && uri->scheme == fetch::Scheme::kHuggingFace && !uri->path.empty())
        (void)fetch::safe_relative_path(uri->path);
      break;
    }
    case 1: {
      auto safe = fetch::safe_relative_path(text);
      if (safe && *safe != text) fuzz::violated("safe_relative_path changed the path", text);
      (void)fetch::encode_path(text);
      break;
    }
    case 2: {
      auto parts = fuzz::split(text, "\n", 2);
      (void)fetch::redact_url(parts[0]);
      (void)fetch::url_origin(parts[0]);
      if (parts.size() == 2) {
        std::string resolved = fetch::resolve_url(parts[0], parts[1]);
        (void)fetch::redact_url(resolved);
      }
      break;
    }
    case 3: {
      const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
      auto delay = fetch::parse_retry_after(text, now);
      if (delay && delay->count() < 0) fuzz::violated("negative Retry-After", text);
      break;
    }
    default: {
      auto lines = fuzz::split(text, "\n", 64);
      std::string pattern(lines[0]);
      if (!fetch::check_pattern(pattern)) break;
      fetch::FileFilter include{.include = {pattern}};
      fetch::FileFilter exclude{.exclude = {pattern}};
      for (std::size_t i = 1; i < lines.size(); ++i) {
        if (include.selects(lines[i]) == exclude.selects(lines[i]))
          fuzz::violated("include and exclude of one pattern agree", lines[i]);
      }
      (void)include.describe();
      break;
    }
  }
  return 0;
}
