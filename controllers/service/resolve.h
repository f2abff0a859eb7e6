// Model and template resolution of an AIMService (behavior.md §4.5, §4.8; seed 001), over the
// informer caches: which model the service runs (or which one to create), and which template
// (explicit, derived for overrides, or chosen by the explainable automatic selection).
#pragma once

#include <optional>

#include "controllers/framework.h"
#include "controllers/service/internal.h"
#include "engine/selection.h"
#include "engine/service_status.h"
#include "kube/store.h"

namespace aim::controllers::service {

struct ModelResult {
  engine::ModelObservation obs;
  std::optional<Cached<Model>> object;  // the model found (any status)
  bool cluster = false;                 // an AIMClusterModel
  std::optional<Model> create;          // AIMModel to create (image / custom mode)
};

// spec.model.name: namespace model, then cluster model. spec.model.image: the unique model with
// that image, or one to create; several are an error naming them. spec.model.custom: a namespace
// model with the base image and the same sources, or one to create.
ModelResult resolve_model(const Context& ctx, const Service& svc);

struct TemplateResult {
  engine::TemplateObservation obs;
  std::optional<Cached<Template>> object;  // the template the service runs (Ready or not)
  engine::TemplateScope scope = engine::TemplateScope::Namespace;
  std::optional<engine::TemplateSelection> selection;  // automatic selection ran this time
  bool reused = false;                                 // the previous automatic choice was kept
  Json create_derived;                                 // derived template to create, or null
};

// spec.template.name (with a derived template for overrides), else automatic selection among
// the model's templates. `shared_caching`: the service is not Dedicated (derived templates of
// shared services get caching enabled).
TemplateResult resolve_template(const Context& ctx, const Service& svc, const ModelResult& model,
                                bool shared_caching);

}  // namespace aim::controllers::service
