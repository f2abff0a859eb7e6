// Credentials and endpoints from the environment or the usual files. Values are returned, never
// logged; callers must not put them into messages.
#pragma once

#include <optional>
#include <string>

#include "fetch/sigv4.h"
#include "fetch/source.h"
#include "fetch/uri.h"

namespace aim::fetch {

// HF_TOKEN, HUGGING_FACE_HUB_TOKEN, the file HF_TOKEN_PATH, $HF_HOME/token,
// ~/.cache/huggingface/token.
std::optional<std::string> hf_token(const EnvLookup& env);
// HF_ENDPOINT, else https://huggingface.co (no trailing slash).
std::string hf_endpoint(const EnvLookup& env);

struct S3Config {
  AwsCredentials credentials;  // empty: anonymous (unsigned) requests
  std::string region = "us-east-1";
  std::string endpoint;  // scheme://host[:port]; empty: AWS (virtual-hosted style)
  bool path_style = false;
};
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or "default");
// AWS_REGION / AWS_DEFAULT_REGION; AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (which imply path-style
// unless AWS_S3_ADDRESSING_STYLE=virtual).
S3Config s3_config(const EnvLookup& env);

// NGC_API_KEY or NGC_CLI_API_KEY.
std::optional<std::string> ngc_api_key(const EnvLookup& env);

// https:// (and http://) sources: credentials that must not be written into the URI, which the
// operator copies into the download Job and the status.
struct HttpsCredentials {
  std::optional<std::string> bearer_token;  // HTTPS_TOKEN: "Authorization: Bearer ..."
  std::optional<std::string> signed_url;    // AIM_SIGNED_URL: the URL to fetch, with its query
};
HttpsCredentials https_credentials(const EnvLookup& env);

// The URL an https:// download fetches: the signed URL when one is given, else `uri`. A signed
// URL must name the same file as `uri` (the same URL once query and user info are dropped), so a
// Secret cannot send the download elsewhere; the error says so without printing either query.
Result<std::string, std::string> https_fetch_url(const std::string& uri,
                                                 const HttpsCredentials& credentials);

}  // namespace aim::fetch
