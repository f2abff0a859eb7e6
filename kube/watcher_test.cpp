#include "kube/watcher.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "test/support/loopback_server.h"

namespace aim::kube {
namespace {

using aim::testing::LoopbackServer;
using aim::testing::ServerRequest;
using aim::testing::ServerResponse;

const ResourceType kWidgets{"test.aim.dev", "v1", "widgets", "Widget", true};

Json widget(const std::string& name, const std::string& rv) {
  return {{"apiVersion", "test.aim.dev/v1"},
          {"kind", "Widget"},
          {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}};
}

std::string line(const std::string& type, const Json& object) {
  return Json({{"type", type}, {"object", object}}).dump() + "\n";
}

std::string bookmark(const std::string& rv) {
  return line("BOOKMARK", {{"kind", "Widget"}, {"metadata", {{"resourceVersion", rv}}}});
}

ServerResponse list_of(const std::vector<Json>& items, const std::string& rv) {
  ServerResponse r;
  r.body = Json({{"kind", "WidgetList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", items}})
               .dump();
  return r;
}

ServerResponse stream(const std::string& body) {
  ServerResponse r;
  r.body = body;
  return r;
}

// A scripted API server: each list and each watch request takes the next scripted response;
// when the script runs out, watches get an empty stream (the server's timeout).
struct ScriptedServer {
  std::mutex mu;
  std::deque<ServerResponse> lists, watches;
  std::vector<std::string> list_targets, watch_targets;
  LoopbackServer server{[this](const ServerRequest& r) {
    std::unique_lock lock(mu);
    bool is_watch = r.target.find("watch=1") != std::string::npos;
    auto& queue = is_watch ? watches : lists;
    (is_watch ? watch_targets : list_targets).push_back(r.target);
    if (queue.empty()) {
      lock.unlock();
      // Pace the idle loop a little; a real server would hold the watch open.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return is_watch ? stream("") : list_of({}, "1");
    }
    ServerResponse resp = queue.front();
    queue.pop_front();
    return resp;
  }};
};

// Collects what a consumer sees and stops the watcher once a condition holds.
struct Consumer {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<std::string>> replaces;  // names per replace
  std::vector<std::string> events;                 // "ADDED a"
  std::atomic<bool> stop{false};

  WatchHandler handler() {
    WatchHandler h;
    h.on_replace = [this](std::vector<Json> items, const std::string&) {
      std::lock_guard lock(mu);
      std::vector<std::string> names;
      for (const auto& i : items) names.push_back(i["metadata"]["name"]);
      replaces.push_back(names);
      cv.notify_all();
    };
    h.on_event = [this](const WatchEvent& e) {
      std::lock_guard lock(mu);
      const char* t = e.type == WatchEvent::Type::kAdded      ? "ADDED"
                      : e.type == WatchEvent::Type::kModified ? "MODIFIED"
                      : e.type == WatchEvent::Type::kDeleted  ? "DELETED"
                                                              : "OTHER";
      events.push_back(std::string(t) + " " + e.object["metadata"].value("name", ""));
      cv.notify_all();
    };
    return h;
  }

  // Runs the watcher until `done` holds (or 20 s pass, which fails the test).
  void run_until(Watcher& w, const std::function<bool()>& done) {
    std::thread t([&] { w.run(stop, handler()); });
    {
      std::unique_lock lock(mu);
      bool ok = cv.wait_for(lock, std::chrono::seconds(20), done);
      EXPECT_TRUE(ok) << "watcher did not reach the expected state";
    }
    stop = true;
    t.join();
  }
};

std::shared_ptr<Client> client_for(const LoopbackServer& server) {
  Config cfg;
  cfg.server = server.url();
  cfg.qps = 0;
  return *Client::create(cfg);
}

TEST(Watcher, ListsThenWatchesFromTheListResourceVersion) {
  ScriptedServer s;
  s.lists.push_back(list_of({widget("a", "5")}, "10"));
  s.watches.push_back(
      stream(line("ADDED", widget("b", "11")) + line("MODIFIED", widget("a", "12"))));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return c.events.size() >= 2; });
  ASSERT_EQ(c.replaces.size(), 1u);
  EXPECT_EQ(c.replaces[0], std::vector<std::string>{"a"});
  EXPECT_EQ(c.events, (std::vector<std::string>{"ADDED b", "MODIFIED a"}));
  std::lock_guard lock(s.mu);
  EXPECT_NE(s.watch_targets[0].find("resourceVersion=10&allowWatchBookmarks=true"),
            std::string::npos)
      << s.watch_targets[0];
  // The list itself is a consistent read (no resourceVersion).
  EXPECT_EQ(s.list_targets[0].find("resourceVersion"), std::string::npos);
}

