// FakeClient: an in-memory kube::Client for unit tests of informers, controllers, leader
// election and events. It behaves like a small API server:
//  * objects per resource type with uid, resourceVersion (one global counter, like etcd),
//    generation (bumped when spec changes), creationTimestamp, generateName;
//  * update/patch conflicts on a stale metadata.resourceVersion; delete preconditions;
//    finalizers (delete sets deletionTimestamp; the object goes when the last finalizer does);
//  * list with label selectors (a=b, a!=b, a, !a, a in (x,y), a notin (x,y)) and
//    metadata.name/namespace field selectors; watch from a resourceVersion, 410 Gone after
//    compact(), dropped streams after drop_watches() (a Watcher then resumes);
//  * scripted changes: inject() applies an ADDED/MODIFIED/DELETED event as if another client
//    had made it; fail_next() makes the next calls of a verb fail with a given Error;
//  * every call is recorded (actions()) for assertions.
// The status subresource is emulated: update() keeps the stored status, update_status() and
// patches with subresource "status" change only status. apply() is a create-or-merge, not real
// server-side apply field ownership.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kube/client.h"

namespace aim::kube::testing {

// An Error as the API server would report it (HTTP status and reason filled in).
Error api_error(ErrorCode code, std::string message = {});

class FakeClient final : public Client {
 public:
  FakeClient();

  // --- kube::Client ---
  Result<Json> get(const ResourceType& type, std::string_view ns, std::string_view name) override;
  Result<ListResult> list(const ResourceType& type, std::string_view ns,
                          const ListOptions& options = {}) override;
  Result<Json> create(const ResourceType& type, const Json& object) override;
  Result<Json> update(const ResourceType& type, const Json& object) override;
  Result<Json> update_status(const ResourceType& type, const Json& object) override;
  Result<Json> merge_patch(const ResourceType& type, std::string_view ns, std::string_view name,
                           const Json& patch, std::string_view subresource = {}) override;
  Result<Json> apply(const ResourceType& type, const Json& object, const ApplyOptions& options,
                     std::string_view subresource = {}) override;
  Result<void> remove(const ResourceType& type, std::string_view ns, std::string_view name,
                      const DeleteOptions& options = {}) override;
  Result<void> watch(const ResourceType& type, std::string_view ns, const ListOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event,
                     const std::atomic<bool>* cancel = nullptr) override;
  Result<std::string> get_raw(std::string_view path_and_query) override;
  Result<Json> server_version() override;
  const Config& config() const override { return config_; }

  // --- test controls ---
  // Applies a change as another client would (no error injection, not recorded): kAdded and
  // kModified store the object (assigning uid/resourceVersion as needed), kDeleted removes it.
  // Returns the stored object.
  Json inject(const ResourceType& type, WatchEvent::Type event, Json object);
  // The next `count` calls of `verb` on `resource` (plural; "" = any) fail with `error`.
  // Verbs: get list create update update_status patch apply delete watch get_raw version.
  void fail_next(const std::string& verb, const std::string& resource, Error error, int count = 1);
  // Ends every open watch stream (a dropped connection).
  void drop_watches();
  // Forgets the event history: a watch from an older resourceVersion fails with 410 Gone.
  void compact();
  void set_raw(const std::string& path, std::string body);

  struct Action {
    std::string verb;
    std::string resource;
    std::string ns;
    std::string name;
    Json body;
  };
  std::vector<Action> actions() const;
  std::vector<Action> actions(const std::string& verb, const std::string& resource = {}) const;
  void clear_actions();
  // Objects currently stored (all namespaces when ns is empty), sorted by key.
  std::vector<Json> objects(const ResourceType& type, std::string_view ns = {}) const;
  int open_watches(const std::string& resource = {}) const;
  // Waits until at least n watches on `resource` are open; false on timeout.
  bool wait_for_watches(const std::string& resource, int n,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  int64_t resource_version() const;

 private:
  struct HistoryEntry {
    int64_t rv;
    WatchEvent::Type type;
    Json object;
    Json old_object;  // for label-selector transitions
  };
  struct TypeState {
    ResourceType type;
    std::map<std::string, Json> objects;  // key -> object
    std::vector<HistoryEntry> history;
    int64_t compacted_rv = 0;  // watches from an rv below this get 410
  };
  struct Injected {
    std::string verb;
    std::string resource;
    Error error;
    int remaining;
  };

  std::optional<Error> take_failure_locked(const std::string& verb, const std::string& resource);
  void record_locked(std::string verb, const ResourceType& type, std::string_view ns,
                     std::string_view name, const Json& body = {});
  TypeState& state_locked(const ResourceType& type);
  Json stamp_locked(const ResourceType& type, Json object);
  void emit_locked(TypeState& st, WatchEvent::Type type, const Json& object, const Json& old);
  Result<Json> create_locked(const ResourceType& type, Json object);
  Result<Json> store_update_locked(const ResourceType& type, TypeState& st, const std::string& key,
                                   Json next);
  Result<Json> update_impl(const ResourceType& type, const Json& object, bool status,
                           const char* verb);

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Config config_;
  std::map<std::string, TypeState> types_;  // "group/resource" -> state
  std::vector<Injected> failures_;
  std::vector<Action> actions_;
  std::map<std::string, std::string> raw_;
  std::map<std::string, int> open_watches_;
  int64_t rv_ = 1000;
  int64_t uid_counter_ = 0;
  uint64_t watch_epoch_ = 0;
};

}  // namespace aim::kube::testing
