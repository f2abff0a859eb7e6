// engine/semver and the version constraints of engine/source_filter (AIMClusterModelSource
// filters, image tags read from registries). Mode byte: 0 parse_semver, 1 parse_semver_range
// evaluated on a few versions, 2 tag_satisfies (first line the tag, further lines constraints).
#include "engine/semver.h"
#include "engine/source_filter.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 3);
  switch (mode) {
    case 0: {
      auto v = engine::parse_semver(text);
      if (v && engine::compare_semver(*v, *v) != 0) fuzz::violated("compare(v, v) != 0", text);
      break;
    }
    case 1: {
      auto range = engine::parse_semver_range(text);
      if (!range) break;
      static const char* versions[] = {"0.0.0", "1.2.3", "1.2.3-rc.1", "2.0.0+build.7",
                                       "18446744073709551615.0.1"};
      for (const char* s : versions) {
        auto v = engine::parse_semver(s);
        if (!v) fuzz::violated("fixed version does not parse", s);
        (void)(*range)(*v);
      }
      break;
    }
    default: {
      auto lines = fuzz::split(text, "\n", 16);
      std::vector<std::string> constraints;
      for (std::size_t i = 1; i < lines.size(); ++i) {
        constraints.emplace_back(lines[i]);
        (void)engine::normalize_semver_constraint(lines[i]);
      }
      (void)engine::tag_satisfies(lines[0], constraints);
      break;
    }
  }
  return 0;
}
