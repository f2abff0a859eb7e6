#include "kube/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "kube/metrics.h"
#include "test/support/loopback_server.h"

namespace aim::kube {
namespace {

using aim::testing::LoopbackServer;
using aim::testing::ServerRequest;
using aim::testing::ServerResponse;

const ResourceType kWidgets{"test.aim.dev", "v1", "widgets", "Widget", true};

ServerResponse json_response(int status, const Json& body) {
  ServerResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = body.dump();
  return r;
}

Json status_json(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"reason", reason}, {"message", message}, {"code", code}};
}

std::shared_ptr<Client> client_for(const LoopbackServer& server, Config cfg = {}) {
  cfg.server = server.url();
  cfg.qps = 0;  // unlimited: the limiter has its own tests
  auto c = Client::create(std::move(cfg));
  EXPECT_TRUE(c.ok());
  return *c;
}

// Records every request; answers with the scripted function.
struct Recorder {
  std::mutex mu;
  std::vector<ServerRequest> requests;
  std::function<ServerResponse(const ServerRequest&)> respond;
  LoopbackServer server{[this](const ServerRequest& r) {
    std::function<ServerResponse(const ServerRequest&)> f;
    {
      std::lock_guard lock(mu);
      requests.push_back(r);
      f = respond;
    }
    return f(r);
  }};
  ServerRequest last() {
    std::lock_guard lock(mu);
    return requests.back();
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

TEST(Client, CrudRequestsUseTheRightVerbsPathsAndBodies) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    Json obj = {{"apiVersion", "test.aim.dev/v1"}, {"kind", "Widget"}, {"echo", r.method}};
    return json_response(r.method == "POST" ? 201 : 200, obj);
  };
  auto client = client_for(rec.server);
  Json w = {{"apiVersion", "test.aim.dev/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w1"}, {"namespace", "ns1"}, {"resourceVersion", "5"}}},
            {"spec", {{"size", 3}}}};

  auto got = client->get(kWidgets, "ns1", "w1");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(rec.last().method, "GET");
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1");
  EXPECT_EQ(rec.last().headers["accept"], "application/json");
  EXPECT_EQ(rec.last().headers["user-agent"], "aim-engine/0.1");

  ASSERT_TRUE(client->create(kWidgets, w).ok());
  EXPECT_EQ(rec.last().method, "POST");
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/ns1/widgets");
  EXPECT_EQ(Json::parse(rec.last().body), w);
  EXPECT_EQ(rec.last().headers["content-type"], "application/json");

  ASSERT_TRUE(client->update(kWidgets, w).ok());
  EXPECT_EQ(rec.last().method, "PUT");
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1");

  ASSERT_TRUE(client->update_status(kWidgets, w).ok());
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1/status");

  ASSERT_TRUE(client->merge_patch(kWidgets, "ns1", "w1", {{"spec", {{"size", 4}}}}).ok());
  EXPECT_EQ(rec.last().method, "PATCH");
  EXPECT_EQ(rec.last().headers["content-type"], "application/merge-patch+json");
  EXPECT_EQ(rec.last().body, R"({"spec":{"size":4}})");

  ASSERT_TRUE(client->merge_patch(kWidgets, "ns1", "w1", {{"status", {}}}, "status").ok());
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1/status");

  Json partial = {{"metadata", {{"name", "w1"}, {"namespace", "ns1"}}}, {"spec", {{"size", 9}}}};
  ASSERT_TRUE(client->apply(kWidgets, partial, {"aim-engine", true}).ok());
  EXPECT_EQ(rec.last().method, "PATCH");
  EXPECT_EQ(rec.last().target,
            "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1?fieldManager=aim-engine&force=true");
  EXPECT_EQ(rec.last().headers["content-type"], "application/apply-patch+yaml");
  Json applied = Json::parse(rec.last().body);
  EXPECT_EQ(applied["apiVersion"], "test.aim.dev/v1");  // filled in for apply
  EXPECT_EQ(applied["kind"], "Widget");

  ASSERT_TRUE(client->apply(kWidgets, partial, {"other", false}, "status").ok());
  EXPECT_EQ(rec.last().target,
            "/apis/test.aim.dev/v1/namespaces/ns1/widgets/w1/status?fieldManager=other");

  DeleteOptions del;
  del.precondition_uid = "uid-1";
  del.precondition_resource_version = "5";
  del.propagation_policy = "Foreground";
  del.grace_period_seconds = 0;
  ASSERT_TRUE(client->remove(kWidgets, "ns1", "w1", del).ok());
  EXPECT_EQ(rec.last().method, "DELETE");
  Json body = Json::parse(rec.last().body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "5");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
}

