#include "api/k8s.h"

namespace aim::api {

void OwnerReference::describe(Fields<OwnerReference>& f) {
  f.doc("Reference to an owning object; the garbage collector deletes dependents with it.");
  f.field("apiVersion", &OwnerReference::api_version, "API version of the owner.").required();
  f.field("kind", &OwnerReference::kind, "Kind of the owner.").required();
  f.field("name", &OwnerReference::name, "Name of the owner.").required();
  f.field("uid", &OwnerReference::uid, "UID of the owner.").required();
  f.field("controller", &OwnerReference::controller,
          "True when the owner is the managing controller.");
  f.field("blockOwnerDeletion", &OwnerReference::block_owner_deletion,
          "Foreground deletion of the owner waits for this dependent.");
}

void ObjectMeta::describe(Fields<ObjectMeta>& f) {
  f.doc("Standard Kubernetes object metadata.");
  f.field("name", &ObjectMeta::name, "Object name, unique per namespace and kind.");
  f.field("generateName", &ObjectMeta::generate_name, "Prefix for a server-generated name.");
  f.field("namespace", &ObjectMeta::namespace_, "Namespace; empty for cluster-scoped objects.");
  f.field("uid", &ObjectMeta::uid, "Server-assigned unique id.");
  f.field("resourceVersion", &ObjectMeta::resource_version,
          "Opaque version for optimistic concurrency.");
  f.field("generation", &ObjectMeta::generation, "Sequence number of spec changes.");
  f.field("labels", &ObjectMeta::labels, "Labels.");
  f.field("annotations", &ObjectMeta::annotations, "Annotations.");
  f.field("ownerReferences", &ObjectMeta::owner_references, "Owners of this object.");
  f.field("finalizers", &ObjectMeta::finalizers,
          "Finalizers that must be removed before deletion.");
  f.field("deletionTimestamp", &ObjectMeta::deletion_timestamp, "Set when deletion was requested.");
  f.field("creationTimestamp", &ObjectMeta::creation_timestamp, "Creation time.");
}

void LocalObjectReference::describe(Fields<LocalObjectReference>& f) {
  f.doc("Reference to an object (usually a Secret) in the same namespace.");
  f.map_type("atomic");
  f.field("name", &LocalObjectReference::name, "Name of the referent.").default_value("");
}

void ConfigMapKeySelector::describe(Fields<ConfigMapKeySelector>& f) {
  f.doc("Selects a key of a ConfigMap.");
  f.map_type("atomic");
  f.field("key", &ConfigMapKeySelector::key, "The key to select.").required();
  f.field("name", &ConfigMapKeySelector::name, "Name of the ConfigMap.").default_value("");
  f.field("optional", &ConfigMapKeySelector::optional,
          "Whether the ConfigMap or its key may be missing.");
}

void SecretKeySelector::describe(Fields<SecretKeySelector>& f) {
  f.doc("Selects a key of a Secret in the pod's namespace.");
  f.map_type("atomic");
  f.field("key", &SecretKeySelector::key, "The key of the Secret to select.").required();
  f.field("name", &SecretKeySelector::name, "Name of the Secret.").default_value("");
  f.field("optional", &SecretKeySelector::optional,
          "Whether the Secret or its key may be missing.");
}

void ObjectFieldSelector::describe(Fields<ObjectFieldSelector>& f) {
  f.doc("Selects a field of the pod (metadata.name, status.podIP, ...).");
  f.map_type("atomic");
  f.field("apiVersion", &ObjectFieldSelector::api_version, "Schema version of fieldPath.");
  f.field("fieldPath", &ObjectFieldSelector::field_path, "Path of the field to select.").required();
}

void FileKeySelector::describe(Fields<FileKeySelector>& f) {
  f.doc("Selects a key of an env file in a volume.");
  f.map_type("atomic");
  f.field("key", &FileKeySelector::key, "The key within the env file.").required();
  f.field("optional", &FileKeySelector::optional, "Whether the file or key may be missing.")
      .default_value(false);
  f.field("path", &FileKeySelector::path, "Path of the env file within the volume.").required();
  f.field("volumeName", &FileKeySelector::volume_name, "Name of the volume holding the file.")
      .required();
}

void ResourceFieldSelector::describe(Fields<ResourceFieldSelector>& f) {
  f.doc("Selects a container resource (limits.cpu, requests.memory, ...).");
  f.map_type("atomic");
  f.field("containerName", &ResourceFieldSelector::container_name, "Container name.");
  f.field("divisor", &ResourceFieldSelector::divisor, "Output unit divisor; defaults to 1.");
  f.field("resource", &ResourceFieldSelector::resource, "Resource to select.").required();
}

void EnvVarSource::describe(Fields<EnvVarSource>& f) {
  f.doc("Source of an environment variable's value.");
  f.field("configMapKeyRef", &EnvVarSource::config_map_key_ref, "");
  f.field("fieldRef", &EnvVarSource::field_ref, "");
  f.field("fileKeyRef", &EnvVarSource::file_key_ref, "");
  f.field("resourceFieldRef", &EnvVarSource::resource_field_ref, "");
  f.field("secretKeyRef", &EnvVarSource::secret_key_ref, "");
}

void EnvVar::describe(Fields<EnvVar>& f) {
  f.doc("An environment variable of a container.");
  f.field("name", &EnvVar::name, "Name of the variable.").required();
  f.field("value", &EnvVar::value, "Literal value; $(VAR) references are expanded in pods.");
  f.field("valueFrom", &EnvVar::value_from, "");
}

void ResourceClaim::describe(Fields<ResourceClaim>& f) {
  f.doc("A dynamic resource claim used by the container.");
  f.field("name", &ResourceClaim::name, "Name of a pod resource claim.").required();
  f.field("request", &ResourceClaim::request, "Request name within the claim.");
}

void ResourceRequirements::describe(Fields<ResourceRequirements>& f) {
  f.doc("Compute resources of a container (requests and limits).");
  f.field("claims", &ResourceRequirements::claims, "Dynamic resource claims.").list_map({"name"});
  f.field("limits", &ResourceRequirements::limits, "Maximum resources allowed.");
  f.field("requests", &ResourceRequirements::requests, "Minimum resources required.");
}

void Condition::describe(Fields<Condition>& f) {
  f.doc("One aspect of the object's current state.");
  f.field("lastTransitionTime", &Condition::last_transition_time,
          "When the condition last changed status.")
      .required()
      .format("date-time");
  f.field("message", &Condition::message, "Human-readable details.").required().max_length(32768);
  f.field("observedGeneration", &Condition::observed_generation,
          "metadata.generation the condition was computed from.")
      .minimum(0);
  f.field("reason", &Condition::reason, "Machine-readable CamelCase reason.")
      .required()
      .min_length(1)
      .max_length(1024)
      .pattern("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");
  f.field("status", &Condition::status, "Status of the condition.")
      .required()
      .enums({"True", "False", "Unknown"});
  f.field("type", &Condition::type, "Condition type in CamelCase.")
      .required()
      .max_length(316)
      .pattern(
          R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$)");
}

void NodeSelectorRequirement::describe(Fields<NodeSelectorRequirement>& f) {
  f.doc("A selector requirement: key, operator and values.");
  f.field("key", &NodeSelectorRequirement::key, "Label key.").required();
  f.field("operator", &NodeSelectorRequirement::operator_,
          "In, NotIn, Exists, DoesNotExist, Gt or Lt.")
      .required();
  f.field("values", &NodeSelectorRequirement::values, "Values compared with the label value.")
      .list_type("atomic");
}

void NodeSelectorTerm::describe(Fields<NodeSelectorTerm>& f) {
  f.doc("Requirements that are ANDed.");
  f.map_type("atomic");
  f.field("matchExpressions", &NodeSelectorTerm::match_expressions, "Requirements on node labels.")
      .list_type("atomic");
  f.field("matchFields", &NodeSelectorTerm::match_fields, "Requirements on node fields.")
      .list_type("atomic");
}

void NodeSelector::describe(Fields<NodeSelector>& f) {
  f.doc("Terms that are ORed.");
  f.map_type("atomic");
  f.field("nodeSelectorTerms", &NodeSelector::node_selector_terms, "The terms.")
      .required()
      .list_type("atomic");
}

void PreferredSchedulingTerm::describe(Fields<PreferredSchedulingTerm>& f) {
  f.doc("A weighted preference.");
  f.field("preference", &PreferredSchedulingTerm::preference, "The preferred term.").required();
  f.field("weight", &PreferredSchedulingTerm::weight, "Weight 1-100.").required();
}

void NodeAffinity::describe(Fields<NodeAffinity>& f) {
  f.doc("Node affinity scheduling rules.");
  f.field("requiredDuringSchedulingIgnoredDuringExecution",
          &NodeAffinity::required_during_scheduling_ignored_during_execution,
          "Hard requirement a node must meet.");
  f.field("preferredDuringSchedulingIgnoredDuringExecution",
          &NodeAffinity::preferred_during_scheduling_ignored_during_execution, "Soft preferences.")
      .list_type("atomic");
}

void ParentReference::describe(Fields<ParentReference>& f) {
  f.doc("Gateway API parent reference (usually a Gateway).");
  f.field("group", &ParentReference::group, "API group of the parent.")
      .default_value("gateway.networking.k8s.io")
      .max_length(253)
      .pattern(R"(^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  f.field("kind", &ParentReference::kind, "Kind of the parent.")
      .default_value("Gateway")
      .min_length(1)
      .max_length(63)
      .pattern("^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$");
  f.field("name", &ParentReference::name, "Name of the parent.")
      .required()
      .min_length(1)
      .max_length(253);
  f.field("namespace", &ParentReference::namespace_,
          "Namespace of the parent; defaults to the route's namespace.")
      .min_length(1)
      .max_length(63)
      .pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  f.field("port", &ParentReference::port, "Network port the route targets.")
      .minimum(1)
      .maximum(65535);
  f.field("sectionName", &ParentReference::section_name, "Listener name within the parent.")
      .min_length(1)
      .max_length(253)
      .pattern(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
}

}  // namespace aim::api
