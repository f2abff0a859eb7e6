#include "http/client.h"

#include <gtest/gtest.h>

#include "test/support/loopback_server.h"

namespace aim::http {
namespace {

using aim::testing::LoopbackServer;
using aim::testing::ServerRequest;
using aim::testing::ServerResponse;

TEST(Headers, LookupIsCaseInsensitive) {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add("X-Multi", "a");
  h.add("x-multi", "b");
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.get_all("X-MULTI"), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(h.get("missing").has_value());
}

TEST(UrlEncode, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(url_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(url_encode("k=v&x y/z"), "k%3Dv%26x%20y%2Fz");
  EXPECT_EQ(url_encode("/a b/c", true), "/a%20b/c");
}

TEST(Session, PerformsRequestsAndReusesTheConnection) {
  LoopbackServer server([](const ServerRequest& r) {
    ServerResponse resp;
    resp.headers = {{"X-Method", r.method},
                    {"X-Echo", r.headers.count("x-test") ? r.headers.at("x-test") : ""}};
    resp.body = r.method + " " + r.target + " " + r.body;
    return resp;
  });
  Session s;
  Request req;
  req.url = server.url() + "/a?b=c";
  req.headers = {{"X-Test", "1"}};
  auto r1 = s.perform(req);
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /a?b=c ");
  EXPECT_EQ(r1->headers.get("x-echo"), "1");

  req.method = "PATCH";
  req.body = "{}";
  auto r2 = s.perform(req);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->body, "PATCH /a?b=c {}");
  EXPECT_EQ(server.requests_served(), 2);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(Session, StreamsBodyAndCanStopEarly) {
  LoopbackServer server([](const ServerRequest&) {
    ServerResponse resp;
    resp.body = std::string(1 << 20, 'x');
    return resp;
  });
  Session s;
  Request req;
  req.url = server.url() + "/";
  long seen_status = 0;
  size_t bytes = 0;
  StreamHandler h;
  h.on_headers = [&](long status, const Headers&) {
    seen_status = status;
    return true;
  };
  h.on_data = [&](std::string_view chunk) {
    bytes += chunk.size();
    return true;
  };
  auto r = s.stream(req, h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seen_status, 200);
  EXPECT_EQ(bytes, 1u << 20);
  EXPECT_TRUE(r->body.empty());

  h.on_data = [&](std::string_view) { return false; };
  auto stopped = s.stream(req, h);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::kAborted);
}

TEST(Session, TruncatedBodyIsAnError) {
  LoopbackServer server([](const ServerRequest&) {
    ServerResponse resp;
    resp.body = std::string(1000, 'y');
    resp.truncate_body_at = 100;
    return resp;
  });
  Session s;
  Request req;
  req.url = server.url() + "/";
  auto r = s.perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message, "");
}

TEST(Session, ConnectionRefusedIsClassifiedAndNamed) {
  int port;
  {
    LoopbackServer server([](const ServerRequest&) { return ServerResponse{}; });
    port = server.port();
  }
  Session s;
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto r = s.perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConnect);
  // The OS cause comes first, so a user reads "Connection refused", not a curl code.
  EXPECT_EQ(r.error().message.rfind("Connection refused", 0), 0u) << r.error().message;
}

TEST(Session, ServerNameOverrideConnectsToTheUrlHost) {
  // kubeconfig tls-server-name: the request names the server, the connection goes to the URL's
  // host.
  LoopbackServer server([](const ServerRequest& r) {
    return ServerResponse{200, {}, r.headers.count("host") ? r.headers.at("host") : ""};
  });
  TlsOptions tls;
  tls.server_name = "apiserver.example.invalid";
  Session s(tls);
  Request req;
  req.url = server.url() + "/version";
  auto r = s.perform(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, "apiserver.example.invalid:" + std::to_string(server.port()));
}

TEST(SessionPool, ReusesIdleSessions) {
  LoopbackServer server([](const ServerRequest&) { return ServerResponse{200, {}, "ok"}; });
  SessionPool pool;
  Request req;
  req.url = server.url() + "/";
  for (int i = 0; i < 3; ++i) {
    auto r = pool.perform(req);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body, "ok");
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

}  // namespace
}  // namespace aim::http
