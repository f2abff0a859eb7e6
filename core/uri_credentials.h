// The query parameters that carry a signature or a token in a URL (AWS, Google Cloud, Azure SAS
// and the generic names), lower-case. One list for the CRDs' admission rule (api/common.h) and
// the check the artifact controller and aim-fetch share (fetch::credential_in_uri), so the two
// refuse the same URIs.
#pragma once

#include <array>
#include <string_view>

namespace aim {

inline constexpr std::array<std::string_view, 11> kCredentialQueryParameters = {
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "token",
    "access_token",
    "api_key",
    "apikey"};

}  // namespace aim
