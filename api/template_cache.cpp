#include "api/template_cache.h"

namespace aim::api {

void AIMTemplateCacheSpec::describe(Fields<AIMTemplateCacheSpec>& f) {
  f.doc("Desired state of a template cache.");
  f.field("templateName", &AIMTemplateCacheSpec::template_name,
          "Name of the template to cache, interpreted per templateScope.")
      .required()
      .min_length(1);
  f.field("templateScope", &AIMTemplateCacheSpec::template_scope,
          "`Cluster`: only AIMClusterServiceTemplate; `Namespace`: only AIMServiceTemplate in "
          "this namespace; `Unknown`: namespaced first, cluster as fallback.")
      .required()
      .enums({"Namespace", "Cluster", "Unknown"});
  describe_env(f, "Download credentials; merged under each source's own env.");
  describe_image_pull_secrets(f, "Secrets for the downloader images.");
  f.field("storageClassName", &AIMTemplateCacheSpec::storage_class_name,
          "Storage class of artifact PVCs; empty uses the runtime-config or cluster default.");
  image_reference(
      f.field("downloadImage", &AIMTemplateCacheSpec::download_image, "Downloader image override."),
      "downloadImage");
  f.field("modelSources", &AIMTemplateCacheSpec::model_sources,
          "Sources to cache (normally copied from the template).")
      .max_items(kMaxModelSources);
  describe_runtime_config_ref(f);
  f.field("mode", &AIMTemplateCacheSpec::mode,
          "`Dedicated`: artifacts are owned by this cache; `Shared`: artifacts have no owner.")
      .default_value("Shared")
      .enums({"Dedicated", "Shared"});
}

void ResolvedArtifact::describe(Fields<ResolvedArtifact>& f) {
  f.doc("An artifact of the cache.");
  f.field("uid", &ResolvedArtifact::uid, "Artifact UID.").required();
  f.field("name", &ResolvedArtifact::name, "Artifact name.").required();
  f.field("model", &ResolvedArtifact::model, "modelId of the cached source.").required();
  f.field("status", &ResolvedArtifact::status, "The artifact's status.status.").required();
  f.field("persistentVolumeClaim", &ResolvedArtifact::persistent_volume_claim, "PVC name.");
  f.field("mountPoint", &ResolvedArtifact::mount_point, "Mount point.");
}

void AIMTemplateCacheStatus::describe(Fields<AIMTemplateCacheStatus>& f) {
  f.doc("Observed state of a template cache.");
  f.field("observedGeneration", &AIMTemplateCacheStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMTemplateCacheStatus::conditions, "Current conditions.")
      .list_map({"type"});
  f.field("resolvedRuntimeConfig", &AIMTemplateCacheStatus::resolved_runtime_config,
          "Runtime config used.");
  f.field("status", &AIMTemplateCacheStatus::status, "Aggregate state.")
      .default_value("Pending")
      .enums({"Pending", "Progressing", "Ready", "Failed", "Degraded", "NotAvailable"});
  f.field("resolvedTemplateKind", &AIMTemplateCacheStatus::resolved_template_kind,
          "`AIMServiceTemplate` or `AIMClusterServiceTemplate`.");
  f.field("artifacts", &AIMTemplateCacheStatus::artifacts, "Artifacts keyed by AIMArtifact name.");
}

}  // namespace aim::api
