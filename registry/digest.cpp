#include "registry/digest.h"

#include <openssl/evp.h>

#include <array>

namespace aim::registry {
namespace {

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xF]);
  }
  return hex;
}

const EVP_MD* algorithm(std::string_view name, std::size_t& hex_len) {
  if (name == "sha256") {
    hex_len = 64;
    return EVP_sha256();
  }
  if (name == "sha512") {
    hex_len = 128;
    return EVP_sha512();
  }
  return nullptr;
}

}  // namespace

std::string sha256_digest(std::string_view data) {
  return "sha256:" + hex_digest(EVP_sha256(), data);
}

bool valid_digest(std::string_view digest) {
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) return false;
  std::size_t hex_len = 0;
  if (algorithm(digest.substr(0, colon), hex_len) == nullptr) return false;
  std::string_view hex = digest.substr(colon + 1);
  return hex.size() == hex_len &&
         hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<void, std::string> verify_digest(std::string_view expected, std::string_view data) {
  if (!valid_digest(expected))
    return fail("unsupported or malformed digest \"" + std::string(expected) + "\"");
  auto colon = expected.find(':');
  std::size_t hex_len = 0;
  const EVP_MD* md = algorithm(expected.substr(0, colon), hex_len);
  std::string actual = std::string(expected.substr(0, colon)) + ":" + hex_digest(md, data);
  if (actual != expected) {
    return fail("digest mismatch: expected " + std::string(expected) + ", content hashes to " +
                actual);
  }
  return Ok{};
}

}  // namespace aim::registry