TEST(Client, ObjectWithoutNamespaceUsesTheDefaultNamespace) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) { return json_response(201, Json::object()); };
  Config cfg;
  cfg.default_namespace = "team-b";
  auto client = client_for(rec.server, cfg);
  ASSERT_TRUE(client->create(kWidgets, {{"metadata", {{"name", "x"}}}}).ok());
  EXPECT_EQ(rec.last().target, "/apis/test.aim.dev/v1/namespaces/team-b/widgets");
  ASSERT_TRUE(client->create(types::namespaces(), {{"metadata", {{"name", "x"}}}}).ok());
  EXPECT_EQ(rec.last().target, "/api/v1/namespaces");
}

TEST(Client, UpdateWithoutANameFailsLocally) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) { return json_response(200, Json::object()); };
  auto client = client_for(rec.server);
  auto r = client->update(kWidgets, {{"metadata", {{"namespace", "a"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(rec.count(), 0u);
}

TEST(Client, StatusResponsesBecomeTypedErrors) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    if (r.method == "GET")
      return json_response(404, status_json(404, "NotFound", "widgets \"w\" not found"));
    if (r.method == "PUT")
      return json_response(409, status_json(409, "Conflict", "the object has been modified"));
    return json_response(409, status_json(409, "AlreadyExists", "widgets \"w\" already exists"));
  };
  auto client = client_for(rec.server);
  auto g = client->get(kWidgets, "a", "w");
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(g.error().is(ErrorCode::kNotFound));
  EXPECT_EQ(g.error().describe(), "NotFound (404): widgets \"w\" not found");
  Json w = {{"metadata", {{"name", "w"}, {"namespace", "a"}}}};
  EXPECT_TRUE(client->update(kWidgets, w).error().is(ErrorCode::kConflict));
  EXPECT_TRUE(client->create(kWidgets, w).error().is(ErrorCode::kAlreadyExists));
}

TEST(Client, NonJsonSuccessBodyIsADecodeError) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) {
    ServerResponse r;
    r.body = "<html>proxy</html>";
    return r;
  };
  auto client = client_for(rec.server);
  auto g = client->get(kWidgets, "a", "w");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ErrorCode::kDecode);
}

TEST(Client, ListFollowsContinueTokens) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    // Three pages of two items; the token names the next page.
    int page = 0;
    if (auto p = r.target.find("continue="); p != std::string::npos)
      page = std::stoi(r.target.substr(p + 9 + 4));  // "page1" -> 1
    Json items = Json::array();
    for (int i = 0; i < 2; ++i)
      items.push_back({{"metadata", {{"name", "w" + std::to_string(page * 2 + i)}}}});
    Json meta = {{"resourceVersion", "77"}};
    if (page < 2) meta["continue"] = "page" + std::to_string(page + 1);
    return json_response(200, {{"kind", "WidgetList"},
                               {"apiVersion", "test.aim.dev/v1"},
                               {"metadata", meta},
                               {"items", items}});
  };
  auto client = client_for(rec.server);
  ListOptions opts;
  opts.limit = 2;
  opts.label_selector = "app=x,tier in (a,b)";
  opts.resource_version = "0";
  auto l = client->list(kWidgets, "ns1", opts);
  ASSERT_TRUE(l.ok()) << l.error().describe();
  ASSERT_EQ(l->items.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(l->items[i]["metadata"]["name"], "w" + std::to_string(i));
    EXPECT_EQ(l->items[i]["apiVersion"], "test.aim.dev/v1");
    EXPECT_EQ(l->items[i]["kind"], "Widget");
  }
  EXPECT_EQ(l->resource_version, "77");
  ASSERT_EQ(rec.count(), 3u);
  EXPECT_EQ(
      rec.requests[0].target,
      "/apis/test.aim.dev/v1/namespaces/ns1/widgets?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29"
      "&limit=2&resourceVersion=0");
  // Later pages carry the token and no resourceVersion (the server rejects both together).
  EXPECT_EQ(
      rec.requests[2].target,
      "/apis/test.aim.dev/v1/namespaces/ns1/widgets?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29"
      "&limit=2&continue=page2");
}

