#include "kube/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/client.h"

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
    server_.route("/metrics", [] {
      return HttpResponse{200, "text/plain; version=0.0.4", "m 1\n"};
    });
    server_.route("/readyz", [this] {
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

}  // namespace
}  // namespace aim::kube
