// Informer: keeps a Store of one resource type in step with the API server (a Watcher running
// on its own thread) and tells handlers about each change. Objects are stored as
// strip_for_cache leaves them. InformerFactory shares informers
// per (type, namespace, selector), so two controllers that watch Pods share one watch and one
// cache.
//
// Handlers run on the informer's thread, in event order, one at a time; they should only do
// cheap work (typically: map the object to keys and add them to a work queue). A handler
// added after the informer has started first receives on_add for every cached object, so a
// late subscriber never misses state.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/store.h"

namespace aim::kube {

// What an object loses before it enters an informer's store: fields no controller reads that
// are large. metadata.managedFields is typically a third to a half of a small object's JSON and
// is read by nobody here; an update sent from a cached copy (no managedFields) keeps the server's,
// as the API server does for every client that leaves them out. (client-go's TransformFunc.)
void strip_for_cache(Json& object);

// Trims an object further before it enters a store (after strip_for_cache): keeps only what the
// controllers read, so a big kind (Nodes) costs little memory.
using Transform = std::function<void(Json& object)>;

// How every informer of one kind is made, whoever asks for it (controller-runtime's cache
// ByObject): `label_selector` and `field_selector` are ANDed with the caller's selectors, so only
// objects the operator needs are listed, watched and cached (for children: the ones it labelled
// as its own; for Events: the ones about the kind it reads them for), and `transform` trims each
// object before it is stored. `packed` stores the kind's objects packed (Store::Representation):
// for kinds with an object per workload (services, their InferenceServices, Events), read by key.
struct CacheRule {
  std::string label_selector;
  std::string field_selector;
  Transform transform;
  bool packed = false;
};

struct EventHandler {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  // The last known state of the deleted object.
  std::function<void(const ObjectPtr& object)> on_delete;
};

class Informer {
 public:
  Informer(std::shared_ptr<Client> client, ResourceType type, std::string ns = {},
           ListOptions selectors = {}, Transform transform = {},
           Store::Representation representation = Store::Representation::kTree);
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  const ResourceType& type() const { return type_; }
  Store& store() { return store_; }
  const Store& store() const { return store_; }

  void add_handler(EventHandler handler);
  // Starts the watch thread (idempotent).
  void start();
  // Stops the watch thread and waits for it (idempotent).
  void stop();
  bool has_synced() const { return store_.synced(); }
  bool wait_for_sync(std::chrono::milliseconds timeout,
                     const std::atomic<bool>* stop = nullptr) const {
    return store_.wait_synced(timeout, stop);
  }

 private:
  void prepare(Json& object) const;
  void on_replace(std::vector<Json> items);
  void on_event(const WatchEvent& event);

  std::shared_ptr<Client> client_;
  ResourceType type_;
  std::string ns_;
  ListOptions selectors_;
  Transform transform_;
  Store store_;

  std::mutex handlers_mu_;  // held while dispatching, so handlers see events in order
  std::vector<EventHandler> handlers_;

  std::mutex run_mu_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  std::thread thread_;
};

class InformerFactory {
 public:
  explicit InformerFactory(std::shared_ptr<Client> client) : client_(std::move(client)) {}
  ~InformerFactory();  // stops all

  // The shared informer for a type (all namespaces when ns is empty), with the type's CacheRule
  // applied. Informers created after start() are started at once.
  std::shared_ptr<Informer> informer(const ResourceType& type, const std::string& ns = {},
                                     const ListOptions& selectors = {});
  // Sets the rule of a kind. Throws std::logic_error when an informer of that kind exists already
  // (it would hold objects the rule excludes).
  void set_rule(const ResourceType& type, CacheRule rule);
  bool has_rule(const ResourceType& type) const;
  // The selectors an informer of `type` asked for with `selectors` really uses.
  ListOptions effective_selectors(const ResourceType& type, const ListOptions& selectors) const;
  void start();
  void stop();
  // True once every informer created so far has synced.
  bool wait_for_sync(std::chrono::milliseconds timeout, const std::atomic<bool>* stop = nullptr);
  bool synced() const;
  const std::shared_ptr<Client>& client() const { return client_; }

 private:
  std::shared_ptr<Client> client_;
  mutable std::mutex mu_;
  bool started_ = false;
  std::map<std::string, std::shared_ptr<Informer>> informers_;
  std::map<std::string, CacheRule> rules_;  // by group/version/resource
};

}  // namespace aim::kube