TEST(Client, ListExpiredContinueTokenIsGone) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    if (r.target.find("continue=") != std::string::npos)
      return json_response(
          410, status_json(410, "Expired", "The provided continue parameter is too old"));
    return json_response(200, {{"metadata", {{"continue", "c1"}, {"resourceVersion", "1"}}},
                               {"items", Json::array({Json::object()})}});
  };
  auto client = client_for(rec.server);
  auto l = client->list(kWidgets, "", {});
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(l.error().is(ErrorCode::kGone));
  EXPECT_EQ(rec.requests[0].target, "/apis/test.aim.dev/v1/widgets?limit=500");
}

TEST(Client, AuthenticationHeaders) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) { return json_response(200, Json::object()); };
  {
    Config cfg;
    cfg.bearer_token = "tok";
    ASSERT_TRUE(client_for(rec.server, cfg)->get(kWidgets, "a", "b").ok());
    EXPECT_EQ(rec.last().headers["authorization"], "Bearer tok");
  }
  {
    Config cfg;
    cfg.username = "admin";
    cfg.password = "pw";
    ASSERT_TRUE(client_for(rec.server, cfg)->get(kWidgets, "a", "b").ok());
    EXPECT_EQ(rec.last().headers["authorization"], "Basic YWRtaW46cHc=");
  }
  {
    ASSERT_TRUE(client_for(rec.server)->get(kWidgets, "a", "b").ok());
    EXPECT_EQ(rec.last().headers.count("authorization"), 0u);
  }
}

TEST(Client, TokenFileIsReReadWhenItChanges) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) { return json_response(200, Json::object()); };
  std::string path =
      (std::filesystem::temp_directory_path() / ("kube-token-" + std::to_string(::getpid())))
          .string();
  std::ofstream(path) << "first\n";
  Config cfg;
  cfg.token_file = path;
  cfg.bearer_token = "ignored-when-a-file-is-set";
  auto client = client_for(rec.server, cfg);
  ASSERT_TRUE(client->get(kWidgets, "a", "b").ok());
  EXPECT_EQ(rec.last().headers["authorization"], "Bearer first");
  std::ofstream(path) << "second-longer\n";  // a different size marks the change
  ASSERT_TRUE(client->get(kWidgets, "a", "b").ok());
  EXPECT_EQ(rec.last().headers["authorization"], "Bearer second-longer");
  std::filesystem::remove(path);
  auto gone = client->get(kWidgets, "a", "b");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kConfig);
}

std::string write_plugin(const std::string& dir, const std::string& expiry) {
  std::filesystem::create_directories(dir);
  std::string script = dir + "/plugin.sh";
  // Each run appends a line to runs.log and hands out a token numbered by the run.
  std::ofstream(script) << "#!/bin/sh\necho run >> " << dir << "/runs.log\n"
                        << "n=$(wc -l < " << dir << "/runs.log | tr -d ' ')\n"
                        << "printf '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-%s\""
                        << (expiry.empty() ? "" : ",\"expirationTimestamp\":\"" + expiry + "\"")
                        << "}}' \"$n\"\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return script;
}

int runs(const std::string& dir) {
  std::ifstream in(dir + "/runs.log");
  int n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

TEST(Client, ExecCredentialIsCachedUntilExpiry) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) { return json_response(200, Json::object()); };
  std::string dir =
      (std::filesystem::temp_directory_path() / ("kube-exec-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  Config cfg;
  cfg.exec = ExecCredentialConfig{write_plugin(dir, "2099-01-01T00:00:00Z"), {}, {}, ""};
  auto client = client_for(rec.server, cfg);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->get(kWidgets, "a", "b").ok());
  EXPECT_EQ(runs(dir), 1);
  EXPECT_EQ(rec.last().headers["authorization"], "Bearer exec-1");

  // An already expired credential is fetched again for every request.
  std::filesystem::remove_all(dir);
  cfg.exec = ExecCredentialConfig{write_plugin(dir, "2000-01-01T00:00:00Z"), {}, {}, ""};
  auto expiring = client_for(rec.server, cfg);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(expiring->get(kWidgets, "a", "b").ok());
  EXPECT_EQ(runs(dir), 3);
  EXPECT_EQ(rec.last().headers["authorization"], "Bearer exec-3");
  std::filesystem::remove_all(dir);
}

