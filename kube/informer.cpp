#include "kube/informer.h"

#include <stdexcept>

#include "kube/watcher.h"

namespace aim::kube {

void strip_for_cache(Json& object) {
  if (!object.is_object()) return;
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) meta->erase("managedFields");
}

Informer::Informer(std::shared_ptr<Client> client, ResourceType type, std::string ns,
                   ListOptions selectors, Transform transform, Store::Representation representation)
    : client_(std::move(client)),
      type_(std::move(type)),
      ns_(std::move(ns)),
      selectors_(std::move(selectors)),
      transform_(std::move(transform)),
      store_(representation) {}

void Informer::prepare(Json& object) const {
  strip_for_cache(object);
  if (transform_ && object.is_object()) transform_(object);
}

Informer::~Informer() {
  stop();
}

void Informer::add_handler(EventHandler handler) {
  std::lock_guard lock(handlers_mu_);
  if (handler.on_add) {
    for (const auto& obj : store_.list()) handler.on_add(obj);
  }
  handlers_.push_back(std::move(handler));
}

void Informer::start() {
  std::lock_guard lock(run_mu_);
  if (started_) return;
  started_ = true;
  stop_.store(false);
  thread_ = std::thread([this] {
    Watcher watcher(client_, type_, ns_, selectors_);
    WatchHandler handler;
    handler.on_replace = [this](std::vector<Json> items, const std::string&) {
      on_replace(std::move(items));
    };
    handler.on_event = [this](const WatchEvent& ev) { on_event(ev); };
    watcher.run(stop_, handler);
  });
}

void Informer::stop() {
  std::lock_guard lock(run_mu_);
  if (!started_) return;
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

void Informer::on_replace(std::vector<Json> items) {
  for (auto& item : items) prepare(item);
  std::lock_guard lock(handlers_mu_);
  auto diff = store_.replace(std::move(items));
  for (const auto& h : handlers_) {
    if (h.on_add) {
      for (const auto& o : diff.added) h.on_add(o);
    }
    if (h.on_update) {
      for (const auto& [old_obj, new_obj] : diff.updated) h.on_update(old_obj, new_obj);
    }
    if (h.on_delete) {
      for (const auto& o : diff.deleted) h.on_delete(o);
    }
  }
  store_.mark_synced();
}

void Informer::on_event(const WatchEvent& event) {
  std::lock_guard lock(handlers_mu_);
  switch (event.type) {
    case WatchEvent::Type::kAdded:
    case WatchEvent::Type::kModified: {
      Json object = event.object;
      prepare(object);
      ObjectPtr new_obj;
      auto old_obj = store_.upsert(std::move(object), &new_obj);
      for (const auto& h : handlers_) {
        if (old_obj == nullptr) {
          if (h.on_add) h.on_add(new_obj);
        } else if (h.on_update) {
          h.on_update(old_obj, new_obj);
        }
      }
      break;
    }
    case WatchEvent::Type::kDeleted: {
      auto removed = store_.remove(object_key(event.object));
      auto last = removed != nullptr ? removed : std::make_shared<const Json>(event.object);
      for (const auto& h : handlers_) {
        if (h.on_delete) h.on_delete(last);
      }
      break;
    }
    default:
      break;  // bookmarks and errors are the watcher's business
  }
}

InformerFactory::~InformerFactory() {
  stop();
}

namespace {
std::string kind_id(const ResourceType& type) {
  return type.group + "/" + type.version + "/" + type.resource;
}
}  // namespace

ListOptions InformerFactory::effective_selectors(const ResourceType& type,
                                                 const ListOptions& selectors) const {
  ListOptions out = selectors;
  std::lock_guard lock(mu_);
  auto rule = rules_.find(kind_id(type));
  if (rule == rules_.end()) return out;
  auto and_with = [](std::string& selector, const std::string& required) {
    if (!required.empty()) selector = selector.empty() ? required : required + "," + selector;
  };
  and_with(out.label_selector, rule->second.label_selector);
  and_with(out.field_selector, rule->second.field_selector);
  return out;
}

std::shared_ptr<Informer> InformerFactory::informer(const ResourceType& type, const std::string& ns,
                                                    const ListOptions& selectors) {
  const ListOptions effective = effective_selectors(type, selectors);
  std::string id = kind_id(type) + "|" + ns + "|" + effective.label_selector + "|" +
                   effective.field_selector + (effective.metadata_only ? "|metadata" : "");
  std::lock_guard lock(mu_);
  auto& slot = informers_[id];
  if (!slot) {
    auto rule = rules_.find(kind_id(type));
    const bool has = rule != rules_.end();
    slot = std::make_shared<Informer>(
        client_, type, ns, effective, has ? rule->second.transform : Transform{},
        has && rule->second.packed ? Store::Representation::kPacked : Store::Representation::kTree);
    if (started_) slot->start();
  }
  return slot;
}

void InformerFactory::set_rule(const ResourceType& type, CacheRule rule) {
  std::lock_guard lock(mu_);
  const std::string prefix = kind_id(type) + "|";
  for (const auto& [id, inf] : informers_) {
    if (id.starts_with(prefix))
      throw std::logic_error("cache rule for " + type.resource + " set after its informer exists");
  }
  rules_[kind_id(type)] = std::move(rule);
}

bool InformerFactory::has_rule(const ResourceType& type) const {
  std::lock_guard lock(mu_);
  return rules_.count(kind_id(type)) > 0;
}

void InformerFactory::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  for (auto& [id, inf] : informers_) inf->start();
}

void InformerFactory::stop() {
  std::vector<std::shared_ptr<Informer>> all;
  {
    std::lock_guard lock(mu_);
    started_ = false;
    for (auto& [id, inf] : informers_) all.push_back(inf);
  }
  for (auto& inf : all) inf->stop();
}

bool InformerFactory::wait_for_sync(std::chrono::milliseconds timeout,
                                    const std::atomic<bool>* stop) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<Informer>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, inf] : informers_) all.push_back(inf);
  }
  for (auto& inf : all) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    if (!inf->wait_for_sync(left, stop)) return false;
  }
  return true;
}

bool InformerFactory::synced() const {
  std::lock_guard lock(mu_);
  for (const auto& [id, inf] : informers_) {
    if (!inf->has_synced()) return false;
  }
  return true;
}

}  // namespace aim::kube
