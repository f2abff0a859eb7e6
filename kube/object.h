// Reading and editing objects of any kind as the API server sends them (JSON): the metadata every
// kind shares (name, labels, annotations, finalizers, owner references), the status subresource
// body, the fields server-side apply compares, and the transforms that trim what a cache keeps.
// The role of apimachinery's unstructured accessors: controllers read and write their own kinds
// and the children they build through api/'s typed declarations, and use these for what is the
// same in every kind. A missing field, or one of another type, reads as empty; nothing throws.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "kube/resource.h"

namespace aim::kube {

using Json = nlohmann::json;

// ---- reading -----------------------------------------------------------------------------------

std::string name_of(const Json& object);
std::string namespace_of(const Json& object);
std::string uid_of(const Json& object);
// metadata.uid and metadata.resourceVersion without a copy ("" when absent), valid while
// `object` is.
std::string_view uid_view(const Json& object);
std::string_view resource_version_view(const Json& object);
std::string api_version_of(const Json& object);
std::string kind_of(const Json& object);
std::optional<int64_t> generation_of(const Json& object);
const Json& labels_of(const Json& object);                            // {} when none
std::string label_of(const Json& object, std::string_view key);       // "" when absent
std::string annotation_of(const Json& object, std::string_view key);  // "" when absent
bool is_being_deleted(const Json& object);                            // deletionTimestamp set
bool has_finalizer(const Json& object, std::string_view finalizer);
// The uid of the owner reference with controller: true, or "".
std::string controller_uid(const Json& object);
// Does `child` carry a controller owner reference with this uid?
bool is_controlled_by(const Json& child, std::string_view owner_uid);

// status ({} when absent), status.phase (Namespaces, Pods, claims) and status.conditions of a
// status object ([] when absent).
const Json& status_of(const Json& object);
std::string phase_of(const Json& object);
const Json& conditions_in(const Json& status);

// ---- editing -----------------------------------------------------------------------------------

// metadata.labels, created when absent.
Json& mutable_labels(Json& object);
// spec.template.metadata.labels of a workload kind with a pod template (Job), created when
// absent; nullptr for every other kind.
Json* pod_template_labels(Json& object);
void set_label(Json& object, const std::string& key, const std::string& value);
void set_annotation(Json& object, const std::string& key, const std::string& value);
// Drops metadata.resourceVersion (an apply body must not carry a stale one).
void clear_resource_version(Json& object);
// Adds (`present`) or removes `finalizer`; an emptied list is removed. True when it changed.
bool set_finalizer(Json& object, std::string_view finalizer, bool present);
// Sets the single controller owner reference {apiVersion, kind, name, uid, controller: true,
// blockOwnerDeletion: true}: a reference with the owner's uid or another controller is replaced.
void set_controller_owner(Json& child, const Json& owner);
// status.conditions = `conditions` (a JSON array).
void set_conditions_in(Json& status, Json conditions);

// Drops status (an update of the main resource ignores it; a stale one is not sent back).
void drop_status(Json& object);
// An object of `type` from its metadata and spec (each an encoded typed value).
Json make_object(const ResourceType& type, Json metadata, Json spec);

// A JSON merge patch that sets one label.
Json label_patch(const std::string& key, const std::string& value);
// The body of a status update of `object`: identity, resourceVersion and `status`.
Json status_update_body(const ResourceType& type, const Json& object, Json status);

// ---- apply -------------------------------------------------------------------------------------

// What an apply of `desired` owns and is compared on: the object without status, its metadata
// reduced to labels, annotations, ownerReferences and finalizers (the server owns the rest).
Json applied_fields(const Json& desired);
// Is every field of `desired` present with the same value in `live` (objects compared key by
// key, arrays element by element and of equal length; an empty object, array or null equals an
// absent field; 1 equals 1.0)?
bool json_subset(const Json& desired, const Json& live);

// ---- cache transforms --------------------------------------------------------------------------

// A Node reduced to apiVersion, kind, name, uid, resourceVersion, labels, deletionTimestamp and
// status.allocatable.
void keep_node_capacity(Json& node);
// An Event reduced to apiVersion, kind, identity, involvedObject, reason, message and type.
void keep_event_summary(Json& event);

}  // namespace aim::kube
