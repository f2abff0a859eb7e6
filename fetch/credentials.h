// Credentials and endpoints from the environment or the usual files. Values are returned, never
// logged; callers must not put them into messages.
#pragma once

#include <optional>
#include <string>

#include "fetch/sigv4.h"
#include "fetch/source.h"

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

}  // namespace aim::fetch
