#include "kube/testing/fake_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "core/json_fields.h"
#include "kube/clock.h"
#include "kube/store.h"

namespace aim::kube::testing {
namespace {

std::string type_id(const ResourceType& t) {
  return t.group + "/" + t.resource;
}

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kInvalid:
      return 422;
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kGone:
      return 410;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kServerError:
      return 500;
    default:
      return 0;
  }
}

// The terms of a selector: split on commas outside parentheses ("a in (x,y),b").
std::vector<std::string> selector_terms(const std::string& selector) {
  std::vector<std::string> out;
  std::string term;
  int depth = 0;
  for (char c : selector) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(term);
      term.clear();
    } else {
      term += c;
    }
  }
  out.push_back(term);
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// "key in (a,b)" / "key notin (a,b)": the key and the values; false when `term` is neither.
bool set_term(const std::string& term, std::string_view op, std::string& key,
              std::vector<std::string>& values) {
  auto p = term.find(std::string(" ") + std::string(op) + " ");
  auto open = term.find('('), close = term.rfind(')');
  if (p == std::string::npos || open == std::string::npos || close == std::string::npos ||
      open < p || close < open)
    return false;
  key = trim(term.substr(0, p));
  values.clear();
  for (auto& v : selector_terms(term.substr(open + 1, close - open - 1))) values.push_back(trim(v));
  return true;
}

// Label selectors: "a=b", "a==b", "a!=b", "a", "!a", "a in (x,y)", "a notin (x,y)",
// comma-separated.
bool selector_matches(const Json& object, const std::string& selector) {
  if (selector.empty()) return true;
  Json labels = Json::object();
  if (object.contains("metadata") && object["metadata"].contains("labels")) {
    labels = object["metadata"]["labels"];
  }
  auto has_value_in = [&](const std::string& k, const std::vector<std::string>& values) {
    if (!labels.contains(k) || !labels[k].is_string()) return false;
    return std::find(values.begin(), values.end(), labels[k].get<std::string>()) != values.end();
  };
  for (std::string term : selector_terms(selector)) {
    term = trim(term);
    if (term.empty()) continue;
    std::string key;
    std::vector<std::string> values;
    if (set_term(term, "notin", key, values)) {
      if (has_value_in(key, values)) return false;
    } else if (set_term(term, "in", key, values)) {
      if (!has_value_in(key, values)) return false;
    } else if (auto p = term.find("!="); p != std::string::npos) {
      auto k = term.substr(0, p), v = term.substr(p + 2);
      if (labels.contains(k) && labels[k] == v) return false;
    } else if (auto q = term.find('='); q != std::string::npos) {
      auto k = term.substr(0, q);
      auto v = term.substr(term.compare(q, 2, "==") == 0 ? q + 2 : q + 1);
      if (!labels.contains(k) || labels[k] != v) return false;
    } else if (term[0] == '!') {
      if (labels.contains(term.substr(1))) return false;
    } else if (!labels.contains(term)) {
      return false;
    }
  }
  return true;
}

bool field_selector_matches(const Json& object, const std::string& selector) {
  if (selector.empty()) return true;
  std::size_t start = 0;
  while (start <= selector.size()) {
    auto end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    start = end + 1;
    auto eq = term.find('=');
    if (eq == std::string::npos) continue;
    bool negate = eq > 0 && term[eq - 1] == '!';
    std::string field = term.substr(0, negate ? eq - 1 : eq);
    std::string value = term.substr(term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1);
    // Any dotted path of string fields (the API server supports a few per kind, such as
    // metadata.name for all and involvedObject.kind or type for Events).
    const Json* at = &object;
    for (std::size_t from = 0; at && from <= field.size();) {
      auto dot = field.find('.', from);
      if (dot == std::string::npos) dot = field.size();
      auto it = at->is_object() ? at->find(field.substr(from, dot - from)) : at->end();
      at = at->is_object() && it != at->end() ? &*it : nullptr;
      from = dot + 1;
    }
    const std::string actual = at && at->is_string() ? at->get<std::string>() : std::string();
    if ((actual == value) == negate) return false;
  }
  return true;
}

