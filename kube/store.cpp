#include "kube/store.h"

#include <algorithm>

#include "kube/object.h"

namespace aim::kube {
namespace {

std::vector<std::string> namespace_index(const Json& o) {
  return {namespace_of(o)};
}

std::vector<std::string> owner_uid_index(const Json& o) {
  std::vector<std::string> out;
  auto md = o.find("metadata");
  if (md == o.end() || !md->is_object()) return out;
  auto refs = md->find("ownerReferences");
  if (refs == md->end() || !refs->is_array()) return out;
  for (const auto& r : *refs) {
    if (r.is_object() && r.contains("uid") && r["uid"].is_string()) out.push_back(r["uid"]);
  }
  return out;
}

std::vector<std::string> label_index(const Json& o) {
  std::vector<std::string> out;
  auto md = o.find("metadata");
  if (md == o.end() || !md->is_object()) return out;
  auto labels = md->find("labels");
  if (labels == md->end() || !labels->is_object()) return out;
  for (const auto& [k, v] : labels->items()) {
    if (v.is_string()) out.push_back(k + "=" + v.get<std::string>());
  }
  return out;
}

std::string resource_version(const Json& o) {
  return std::string(resource_version_view(o));
}

}  // namespace

std::string object_key(const Json& object) {
  return object_key(namespace_of(object), name_of(object));
}

std::string object_key(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string k;
  k.reserve(ns.size() + name.size() + 1);
  k.append(ns).append("/").append(name);
  return k;
}

std::pair<std::string, std::string> split_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(), std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

bool labels_match(const Json& object, const std::map<std::string, std::string>& selector) {
  if (selector.empty()) return true;
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return false;
  auto labels = md->find("labels");
  if (labels == md->end() || !labels->is_object()) return false;
  for (const auto& [k, v] : selector) {
    auto it = labels->find(k);
    if (it == labels->end() || !it->is_string() || it->get_ref<const std::string&>() != v) {
      return false;
    }
  }
  return true;
}

Store::Store(Representation representation) : representation_(representation) {
  index_funcs_.emplace(index_names::kNamespace, namespace_index);
  index_funcs_.emplace(index_names::kOwnerUid, owner_uid_index);
  index_funcs_.emplace(index_names::kLabel, label_index);
}

void Store::add_index(const std::string& name, IndexFunc fn) {
  std::lock_guard lock(mu_);
  auto& values = indexes_[name];
  values.clear();
  for (const auto& item : items_) {
    for (auto& v : fn(*object_locked(item.second))) values[v].insert(&item);
  }
  index_funcs_[name] = std::move(fn);
}

void Store::index_locked(const Item& item, const Json& object) {
  for (const auto& [name, fn] : index_funcs_) {
    auto& values = indexes_[name];
    for (auto& v : fn(object)) values[v].insert(&item);
  }
}

void Store::unindex_locked(const Item& item, const Json& object) {
  for (const auto& [name, fn] : index_funcs_) {
    auto idx = indexes_.find(name);
    if (idx == indexes_.end()) continue;
    for (auto& v : fn(object)) {
      auto it = idx->second.find(v);
      if (it == idx->second.end()) continue;
      it->second.erase(&item);
      if (it->second.empty()) idx->second.erase(it);
    }
  }
}

Store::Entry Store::make_entry(const ObjectPtr& object) const {
  Entry e;
  e.resource_version = resource_version(*object);
  if (representation_ == Representation::kTree) {
    e.tree = object;
  } else {
    Json::to_cbor(*object, e.packed);
    e.packed.shrink_to_fit();
    e.live = object;
  }
  return e;
}

ObjectPtr Store::object_locked(const Entry& entry) const {
  if (entry.tree) return entry.tree;
  if (auto held = entry.live.lock()) return held;
  auto decoded = std::make_shared<const Json>(Json::from_cbor(entry.packed));
  entry.live = decoded;
  return decoded;
}

std::vector<ObjectPtr> Store::collect_locked(const Members& members) const {
  std::vector<ObjectPtr> out;
  out.reserve(members.size());
  for (const Item* item : members) out.push_back(object_locked(item->second));
  return out;
}

ObjectPtr Store::get(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : object_locked(it->second);
}

ObjectPtr Store::get(std::string_view ns, std::string_view name) const {
  return get(object_key(ns, name));
}

std::vector<ObjectPtr> Store::list() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(object_locked(v));
  return out;
}

