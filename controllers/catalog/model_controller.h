// AIMModel / AIMClusterModel reconcile (behavior.md §3.1). Internal to the catalog group.
#pragma once

#include <string>
#include <vector>

#include "api/model.h"
#include "controllers/catalog/internal.h"

namespace aim::controllers::catalog {

struct ModelScope {
  bool cluster = false;
  kube::ResourceType model_type;
  kube::ResourceType template_type;
  std::string controller;           // "model" / "cluster-model"
  std::string templates_component;  // "ServiceTemplates" / "ClusterServiceTemplates"
  static ModelScope namespaced();
  static ModelScope cluster_scoped();
};

// Reads the image's labels from its registry with the model's pull secrets (operator namespace
// for cluster models). Failures come back as the `ImageMetadata` component.
Result<Json, engine::ComponentHealth> inspect_image_metadata(const Context& ctx,
                                                             const api::AIMModelSpec& spec,
                                                             const std::string& model_namespace,
                                                             bool cluster);

// The templates a model generates from `metadata` (behavior.md §4.6, §4.7), without owner
// references or controller labels.
std::vector<Json> plan_templates(const ModelScope& scope, const api::AIMModel& model,
                                 const std::optional<api::ImageMetadata>& metadata);

kube::ReconcileResult reconcile_model(const Context& ctx, const ModelScope& scope,
                                      const kube::Request& req);

}  // namespace aim::controllers::catalog
