#include "fetch/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "fetch/crc.h"

namespace aim::fetch {

struct Digest::Impl {
  DigestAlgorithm algorithm;
  EVP_MD_CTX* ctx = nullptr;
  std::uint64_t crc = 0;
};

namespace {
bool is_crc(DigestAlgorithm a) {
  return a == DigestAlgorithm::kCrc64Nvme || a == DigestAlgorithm::kCrc32c ||
         a == DigestAlgorithm::kCrc32;
}
}  // namespace

Digest::Digest(DigestAlgorithm algorithm) : impl_(std::make_unique<Impl>()) {
  impl_->algorithm = algorithm;
  if (is_crc(algorithm)) return;
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
  switch (impl_->algorithm) {
    case DigestAlgorithm::kCrc64Nvme:
      impl_->crc = crc64nvme(impl_->crc, data.data(), data.size());
      return;
    case DigestAlgorithm::kCrc32c:
      impl_->crc = crc32c(static_cast<std::uint32_t>(impl_->crc), data.data(), data.size());
      return;
    case DigestAlgorithm::kCrc32:
      impl_->crc = crc32_ieee(static_cast<std::uint32_t>(impl_->crc), data.data(), data.size());
      return;
    default:
      EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
  }
}

std::string Digest::hex() {
  if (is_crc(impl_->algorithm)) {
    const int bytes = static_cast<int>(digest_size(impl_->algorithm));
    std::string out;
    for (int i = bytes - 1; i >= 0; --i)
      out.push_back(static_cast<char>((impl_->crc >> (8 * i)) & 0xff));
    return hex_encode(out);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out, &len);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::string_view digest_name(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return "sha256";
    case DigestAlgorithm::kSha1:
      return "sha1";
    case DigestAlgorithm::kMd5:
      return "md5";
    case DigestAlgorithm::kCrc64Nvme:
      return "crc64nvme";
    case DigestAlgorithm::kCrc32c:
      return "crc32c";
    case DigestAlgorithm::kCrc32:
      return "crc32";
  }
  return "digest";
}

std::size_t digest_size(DigestAlgorithm algorithm) {
  switch (algorithm) {
    case DigestAlgorithm::kSha256:
      return 32;
    case DigestAlgorithm::kSha1:
      return 20;
    case DigestAlgorithm::kMd5:
      return 16;
    case DigestAlgorithm::kCrc64Nvme:
      return 8;
    case DigestAlgorithm::kCrc32c:
    case DigestAlgorithm::kCrc32:
      return 4;
  }
  return 0;
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