bool matches(const Json& object, std::string_view ns, const ListOptions& options) {
  if (!ns.empty() && string_at(object, "metadata", "namespace") != ns) return false;
  return selector_matches(object, options.label_selector) &&
         field_selector_matches(object, options.field_selector);
}

// The API server's NotFound for one object, as every verb reports it.
Error not_found(const ResourceType& type, std::string_view name) {
  return api_error(ErrorCode::kNotFound, fmt::format("{} \"{}\" not found", type.resource, name));
}

}  // namespace

Error api_error(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.http_status = status_for(code);
  e.reason = std::string(to_string(code));
  e.message = message.empty() ? std::string(to_string(code)) : std::move(message);
  return e;
}

FakeClient::FakeClient() {
  config_.server = "https://fake.invalid";
}

FakeClient::TypeState& FakeClient::state_locked(const ResourceType& type) {
  auto& st = types_[type_id(type)];
  if (st.type.resource.empty()) st.type = type;
  return st;
}

std::optional<Error> FakeClient::take_failure_locked(const std::string& verb,
                                                     const std::string& resource) {
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->verb == verb && (it->resource.empty() || it->resource == resource)) {
      Error e = it->error;
      if (--it->remaining <= 0) failures_.erase(it);
      return e;
    }
  }
  return std::nullopt;
}

void FakeClient::record_locked(std::string verb, const ResourceType& type, std::string_view ns,
                               std::string_view name, const Json& body) {
  actions_.push_back({std::move(verb), type.resource, std::string(ns), std::string(name), body});
}

Json FakeClient::stamp_locked(const ResourceType& type, Json object) {
  object["apiVersion"] = type.api_version();
  object["kind"] = type.kind;
  return object;
}

void FakeClient::emit_locked(TypeState& st, WatchEvent::Type type, const Json& object,
                             const Json& old) {
  st.history.push_back({rv_, type, object, old});
  cv_.notify_all();
}

Result<Json> FakeClient::create_locked(const ResourceType& type, Json object) {
  if (!object.is_object()) return fail(api_error(ErrorCode::kBadRequest, "object expected"));
  auto& md = object["metadata"];
  if (!md.is_object()) md = Json::object();
  if (!type.namespaced) {
    md.erase("namespace");
  } else if (!md.contains("namespace") || md["namespace"].get<std::string>().empty()) {
    return fail(api_error(ErrorCode::kBadRequest, "namespace required"));
  }
  std::string name = md.value("name", "");
  if (name.empty()) {
    std::string prefix = md.value("generateName", "");
    if (prefix.empty())
      return fail(api_error(ErrorCode::kInvalid, "name or generateName required"));
    name = fmt::format("{}{:05x}", prefix, (uid_counter_ * 7919 + 12345) % 0xfffff);
    md["name"] = name;
  }
  auto& st = state_locked(type);
  auto key = object_key(object);
  if (st.objects.count(key) != 0) {
    return fail(api_error(ErrorCode::kAlreadyExists,
                          fmt::format("{} \"{}\" already exists", type.resource, name)));
  }
  ++rv_;
  md["uid"] = fmt::format("uid-{:08d}", ++uid_counter_);
  md["resourceVersion"] = std::to_string(rv_);
  md["creationTimestamp"] = format_time(Clock::real().wall());
  md["generation"] = 1;
  object = stamp_locked(type, std::move(object));
  st.objects[key] = object;
  emit_locked(st, WatchEvent::Type::kAdded, object, Json());
  return object;
}

