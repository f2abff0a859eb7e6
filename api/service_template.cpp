#include "api/service_template.h"

namespace aim::api {

void TemplateCachingConfig::describe(Fields<TemplateCachingConfig>& f) {
  f.doc("Template-level caching.");
  f.field("enabled", &TemplateCachingConfig::enabled, "Pre-cache this template's model sources.")
      .default_value(false);
  f.field("env", &TemplateCachingConfig::env,
          "Environment of the download (auth, proxies); falls back to spec.env.")
      .list_map({"name"});
}

template <class T>
void AIMClusterServiceTemplateSpec::describe_common(Fields<T>& f) {
  f.doc("Desired state of a service template.");
  f.field("modelName", &T::model_name,
          "metadata.name of the AIMModel (namespaced template: same namespace) or "
          "AIMClusterModel (cluster template). Immutable.")
      .required()
      .min_length(1)
      .immutable("model name is immutable");
  describe_runtime_parameters(f);
  describe_runtime_config_ref(f);
  describe_image_pull_secrets(f,
                              "Credentials for the discovery dry-run and inference pods, "
                              "combined with the model's secrets.");
  f.field("serviceAccountName", &T::service_account_name,
          "Service account of discovery jobs and inference pods.");
  f.field("resources", &T::resources, "Default container resources for services of this template.");
  f.field("modelSources", &T::model_sources,
          "Explicit model artifacts; when present discovery is skipped and they are copied to "
          "status.")
      .max_items(kMaxModelSources);
  f.field("profileId", &T::profile_id,
          "Exact AIM profile id passed to discovery and runtime (`AIM_PROFILE_ID`).");
  f.field("type", &T::type,
          "Optimisation level; absent takes it from discovery, set overrides discovery.")
      .enums_all_of(kProfileTypeValues);
  describe_env(f, "Environment of the inference containers.");
}

void AIMClusterServiceTemplateSpec::describe(Fields<AIMClusterServiceTemplateSpec>& f) {
  describe_common(f);
}

void AIMServiceTemplateSpec::describe(Fields<AIMServiceTemplateSpec>& f) {
  AIMClusterServiceTemplateSpec::describe_common(f);
  f.field("caching", &AIMServiceTemplateSpec::caching, "");
}

void AIMServiceTemplateStatus::describe(Fields<AIMServiceTemplateStatus>& f) {
  f.doc("Observed state of a service template.");
  f.field("observedGeneration", &AIMServiceTemplateStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMServiceTemplateStatus::conditions, "Current conditions.")
      .list_map({"type"});
  f.field("resolvedRuntimeConfig", &AIMServiceTemplateStatus::resolved_runtime_config,
          "Runtime config used.");
  f.field("resolvedModel", &AIMServiceTemplateStatus::resolved_model, "The model found.");
  f.field("resolvedCache", &AIMServiceTemplateStatus::resolved_cache, "The template cache used.");
  f.field("resolvedHardware", &AIMServiceTemplateStatus::resolved_hardware,
          "Effective hardware: discovery output over spec over defaults.");
  f.field("resolvedNodeAffinity", &AIMServiceTemplateStatus::resolved_node_affinity,
          "Computed scheduling constraint on `amd.com/gpu.device-id`; absent when there is no "
          "GPU constraint.");
  f.field("hardwareSummary", &AIMServiceTemplateStatus::hardware_summary,
          "Display string, e.g. `2 x MI300X` or `CPU`.");
  f.field("status", &AIMServiceTemplateStatus::status,
          "Aggregate state; `NotAvailable` when the required GPU is absent from the cluster.")
      .default_value("Pending")
      .enums({"Pending", "Progressing", "Ready", "Degraded", "Failed", "NotAvailable"});
  f.field("modelSources", &AIMServiceTemplateStatus::model_sources,
          "Artifacts the template needs (from spec or discovery); what gets cached.")
      .max_items(kMaxModelSources);
  f.field("profile", &AIMServiceTemplateStatus::profile, "Discovered (or spec-built) profile.");
  f.field("discoveryJob", &AIMServiceTemplateStatus::discovery_job, "The discovery Job.");
  f.field("discovery", &AIMServiceTemplateStatus::discovery, "");
}

}  // namespace aim::api
