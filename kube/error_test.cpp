#include "kube/error.h"

#include <gtest/gtest.h>

#include "http/client.h"

namespace aim::kube {
namespace {

std::string status_body(int code, const std::string& reason, const std::string& message,
                        const std::string& details = "{}") {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","details":)" + details + R"(,"code":)" +
         std::to_string(code) + "}";
}

TEST(ErrorFromResponse, NotFound) {
  http::Headers h;
  Error e = error_from_response(
      404, status_body(404, "NotFound", R"(widgets.test.aim.dev \"a\" not found)"), h);
  EXPECT_EQ(e.code, ErrorCode::kNotFound);
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.reason, "NotFound");
  EXPECT_EQ(e.message, "widgets.test.aim.dev \"a\" not found");
  EXPECT_EQ(e.describe(), "NotFound (404): widgets.test.aim.dev \"a\" not found");
}

TEST(ErrorFromResponse, ConflictAndAlreadyExistsShare409) {
  http::Headers h;
  Error exists = error_from_response(409, status_body(409, "AlreadyExists", "exists"), h);
  EXPECT_EQ(exists.code, ErrorCode::kAlreadyExists);
  Error conflict =
      error_from_response(409, status_body(409, "Conflict", "the object has been modified"), h);
  EXPECT_EQ(conflict.code, ErrorCode::kConflict);
}

TEST(ErrorFromResponse, InvalidCarriesFieldCauses) {
  http::Headers h;
  std::string details =
      R"({"name":"a","kind":"Widget","causes":[)"
      R"({"reason":"FieldValueRequired","message":"Required value","field":"spec.size"},)"
      R"({"reason":"FieldValueInvalid","message":"must be positive","field":"spec.count"}]})";
  Error e = error_from_response(
      422, status_body(422, "Invalid", "Widget \\\"a\\\" is invalid", details), h);
  EXPECT_EQ(e.code, ErrorCode::kInvalid);
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(e.causes[0].field, "spec.size");
  EXPECT_EQ(e.causes[0].reason, "FieldValueRequired");
  EXPECT_EQ(e.causes[1].message, "must be positive");
  EXPECT_EQ(
      e.describe(),
      "Invalid (422): Widget \"a\" is invalid [spec.size: Required value; spec.count: must be "
      "positive]");
}

TEST(ErrorFromResponse, GoneAndExpired) {
  http::Headers h;
  EXPECT_EQ(
      error_from_response(410, status_body(410, "Expired", "too old resource version"), h).code,
      ErrorCode::kGone);
  EXPECT_EQ(error_from_response(410, "", h).code, ErrorCode::kGone);
}

TEST(ErrorFromResponse, TooManyRequestsWithRetryAfterHeaderOrDetails) {
  http::Headers h;
  h.add("Retry-After", "7");
  Error e = error_from_response(429, status_body(429, "TooManyRequests", "slow down"), h);
  EXPECT_EQ(e.code, ErrorCode::kTooManyRequests);
  ASSERT_TRUE(e.retry_after.has_value());
  EXPECT_EQ(e.retry_after->count(), 7);
  EXPECT_NE(e.describe().find("retry after 7s"), std::string::npos);

  http::Headers none;
  Error d = error_from_response(
      429, status_body(429, "TooManyRequests", "slow down", R"({"retryAfterSeconds":3})"), none);
  ASSERT_TRUE(d.retry_after.has_value());
  EXPECT_EQ(d.retry_after->count(), 3);
}

TEST(ErrorFromResponse, ServerErrorsAndTimeouts) {
  http::Headers h;
  EXPECT_EQ(error_from_response(500, status_body(500, "InternalError", "boom"), h).code,
            ErrorCode::kServerError);
  EXPECT_EQ(error_from_response(504, status_body(504, "Timeout", "timed out"), h).code,
            ErrorCode::kTimeout);
  EXPECT_EQ(error_from_response(500, status_body(500, "ServerTimeout", "busy"), h).code,
            ErrorCode::kTimeout);
  EXPECT_EQ(error_from_response(403, status_body(403, "Forbidden", "no"), h).code,
            ErrorCode::kForbidden);
  EXPECT_EQ(error_from_response(401, status_body(401, "Unauthorized", "who"), h).code,
            ErrorCode::kUnauthorized);
  EXPECT_EQ(error_from_response(405, "", h).code, ErrorCode::kMethodNotAllowed);
  EXPECT_EQ(error_from_response(400, "", h).code, ErrorCode::kBadRequest);
}

TEST(ErrorFromResponse, NonJsonBodyGivesOneShortLine) {
  http::Headers h;
  std::string html = "<html><body>Bad Gateway</body></html>\n<p>" + std::string(500, 'x');
  Error e = error_from_response(502, html, h);
  EXPECT_EQ(e.code, ErrorCode::kServerError);
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.message, "<html><body>Bad Gateway</body></html>");
  EXPECT_EQ(e.describe().find('\n'), std::string::npos);

  Error long_line = error_from_response(503, std::string(1000, 'y'), h);
  EXPECT_LT(long_line.message.size(), 300u);

  Error empty = error_from_response(503, "", h);
  EXPECT_EQ(empty.message, "HTTP 503 with an empty body");
}

TEST(ErrorFromStatusJson, DecodesWatchErrorObjects) {
  Error e = error_from_status_json(status_body(410, "Expired", "too old resource version: 1 (5)"));
  EXPECT_EQ(e.code, ErrorCode::kGone);
  EXPECT_EQ(e.http_status, 410);
  EXPECT_EQ(error_from_status_json("not json").code, ErrorCode::kDecode);
}

TEST(ErrorFromTransport, NamesServerAndCause) {
  http::Error refused{
      http::ErrorKind::kConnect,
      "Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"};
  Error e = error_from_transport(refused, "https://127.0.0.1:1");
  EXPECT_EQ(e.code, ErrorCode::kNetwork);
  EXPECT_EQ(e.describe().rfind("cannot reach https://127.0.0.1:1: connection refused", 0), 0u)
      << e.describe();

  http::Error tls{http::ErrorKind::kTls, "SSL certificate problem: self-signed certificate"};
  Error t = error_from_transport(tls, "https://127.0.0.1:6443");
  EXPECT_EQ(t.code, ErrorCode::kTls);
  EXPECT_EQ(t.describe().rfind("TLS verification of https://127.0.0.1:6443: certificate signed by "
                               "unknown authority — check certificate-authority-data",
                               0),
            0u)
      << t.describe();

  http::Error name{http::ErrorKind::kTls,
                   "SSL: certificate subject name 'x' does not match target host name 'y'"};
  EXPECT_NE(error_from_transport(name, "https://y").message.find("not valid for this host"),
            std::string::npos);
  EXPECT_EQ(
      error_from_transport({http::ErrorKind::kTimeout, "Operation timed out"}, "https://h").code,
      ErrorCode::kTimeout);
  EXPECT_EQ(error_from_transport({http::ErrorKind::kAborted, "aborted"}, "https://h").code,
            ErrorCode::kCancelled);
}

TEST(ErrorCodeNames, AreStable) {
  EXPECT_EQ(to_string(ErrorCode::kNotFound), "NotFound");
  EXPECT_EQ(to_string(ErrorCode::kGone), "Gone");
  EXPECT_EQ(to_string(ErrorCode::kTls), "TLS");
}

}  // namespace
}  // namespace aim::kube
