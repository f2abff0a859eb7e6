// Streaming message digests (SHA-256, SHA-1, MD5 over OpenSSL's EVP API; the S3 checksum CRCs of
// crc.h) and HMAC-SHA256.
// The downloader hashes bytes as they arrive where it can, so a verified file costs no second read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/digest.h"  // hex_encode, sha256_hex

namespace aim::fetch {

enum class DigestAlgorithm { kSha256, kSha1, kMd5, kCrc64Nvme, kCrc32c, kCrc32 };

class Digest {
 public:
  explicit Digest(DigestAlgorithm algorithm);
  ~Digest();
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void update(std::string_view data);
  std::string hex();  // finishes the digest; call once (a CRC as its big-endian bytes)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The algorithm's lower-case name as S3 spells it in x-amz-checksum-<name> ("sha256", "crc64nvme",
// ...), also used in aim-fetch's messages.
std::string_view digest_name(DigestAlgorithm algorithm);
// Bytes of the finished value (32 for SHA-256, 8 for CRC-64, ...).
std::size_t digest_size(DigestAlgorithm algorithm);

std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes

// The object id git gives a blob: sha1("blob <size>\0" + content). The Hub reports it as the
// ETag of files stored in git (not LFS), which lets us verify small files too.
std::string git_blob_header(std::uint64_t size);

}  // namespace aim::fetch
