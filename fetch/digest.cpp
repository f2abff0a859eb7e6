#include "fetch/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace aim::fetch {

struct Digest::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Digest::Digest(DigestAlgorithm algorithm) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256()
                     : algorithm == DigestAlgorithm::kSha1 ? EVP_sha1()
                                                           : EVP_md5();
  EVP_DigestInit_ex(impl_->ctx, md, nullptr);
}

Digest::~Digest() {
  if (impl_ && impl_->ctx) EVP_MD_CTX_free(impl_->ctx);
}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string Digest::hex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out, &len);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::string sha256_hex(std::string_view data) {
  Digest d(DigestAlgorithm::kSha256);
  d.update(data);
  return d.hex();
}

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

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string git_blob_header(std::uint64_t size) {
  std::string h = "blob " + std::to_string(size);
  h.push_back('\0');
  return h;
}

}  // namespace aim::fetch
