#include "registry/digest.h"

#include "core/digest.h"

namespace aim::registry {
namespace {

using Hasher = std::string (*)(std::string_view);

Hasher algorithm(std::string_view name, std::size_t& hex_len) {
  if (name == "sha256") {
    hex_len = 64;
    return &sha256_hex;
  }
  if (name == "sha512") {
    hex_len = 128;
    return &sha512_hex;
  }
  return nullptr;
}

}  // namespace

std::string sha256_digest(std::string_view data) {
  return "sha256:" + sha256_hex(data);
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
  Hasher hash = algorithm(expected.substr(0, colon), hex_len);
  std::string actual = std::string(expected.substr(0, colon)) + ":" + hash(data);
  if (actual != expected) {
    return fail("digest mismatch: expected " + std::string(expected) + ", content hashes to " +
                actual);
  }
  return Ok{};
}

}  // namespace aim::registry