std::vector<ObjectPtr> Store::list(std::string_view ns) const {
  return by_index(index_names::kNamespace, ns);
}

std::vector<ObjectPtr> Store::by_index(std::string_view index, std::string_view value) const {
  std::lock_guard lock(mu_);
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return {};
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return {};
  return collect_locked(it->second);
}

std::vector<std::string> Store::keys_by_index(std::string_view index,
                                              std::string_view value) const {
  std::lock_guard lock(mu_);
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return {};
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return {};
  std::vector<std::string> out;
  out.reserve(it->second.size());
  for (const Item* item : it->second) out.push_back(item->first);
  return out;
}

std::vector<ObjectPtr> Store::by_labels(const std::map<std::string, std::string>& selector,
                                        std::string_view ns) const {
  std::vector<ObjectPtr> candidates;
  if (selector.empty()) {
    candidates = ns.empty() ? list() : list(ns);
  } else {
    // Narrow with the label index on the first pair, then check the rest.
    const auto& [k, v] = *selector.begin();
    candidates = by_index(index_names::kLabel, k + "=" + v);
  }
  std::vector<ObjectPtr> out;
  for (auto& o : candidates) {
    if (!ns.empty() && namespace_of(*o) != ns) continue;
    if (labels_match(*o, selector)) out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> Store::keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  return out;
}

std::size_t Store::size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

std::size_t Store::packed_bytes() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [k, e] : items_) n += e.packed.capacity();
  return n;
}

ObjectPtr Store::upsert(Json object, ObjectPtr* stored) {
  auto key = object_key(object);
  auto ptr = std::make_shared<const Json>(std::move(object));
  Entry entry = make_entry(ptr);  // packing outside the lock
  std::lock_guard lock(mu_);
  ObjectPtr old;
  auto it = items_.find(key);
  if (it != items_.end()) {
    old = object_locked(it->second);
    unindex_locked(*it, *old);
    it->second = std::move(entry);
  } else {
    it = items_.emplace(key, std::move(entry)).first;
  }
  index_locked(*it, *ptr);
  if (stored != nullptr) *stored = ptr;
  return old;
}

ObjectPtr Store::remove(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = object_locked(it->second);
  unindex_locked(*it, *old);  // while the index members still point at the item
  items_.erase(it);
  return old;
}

Store::ReplaceDiff Store::replace(std::vector<Json> objects) {
  ReplaceDiff diff;
  std::map<std::string, ObjectPtr, std::less<>> next;
  for (auto& o : objects) {
    auto key = object_key(o);
    next[key] = std::make_shared<const Json>(std::move(o));
  }
  Items entries;
  for (const auto& [key, obj] : next) entries.emplace(key, make_entry(obj));
  std::lock_guard lock(mu_);
  for (const auto& [key, old] : items_) {
    if (next.find(key) == next.end()) diff.deleted.push_back(object_locked(old));
  }
  for (const auto& [key, obj] : next) {
    auto it = items_.find(key);
    if (it == items_.end()) {
      diff.added.push_back(obj);
    } else if (it->second.resource_version != resource_version(*obj) ||
               resource_version(*obj).empty()) {
      diff.updated.emplace_back(object_locked(it->second), obj);
    }
  }
  items_ = std::move(entries);
  indexes_.clear();
  auto obj = next.begin();  // the same keys in the same order
  for (const auto& item : items_) index_locked(item, *(obj++)->second);
  return diff;
}

void Store::mark_synced() {
  {
    std::lock_guard lock(sync_mu_);
    synced_.store(true);
  }
  sync_cv_.notify_all();
}

bool Store::wait_synced(std::chrono::milliseconds timeout, const std::atomic<bool>* stop) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(sync_mu_);
  while (!synced_.load()) {
    if (stop != nullptr && stop->load()) break;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // Re-check the stop flag at least every 100 ms.
    sync_cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
  return synced_.load();
}

}  // namespace aim::kube
