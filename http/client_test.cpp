#include "http/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

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

// ---- Multiplexer: requests of many threads over shared connections ------------------------------

// A body whose every byte says where it is, so a reordered or lost chunk shows.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(Multiplexer, SequentialRequestsReuseOneConnection) {
  LoopbackServer server([](const ServerRequest& r) {
    ServerResponse resp;
    resp.headers = {{"X-Method", r.method}};
    resp.body = r.method + " " + r.target + " " + r.body;
    return resp;
  });
  Multiplexer mux;
  Request req;
  req.url = server.url() + "/x";
  for (int i = 0; i < 3; ++i) {
    req.method = i == 1 ? "PUT" : "GET";
    req.body = i == 1 ? "{}" : "";
    auto r = mux.perform(req);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers.get("x-method"), req.method);
    EXPECT_EQ(r->body, req.method + " /x " + req.body);
  }
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(mux.connections_opened(), 1u);
}

// More than kMaxQueued bytes to a consumer slower than the network: the transfer pauses and
// resumes, and the caller's handler, on the caller's thread, gets every byte in order.
TEST(Multiplexer, AStreamReachesItsHandlerOnTheCallingThreadInOrder) {
  const std::string body = pattern(Multiplexer::kMaxQueued * 2 + 12345);
  LoopbackServer server([&](const ServerRequest&) {
    ServerResponse resp;
    resp.body = body;
    return resp;
  });
  Multiplexer mux;
  Request req;
  req.url = server.url() + "/";
  const auto caller = std::this_thread::get_id();
  std::string got;
  long status = 0;
  bool on_caller_thread = true;
  int chunks = 0;
  StreamHandler h;
  h.on_headers = [&](long s, const Headers&) {
    status = s;
    on_caller_thread = on_caller_thread && std::this_thread::get_id() == caller;
    return true;
  };
  h.on_data = [&](std::string_view chunk) {
    on_caller_thread = on_caller_thread && std::this_thread::get_id() == caller;
    if (++chunks < 4) std::this_thread::sleep_for(std::chrono::milliseconds(150));
    got.append(chunk);
    return true;
  };
  auto r = mux.stream(req, h);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(on_caller_thread);
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);
  EXPECT_TRUE(r->body.empty());

  h.on_data = [&](std::string_view) { return false; };
  auto stopped = mux.stream(req, h);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::kAborted);
}

TEST(Multiplexer, ConcurrentCallersEachGetTheirOwnAnswer) {
  LoopbackServer server([](const ServerRequest& r) {
    ServerResponse resp;
    resp.body = r.target + ":" + pattern(200000);
    return resp;
  });
  Multiplexer mux;
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int i = 0; i < 8; ++i)
    callers.emplace_back([&, i] {
      Request req;
      req.url = server.url() + "/" + std::to_string(i);
      std::string got;
      StreamHandler h;
      h.on_data = [&](std::string_view c) {
        got.append(c);
        return true;
      };
      auto r = i % 2 ? mux.stream(req, h) : mux.perform(req);
      if (r.ok() && (i % 2 ? got : r->body) == "/" + std::to_string(i) + ":" + pattern(200000))
        ++right;
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(right.load(), 8);
}

// A stream that receives nothing ends within about a second of its cancel flag, and a
// multiplexer destroyed under a caller ends that call instead of leaving it waiting.
TEST(Multiplexer, CancelAndShutdownEndIdleStreams) {
  std::atomic<bool> release{false};
  LoopbackServer server([&](const ServerRequest&) {
    for (int i = 0; i < 100 && !release; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return ServerResponse{};
  });
  auto mux = std::make_unique<Multiplexer>();
  Request req;
  req.url = server.url() + "/";
  req.timeout = std::chrono::milliseconds(0);
  std::atomic<bool> cancel{false};
  req.cancel = &cancel;
  StreamHandler h;
  h.on_data = [](std::string_view) { return true; };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto cancelled = mux->stream(req, h);
  canceller.join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().kind, ErrorKind::kAborted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));

  req.cancel = nullptr;
  Result<Response, Error> during_shutdown = fail(Error{});
  std::thread caller([&] { during_shutdown = mux->stream(req, h); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  mux.reset();
  caller.join();
  ASSERT_FALSE(during_shutdown.ok());
  EXPECT_EQ(during_shutdown.error().kind, ErrorKind::kAborted);
  release = true;
}

}  // namespace
}  // namespace aim::http
