// Store: the informer's thread-safe cache of one resource type, keyed by "namespace/name" (or
// "name" for cluster-scoped objects), with secondary indexes. Readers get immutable shared
// objects, so a read never copies a whole object and never sees a half-applied update.
//
// Built-in indexes: "namespace" (metadata.namespace), "owner-uid" (every ownerReferences[].uid)
// and "label" (one "key=value" entry per label). add_index registers a custom index function;
// it may be added at any time (existing objects are indexed at once).
//
// How objects are held (issue 25): as JSON trees (kTree, the default: a read costs nothing), or
// packed (kPacked: each object as its CBOR encoding, about a fifth of the tree's heap, for kinds
// with an object per service). A packed object is decoded when read; the tree a reader still holds
// is handed to the next reader of the same version, so memory is the packed bytes plus the trees
// in use, and a reconcile that reads one object twice decodes it once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aim::kube {

using Json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const Json>;

// "ns/name" for namespaced objects, "name" for cluster-scoped ones.
std::string object_key(const Json& object);
std::string object_key(std::string_view ns, std::string_view name);
// Splits a key into namespace and name (namespace empty for cluster-scoped keys).
std::pair<std::string, std::string> split_key(std::string_view key);

// Returns true when every (key, value) pair is among the object's labels.
bool labels_match(const Json& object, const std::map<std::string, std::string>& selector);

namespace index_names {
inline constexpr const char* kNamespace = "namespace";
inline constexpr const char* kOwnerUid = "owner-uid";
inline constexpr const char* kLabel = "label";
}  // namespace index_names

class Store {
 public:
  using IndexFunc = std::function<std::vector<std::string>(const Json&)>;
  enum class Representation { kTree, kPacked };

  explicit Store(Representation representation = Representation::kTree);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Adds (or replaces) a named index. Values are computed for existing objects immediately.
  void add_index(const std::string& name, IndexFunc fn);

  // --- reads ---
  ObjectPtr get(std::string_view key) const;
  ObjectPtr get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> list(std::string_view ns) const;
  // Objects whose index `index` produced `value`, sorted by key. Empty for an unknown index.
  std::vector<ObjectPtr> by_index(std::string_view index, std::string_view value) const;
  std::vector<std::string> keys_by_index(std::string_view index, std::string_view value) const;
  // Objects (optionally in one namespace) carrying all the given labels.
  std::vector<ObjectPtr> by_labels(const std::map<std::string, std::string>& selector,
                                   std::string_view ns = {}) const;
  std::vector<std::string> keys() const;
  std::size_t size() const;
  // Heap bytes the stored objects take in their stored form: the packed encodings (kPacked), or
  // 0 for kTree, whose trees are not measured here.
  std::size_t packed_bytes() const;

  // --- writes (used by the informer; tests may use them directly) ---
  // Inserts or replaces; returns the previous object (nullptr if new). `stored`, when given,
  // receives the object as readers now get it.
  ObjectPtr upsert(Json object, ObjectPtr* stored = nullptr);
  // Removes by key; returns the removed object (nullptr if absent).
  ObjectPtr remove(std::string_view key);
  // Replaces the whole content. Returns the previous objects that are no longer present.
  struct ReplaceDiff {
    std::vector<ObjectPtr> added;
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;  // (old, new), resourceVersion changed
    std::vector<ObjectPtr> deleted;
  };
  ReplaceDiff replace(std::vector<Json> objects);

  // --- sync signal ---
  void mark_synced();
  bool synced() const { return synced_.load(); }
  // Waits until synced, the timeout passes, or *stop becomes true. Returns synced().
  bool wait_synced(std::chrono::milliseconds timeout,
                   const std::atomic<bool>* stop = nullptr) const;

 private:
  // One stored object: the tree (kTree), or its CBOR and the decoded tree a reader may still hold
  // (kPacked).
  struct Entry {
    ObjectPtr tree;
    std::string packed;
    mutable std::weak_ptr<const Json> live;
    std::string resource_version;
  };
  using Items = std::map<std::string, Entry, std::less<>>;  // sorted: deterministic listing
  using Item = Items::value_type;
  // An index's members point at their items (a map node stays where it is until erased), in key
  // order: the key is stored once, however many index values an object has.
  struct ByKey {
    bool operator()(const Item* a, const Item* b) const { return a->first < b->first; }
  };
  using Members = std::set<const Item*, ByKey>;
  using IndexValues = std::map<std::string, Members, std::less<>>;

  Entry make_entry(const ObjectPtr& object) const;
  ObjectPtr object_locked(const Entry& entry) const;
  void index_locked(const Item& item, const Json& object);
  void unindex_locked(const Item& item, const Json& object);
  std::vector<ObjectPtr> collect_locked(const Members& members) const;

  const Representation representation_;
  mutable std::mutex mu_;
  Items items_;
  std::map<std::string, IndexFunc, std::less<>> index_funcs_;
  std::map<std::string, IndexValues, std::less<>> indexes_;  // index -> value -> keys

  std::atomic<bool> synced_{false};
  mutable std::mutex sync_mu_;
  mutable std::condition_variable sync_cv_;
};

}  // namespace aim::kube