TEST(Client, ExecCredentialIsRefreshedAfterUnauthorized) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    if (r.headers.at("authorization") == "Bearer exec-1")
      return json_response(401, status_json(401, "Unauthorized", "Unauthorized"));
    return json_response(200, Json::object());
  };
  std::string dir =
      (std::filesystem::temp_directory_path() / ("kube-exec401-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  Config cfg;
  cfg.exec = ExecCredentialConfig{write_plugin(dir, ""), {}, {}, ""};
  auto client = client_for(rec.server, cfg);
  ASSERT_TRUE(client->get(kWidgets, "a", "b").ok());
  EXPECT_EQ(runs(dir), 2);
  EXPECT_EQ(rec.count(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(Client, TooManyRequestsIsRetriedAfterRetryAfter) {
  Recorder rec;
  std::atomic<int> calls{0};
  rec.respond = [&](const ServerRequest&) {
    if (calls++ == 0) {
      ServerResponse r = json_response(429, status_json(429, "TooManyRequests", "slow down"));
      r.headers.emplace_back("Retry-After", "0");
      return r;
    }
    return json_response(200, {{"ok", true}});
  };
  auto client = client_for(rec.server);
  auto g = client->get(kWidgets, "a", "b");
  ASSERT_TRUE(g.ok()) << g.error().describe();
  EXPECT_EQ(rec.count(), 2u);
}

TEST(Client, ServerVersionAndRawGet) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    if (r.target == "/version") return json_response(200, {{"gitVersion", "v1.34.1"}});
    ServerResponse resp;
    resp.body = "log line 1\nlog line 2\n";
    return resp;
  };
  auto client = client_for(rec.server);
  auto v = client->server_version();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["gitVersion"], "v1.34.1");
  auto raw = client->get_raw("/api/v1/namespaces/a/pods/p/log?container=c");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, "log line 1\nlog line 2\n");
  EXPECT_EQ(rec.last().target, "/api/v1/namespaces/a/pods/p/log?container=c");
}

TEST(Client, CountsRequestsInRestClientMetric) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    return r.target.find("missing") != std::string::npos
               ? json_response(404, status_json(404, "NotFound", "nope"))
               : json_response(200, Json::object());
  };
  auto client = client_for(rec.server);
  auto& family = metrics::Registry::global().counter("rest_client_requests_total", "",
                                                     {"code", "method", "host"});
  const std::string host = "127.0.0.1:" + std::to_string(rec.server.port());
  auto& ok = family.with({"200", "GET", host});
  auto& missing = family.with({"404", "GET", host});
  const double ok_before = ok.value(), missing_before = missing.value();
  ASSERT_TRUE(client->get(kWidgets, "a", "b").ok());
  ASSERT_TRUE(client->get(kWidgets, "a", "c").ok());
  ASSERT_FALSE(client->get(kWidgets, "a", "missing").ok());
  EXPECT_EQ(ok.value() - ok_before, 2);
  EXPECT_EQ(missing.value() - missing_before, 1);
}

TEST(Client, UnreachableServerIsOneClearLine) {
  // A port that was just free: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  Config cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  cfg.bearer_token = "never-shown";
  auto client = Client::create(cfg);
  ASSERT_TRUE(client.ok());
  auto g = (*client)->get(kWidgets, "a", "b");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().code, ErrorCode::kNetwork);
  const std::string line = g.error().describe();
  EXPECT_EQ(line.rfind("cannot reach " + cfg.server + ": connection refused", 0), 0u) << line;
  EXPECT_EQ(line.find("never-shown"), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Client, RejectsANonHttpServer) {
  Config cfg;
  cfg.server = "127.0.0.1:6443";
  auto c = Client::create(cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kConfig);
}

