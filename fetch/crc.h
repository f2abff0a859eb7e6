// The CRCs S3 publishes as full-object checksums (x-amz-checksum-crc64nvme, -crc32c, -crc32):
// cheap to verify (several times faster than MD5), so an object that carries one does not need
// its ETag's MD5. Each takes the running value (0 to start) and returns the new one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aim::fetch {

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xor-out all ones): the default
// checksum of objects uploaded by current AWS SDKs. Carry-less multiplication (PCLMULQDQ) where
// the CPU has it, else slice-by-8 tables; crc64nvme_tables is the table form alone (the tests
// hold the fast one to it).
std::uint64_t crc64nvme(std::uint64_t crc, const void* data, std::size_t size);
std::uint64_t crc64nvme_tables(std::uint64_t crc, const void* data, std::size_t size);
// CRC-32C (Castagnoli): the SSE4.2 instruction where the CPU has it, else tables.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size);
// CRC-32 (the zlib / gzip polynomial), from zlib.
std::uint32_t crc32_ieee(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace aim::fetch
