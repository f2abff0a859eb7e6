// ResourceType names one REST resource (group, version, plural) and knows how to build its URL
// paths, so the dynamic client works for any kind, built-in or custom.
#pragma once

#include <string>
#include <string_view>

namespace aim::kube {

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  std::string kind;      // "Pod"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // /api/v1/namespaces/{ns}/pods/{name}/{subresource}; ns is ignored for cluster-scoped types,
  // an empty ns on a namespaced type means "all namespaces" (for list and watch).
  std::string path(std::string_view ns, std::string_view name = {},
                   std::string_view subresource = {}) const;
  bool operator==(const ResourceType&) const = default;
};

// Built-in types the runtime and the controllers use.
namespace types {
ResourceType namespaces();
ResourceType nodes();
ResourceType pods();
ResourceType secrets();
ResourceType config_maps();
ResourceType service_accounts();
ResourceType persistent_volume_claims();
ResourceType jobs();
ResourceType storage_classes();         // storage.k8s.io/v1, cluster-scoped
ResourceType csi_storage_capacities();  // storage.k8s.io/v1
ResourceType leases();
ResourceType events();  // events.k8s.io/v1
ResourceType custom_resource_definitions();
}  // namespace types

}  // namespace aim::kube
