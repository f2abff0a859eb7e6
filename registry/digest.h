// Content digests of OCI manifests and blobs ("sha256:<64 hex>", "sha512:<128 hex>"), computed
// with OpenSSL. A registry's answer is only trusted when its bytes hash to the digest asked for.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace aim::registry {

// "sha256:<hex>" of the data.
std::string sha256_digest(std::string_view data);

// Whether `digest` is well-formed: a supported algorithm and lowercase hex of the right length.
bool valid_digest(std::string_view digest);

// Ok when `data` hashes to `expected`; an error naming both digests otherwise (also for an
// unsupported or malformed digest).
Result<void, std::string> verify_digest(std::string_view expected, std::string_view data);

}  // namespace aim::registry
