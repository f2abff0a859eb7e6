#include "kube/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "http/client.h"
#include "kube/tls_serving.h"

namespace aim::kube {
namespace {

TEST(BindAddressTest, Parses) {
  auto a = parse_bind_address(":8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "");
  EXPECT_EQ(a->port, 8080);
  a = parse_bind_address("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  a = parse_bind_address("[::1]:9000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(parse_bind_address("0")->port, -1);
  EXPECT_FALSE(parse_bind_address("8080").ok());
  EXPECT_FALSE(parse_bind_address(":http").ok());
  EXPECT_FALSE(parse_bind_address(":99999").ok());
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.route("/metrics", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain; version=0.0.4", "m 1\n"};
    });
    server_.route("/echo", [](const HttpRequest& r) {
      return HttpResponse{200, "text/plain",
                          r.method + " " + r.path + " [" + r.header("X-Token") + "]"};
    });
    server_.route("/readyz", [this](const HttpRequest&) {
      return ready_.load() ? HttpResponse{200, "text/plain", "ok"}
                           : HttpResponse{500, "text/plain", "not ready"};
    });
    ASSERT_TRUE(server_.start("127.0.0.1:0").ok());
    ASSERT_GT(server_.port(), 0);
  }
  std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  http::Response get(const std::string& path, const std::string& method = "GET") {
    http::Request req;
    req.method = method;
    req.url = url(path);
    auto r = session_.perform(req);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : http::Response{};
  }

  HttpServer server_;
  http::Session session_;
  std::atomic<bool> ready_{false};
};

TEST_F(HttpServerTest, ServesRoutesWithContentType) {
  auto r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "m 1\n");
  EXPECT_EQ(r.headers.get("content-type"), "text/plain; version=0.0.4");
}

TEST_F(HttpServerTest, UnknownPathIs404AndQueryIsIgnoredForRouting) {
  EXPECT_EQ(get("/nope").status, 404);
  EXPECT_EQ(get("/metrics?x=1").status, 200);
}

TEST_F(HttpServerTest, HandlersSeeMethodPathAndHeaders) {
  http::Request req;
  req.url = url("/echo?x=1");
  req.headers = {{"x-token", "  abc def  "}};
  auto r = session_.perform(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "GET /echo [abc def]");  // lower-case lookup, value trimmed
  req.method = "HEAD";
  EXPECT_EQ(session_.perform(req)->status, 200);
}

TEST_F(HttpServerTest, RequestHeadsOver16KiBAreRejected) {
  http::Request req;
  req.url = url("/metrics");
  req.headers = {{"x-big", std::string(17 * 1024, 'a')}};
  auto r = session_.perform(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 431);
}

TEST_F(HttpServerTest, ReadinessReflectsState) {
  EXPECT_EQ(get("/readyz").status, 500);
  ready_ = true;
  EXPECT_EQ(get("/readyz").status, 200);
}

TEST_F(HttpServerTest, HeadHasNoBodyAndPostIsRejected) {
  auto r = get("/metrics", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  http::Request req;
  req.method = "POST";
  req.url = url("/metrics");
  req.body = "x";
  auto p = session_.perform(req);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 405);
}

TEST_F(HttpServerTest, KeepsConnectionsAlive) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get("/metrics").status, 200);
}

TEST_F(HttpServerTest, SecondServerOnTheSamePortFails) {
  HttpServer other;
  auto r = other.start("127.0.0.1:" + std::to_string(server_.port()));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ::testing::HasSubstr("listen on"));
}

TEST_F(HttpServerTest, StopClosesTheListener) {
  int port = server_.port();
  server_.stop();
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  http::Session fresh;
  EXPECT_FALSE(fresh.perform(req).ok());
}

