#include "kube/resource.h"

#include "http/client.h"

namespace aim::kube {

std::string ResourceType::path(std::string_view ns, std::string_view name,
                               std::string_view subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + http::url_encode(ns);
  p += "/" + resource;
  if (!name.empty()) {
    p += "/" + http::url_encode(name);
    if (!subresource.empty()) p += "/" + std::string(subresource);
  }
  return p;
}

namespace types {

ResourceType namespaces() {
  return {"", "v1", "namespaces", "Namespace", false};
}
ResourceType nodes() {
  return {"", "v1", "nodes", "Node", false};
}
ResourceType pods() {
  return {"", "v1", "pods", "Pod", true};
}
ResourceType secrets() {
  return {"", "v1", "secrets", "Secret", true};
}
ResourceType config_maps() {
  return {"", "v1", "configmaps", "ConfigMap", true};
}
ResourceType service_accounts() {
  return {"", "v1", "serviceaccounts", "ServiceAccount", true};
}
ResourceType persistent_volume_claims() {
  return {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
}
ResourceType storage_classes() {
  return {"storage.k8s.io", "v1", "storageclasses", "StorageClass", false};
}
ResourceType csi_storage_capacities() {
  return {"storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", true};
}
ResourceType jobs() {
  return {"batch", "v1", "jobs", "Job", true};
}
ResourceType leases() {
  return {"coordination.k8s.io", "v1", "leases", "Lease", true};
}
ResourceType events() {
  return {"events.k8s.io", "v1", "events", "Event", true};
}
ResourceType custom_resource_definitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          false};
}

}  // namespace types
}  // namespace aim::kube
