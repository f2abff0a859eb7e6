#include "kube/object.h"

#include <algorithm>
#include <initializer_list>

namespace aim::kube {

namespace {

const Json& empty_object() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

const Json& empty_array() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

// The member `key` of `j` when `j` is an object that has it, else nullptr.
const Json* member(const Json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string_view string_view_of(const Json* j) {
  return j != nullptr && j->is_string() ? std::string_view(j->get_ref<const std::string&>())
                                        : std::string_view();
}

const Json* metadata(const Json& object) {
  return member(object, "metadata");
}

std::string_view meta_string(const Json& object, std::string_view key) {
  const Json* m = metadata(object);
  return m == nullptr ? std::string_view() : string_view_of(member(*m, key));
}

// The string value of `key` in the map at metadata.<map>, or "".
std::string meta_map_value(const Json& object, std::string_view map, std::string_view key) {
  const Json* m = metadata(object);
  const Json* values = m == nullptr ? nullptr : member(*m, map);
  return std::string(values == nullptr ? std::string_view() : string_view_of(member(*values, key)));
}

// `object`'s member `key`, made an object when it is absent or of another type.
Json& object_member(Json& object, const char* key) {
  if (!object.is_object()) object = Json::object();
  Json& m = object[key];
  if (!m.is_object()) m = Json::object();
  return m;
}

Json& mutable_metadata(Json& object) {
  return object_member(object, "metadata");
}

// `object` reduced to the top-level `keys` and the metadata `meta_keys` it has.
Json kept_fields(Json& object, std::initializer_list<const char*> keys,
                 std::initializer_list<const char*> meta_keys) {
  Json kept = Json::object();
  if (!object.is_object()) return kept;
  for (const char* key : keys)
    if (auto it = object.find(key); it != object.end()) kept[key] = std::move(*it);
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    Json& m = kept["metadata"] = Json::object();
    for (const char* key : meta_keys)
      if (auto it = meta->find(key); it != meta->end()) m[key] = std::move(*it);
  }
  return kept;
}

}  // namespace

// ---- reading -----------------------------------------------------------------------------------

std::string name_of(const Json& object) {
  return std::string(meta_string(object, "name"));
}
std::string namespace_of(const Json& object) {
  return std::string(meta_string(object, "namespace"));
}
std::string uid_of(const Json& object) {
  return std::string(meta_string(object, "uid"));
}
std::string_view uid_view(const Json& object) {
  return meta_string(object, "uid");
}
std::string_view resource_version_view(const Json& object) {
  return meta_string(object, "resourceVersion");
}
std::string api_version_of(const Json& object) {
  return std::string(string_view_of(member(object, "apiVersion")));
}
std::string kind_of(const Json& object) {
  return std::string(string_view_of(member(object, "kind")));
}

std::optional<int64_t> generation_of(const Json& object) {
  const Json* m = metadata(object);
  const Json* g = m == nullptr ? nullptr : member(*m, "generation");
  if (g == nullptr || !g->is_number_integer()) return std::nullopt;
  return g->get<int64_t>();
}

const Json& labels_of(const Json& object) {
  const Json* m = metadata(object);
  const Json* l = m == nullptr ? nullptr : member(*m, "labels");
  return l != nullptr && l->is_object() ? *l : empty_object();
}

std::string label_of(const Json& object, std::string_view key) {
  return meta_map_value(object, "labels", key);
}

std::string annotation_of(const Json& object, std::string_view key) {
  return meta_map_value(object, "annotations", key);
}

bool is_being_deleted(const Json& object) {
  return !meta_string(object, "deletionTimestamp").empty();
}

bool has_finalizer(const Json& object, std::string_view finalizer) {
  const Json* m = metadata(object);
  const Json* f = m == nullptr ? nullptr : member(*m, "finalizers");
  if (f == nullptr || !f->is_array()) return false;
  return std::any_of(f->begin(), f->end(),
                     [&](const Json& v) { return string_view_of(&v) == finalizer; });
}

namespace {
const Json& owner_references(const Json& object) {
  const Json* m = metadata(object);
  const Json* refs = m == nullptr ? nullptr : member(*m, "ownerReferences");
  return refs != nullptr && refs->is_array() ? *refs : empty_array();
}

bool is_controller_reference(const Json& ref) {
  const Json* c = member(ref, "controller");
  return c != nullptr && c->is_boolean() && c->get<bool>();
}
}  // namespace

std::string controller_uid(const Json& object) {
  for (const auto& r : owner_references(object))
    if (is_controller_reference(r)) return std::string(string_view_of(member(r, "uid")));
  return {};
}

bool is_controlled_by(const Json& child, std::string_view owner_uid) {
  if (owner_uid.empty()) return false;
  const Json& refs = owner_references(child);
  return std::any_of(refs.begin(), refs.end(), [&](const Json& r) {
    return is_controller_reference(r) && string_view_of(member(r, "uid")) == owner_uid;
  });
}

const Json& status_of(const Json& object) {
  const Json* s = member(object, "status");
  return s != nullptr && s->is_object() ? *s : empty_object();
}

std::string phase_of(const Json& object) {
  return std::string(string_view_of(member(status_of(object), "phase")));
}

const Json& conditions_in(const Json& status) {
  const Json* c = member(status, "conditions");
  return c != nullptr && c->is_array() ? *c : empty_array();
}

// ---- editing -----------------------------------------------------------------------------------

Json& mutable_labels(Json& object) {
  return object_member(mutable_metadata(object), "labels");
}

Json* pod_template_labels(Json& object) {
  if (kind_of(object) != "Job") return nullptr;
  Json& tmpl = object_member(object_member(object, "spec"), "template");
  return &mutable_labels(tmpl);
}

void set_label(Json& object, const std::string& key, const std::string& value) {
  mutable_labels(object)[key] = value;
}

void set_annotation(Json& object, const std::string& key, const std::string& value) {
  object_member(mutable_metadata(object), "annotations")[key] = value;
}

void clear_resource_version(Json& object) {
  if (object.is_object())
    if (auto m = object.find("metadata"); m != object.end() && m->is_object())
      m->erase("resourceVersion");
}

bool set_finalizer(Json& object, std::string_view finalizer, bool present) {
  if (present && has_finalizer(object, finalizer)) return false;  // kept where it is
  Json& meta = mutable_metadata(object);
  Json list = meta.contains("finalizers") && meta["finalizers"].is_array() ? meta["finalizers"]
                                                                           : Json::array();
  Json next = Json::array();
  for (const auto& f : list)
    if (string_view_of(&f) != finalizer) next.push_back(f);
  if (present) next.push_back(std::string(finalizer));
  if (next == list) return false;
  if (next.empty())
    meta.erase("finalizers");
  else
    meta["finalizers"] = std::move(next);
  return true;
}

void set_controller_owner(Json& child, const Json& owner) {
  const std::string uid = uid_of(owner);
  Json ref = {{"apiVersion", api_version_of(owner)},
              {"kind", kind_of(owner)},
              {"name", name_of(owner)},
              {"uid", uid},
              {"controller", true},
              {"blockOwnerDeletion", true}};
  Json next = Json::array();
  for (const auto& r : owner_references(child)) {
    if (string_view_of(member(r, "uid")) == uid) continue;
    if (is_controller_reference(r)) continue;  // a single controller owner
    next.push_back(r);
  }
  next.push_back(std::move(ref));
  mutable_metadata(child)["ownerReferences"] = std::move(next);
}

void set_conditions_in(Json& status, Json conditions) {
  if (!status.is_object()) status = Json::object();
  status["conditions"] = std::move(conditions);
}

void drop_status(Json& object) {
  if (object.is_object()) object.erase("status");
}

Json make_object(const ResourceType& type, Json metadata, Json spec) {
  return {{"apiVersion", type.api_version()},
          {"kind", type.kind},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)}};
}

