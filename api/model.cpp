#include "api/model.h"

namespace aim::api {

void ModelDiscovery::describe(Fields<ModelDiscovery>& f) {
  f.doc("Per-model discovery switches; absent means the defaults.");
  f.field("extractMetadata", &ModelDiscovery::extract_metadata,
          "Connect to the registry and read the image labels.")
      .default_value(true);
  f.field("createServiceTemplates", &ModelDiscovery::create_service_templates,
          "Create service templates from the recommended deployments.")
      .default_value(true);
  f.field("createTemplates", &ModelDiscovery::create_templates,
          "Seed spelling of createServiceTemplates; when set it wins over createServiceTemplates "
          "(which the server always defaults to true).")
      .extension("Seed 000 writes `discovery.createTemplates`; accepted as an alias.");
}

void CustomModelSpec::describe(Fields<CustomModelSpec>& f) {
  f.doc("Defaults for custom models (used when modelSources is set).");
  f.field("hardware", &CustomModelSpec::hardware,
          "Hardware inherited by every generated template; needed when modelSources is set "
          "without customTemplates.");
  f.field("type", &CustomModelSpec::type, "Default template type; absent means `unoptimized`.")
      .enums_all_of(kProfileTypeValues);
}

void TemplateProfile::describe(Fields<TemplateProfile>& f) {
  f.doc("Selection knobs of a custom template.");
  f.field("metric", &TemplateProfile::metric, "Copied to the generated template's spec.metric.")
      .enums_all_of(kMetricValues);
  f.field("precision", &TemplateProfile::precision,
          "Copied to the generated template's spec.precision.")
      .enums_all_of(kPrecisionValues);
}

void CustomTemplate::describe(Fields<CustomTemplate>& f) {
  f.doc("A template created without a discovery job.");
  f.field("name", &CustomTemplate::name,
          "Short alias; part of the generated template name and its "
          "`aim.eai.amd.com/template.alias` label.")
      .max_length(63);
  f.field("type", &CustomTemplate::type, "Optimisation class of the template.")
      .default_value("unoptimized")
      .enums_all_of(kProfileTypeValues);
  f.field("env", &CustomTemplate::env, "Environment of this template; merged over spec.env.")
      .list_map({"name"})
      .max_items(64);
  f.field("hardware", &CustomTemplate::hardware,
          "Hardware of this template; merged field by field over custom.hardware.");
  f.field("profile", &CustomTemplate::profile, "");
}

void AIMModelSpec::describe(Fields<AIMModelSpec>& f) {
  f.doc("Desired state of a model.");
  // The reference's rule, kept as it is although it passes a custom model without any hardware
  // when customTemplates is absent: seed 000 shows exactly that manifest (image plus one
  // modelSources entry) as valid, and the seeds win. Its templates then carry no hardware.
  f.cel(
      "!has(self.modelSources) || size(self.modelSources) == 0 || (has(self.custom) && "
      "has(self.custom.hardware)) || !has(self.customTemplates) || size(self.customTemplates) "
      "== 0 || self.customTemplates.all(t, has(t.hardware) || (has(self.custom) && "
      "has(self.custom.hardware)))",
      "when using modelSources, hardware must be specified: set custom.hardware (inherited by "
      "all templates) or set hardware on each template individually");
  image_reference(f.field("image", &AIMModelSpec::image,
                          "AIM container image; the operator reads its labels to learn the model "
                          "metadata and recommended deployments. Also the inference image.")
                      .required()
                      .min_length(1),
                  "image");
  f.field("discovery", &AIMModelSpec::discovery, "");
  f.field("defaultServiceTemplate", &AIMModelSpec::default_service_template,
          "Template used by services of this model that name no template.");
  f.field("custom", &AIMModelSpec::custom, "");
  f.field("customTemplates", &AIMModelSpec::custom_templates,
          "Templates created without a discovery job; for image models they are added to the "
          "discovered ones.")
      .max_items(16);
  f.field("modelSources", &AIMModelSpec::model_sources,
          "Inline model artifacts; non-empty makes this a custom model (status.sourceType "
          "Custom).")
      .max_items(1);
  describe_runtime_config_ref(f);
  describe_image_pull_secrets(f,
                              "Registry credentials for label extraction and inference pods; "
                              "for AIMClusterModel they must live in the operator namespace.");
  describe_env(f, "Environment (e.g. a Hugging Face token) for discovery and metadata work.");
  f.field("serviceAccountName", &AIMModelSpec::service_account_name,
          "Service account of model-related jobs; empty means the namespace default.");
  f.field("resources", &AIMModelSpec::resources,
          "Default container resources for services of this model.");
  f.field("imageMetadata", &AIMModelSpec::image_metadata,
          "User-supplied metadata (air-gapped use): no registry access is attempted and the "
          "value is copied to status.imageMetadata.");
}

void AIMModelStatus::describe(Fields<AIMModelStatus>& f) {
  f.doc("Observed state of a model.");
  f.field("observedGeneration", &AIMModelStatus::observed_generation, "Last generation processed.");
  f.field("status", &AIMModelStatus::status, "Aggregate state (worst component).")
      .default_value("Pending")
      .enums({"Pending", "Progressing", "Ready", "Degraded", "Failed", "NotAvailable"});
  f.field("conditions", &AIMModelStatus::conditions, "Current conditions.").list_map({"type"});
  f.field("resolvedRuntimeConfig", &AIMModelStatus::resolved_runtime_config,
          "Runtime config used.");
  f.field("imageMetadata", &AIMModelStatus::image_metadata,
          "Extracted (or spec-provided) image metadata.");
  f.field("sourceType", &AIMModelStatus::source_type,
          "`Custom` when spec.modelSources is non-empty, else `Image`.")
      .enums({"Image", "Custom"});
}

}  // namespace aim::api
