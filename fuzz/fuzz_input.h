// Helpers shared by the libFuzzer harnesses: the input as text, a selector byte for harnesses
// that dispatch among several small parsers, splitting into parts, and a property check that
// turns a broken invariant into a crash libFuzzer records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace aim::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first byte chooses among `n` modes; the rest is the parser's input. Seeds are written with
// the mode byte first (fuzz/make_corpus.py).
struct Selected {
  unsigned mode = 0;
  std::string_view rest;
};
inline Selected select(const std::uint8_t* data, std::size_t size, unsigned n) {
  if (size == 0) return {0, {}};
  return {static_cast<unsigned>(data[0] % n), as_text(data + 1, size - 1)};
}

// Splits at every `sep`; at most `max_parts` parts (the last one keeps the rest).
inline std::vector<std::string_view> split(std::string_view s, std::string_view sep,
                                           std::size_t max_parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    auto at = s.find(sep);
    if (at == std::string_view::npos) break;
    out.push_back(s.substr(0, at));
    s.remove_prefix(at + sep.size());
  }
  out.push_back(s);
  return out;
}

// Whether `s` is well-formed UTF-8 (what nlohmann's parser guarantees of every string it returns;
// a harness that hands text to code expecting parsed JSON strings checks it first).
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;  // continuation bytes
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// A property the code under test promises (a round trip, an equivalence) does not hold.
[[noreturn]] inline void violated(const char* what, std::string_view detail) {
  std::fprintf(stderr, "property violated: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace aim::fuzz
