// Watches that must not miss a change while the control plane misbehaves: a kube-apiserver
// restart and an etcd compaction (410 Gone, relist). These restart the shared API server, so
// CMake marks them RUN_SERIAL. Needs KUBECONFIG and tools/cluster/cluster.sh; skipped without.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "kube/client.h"
#include "kube/watcher.h"
#include "test/integration/kube/fixture.h"

namespace aim::kube::integration {
namespace {

// What a consumer of the Watcher knows: the set of widgets that exist.
struct Mirror {
  std::mutex mu;
  std::set<std::string> names;
  int replaces = 0;
  WatchHandler handler() {
    WatchHandler h;
    h.on_replace = [this](std::vector<Json> items, const std::string&) {
      std::lock_guard lock(mu);
      ++replaces;
      names.clear();
      for (const auto& i : items) names.insert(i["metadata"]["name"].get<std::string>());
    };
    h.on_event = [this](const WatchEvent& e) {
      std::lock_guard lock(mu);
      std::string n = e.object["metadata"]["name"];
      if (e.type == WatchEvent::Type::kDeleted)
        names.erase(n);
      else
        names.insert(n);
    };
    return h;
  }
  bool has_all(const std::set<std::string>& want) {
    std::lock_guard lock(mu);
    for (const auto& n : want)
      if (!names.count(n)) return false;
    return true;
  }
};

// Creates a widget, retrying while the API server is unavailable (restarting).
bool create_with_retry(Client& client, const std::string& ns, const std::string& name) {
  return eventually(
      [&] {
        auto r = client.create(kWidgets, widget(ns, name, 1));
        return r.ok() || r.error().is(ErrorCode::kAlreadyExists);
      },
      120s);
}

class RunningWatcher {
 public:
  RunningWatcher(std::shared_ptr<Client> client, const std::string& ns, Mirror& mirror)
      : watcher_(std::move(client), kWidgets, ns) {
    watcher_.set_backoff(100ms, 2s);
    thread_ = std::thread([this, &mirror] { watcher_.run(stop_, mirror.handler()); });
  }
  ~RunningWatcher() {
    stop_ = true;
    thread_.join();
  }

 private:
  Watcher watcher_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

constexpr int kObjects = 10;

TEST_F(KubeIntegration, WatchSurvivesApiServerRestart) {
  Mirror mirror;
  RunningWatcher running(client_, ns_, mirror);
  std::set<std::string> want;
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "before-" + std::to_string(i);
    ASSERT_TRUE(create_with_retry(*client_, ns_, name));
    want.insert(name);
  }
  ASSERT_TRUE(eventually([&] { return mirror.has_all(want); }, 30s));

  // Restart in the background while objects keep being created.
  std::atomic<bool> restarted{false};
  std::thread restart([&] { restarted = cluster("restart-apiserver"); });
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "during-" + std::to_string(i);
    ASSERT_TRUE(create_with_retry(*client_, ns_, name)) << name;
    want.insert(name);
    std::this_thread::sleep_for(300ms);
  }
  restart.join();
  ASSERT_TRUE(restarted.load()) << "tools/cluster/cluster.sh restart-apiserver failed";
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "after-" + std::to_string(i);
    ASSERT_TRUE(create_with_retry(*client_, ns_, name));
    want.insert(name);
  }
  EXPECT_TRUE(eventually([&] { return mirror.has_all(want); }, 90s))
      << "the watcher missed objects across the restart";
  std::lock_guard lock(mirror.mu);
  std::cout << "watcher saw " << mirror.names.size() << " widgets; " << mirror.replaces
            << " list(s)" << std::endl;
}

TEST_F(KubeIntegration, WatchSurvivesEtcdCompaction) {
  Mirror mirror;
  RunningWatcher running(client_, ns_, mirror);
  std::set<std::string> want;
  std::string old_rv;
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "before-" + std::to_string(i);
    auto r = client_->create(kWidgets, widget(ns_, name, 1));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    if (old_rv.empty()) old_rv = (*r)["metadata"]["resourceVersion"];
    want.insert(name);
  }
  ASSERT_TRUE(eventually([&] { return mirror.has_all(want); }, 30s));

  // Compact everything so far, then restart the API server so that its watch cache starts
  // after the compaction: every watch that resumes from an older resourceVersion gets 410.
  ASSERT_TRUE(cluster("compact-etcd")) << "tools/cluster/cluster.sh compact-etcd failed";
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "compacted-" + std::to_string(i);
    ASSERT_TRUE(create_with_retry(*client_, ns_, name));
    want.insert(name);
  }
  ASSERT_TRUE(cluster("restart-apiserver")) << "tools/cluster/cluster.sh restart-apiserver failed";
  for (int i = 0; i < kObjects; ++i) {
    std::string name = "after-" + std::to_string(i);
    ASSERT_TRUE(create_with_retry(*client_, ns_, name));
    want.insert(name);
  }

  // A plain watch from before the compaction is Gone ...
  ListOptions from_old;
  from_old.resource_version = old_rv;
  from_old.timeout_seconds = 5;
  auto stale = client_->watch(kWidgets, ns_, from_old, [](WatchEvent&&) { return true; });
  ASSERT_FALSE(stale.ok()) << "a watch from compacted resourceVersion " << old_rv << " succeeded";
  EXPECT_TRUE(stale.error().is(ErrorCode::kGone)) << stale.error().describe();

  // ... and the Watcher, which relists on Gone, still knows every object.
  EXPECT_TRUE(eventually([&] { return mirror.has_all(want); }, 90s))
      << "the watcher missed objects across the compaction";
  std::lock_guard lock(mirror.mu);
  std::cout << "watcher saw " << mirror.names.size() << " widgets; " << mirror.replaces
            << " list(s)" << std::endl;
}

}  // namespace
}  // namespace aim::kube::integration
