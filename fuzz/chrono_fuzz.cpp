// core/chrono: Go durations (metav1.Duration fields, aim-fetch flags, the HTTPRoute timeout) and
// RFC 3339 timestamps (every metav1.Time the API server sends, exec credential expiry). Mode byte:
// 0 parse_go_duration, 1 parse_rfc3339, 2 parse_rfc3339_time, 3 engine's go_duration_string.
// Properties: what parses formats to text that parses back to the same value.
#include "core/chrono.h"
#include "engine/routing.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 4);
  switch (mode) {
    case 0: {
      auto d = parse_go_duration(text);
      if (!d) break;
      std::string printed = format_go_duration(*d);
      auto again = parse_go_duration(printed);
      if (!again || *again != *d) fuzz::violated("parse(format(parse_go_duration(x)))", printed);
      break;
    }
    case 1: {
      auto t = parse_rfc3339(text);
      if (!t) break;
      std::string printed = format_rfc3339(*t);
      auto again = parse_rfc3339(printed);
      if (!again || *again != *t) fuzz::violated("parse(format(parse_rfc3339(x)))", printed);
      break;
    }
    case 2: {
      auto t = parse_rfc3339_time(text);
      if (!t) break;
      std::string printed = format_rfc3339_micro(*t);
      auto again = parse_rfc3339_time(printed);
      if (!again || *again != *t) fuzz::violated("parse(format(parse_rfc3339_time(x)))", printed);
      break;
    }
    default: {
      auto s = engine::go_duration_string(std::string(text));
      if (s && !parse_go_duration(*s)) fuzz::violated("go_duration_string is no duration", *s);
      break;
    }
  }
  return 0;
}