std::string watch_line(const std::string& type, const std::string& name, const std::string& rv) {
  Json j = {
      {"type", type},
      {"object", {{"kind", "Widget"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}};
  return j.dump() + "\n";
}

TEST(ClientWatch, StreamsEventsWithTheWatchQuery) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) {
    ServerResponse r;
    r.body = watch_line("ADDED", "a", "11") + watch_line("MODIFIED", "a", "12") +
             watch_line("BOOKMARK", "", "13");
    return r;
  };
  auto client = client_for(rec.server);
  ListOptions opts;
  opts.resource_version = "10";
  opts.timeout_seconds = 60;
  opts.field_selector = "metadata.name=a";
  std::vector<WatchEvent> events;
  auto w = client->watch(kWidgets, "ns1", opts, [&](WatchEvent&& e) {
    events.push_back(std::move(e));
    return true;
  });
  ASSERT_TRUE(w.ok()) << w.error().describe();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(events[2].type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(rec.last().target,
            "/apis/test.aim.dev/v1/namespaces/ns1/widgets?watch=1&fieldSelector=metadata.name%3Da"
            "&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=60");
}

TEST(ClientWatch, GoneInStreamOrAsStatusIsKGone) {
  Recorder rec;
  rec.respond = [](const ServerRequest& r) {
    if (r.target.find("resourceVersion=1&") != std::string::npos)
      return json_response(410, status_json(410, "Gone", "too old"));
    ServerResponse resp;
    resp.body =
        watch_line("ADDED", "a", "11") +
        Json({{"type", "ERROR"}, {"object", status_json(410, "Expired", "too old")}}).dump() +
        "\n" + watch_line("ADDED", "never-delivered", "12");
    return resp;
  };
  auto client = client_for(rec.server);
  int delivered = 0;
  auto count = [&](WatchEvent&&) {
    ++delivered;
    return true;
  };
  ListOptions opts;
  opts.resource_version = "5";
  auto w = client->watch(kWidgets, "ns1", opts, count);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.error().is(ErrorCode::kGone));
  EXPECT_EQ(delivered, 1);
  opts.resource_version = "1";
  auto w2 = client->watch(kWidgets, "ns1", opts, count);
  ASSERT_FALSE(w2.ok());
  EXPECT_TRUE(w2.error().is(ErrorCode::kGone));
}

TEST(ClientWatch, ConnectionCutMidEventIsANetworkError) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) {
    ServerResponse r;
    r.body = watch_line("ADDED", "a", "11") + watch_line("ADDED", "b", "12");
    r.truncate_body_at = static_cast<long>(watch_line("ADDED", "a", "11").size()) + 10;
    return r;
  };
  auto client = client_for(rec.server);
  int delivered = 0;
  auto w = client->watch(kWidgets, "ns1", {}, [&](WatchEvent&&) {
    ++delivered;
    return true;
  });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kNetwork);
  EXPECT_EQ(delivered, 1);
}

TEST(ClientWatch, HandlerCanStopAndCancelFlagStops) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) {
    ServerResponse r;
    for (int i = 0; i < 100; ++i)
      r.body += watch_line("ADDED", "w" + std::to_string(i), std::to_string(i));
    return r;
  };
  auto client = client_for(rec.server);
  int delivered = 0;
  auto w = client->watch(kWidgets, "ns1", {}, [&](WatchEvent&&) { return ++delivered < 3; });
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(delivered, 3);

  std::atomic<bool> cancel{true};
  auto c = client->watch(
      kWidgets, "ns1", {}, [&](WatchEvent&&) { return true; }, &cancel);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kCancelled);
}

TEST(ClientWatch, AStalledWatchIsDetected) {
  Recorder rec;
  rec.respond = [](const ServerRequest&) {
    // Nothing at all for longer than the stall timeout: a hung watch.
    std::this_thread::sleep_for(std::chrono::seconds(4));
    return ServerResponse{};
  };
  Config cfg;
  cfg.watch_stall_timeout = std::chrono::seconds(1);
  auto client = client_for(rec.server, cfg);
  auto w = client->watch(kWidgets, "ns1", {}, [&](WatchEvent&&) { return true; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kTimeout);
}

}  // namespace
}  // namespace aim::kube
