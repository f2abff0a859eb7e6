#include "engine/error_class.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

TEST(ErrorClass, TextRules) {
  const std::vector<std::pair<std::string, ImageErrorKind>> cases = {
      {"unauthorized: authentication required", ImageErrorKind::kAuth},
      {"GET https://x/v2/: DENIED: requested access to the resource is denied",
       ImageErrorKind::kAuth},
      {"pull access denied, repository does not exist or may require authorization",
       ImageErrorKind::kAuth},
      {"MANIFEST_UNKNOWN: manifest unknown", ImageErrorKind::kNotFound},
      {"rpc error: ... not found", ImageErrorKind::kNotFound},
      {"status 404", ImageErrorKind::kNotFound},
      {"dial tcp 10.0.0.1:443: i/o timeout", ImageErrorKind::kGeneric},
  };
  for (const auto& [msg, want] : cases) EXPECT_EQ(classify_image_error_text(msg), want) << msg;
  EXPECT_EQ(classify_image_error_status(401), ImageErrorKind::kAuth);
  EXPECT_EQ(classify_image_error_status(403), ImageErrorKind::kAuth);
  EXPECT_EQ(classify_image_error_status(404), ImageErrorKind::kNotFound);
  EXPECT_EQ(classify_image_error_status(500), ImageErrorKind::kGeneric);
}

TEST(ErrorClass, RegistryErrors) {
  struct Case {
    RegistryErrorInfo in;
    ErrorCategory category;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{RegistryFailure::kAuth, 401, "ghcr.io", "denied"},
       ErrorCategory::kAuth,
       "ImagePullAuthFailure"},
      {{RegistryFailure::kNotFound, 404, "ghcr.io", "manifest unknown"},
       ErrorCategory::kMissingUpstream,
       "ImageNotFound"},
      {{RegistryFailure::kConnectionRefused, 0, "r:5000", "refused"},
       ErrorCategory::kInfrastructure,
       "ConnectionRefused"},
      {{RegistryFailure::kTimeout, 0, "r", "t"}, ErrorCategory::kInfrastructure, "NetworkTimeout"},
      {{RegistryFailure::kDns, 0, "nope.invalid", ""},
       ErrorCategory::kInfrastructure,
       "DNSFailure"},
      {{RegistryFailure::kTls, 0, "r", "bad cert"}, ErrorCategory::kInfrastructure, "NetworkError"},
      {{RegistryFailure::kBadResponse, 503, "r", "unavailable"},
       ErrorCategory::kInfrastructure,
       "ServerError"},
      {{RegistryFailure::kBadResponse, 429, "r", "slow down"},
       ErrorCategory::kInfrastructure,
       "RateLimited"},
      {{RegistryFailure::kBadResponse, 200, "r", "digest mismatch"},
       ErrorCategory::kUnknown,
       "UnknownError"},
      {{RegistryFailure::kOther, 0, "r", "UNAUTHORIZED"},
       ErrorCategory::kAuth,
       "ImagePullAuthFailure"},
      {{RegistryFailure::kOther, 404, "r", "x"}, ErrorCategory::kMissingUpstream, "ImageNotFound"},
      {{RegistryFailure::kOther, 0, "r", "weird"}, ErrorCategory::kUnknown, "UnknownError"},
      {{RegistryFailure::kInvalidReference, 0, "", "bad ref"},
       ErrorCategory::kInvalidSpec,
       "InvalidImageReference"},
  };
  for (const auto& c : cases) {
    auto got = classify_registry_error(c.in);
    EXPECT_EQ(got.category, c.category) << c.in.message;
    EXPECT_EQ(got.reason, c.reason) << c.in.message;
    EXPECT_FALSE(got.message.empty() && !c.in.message.empty());
  }
  EXPECT_EQ(classify_registry_error({RegistryFailure::kDns, 0, "nope.invalid", ""}).message,
            "DNS resolution failed for nope.invalid");
  EXPECT_EQ(to_string(ErrorCategory::kInfrastructure), "Infrastructure");
}

}  // namespace
}  // namespace aim::engine
