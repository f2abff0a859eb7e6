#include "core/digest.h"

#include <openssl/evp.h>

#include <array>

namespace aim {
namespace {

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out.data()), len));
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  return hex_digest(EVP_sha256(), data);
}
std::string sha512_hex(std::string_view data) {
  return hex_digest(EVP_sha512(), data);
}

}  // namespace aim
