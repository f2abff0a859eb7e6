// One-shot SHA-256 / SHA-512 in lowercase hex (OpenSSL), and the hex encoding itself: the one
// implementation for derived names (engine), OCI content digests (registry) and request signing
// and verification (aim-fetch, whose streaming digests are fetch/digest.h).
#pragma once

#include <string>
#include <string_view>

namespace aim {

std::string hex_encode(std::string_view bytes);  // lowercase
std::string sha256_hex(std::string_view data);
std::string sha512_hex(std::string_view data);

}  // namespace aim