// TLS: a certificate directory made with the openssl command line (scripts/install-deps.sh).
class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("aim-https-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    server_.route("/metrics", [](const HttpRequest&) {
      return HttpResponse{200, "text/plain", "m 1\n"};
    });
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }
  // A self-signed certificate for 127.0.0.1 with that common name, as tls.crt and tls.key.
  void make_cert(const std::string& cn) {
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=" +
        cn + " -addext subjectAltName=IP:127.0.0.1 -keyout " + (dir_ / "tls.key.new").string() +
        " -out " + (dir_ / "tls.crt.new").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::filesystem::copy_file(dir_ / "tls.crt.new", dir_ / (cn + ".crt"));
    // Key first, then certificate, each by rename: as a Secret volume update, never half a file.
    std::filesystem::rename(dir_ / "tls.key.new", dir_ / "tls.key");
    std::filesystem::rename(dir_ / "tls.crt.new", dir_ / "tls.crt");
  }
  aim::Result<http::Response, http::Error> get(const std::string& scheme, http::TlsOptions tls = {},
                                               const std::string& method = "GET") {
    http::Session session(tls);
    http::Request req;
    req.method = method;
    req.url = scheme + "://127.0.0.1:" + std::to_string(server_.port()) + "/metrics";
    req.timeout = std::chrono::seconds(5);
    return session.perform(req);
  }

  std::filesystem::path dir_;
  HttpServer server_;
};

TEST_F(HttpsServerTest, SelfSignedServesTlsOnlyAndCanBeVerifiedNowhere) {
  auto tls = TlsServing::create({});
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_TRUE((*tls)->self_signed());
  ASSERT_TRUE(server_.start("127.0.0.1:0", *tls).ok());
  http::TlsOptions skip;
  skip.insecure_skip_verify = true;
  auto r = get("https", skip);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "m 1\n");
  auto head = get("https", skip, "HEAD");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->body, "");
  // Verified against the system CAs it fails; plain HTTP on the TLS port gets no answer.
  auto verified = get("https");
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().kind, http::ErrorKind::kTls);
  auto plain = get("http");
  EXPECT_FALSE(plain.ok() && plain->status == 200);
}

TEST_F(HttpsServerTest, KeepsTlsConnectionsAlive) {
  auto tls = TlsServing::create({});
  ASSERT_TRUE(tls.ok());
  ASSERT_TRUE(server_.start("127.0.0.1:0", *tls).ok());
  http::TlsOptions skip;
  skip.insecure_skip_verify = true;
  http::Session session(skip);
  for (int i = 0; i < 5; ++i) {
    http::Request req;
    req.url = "https://127.0.0.1:" + std::to_string(server_.port()) + "/metrics";
    auto r = session.perform(req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpsServerTest, CertificateDirectoryIsVerifiedAndReloadedWhenItChanges) {
  make_cert("first");
  TlsServingOptions o;
  o.cert_dir = dir_.string();
  auto tls = TlsServing::create(o);
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_FALSE((*tls)->self_signed());
  ASSERT_TRUE(server_.start("127.0.0.1:0", *tls).ok());
  http::TlsOptions first;
  first.ca_file = (dir_ / "first.crt").string();
  auto r = get("https", first);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);

  // A rotated certificate: new connections get it, without a restart.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a distinct mtime
  make_cert("second");
  http::TlsOptions second;
  second.ca_file = (dir_ / "second.crt").string();
  r = get("https", second);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(get("https", first).ok());

  // A broken update keeps the last good certificate.
  std::filesystem::resize_file(dir_ / "tls.key", 10);
  r = get("https", second);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsServerTest, MinimumTlsVersionIsEnforced) {
  TlsServingOptions o;
  o.min_version = "1.3";
  auto tls = TlsServing::create(o);
  ASSERT_TRUE(tls.ok()) << tls.error();
  ASSERT_TRUE(server_.start("127.0.0.1:0", *tls).ok());
  auto handshake = [&](const std::string& version) {
    std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(server_.port()) +
                      " " + version + " </dev/null >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  };
  EXPECT_TRUE(handshake("-tls1_3"));
  EXPECT_FALSE(handshake("-tls1_2"));
}

TEST(TlsServingTest, ErrorsNameTheProblem) {
  TlsServingOptions o;
  o.cert_dir = "/nonexistent-aim-cert-dir";
  auto r = TlsServing::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ::testing::HasSubstr("/nonexistent-aim-cert-dir/tls.crt"));
  TlsServingOptions v;
  v.min_version = "1.1";
  r = TlsServing::create(v);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ::testing::HasSubstr("want 1.2 or 1.3"));
}

}  // namespace
}  // namespace aim::kube
