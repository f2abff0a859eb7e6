// AIMClusterModelSource (cluster-scoped): keeps AIMClusterModels in sync with the images of a
// container registry (api.md §4.7).
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct ModelSourceFilter {
  std::string image;
  std::optional<std::vector<std::string>> exclude;
  std::optional<std::vector<std::string>> versions;
  Json extra;
  static void describe(Fields<ModelSourceFilter>& f);
};

struct AIMClusterModelSourceSpec {
  std::optional<std::string> registry;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::vector<ModelSourceFilter> filters;
  std::optional<std::string> sync_interval;
  std::optional<std::vector<std::string>> versions;
  std::optional<int64_t> max_models;
  Json extra;
  static void describe(Fields<AIMClusterModelSourceSpec>& f);
};

struct AIMClusterModelSourceStatus {
  std::optional<std::string> status;
  std::optional<std::string> last_sync_time;
  std::optional<int64_t> discovered_models;
  std::optional<int64_t> available_models;
  std::optional<bool> models_limit_reached;
  std::vector<Condition> conditions;
  std::optional<int64_t> observed_generation;
  Json extra;
  static void describe(Fields<AIMClusterModelSourceStatus>& f);
};

struct AIMClusterModelSourceTag {
  using Spec = AIMClusterModelSourceSpec;
  using Status = AIMClusterModelSourceStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMClusterModelSource",
      "aimclustermodelsources",
      "aimclustermodelsource",
      "AIMClusterModelSourceList",
      false,
      {"aimclsrc"},
      kAimCategories,
      {{{"Status", "string", ".status.status"},
        {"Models", "integer", ".status.discoveredModels"},
        {"LastSync", "date", ".status.lastSyncTime"},
        {"Age", "date", ".metadata.creationTimestamp"}}},
      "AIMClusterModelSource lists a container registry and creates an AIMClusterModel for "
      "every image that matches its filters (existing models are never deleted)."};
};

using AIMClusterModelSource = Resource<AIMClusterModelSourceTag>;

}  // namespace aim::api
