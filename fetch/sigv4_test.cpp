#include "fetch/sigv4.h"

#include <gtest/gtest.h>

#include "fetch/digest.h"

namespace aim::fetch {
namespace {

// AWS Signature Version 4 test suite, "get-vanilla": GET / on example.amazonaws.com,
// 20150830T123600Z, region us-east-1, service "service", empty payload.
TEST(SigV4, GetVanillaFromTheAwsTestSuite) {
  SigV4Request r;
  r.method = "GET";
  r.host = "example.amazonaws.com";
  r.path = "/";
  r.payload_hash = sha256_hex("");
  AwsCredentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  auto s = sign_v4(r, c, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// The S3 documentation's GetObject example: the first 10 bytes of examplebucket/test.txt.
TEST(SigV4, S3GetObjectWithRangeFromTheS3Documentation) {
  SigV4Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.payload_hash = sha256_hex("");
  r.headers = {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", sha256_hex("")}};
  AwsCredentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  auto s = sign_v4(r, c, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(sha256_hex(s.canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, SessionTokenIsSignedAndSent) {
  SigV4Request r;
  r.host = "h";
  r.payload_hash = "UNSIGNED-PAYLOAD";
  AwsCredentials c{"AK", "SK", "TOKEN"};
  auto s = sign_v4(r, c, "us-east-1", "s3", "20240101T000000Z");
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:TOKEN\n"), std::string::npos);
  EXPECT_NE(s.authorization.find("host;x-amz-date;x-amz-security-token"), std::string::npos);
  bool sent = false;
  for (auto& [k, v] : s.headers) sent = sent || (k == "X-Amz-Security-Token" && v == "TOKEN");
  EXPECT_TRUE(sent);
}

TEST(SigV4, QueryIsSortedAndEncoded) {
  EXPECT_EQ(canonical_query({{"prefix", "a b/c"}, {"list-type", "2"}}),
            "list-type=2&prefix=a%20b%2Fc");
  EXPECT_EQ(aws_uri_encode("/models/a b~c", false), "/models/a%20b~c");
}

TEST(SigV4, AmzDateFormat) {
  auto t = std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z
  EXPECT_EQ(amz_date(t), "20150830T123600Z");
}

}  // namespace
}  // namespace aim::fetch
