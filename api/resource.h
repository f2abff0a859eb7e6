// Typed Kubernetes objects: Resource<Kind> = apiVersion, kind, metadata, spec, status (+ unknown
// keys), and the identity of each kind (group, version, plural, scope, ...) as constants usable
// by a dynamic client, e.g. `AIMService::kind_info.plural`.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/k8s.h"
#include "api/schema.h"

namespace aim::api {

struct PrinterColumn {
  std::string_view name;
  std::string_view type;  // string, integer, date, ...
  std::string_view json_path;
  int priority = 0;
  std::string_view description = {};
};

// Identity of one kind. Tag types declare it as `static constexpr KindInfo info = {...}`.
struct KindInfo {
  std::string_view group;
  std::string_view version;
  std::string_view kind;
  std::string_view plural;
  std::string_view singular;
  std::string_view list_kind;
  bool namespaced = true;
  std::array<std::string_view, 2> short_names{};   // unused slots are empty
  std::array<std::string_view, 2> categories{};    // unused slots are empty
  std::array<PrinterColumn, 8> printer_columns{};  // unused slots have an empty name
  std::string_view description;
  std::string_view extension = {};  // non-empty: the kind itself is an aim-engine extension
  bool optional_crd = false;        // written to deploy/crds-optional/ (installed on demand)

  // "v1" for the core group, "<group>/<version>" for every other.
  std::string api_version() const {
    return group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  }
  std::string crd_name() const { return std::string(plural) + "." + std::string(group); }
};

inline constexpr std::string_view kGroup = "aim.eai.amd.com";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "aim.eai.amd.com/v1alpha1";
inline constexpr std::array<std::string_view, 2> kAimCategories = {"aim", "all"};

// A typed object of one kind. `Tag` carries `static constexpr KindInfo info`, `using Spec`,
// `using Status`.
template <class Tag>
struct Resource {
  using Spec = typename Tag::Spec;
  using Status = typename Tag::Status;
  static constexpr const KindInfo& kind_info = Tag::info;

  std::string api_version = Tag::info.api_version();
  std::string kind = std::string(Tag::info.kind);
  ObjectMeta metadata;
  Spec spec;
  Status status;
  Json extra;

  static void describe(Fields<Resource>& f) {
    f.doc(Tag::info.description);
    f.field("apiVersion", &Resource::api_version, "Versioned schema of this representation.");
    f.field("kind", &Resource::kind, "REST resource this object represents.");
    f.field("metadata", &Resource::metadata, "Standard object metadata.");
    f.field("spec", &Resource::spec, "Desired state.");
    f.field("status", &Resource::status, "Observed state.");
  }
};

// meta/v1 ListMeta.
struct ListMeta {
  std::optional<std::string> resource_version;
  std::optional<std::string> continue_;
  std::optional<int64_t> remaining_item_count;
  Json extra;
  static void describe(Fields<ListMeta>& f) {
    f.doc("Standard list metadata.");
    f.field("resourceVersion", &ListMeta::resource_version, "Version of the list.");
    f.field("continue", &ListMeta::continue_, "Token for the next page.");
    f.field("remainingItemCount", &ListMeta::remaining_item_count, "Items after this page.");
  }
};

// `<Kind>List`, as returned by a list call: ResourceList<AIMService>.
template <class R>
struct ResourceList {
  std::string api_version = R::kind_info.api_version();
  std::string kind = std::string(R::kind_info.list_kind);
  ListMeta metadata;
  std::vector<R> items;
  Json extra;

  static void describe(Fields<ResourceList>& f) {
    f.doc(R::kind_info.description);
    f.field("apiVersion", &ResourceList::api_version, "Versioned schema of this representation.");
    f.field("kind", &ResourceList::kind, "REST resource this object represents.");
    f.field("metadata", &ResourceList::metadata, "Standard list metadata.");
    f.field("items", &ResourceList::items, "The objects.");
  }
};

}  // namespace aim::api
