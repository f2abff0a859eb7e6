#include "fetch/crc.h"

#include <zlib.h>

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace aim::fetch {
namespace {

template <class T>
using Tables = std::array<std::array<T, 256>, 8>;

// Slice-by-8 tables of a reflected CRC: t[0] is the byte table, t[k][i] advances t[k-1][i] by
// one more zero byte.
template <class T>
Tables<T> make_tables(T poly) {
  Tables<T> t{};
  for (unsigned i = 0; i < 256; ++i) {
    T c = static_cast<T>(i);
    for (int b = 0; b < 8; ++b)
      c = (c & 1) ? static_cast<T>((c >> 1) ^ poly) : static_cast<T>(c >> 1);
    t[0][i] = c;
  }
  for (unsigned i = 0; i < 256; ++i)
    for (size_t k = 1; k < 8; ++k)
      t[k][i] = static_cast<T>((t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff]);
  return t;
}

// The register `c` (already inverted) over `size` bytes, little-endian 8-byte steps.
template <class T>
T run_tables(const Tables<T>& t, T c, const unsigned char* p, size_t size) {
  while (size >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= static_cast<std::uint64_t>(c);
    c = static_cast<T>(t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
                       t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
                       t[1][(w >> 48) & 0xff] ^ t[0][w >> 56]);
    p += 8;
    size -= 8;
  }
  while (size--) c = static_cast<T>((c >> 8) ^ t[0][(c ^ *p++) & 0xff]);
  return c;
}

const Tables<std::uint64_t>& crc64_tables() {
  static const auto t = make_tables<std::uint64_t>(0x9a6c9329ac4bc9b5ull);
  return t;
}
const Tables<std::uint32_t>& crc32c_tables() {
  static const auto t = make_tables<std::uint32_t>(0x82f63b78u);
  return t;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t c,
                                                             const unsigned char* p, size_t size) {
  std::uint64_t c64 = c;
  while (size >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
    p += 8;
    size -= 8;
  }
  c = static_cast<std::uint32_t>(c64);
  while (size--) c = _mm_crc32_u8(c, *p++);
  return c;
}
#endif

}  // namespace

std::uint64_t crc64nvme(std::uint64_t crc, const void* data, std::size_t size) {
  return ~run_tables(crc64_tables(), ~crc, static_cast<const unsigned char*>(data), size);
}

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return ~crc32c_sse42(~crc, p, size);
#endif
  return ~run_tables(crc32c_tables(), ~crc, p, size);
}

std::uint32_t crc32_ieee(std::uint32_t crc, const void* data, std::size_t size) {
  return static_cast<std::uint32_t>(
      ::crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(size)));
}

}  // namespace aim::fetch
