// Kubernetes building blocks used by the AIM API: object metadata and the core/v1, meta/v1 and
// Gateway API types that api.md §2 says are inlined into the CRD schemas. They are described
// with the same DSL as the AIM types, so their schemas are inlined by construction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/schema.h"

namespace aim::api {

using StringMap = std::map<std::string, std::string>;

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;
  Json extra;
  static void describe(Fields<OwnerReference>& f);
};

// metav1.ObjectMeta: the fields controllers use; everything else (managedFields, ...) is kept
// in `extra` and written back unchanged.
struct ObjectMeta {
  std::optional<std::string> name;
  std::optional<std::string> generate_name;
  std::optional<std::string> namespace_;
  std::optional<std::string> uid;
  std::optional<std::string> resource_version;
  std::optional<int64_t> generation;
  std::optional<StringMap> labels;
  std::optional<StringMap> annotations;
  std::optional<std::vector<OwnerReference>> owner_references;
  std::optional<std::vector<std::string>> finalizers;
  std::optional<std::string> deletion_timestamp;
  std::optional<std::string> creation_timestamp;
  Json extra;
  static void describe(Fields<ObjectMeta>& f);
};

// core/v1 LocalObjectReference (image pull secrets).
struct LocalObjectReference {
  std::optional<std::string> name;
  Json extra;
  static void describe(Fields<LocalObjectReference>& f);
};

struct ConfigMapKeySelector {
  std::string key;
  std::optional<std::string> name;
  std::optional<bool> optional;
  Json extra;
  static void describe(Fields<ConfigMapKeySelector>& f);
};

struct SecretKeySelector {
  std::string key;
  std::optional<std::string> name;
  std::optional<bool> optional;
  Json extra;
  static void describe(Fields<SecretKeySelector>& f);
};

struct ObjectFieldSelector {
  std::optional<std::string> api_version;
  std::string field_path;
  Json extra;
  static void describe(Fields<ObjectFieldSelector>& f);
};

struct FileKeySelector {
  std::string key;
  std::optional<bool> optional;
  std::string path;
  std::string volume_name;
  Json extra;
  static void describe(Fields<FileKeySelector>& f);
};

struct ResourceFieldSelector {
  std::optional<std::string> container_name;
  std::optional<Quantity> divisor;
  std::string resource;
  Json extra;
  static void describe(Fields<ResourceFieldSelector>& f);
};

struct EnvVarSource {
  std::optional<ConfigMapKeySelector> config_map_key_ref;
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<FileKeySelector> file_key_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<SecretKeySelector> secret_key_ref;
  Json extra;
  static void describe(Fields<EnvVarSource>& f);
};

// core/v1 EnvVar.
struct EnvVar {
  std::string name;
  std::optional<std::string> value;
  std::optional<EnvVarSource> value_from;
  Json extra;
  static void describe(Fields<EnvVar>& f);
};
using EnvList = std::vector<EnvVar>;

struct ResourceClaim {
  std::string name;
  std::optional<std::string> request;
  Json extra;
  static void describe(Fields<ResourceClaim>& f);
};

// core/v1 ResourceRequirements.
struct ResourceRequirements {
  std::optional<std::vector<ResourceClaim>> claims;
  std::optional<std::map<std::string, Quantity>> limits;
  std::optional<std::map<std::string, Quantity>> requests;
  Json extra;
  static void describe(Fields<ResourceRequirements>& f);
};

// meta/v1 Condition.
struct Condition {
  std::string type;
  std::string status;  // True, False, Unknown
  std::optional<int64_t> observed_generation;
  std::string last_transition_time;  // RFC 3339
  std::string reason;
  std::string message;
  Json extra;
  static void describe(Fields<Condition>& f);
};

struct NodeSelectorRequirement {
  std::string key;
  std::string operator_;
  std::optional<std::vector<std::string>> values;
  Json extra;
  static void describe(Fields<NodeSelectorRequirement>& f);
};

struct NodeSelectorTerm {
  std::optional<std::vector<NodeSelectorRequirement>> match_expressions;
  std::optional<std::vector<NodeSelectorRequirement>> match_fields;
  Json extra;
  static void describe(Fields<NodeSelectorTerm>& f);
};

struct NodeSelector {
  std::vector<NodeSelectorTerm> node_selector_terms;
  Json extra;
  static void describe(Fields<NodeSelector>& f);
};

struct PreferredSchedulingTerm {
  NodeSelectorTerm preference;
  int32_t weight = 0;
  Json extra;
  static void describe(Fields<PreferredSchedulingTerm>& f);
};

// core/v1 NodeAffinity.
struct NodeAffinity {
  std::optional<NodeSelector> required_during_scheduling_ignored_during_execution;
  std::optional<std::vector<PreferredSchedulingTerm>>
      preferred_during_scheduling_ignored_during_execution;
  Json extra;
  static void describe(Fields<NodeAffinity>& f);
};

// Gateway API v1 ParentReference.
struct ParentReference {
  std::optional<std::string> group;
  std::optional<std::string> kind;
  std::string name;
  std::optional<std::string> namespace_;
  std::optional<std::string> section_name;
  std::optional<int32_t> port;
  Json extra;
  static void describe(Fields<ParentReference>& f);
};

}  // namespace aim::api
