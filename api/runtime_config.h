// AIMRuntimeConfig (namespaced) and AIMClusterRuntimeConfig (cluster-scoped): defaults for
// models, templates, services and caches (api.md §4.6). Both share one spec and status.
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

// AIMRuntimeConfigCommon: AIMServiceRuntimeConfig (storage, routing, env) plus model defaults,
// label propagation and two deprecated aliases.
struct AIMRuntimeConfigSpec {
  std::optional<StorageConfig> storage;
  std::optional<RoutingConfig> routing;
  std::optional<EnvList> env;
  std::optional<ModelConfig> model;
  std::optional<LabelPropagation> label_propagation;
  std::optional<std::string> default_storage_class_name;
  std::optional<int32_t> pvc_headroom_percent;
  Json extra;
  static void describe(Fields<AIMRuntimeConfigSpec>& f);
};

struct AIMRuntimeConfigStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  Json extra;
  static void describe(Fields<AIMRuntimeConfigStatus>& f);
};

struct AIMRuntimeConfigTag {
  using Spec = AIMRuntimeConfigSpec;
  using Status = AIMRuntimeConfigStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMRuntimeConfig",
      "aimruntimeconfigs",
      "aimruntimeconfig",
      "AIMRuntimeConfigList",
      true,
      {"aimrc"},
      kAimCategories,
      {},
      "AIMRuntimeConfig holds namespace defaults (storage, routing, environment, label "
      "propagation) for AIM objects that name it; it is merged over the AIMClusterRuntimeConfig "
      "of the same name."};
};

struct AIMClusterRuntimeConfigTag {
  using Spec = AIMRuntimeConfigSpec;
  using Status = AIMRuntimeConfigStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMClusterRuntimeConfig",
      "aimclusterruntimeconfigs",
      "aimclusterruntimeconfig",
      "AIMClusterRuntimeConfigList",
      false,
      {"aimclrc"},
      kAimCategories,
      {},
      "AIMClusterRuntimeConfig holds cluster-wide defaults (storage, routing, environment, "
      "model discovery, label propagation) for AIM objects that name it."};
};

using AIMRuntimeConfig = Resource<AIMRuntimeConfigTag>;
using AIMClusterRuntimeConfig = Resource<AIMClusterRuntimeConfigTag>;

}  // namespace aim::api