Json label_patch(const std::string& key, const std::string& value) {
  return {{"metadata", {{"labels", {{key, value}}}}}};
}

Json status_update_body(const ResourceType& type, const Json& object, Json status) {
  const std::string api_version = api_version_of(object), kind = kind_of(object);
  Json body = {{"apiVersion", api_version.empty() ? type.api_version() : api_version},
               {"kind", kind.empty() ? type.kind : kind},
               {"metadata",
                {{"name", name_of(object)},
                 {"resourceVersion", std::string(resource_version_view(object))}}},
               {"status", std::move(status)}};
  if (type.namespaced) body["metadata"]["namespace"] = namespace_of(object);
  return body;
}

// ---- apply -------------------------------------------------------------------------------------

Json applied_fields(const Json& desired) {
  Json d = desired;
  if (!d.is_object()) return d;
  if (auto m = d.find("metadata"); m != d.end()) {
    Json meta = Json::object();
    if (m->is_object())
      for (const char* k : {"labels", "annotations", "ownerReferences", "finalizers"})
        if (auto it = m->find(k); it != m->end()) meta[k] = *it;
    *m = std::move(meta);
  }
  d.erase("status");
  return d;
}

bool json_subset(const Json& desired, const Json& live) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [key, value] : desired.items()) {
      auto it = live.find(key);
      if (it == live.end()) {
        // An empty object/array/null we would send is the same as an absent field.
        if (value.is_null() || (value.is_structured() && value.empty())) continue;
        return false;
      }
      if (!json_subset(value, *it)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (std::size_t i = 0; i < desired.size(); ++i)
      if (!json_subset(desired[i], live[i])) return false;
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  return desired == live;
}

// ---- cache transforms --------------------------------------------------------------------------

void keep_node_capacity(Json& node) {
  Json kept = kept_fields(node, {"apiVersion", "kind"},
                          {"name", "uid", "resourceVersion", "labels", "deletionTimestamp"});
  if (auto st = node.find("status"); st != node.end() && st->is_object())
    if (auto it = st->find("allocatable"); it != st->end())
      kept["status"]["allocatable"] = std::move(*it);
  node = std::move(kept);
}

void keep_event_summary(Json& event) {
  event = kept_fields(event, {"apiVersion", "kind", "involvedObject", "reason", "message", "type"},
                      {"name", "namespace", "uid", "resourceVersion"});
}

}  // namespace aim::kube
