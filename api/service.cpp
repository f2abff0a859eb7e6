#include "api/service.h"

namespace aim::api {

void ServiceModelCustom::describe(Fields<ServiceModelCustom>& f) {
  f.doc("An ad-hoc custom model: a matching AIMModel is reused or a namespaced one created.");
  f.cel("size(self.modelSources) >= 1", "at least one model source must be specified");
  image_reference(f.field("baseImage", &ServiceModelCustom::base_image,
                          "AIM base image; becomes the created model's spec.image.")
                      .required(),
                  "baseImage");
  f.field("modelSources", &ServiceModelCustom::model_sources, "Model artifacts.")
      .required()
      .min_items(1)
      .max_items(1);
  f.field("hardware", &ServiceModelCustom::hardware,
          "GPU and CPU needs; becomes custom.hardware of the created model.")
      .required();
}

void ServiceModel::describe(Fields<ServiceModel>& f) {
  f.doc("Which model to deploy; exactly one of name, image or custom. Immutable.");
  f.cel("(has(self.name) ? 1 : 0) + (has(self.image) ? 1 : 0) + (has(self.custom) ? 1 : 0) == 1",
        "exactly one of name, image, or custom must be specified");
  f.field("name", &ServiceModel::name,
          "An existing AIMModel (same namespace, preferred) or AIMClusterModel by name.")
      .min_length(1);
  image_reference(
      f.field("image", &ServiceModel::image,
              "Image URI: the unique AIMModel or AIMClusterModel with this spec.image is used, "
              "otherwise a namespaced AIMModel is created (more than one match is an error).")
          .min_length(1),
      "image");
  f.field("custom", &ServiceModel::custom, "");
}

void ServiceTemplateConfig::describe(Fields<ServiceTemplateConfig>& f) {
  f.doc("Template selection. Immutable after creation.");
  f.field("name", &ServiceTemplateConfig::name,
          "AIMServiceTemplate (same namespace, preferred) or AIMClusterServiceTemplate; absent "
          "selects automatically among the model's templates.");
  f.field("allowUnoptimized", &ServiceTemplateConfig::allow_unoptimized,
          "Let automatic selection choose `unoptimized` and `preview` templates.");
}

void ServiceCachingConfig::describe(Fields<ServiceCachingConfig>& f) {
  f.doc("Caching policy. Immutable after creation.");
  f.field("mode", &ServiceCachingConfig::mode,
          "`Shared`: reuse or create a shared AIMTemplateCache; `Dedicated`: a service-owned "
          "cache. `Always`: wait for the cache before deploying; `Auto`: deploy at once and use "
          "the cache when it is ready; `Never`: no cache, a service-owned PVC.")
      .default_value("Shared")
      .enums({"Dedicated", "Shared", "Auto", "Always", "Never"});
}

void GpuSelector::describe(Fields<GpuSelector>& f) {
  f.doc("GPU constraint on template selection (seed 001).");
  f.field("model", &GpuSelector::model, "GPU model, e.g. `MI300X`.").max_length(64);
  f.field("count", &GpuSelector::count, "GPUs per replica.").minimum(0);
}

void ServiceOverrides::describe(Fields<ServiceOverrides>& f) {
  f.doc(
      "Per-service overrides of template parameters. They filter automatic selection; with an "
      "explicit template a derived template `<template>-ovr-...` is created.");
  describe_runtime_parameters(f);
  f.field("gpuSelector", &ServiceOverrides::gpu_selector,
          "Only templates for this GPU model and count. Immutable: set at creation or never.")
      .immutable("gpuSelector is immutable")
      .extension("Written in seed 001 (`overrides.gpuSelector`); absent from the reference.");
}

void AIMServiceSpec::describe(Fields<AIMServiceSpec>& f) {
  f.doc("Desired state of a service.");
  f.field("model", &AIMServiceSpec::model, "")
      .required()
      .immutable("model selection is immutable after creation");
  f.field("template", &AIMServiceSpec::template_, "")
      .immutable("template selection is immutable after creation");
  f.field("caching", &AIMServiceSpec::caching, "")
      .immutable("caching mode is immutable after creation");
  f.field("cacheModel", &AIMServiceSpec::cache_model,
          "Legacy flag replaced by caching.mode; ignored.")
      .deprecated();
  f.cel("!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
        "minReplicas must not be greater than maxReplicas");
  f.field("replicas", &AIMServiceSpec::replicas,
          "Fixed replica count, used when no autoscaling field is set.")
      .default_value(1)
      .minimum(0);
  f.field("minReplicas", &AIMServiceSpec::min_replicas, "Autoscaling minimum.").minimum(1);
  f.field("maxReplicas", &AIMServiceSpec::max_replicas, "Autoscaling maximum.").minimum(1);
  f.field("autoScaling", &AIMServiceSpec::auto_scaling, "");
  describe_runtime_config_ref(f);
  describe_service_runtime_config(f);
  f.field("resources", &AIMServiceSpec::resources,
          "Container resources; beat template and model defaults.");
  f.field("overrides", &AIMServiceSpec::overrides, "");
  describe_image_pull_secrets(f, "Secrets for pulling AIM images.");
  f.field("serviceAccountName", &AIMServiceSpec::service_account_name,
          "Service account of the inference pods.");
}

void ServiceRoutingStatus::describe(Fields<ServiceRoutingStatus>& f) {
  f.doc("Routing information.");
  f.field("path", &ServiceRoutingStatus::path, "HTTP path prefix of the route.");
}

void ServiceCacheStatus::describe(Fields<ServiceCacheStatus>& f) {
  f.doc("Cache information.");
  f.field("templateCacheRef", &ServiceCacheStatus::template_cache_ref,
          "The AIMTemplateCache in use.");
  f.field("retryAttempts", &ServiceCacheStatus::retry_attempts, "Retry counter for failed caches.")
      .format("");
}

void ServiceRuntimeStatus::describe(Fields<ServiceRuntimeStatus>& f) {
  f.doc("Replica information.");
  f.field("currentReplicas", &ServiceRuntimeStatus::current_replicas, "Current replicas.");
  f.field("desiredReplicas", &ServiceRuntimeStatus::desired_replicas, "Desired replicas.");
  f.field("minReplicas", &ServiceRuntimeStatus::min_replicas, "Minimum replicas.");
  f.field("maxReplicas", &ServiceRuntimeStatus::max_replicas, "Maximum replicas.");
  f.field("replicas", &ServiceRuntimeStatus::replicas,
          "`<current>` when min = max, else `<current>/<desired> (<min>-<max>)`.");
}

void TemplateCandidate::describe(Fields<TemplateCandidate>& f) {
  f.doc("A template considered by automatic selection, and why it won or lost.");
  f.field("name", &TemplateCandidate::name, "Template name.").required();
  f.field("scope", &TemplateCandidate::scope, "`Namespace` or `Cluster`.")
      .enums({"Namespace", "Cluster"});
  f.field("status", &TemplateCandidate::status, "Outcome.")
      .required()
      .enums({"chosen", "rejected"});
  f.field("stage", &TemplateCandidate::stage,
          "Selection stage that rejected the candidate: 1 Ready, 2 optimized, 3 overrides, 4 GPU "
          "in cluster, 5 scope, 6 preference.");
  f.field("reason", &TemplateCandidate::reason, "Why the candidate was rejected (short).");
}

void TemplateSelectionStatus::describe(Fields<TemplateSelectionStatus>& f) {
  f.doc("How automatic template selection decided, candidate by candidate.");
  f.field("outcome", &TemplateSelectionStatus::outcome, "Result of the selection.")
      .required()
      .enums({"Selected", "NoCandidates", "NoneReady", "NoMatch", "Ambiguous"});
  f.field("chosen", &TemplateSelectionStatus::chosen, "The selected template.");
  f.field("chosenScope", &TemplateSelectionStatus::chosen_scope, "Scope of the selected template.")
      .enums({"Namespace", "Cluster"});
  f.field("summary", &TemplateSelectionStatus::summary, "One line for humans.");
  f.field("candidates", &TemplateSelectionStatus::candidates,
          "The candidates, chosen first, then by how far they got (at most 20).");
  f.field("omittedCandidates", &TemplateSelectionStatus::omitted_candidates,
          "Candidates left out of the list to bound the status size.");
}

void AIMServiceStatus::describe(Fields<AIMServiceStatus>& f) {
  f.doc("Observed state of a service.");
  f.field("observedGeneration", &AIMServiceStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMServiceStatus::conditions, "Current conditions.").list_map({"type"});
  f.field("resolvedRuntimeConfig", &AIMServiceStatus::resolved_runtime_config,
          "Runtime config used.");
  f.field("resolvedModel", &AIMServiceStatus::resolved_model, "The model, set once it is Ready.");
  f.field("status", &AIMServiceStatus::status,
          "Lifecycle state (`Progressing` is written as `Starting`, `Ready` as `Running`).")
      .default_value("Pending")
      .enums({"Pending", "Starting", "Running", "Degraded", "Failed", "NotAvailable"})
      .extension(
          "`NotAvailable` is added to the enum (the chosen template's GPU is absent from the "
          "cluster); the reference writes it but its enum rejects it.");
  f.field("routing", &AIMServiceStatus::routing, "");
  f.field("resolvedTemplate", &AIMServiceStatus::resolved_template,
          "The template, set once it is Ready.");
  f.field("cache", &AIMServiceStatus::cache, "");
  f.field("runtime", &AIMServiceStatus::runtime, "");
  f.field("templateSelection", &AIMServiceStatus::template_selection,
          "How automatic template selection chose: every candidate considered, with the stage and "
          "reason it lost.")
      .extension("Explainable template selection (landscape.md §6).");
}

}  // namespace aim::api
