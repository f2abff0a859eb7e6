// Typed objects from the informer caches (issue 25): a reconcile reads the kinds of api/ through
// their C++ declarations, not through JSON paths. The informer's JSON object travels along for the
// framework helpers that still take JSON (finalizers, owner references, status writes).
//
//   auto cache = typed<api::AIMTemplateCache>(ctx.cache(types::aim_template_caches()).get(ns, n));
//   if (!cache) ...;                       // absent (nullptr) or undecodable (cache.error())
//   cache->typed.spec.template_name ...    // the declaration's fields
//   is_being_deleted(*cache->raw) ...      // the JSON the cache holds
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/k8s.h"
#include "api/schema.h"
#include "core/result.h"
#include "kube/controller.h"
#include "kube/object.h"
#include "kube/store.h"

namespace aim::controllers {

// An object of kind R as the informer cache holds it (`raw`) and as its declaration reads it.
template <class R>
struct Cached {
  kube::ObjectPtr raw;
  R typed;

  const R* operator->() const { return &typed; }
};

// Why an object could not be read as its kind: absent from the cache, or a field of the wrong
// type ("spec.size: expected a quantity ..."; the API server's schema makes this rare: it needs
// an object stored before a schema change).
struct TypedError {
  bool absent = false;
  std::string message;
};

template <class R>
Result<Cached<R>, TypedError> typed(kube::ObjectPtr raw) {
  if (!raw) return aim::fail(TypedError{true, "not found"});
  auto decoded = api::decode<R>(*raw);
  if (!decoded) return aim::fail(TypedError{false, std::move(decoded.error)});
  return Cached<R>{std::move(raw), std::move(*decoded.value)};
}

// The outcome of a reconcile whose primary object `req` (of `kind`) could not be read: done when
// it is gone (its deletion was the event), else an error with the decoder's path and reason,
// retried with backoff.
inline kube::ReconcileResult unreadable_primary(std::string_view kind, const kube::Request& req,
                                                const TypedError& error) {
  if (error.absent) return kube::Action::done();
  return aim::fail(kube::ReconcileError(std::string(kind) + " " + req.key() +
                                        " does not read as its kind: " + error.message));
}

// The objects of a listing that read as R; the others are left out (their own reconcile reports
// them).
template <class R>
std::vector<Cached<R>> typed_list(const std::vector<kube::ObjectPtr>& objects) {
  std::vector<Cached<R>> out;
  out.reserve(objects.size());
  for (const auto& o : objects) {
    auto t = typed<R>(o);
    if (t.ok()) out.push_back(std::move(t).value());
  }
  return out;
}

// A typed sub-object as the JSON the engine's functions read (null when absent).
template <class T>
api::Json json_of(const std::optional<T>& v) {
  return v ? api::encode(*v) : api::Json();
}

// What the engine produced (JSON) as a status field; absent for null, "" or what does not read
// as T.
template <class T>
std::optional<T> typed_or_none(const api::Json& j) {
  if (j.is_null() || (j.is_string() && j.get<std::string>().empty())) return std::nullopt;
  auto d = api::decode<T>(j);
  return d ? std::move(d.value) : std::nullopt;
}

// `j` read as R, or nullptr when it does not read as R. One object version is decoded once per
// thread: a store runs every index function of a kind over the same object one after the other
// (the AIMService cache has six), and the watch map functions then see that object again. The
// memo is keyed by the object's address, uid and resourceVersion (a resourceVersion names one
// version of one object); an object without a resourceVersion is decoded every time.
template <class R>
std::shared_ptr<const R> decoded_once(const api::Json& j) {
  struct Memo {
    const api::Json* at = nullptr;
    std::string uid, resource_version;
    std::shared_ptr<const R> value;
  };
  thread_local Memo memo;
  const std::string_view uid = kube::uid_view(j), rv = kube::resource_version_view(j);
  if (!rv.empty() && memo.at == &j && memo.uid == uid && memo.resource_version == rv)
    return memo.value;
  auto d = api::decode<R>(j);
  std::shared_ptr<const R> value =
      d ? std::make_shared<const R>(std::move(*d.value)) : std::shared_ptr<const R>();
  memo = Memo{&j, std::string(uid), std::string(rv), value};
  return value;
}

// A cache index function over objects of kind R (objects that do not read as R index nothing).
template <class R, class F>
kube::Store::IndexFunc typed_index(F f) {
  return [f = std::move(f)](const api::Json& j) -> std::vector<std::string> {
    auto d = decoded_once<R>(j);
    if (!d) return {};
    return f(*d);
  };
}

// A watch's map function over objects of kind R (objects that do not read as R map to nothing).
template <class R, class F>
kube::MapFunc typed_map(F f) {
  return [f = std::move(f)](const api::Json& j) -> std::vector<kube::Request> {
    auto d = decoded_once<R>(j);
    if (!d) return {};
    return f(*d);
  };
}

// ---- typed metadata and conditions ----------------------------------------------------------

inline std::string name_of(const api::ObjectMeta& m) {
  return m.name.value_or(std::string());
}
inline std::string namespace_of(const api::ObjectMeta& m) {
  return m.namespace_.value_or(std::string());
}
inline std::string uid_of(const api::ObjectMeta& m) {
  return m.uid.value_or(std::string());
}
// Any owner reference at all.
inline bool has_owner(const api::ObjectMeta& m) {
  return m.owner_references && !m.owner_references->empty();
}
// A controller owner reference to the object with uid `owner_uid`.
inline bool is_controlled_by(const api::ObjectMeta& m, const std::string& owner_uid) {
  if (!m.owner_references) return false;
  for (const auto& r : *m.owner_references)
    if (r.controller.value_or(false) && r.uid == owner_uid) return true;
  return false;
}
// The value when set and not empty, else nullopt (optional strings copied into a child's spec,
// where an empty value must not appear).
inline std::optional<std::string> non_empty(const std::optional<std::string>& v) {
  return v && !v->empty() ? v : std::nullopt;
}
// An environment variable with a literal value.
inline api::EnvVar env_var(std::string name, std::string value) {
  api::EnvVar v;
  v.name = std::move(name);
  v.value = std::move(value);
  return v;
}
// A list that is set and has at least one element.
template <class T>
bool has_items(const std::optional<std::vector<T>>& v) {
  return v && !v->empty();
}
// The names of a LocalObjectReference list such as imagePullSecrets, blanks skipped (the typed
// form of framework.h's pull_secret_names).
inline std::vector<std::string> pull_secret_names(
    const std::optional<std::vector<api::LocalObjectReference>>& refs) {
  std::vector<std::string> out;
  if (refs)
    for (const auto& r : *refs)
      if (auto n = non_empty(r.name)) out.push_back(*n);
  return out;
}

// The controller owner reference a child of `owner` carries (as set_controller_owner sets it).
template <class R>
api::OwnerReference controller_reference(const R& owner) {
  api::OwnerReference r;
  r.api_version = owner.api_version;
  r.kind = owner.kind;
  r.name = name_of(owner.metadata);
  r.uid = uid_of(owner.metadata);
  r.controller = true;
  r.block_owner_deletion = true;
  return r;
}
// The condition of `type`, or nullptr.
inline const api::Condition* find_condition(const std::vector<api::Condition>& conditions,
                                            std::string_view type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace aim::controllers
