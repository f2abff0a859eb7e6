// What the operator can tell about a referenced Secret before a pod uses it. Only key names,
// types and whether a value is empty are looked at: no value leaves these functions, and the
// messages name keys, never values.
//
// Pull secrets: the kubelet uses only the key `.dockerconfigjson` of a Secret of type
// kubernetes.io/dockerconfigjson and `.dockercfg` of kubernetes.io/dockercfg. A Secret of any
// other type is skipped without a word, and the pull goes anonymous.
//
// Credentials Secrets: a download pod gets the Secret as environment variables (envFrom), and
// aim-fetch reads fixed names per scheme (HF_TOKEN, AWS_ACCESS_KEY_ID, NGC_API_KEY, ...). A
// Secret without them gives a download that fails on a private source after its pod started.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aim::engine {

struct SecretProblem {
  std::string reason;   // InvalidPullSecret, MissingSecretKey
  std::string message;  // says what to change
};

// Problems of a Secret (as the API returns it: type, data) used as an imagePullSecret.
std::optional<SecretProblem> check_pull_secret(const nlohmann::json& secret);

// The environment variables a download of `scheme` ("hf", "s3", "ngc", ...) reads from its
// credentials Secret: every group must be present, any one name of a group will do. Empty for a
// scheme whose downloads take no credentials from the environment (custom downloaders).
std::vector<std::vector<std::string>> credential_keys(std::string_view scheme);

// Problems of a Secret used as the credentials of a download from `scheme`.
std::optional<SecretProblem> check_credentials_secret(const nlohmann::json& secret,
                                                      std::string_view scheme);

}  // namespace aim::engine