Result<Json> FakeClient::store_update_locked(const ResourceType& type, TypeState& st,
                                             const std::string& key, Json next) {
  const Json old = st.objects[key];
  const Json& old_md = old["metadata"];
  if (!next["metadata"].is_object()) next["metadata"] = Json::object();
  // Server-owned fields cannot be changed by a client.
  for (const char* f :
       {"uid", "creationTimestamp", "generation", "deletionTimestamp", "resourceVersion"}) {
    if (old_md.contains(f)) {
      next["metadata"][f] = old_md[f];
    } else {
      next["metadata"].erase(f);
    }
  }
  if (next.value("spec", Json()) != old.value("spec", Json())) {
    next["metadata"]["generation"] = old_md.value("generation", 1) + 1;
  }
  next["apiVersion"] = type.api_version();
  next["kind"] = type.kind;
  if (next == old) return old;  // a no-op write does not bump resourceVersion
  ++rv_;
  next["metadata"]["resourceVersion"] = std::to_string(rv_);
  // An object being deleted goes away when its last finalizer is removed.
  const auto& md = next["metadata"];
  bool finalizers_empty = !md.contains("finalizers") || md["finalizers"].empty();
  if (md.contains("deletionTimestamp") && finalizers_empty) {
    st.objects.erase(key);
    emit_locked(st, WatchEvent::Type::kDeleted, next, old);
    return next;
  }
  st.objects[key] = next;
  emit_locked(st, WatchEvent::Type::kModified, next, old);
  return next;
}

Result<Json> FakeClient::get(const ResourceType& type, std::string_view ns, std::string_view name) {
  std::lock_guard lock(mu_);
  record_locked("get", type, ns, name);
  if (auto e = take_failure_locked("get", type.resource)) return fail(*e);
  auto& st = state_locked(type);
  auto it = st.objects.find(object_key(type.namespaced ? ns : "", name));
  if (it == st.objects.end()) {
    return fail(not_found(type, name));
  }
  return it->second;
}

Result<ListResult> FakeClient::list(const ResourceType& type, std::string_view ns,
                                    const ListOptions& options) {
  std::lock_guard lock(mu_);
  record_locked("list", type, ns, "");
  if (auto e = take_failure_locked("list", type.resource)) return fail(*e);
  ListResult out;
  for (const auto& [key, obj] : state_locked(type).objects) {
    if (matches(obj, type.namespaced ? ns : "", options)) out.items.push_back(obj);
  }
  out.resource_version = std::to_string(rv_);
  return out;
}

Result<Json> FakeClient::create(const ResourceType& type, const Json& object) {
  std::lock_guard lock(mu_);
  record_locked("create", type, string_at(object, "metadata", "namespace"),
                string_at(object, "metadata", "name"), object);
  if (auto e = take_failure_locked("create", type.resource)) return fail(*e);
  return create_locked(type, object);
}

