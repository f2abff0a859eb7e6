// Watcher: the resilient list-then-watch loop behind every informer. It lists, then watches
// from the list's resourceVersion, resumes from the last seen resourceVersion (bookmarks
// included) after a dropped connection, relists on 410 Gone, and reconnects with backoff, so
// that no change is ever missed: after a relist the consumer receives the full state again.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kube/client.h"

namespace aim::kube {

struct WatchHandler {
  // The complete current state: after the initial list and after every relist. The consumer
  // replaces its contents with `items` (deleting objects that are gone).
  std::function<void(std::vector<Json> items, const std::string& resource_version)> on_replace;
  // Incremental changes between replaces (Added, Modified, Deleted; never Bookmark or Error).
  std::function<void(const WatchEvent& event)> on_event;
};

class Watcher {
 public:
  Watcher(std::shared_ptr<Client> client, ResourceType type, std::string ns = {},
          ListOptions selectors = {});
  // Blocks until stop is true (checked at least once a second). Never throws.
  void run(const std::atomic<bool>& stop, const WatchHandler& handler);

  // Reconnect backoff after a failure: doubles from `initial` up to `max`, with jitter, and
  // resets after a watch that delivered events. Defaults: 200 ms to 30 s.
  void set_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

 private:
  std::shared_ptr<Client> client_;
  ResourceType type_;
  std::string ns_;
  ListOptions selectors_;
  std::chrono::milliseconds backoff_initial_{200};
  std::chrono::milliseconds backoff_max_{30000};
};

}  // namespace aim::kube