TEST(Watcher, ResumesFromTheLastEventAfterADroppedConnection) {
  ScriptedServer s;
  s.lists.push_back(list_of({}, "10"));
  ServerResponse cut = stream(line("ADDED", widget("a", "11")) + line("ADDED", widget("b", "12")));
  cut.truncate_body_at = static_cast<long>(line("ADDED", widget("a", "11")).size()) + 15;
  s.watches.push_back(cut);
  s.watches.push_back(stream(line("ADDED", widget("b", "12")) + line("ADDED", widget("c", "13"))));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return c.events.size() >= 3; });
  EXPECT_EQ(c.events, (std::vector<std::string>{"ADDED a", "ADDED b", "ADDED c"}));
  EXPECT_EQ(c.replaces.size(), 1u);  // no relist for a dropped connection
  std::lock_guard lock(s.mu);
  ASSERT_GE(s.watch_targets.size(), 2u);
  EXPECT_NE(s.watch_targets[1].find("resourceVersion=11&"), std::string::npos)
      << s.watch_targets[1];
}

TEST(Watcher, BookmarksMoveTheResumePointButAreNotDelivered) {
  ScriptedServer s;
  s.lists.push_back(list_of({}, "10"));
  s.watches.push_back(stream(bookmark("40")));
  s.watches.push_back(stream(line("ADDED", widget("a", "41"))));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return !c.events.empty(); });
  EXPECT_EQ(c.events, std::vector<std::string>{"ADDED a"});
  std::lock_guard lock(s.mu);
  ASSERT_GE(s.watch_targets.size(), 2u);
  EXPECT_NE(s.watch_targets[1].find("resourceVersion=40&"), std::string::npos);
}

TEST(Watcher, RelistsOnGoneAndReplacesTheState) {
  ScriptedServer s;
  s.lists.push_back(list_of({widget("a", "5")}, "10"));
  Json expired = {{"kind", "Status"},
                  {"apiVersion", "v1"},
                  {"status", "Failure"},
                  {"reason", "Expired"},
                  {"message", "too old resource version: 10 (50)"},
                  {"code", 410}};
  s.watches.push_back(stream(line("ADDED", widget("b", "11")) + line("ERROR", expired)));
  // Meanwhile b was deleted and c, d created: the relist shows the new state.
  s.lists.push_back(list_of({widget("a", "5"), widget("c", "48"), widget("d", "49")}, "50"));
  s.watches.push_back(stream(line("ADDED", widget("e", "51"))));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return c.events.size() >= 2; });
  ASSERT_EQ(c.replaces.size(), 2u);
  EXPECT_EQ(c.replaces[1], (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(c.events, (std::vector<std::string>{"ADDED b", "ADDED e"}));
  std::lock_guard lock(s.mu);
  EXPECT_NE(s.watch_targets[1].find("resourceVersion=50&"), std::string::npos);
}

TEST(Watcher, RelistsWhenTheWatchRequestItselfIsGone) {
  ScriptedServer s;
  s.lists.push_back(list_of({}, "10"));
  ServerResponse gone;
  gone.status = 410;
  gone.body = R"({"kind":"Status","code":410,"reason":"Gone","message":"too old"})";
  s.watches.push_back(gone);
  s.lists.push_back(list_of({widget("z", "60")}, "60"));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return c.replaces.size() >= 2; });
  EXPECT_EQ(c.replaces[1], std::vector<std::string>{"z"});
}

TEST(Watcher, RetriesAFailedListWithBackoff) {
  ScriptedServer s;
  ServerResponse broken;
  broken.status = 500;
  broken.body = R"({"kind":"Status","code":500,"reason":"InternalError","message":"etcd down"})";
  s.lists.push_back(broken);
  s.lists.push_back(broken);
  s.lists.push_back(list_of({widget("a", "5")}, "10"));
  Watcher w(client_for(s.server), kWidgets, "ns");
  w.set_backoff(std::chrono::milliseconds(5), std::chrono::milliseconds(20));
  Consumer c;
  c.run_until(w, [&] { return !c.replaces.empty(); });
  EXPECT_EQ(c.replaces[0], std::vector<std::string>{"a"});
  std::lock_guard lock(s.mu);
  EXPECT_EQ(s.list_targets.size(), 3u);
}

}  // namespace
}  // namespace aim::kube