Result<Json> FakeClient::update_impl(const ResourceType& type, const Json& object, bool status,
                                     const char* verb) {
  std::lock_guard lock(mu_);
  auto ns = type.namespaced ? string_at(object, "metadata", "namespace") : std::string();
  auto name = string_at(object, "metadata", "name");
  record_locked(verb, type, ns, name, object);
  if (auto e = take_failure_locked(verb, type.resource)) return fail(*e);
  auto& st = state_locked(type);
  auto key = object_key(ns, name);
  auto it = st.objects.find(key);
  if (it == st.objects.end()) {
    return fail(not_found(type, name));
  }
  auto rv = string_at(object, "metadata", "resourceVersion");
  if (!rv.empty() && rv != string_at(it->second, "metadata", "resourceVersion")) {
    return fail(api_error(ErrorCode::kConflict,
                          fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has "
                                      "been modified; please apply your changes to the latest "
                                      "version and try again",
                                      type.resource, name)));
  }
  Json next;
  if (status) {
    next = it->second;
    if (object.contains("status")) {
      next["status"] = object["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = object;
    if (it->second.contains("status")) {
      next["status"] = it->second["status"];
    } else {
      next.erase("status");
    }
  }
  return store_update_locked(type, st, key, std::move(next));
}

Result<Json> FakeClient::update(const ResourceType& type, const Json& object) {
  return update_impl(type, object, false, "update");
}

Result<Json> FakeClient::update_status(const ResourceType& type, const Json& object) {
  return update_impl(type, object, true, "update_status");
}

Result<Json> FakeClient::merge_patch(const ResourceType& type, std::string_view ns,
                                     std::string_view name, const Json& patch,
                                     std::string_view subresource) {
  std::lock_guard lock(mu_);
  record_locked("patch", type, ns, name, patch);
  if (auto e = take_failure_locked("patch", type.resource)) return fail(*e);
  auto& st = state_locked(type);
  auto key = object_key(type.namespaced ? ns : "", name);
  auto it = st.objects.find(key);
  if (it == st.objects.end()) {
    return fail(not_found(type, name));
  }
  auto rv =
      patch.contains("metadata") ? string_at(patch, "metadata", "resourceVersion") : std::string();
  if (!rv.empty() && rv != string_at(it->second, "metadata", "resourceVersion")) {
    return fail(api_error(ErrorCode::kConflict, "the object has been modified"));
  }
  Json next = it->second;
  if (subresource == "status") {
    Json s = next.value("status", Json::object());
    if (patch.contains("status")) s.merge_patch(patch["status"]);
    next["status"] = s;
  } else {
    Json p = patch;
    p.erase("status");
    if (p.contains("metadata")) p["metadata"].erase("resourceVersion");
    next.merge_patch(p);
  }
  return store_update_locked(type, st, key, std::move(next));
}

Result<Json> FakeClient::apply(const ResourceType& type, const Json& object,
                               const ApplyOptions& options, std::string_view subresource) {
  std::unique_lock lock(mu_);
  auto ns = type.namespaced ? string_at(object, "metadata", "namespace") : std::string();
  auto name = string_at(object, "metadata", "name");
  record_locked("apply", type, ns, name, object);
  if (auto e = take_failure_locked("apply", type.resource)) return fail(*e);
  if (options.field_manager.empty()) {
    return fail(api_error(ErrorCode::kBadRequest, "fieldManager is required for apply"));
  }
  auto& st = state_locked(type);
  auto key = object_key(ns, name);
  auto it = st.objects.find(key);
  if (it == st.objects.end()) {
    if (subresource == "status") {
      return fail(not_found(type, name));
    }
    return create_locked(type, object);
  }
  Json next = it->second;
  Json p = object;
  if (subresource == "status") {
    next["status"] = next.value("status", Json::object());
    if (p.contains("status")) next["status"].merge_patch(p["status"]);
  } else {
    p.erase("status");
    if (p.contains("metadata")) p["metadata"].erase("resourceVersion");
    next.merge_patch(p);
  }
  return store_update_locked(type, st, key, std::move(next));
}

Result<void> FakeClient::remove(const ResourceType& type, std::string_view ns,
                                std::string_view name, const DeleteOptions& options) {
  std::lock_guard lock(mu_);
  record_locked("delete", type, ns, name);
  if (auto e = take_failure_locked("delete", type.resource)) return fail(*e);
  auto& st = state_locked(type);
  auto key = object_key(type.namespaced ? ns : "", name);
  auto it = st.objects.find(key);
  if (it == st.objects.end()) {
    return fail(not_found(type, name));
  }
  const Json& cur = it->second;
  if (options.precondition_uid && *options.precondition_uid != string_at(cur, "metadata", "uid")) {
    return fail(api_error(ErrorCode::kConflict, "precondition failed: uid"));
  }
  if (options.precondition_resource_version &&
      *options.precondition_resource_version != string_at(cur, "metadata", "resourceVersion")) {
    return fail(api_error(ErrorCode::kConflict, "precondition failed: resourceVersion"));
  }
  bool has_finalizers =
      cur["metadata"].contains("finalizers") && !cur["metadata"]["finalizers"].empty();
  if (has_finalizers) {
    if (cur["metadata"].contains("deletionTimestamp")) return Ok{};
    Json old = cur;
    ++rv_;
    it->second["metadata"]["deletionTimestamp"] = format_time(Clock::real().wall());
    it->second["metadata"]["resourceVersion"] = std::to_string(rv_);
    emit_locked(st, WatchEvent::Type::kModified, it->second, old);
    return Ok{};
  }
  Json old = cur;
  st.objects.erase(it);
  ++rv_;
  old["metadata"]["resourceVersion"] = std::to_string(rv_);
  emit_locked(st, WatchEvent::Type::kDeleted, old, old);
  return Ok{};
}

Result<void> FakeClient::watch(const ResourceType& type, std::string_view ns,
                               const ListOptions& options,
                               const std::function<bool(WatchEvent&&)>& on_event,
                               const std::atomic<bool>* cancel) {
  std::unique_lock lock(mu_);
  record_locked("watch", type, ns, "");
  if (auto e = take_failure_locked("watch", type.resource)) return fail(*e);
  const std::string scope = type.namespaced ? std::string(ns) : std::string();
  auto& st = state_locked(type);
  int64_t from = 0;
  std::vector<WatchEvent> pending;
  if (options.resource_version.empty() || options.resource_version == "0") {
    // Like the API server: synthetic ADDED events for the current state, then changes.
    for (const auto& [k, obj] : st.objects) {
      if (matches(obj, scope, options)) pending.push_back({WatchEvent::Type::kAdded, obj});
    }
    from = rv_;
  } else {
    from = std::stoll(options.resource_version);
    if (from < st.compacted_rv) {
      return fail(api_error(ErrorCode::kGone, "too old resource version"));
    }
  }
  const uint64_t epoch = watch_epoch_;
  const std::string id = type_id(type);
  ++open_watches_[type.resource];
  cv_.notify_all();
  struct Closer {
    FakeClient* self;
    std::string resource;
    ~Closer() {
      --self->open_watches_[resource];
      self->cv_.notify_all();
    }
  } closer{this, type.resource};

  while (true) {
    auto& history = types_[id].history;
    // History is in resourceVersion order: start after the last event delivered.
    auto first = std::upper_bound(history.begin(), history.end(), from,
                                  [](int64_t rv, const HistoryEntry& h) { return rv < h.rv; });
    for (auto it = first; it != history.end(); ++it) {
      const auto& h = *it;
      from = h.rv;
      bool now_matches = matches(h.object, scope, options);
      bool was_matching = !h.old_object.is_null() && matches(h.old_object, scope, options);
      if (h.type == WatchEvent::Type::kModified && was_matching && !now_matches) {
        pending.push_back({WatchEvent::Type::kDeleted, h.object});
      } else if (h.type == WatchEvent::Type::kModified && !was_matching && now_matches) {
        pending.push_back({WatchEvent::Type::kAdded, h.object});
      } else if (now_matches) {
        pending.push_back({h.type, h.object});
      }
    }
    if (!pending.empty()) {
      auto batch = std::move(pending);
      pending.clear();
      lock.unlock();
      for (auto& ev : batch) {
        if (!on_event(std::move(ev))) {
          lock.lock();
          return Ok{};
        }
      }
      lock.lock();
      continue;
    }
    if (cancel != nullptr && cancel->load()) return Ok{};
    if (watch_epoch_ != epoch) return Ok{};  // the stream was dropped
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

Result<std::string> FakeClient::get_raw(std::string_view path_and_query) {
  std::lock_guard lock(mu_);
  actions_.push_back({"get_raw", "", "", std::string(path_and_query), Json()});
  if (auto e = take_failure_locked("get_raw", "")) return fail(*e);
  auto it = raw_.find(std::string(path_and_query));
  if (it == raw_.end()) return fail(api_error(ErrorCode::kNotFound, "no such path"));
  return it->second;
}

Result<Json> FakeClient::server_version() {
  std::lock_guard lock(mu_);
  actions_.push_back({"version", "", "", "", Json()});
  if (auto e = take_failure_locked("version", "")) return fail(*e);
  return Json{{"major", "1"}, {"minor", "34"}, {"gitVersion", "v1.34.1-fake"}};
}

Json FakeClient::inject(const ResourceType& type, WatchEvent::Type event, Json object) {
  std::lock_guard lock(mu_);
  auto& st = state_locked(type);
  if (!type.namespaced && object.contains("metadata")) object["metadata"].erase("namespace");
  auto key = object_key(object);
  auto it = st.objects.find(key);
  if (event == WatchEvent::Type::kDeleted) {
    if (it == st.objects.end()) return object;
    Json old = it->second;
    st.objects.erase(it);
    ++rv_;
    old["metadata"]["resourceVersion"] = std::to_string(rv_);
    emit_locked(st, WatchEvent::Type::kDeleted, old, old);
    return old;
  }
  if (it == st.objects.end()) {
    auto r = create_locked(type, std::move(object));
    return r.ok() ? r.value() : Json();
  }
  object["metadata"].erase("resourceVersion");
  auto r = store_update_locked(type, st, key, std::move(object));
  return r.ok() ? r.value() : Json();
}

void FakeClient::fail_next(const std::string& verb, const std::string& resource, Error error,
                           int count) {
  std::lock_guard lock(mu_);
  failures_.push_back({verb, resource, std::move(error), count});
}

void FakeClient::drop_watches() {
  std::lock_guard lock(mu_);
  ++watch_epoch_;
  cv_.notify_all();
}

void FakeClient::compact() {
  std::lock_guard lock(mu_);
  for (auto& [id, st] : types_) {
    st.history.clear();
    st.compacted_rv = rv_;
  }
  // Open watches cannot continue from a compacted point: end them.
  ++watch_epoch_;
  cv_.notify_all();
}

void FakeClient::set_raw(const std::string& path, std::string body) {
  std::lock_guard lock(mu_);
  raw_[path] = std::move(body);
}

std::vector<FakeClient::Action> FakeClient::actions() const {
  std::lock_guard lock(mu_);
  return actions_;
}

std::vector<FakeClient::Action> FakeClient::actions(const std::string& verb,
                                                    const std::string& resource) const {
  std::lock_guard lock(mu_);
  std::vector<Action> out;
  for (const auto& a : actions_) {
    if (a.verb == verb && (resource.empty() || a.resource == resource)) out.push_back(a);
  }
  return out;
}

void FakeClient::clear_actions() {
  std::lock_guard lock(mu_);
  actions_.clear();
}

std::vector<Json> FakeClient::objects(const ResourceType& type, std::string_view ns) const {
  std::lock_guard lock(mu_);
  std::vector<Json> out;
  auto it = types_.find(type_id(type));
  if (it == types_.end()) return out;
  for (const auto& [k, obj] : it->second.objects) {
    if (ns.empty() || string_at(obj, "metadata", "namespace") == ns) out.push_back(obj);
  }
  return out;
}

int FakeClient::open_watches(const std::string& resource) const {
  std::lock_guard lock(mu_);
  if (!resource.empty()) {
    auto it = open_watches_.find(resource);
    return it == open_watches_.end() ? 0 : it->second;
  }
  int n = 0;
  for (const auto& [r, c] : open_watches_) n += c;
  return n;
}

bool FakeClient::wait_for_watches(const std::string& resource, int n,
                                  std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    auto it = open_watches_.find(resource);
    return it != open_watches_.end() && it->second >= n;
  });
}

int64_t FakeClient::resource_version() const {
  std::lock_guard lock(mu_);
  return rv_;
}

}  // namespace aim::kube::testing
