#include "fetch/crc.h"

#include <zlib.h>

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
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
// CRC-64/NVME by carry-less multiplication (PCLMULQDQ), 64 bytes per step in four lanes.
//
// Loaded little-endian, a 16-byte block is the bit-reflected form of a polynomial A of degree
// < 128; its low half holds A's high coefficients (A_hi) and its high half A_lo. Moving A
// forward by D bits is A * x^D = A_hi * x^(D+64) + A_lo * x^D, and modulo P each factor x^n can
// be replaced by x^n mod P (degree < 64), so the product fits 128 bits again and is XORed into
// the block D bits further on. The carry-less product of two reflected 64-bit values comes out
// one bit short of the reflected 128-bit form, which the constants absorb: x^(D+63) and
// x^(D-1) instead of x^(D+64) and x^D. What is left at the end (one block and a tail under 16
// bytes) goes through the tables, starting from a zero register, since the incoming register
// was XORed into the first 8 bytes.
std::uint64_t reflect64(std::uint64_t v) {
  std::uint64_t r = 0;
  for (int i = 0; i < 64; ++i)
    if ((v >> i) & 1) r |= std::uint64_t{1} << (63 - i);
  return r;
}

// x^n mod P, reflected (P is the normal form of the reflected polynomial above).
std::uint64_t xpow_mod_reflected(unsigned n) {
  const std::uint64_t p = reflect64(0x9a6c9329ac4bc9b5ull);
  std::uint64_t r = 1;
  for (unsigned i = 0; i < n; ++i) r = (r << 1) ^ ((r >> 63) ? p : 0);
  return reflect64(r);
}

struct FoldConstants {
  std::uint64_t by512_lo, by512_hi, by128_lo, by128_hi;
};

const FoldConstants& fold_constants() {
  static const FoldConstants k{xpow_mod_reflected(512 + 63), xpow_mod_reflected(512 - 1),
                               xpow_mod_reflected(128 + 63), xpow_mod_reflected(128 - 1)};
  return k;
}

__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i x, __m128i k, __m128i d) {
  return _mm_xor_si128(
      _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), d);
}

__attribute__((target("pclmul,sse4.1"))) std::uint64_t crc64_pclmul(std::uint64_t reg,
                                                                    const unsigned char* p,
                                                                    size_t size) {
  const FoldConstants& c = fold_constants();
  const __m128i by512 =
      _mm_set_epi64x(static_cast<long long>(c.by512_hi), static_cast<long long>(c.by512_lo));
  const __m128i by128 =
      _mm_set_epi64x(static_cast<long long>(c.by128_hi), static_cast<long long>(c.by128_lo));
  auto load = [](const unsigned char* q) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  };
  __m128i x0 = _mm_xor_si128(load(p), _mm_cvtsi64_si128(static_cast<long long>(reg)));
  __m128i x1 = load(p + 16), x2 = load(p + 32), x3 = load(p + 48);
  p += 64;
  size -= 64;
  for (; size >= 64; p += 64, size -= 64) {
    x0 = fold(x0, by512, load(p));
    x1 = fold(x1, by512, load(p + 16));
    x2 = fold(x2, by512, load(p + 32));
    x3 = fold(x3, by512, load(p + 48));
  }
  x3 = fold(fold(fold(x0, by128, x1), by128, x2), by128, x3);
  for (; size >= 16; p += 16, size -= 16) x3 = fold(x3, by128, load(p));
  unsigned char rest[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(rest), x3);
  const auto& t = crc64_tables();
  return run_tables(t, run_tables(t, std::uint64_t{0}, rest, sizeof rest), p, size);
}

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
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  static const bool pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  if (pclmul && size >= 64) return ~crc64_pclmul(~crc, p, size);
#endif
  return crc64nvme_tables(crc, p, size);
}

std::uint64_t crc64nvme_tables(std::uint64_t crc, const void* data, std::size_t size) {
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
