#include "api/model_source.h"

namespace aim::api {

void ModelSourceFilter::describe(Fields<ModelSourceFilter>& f) {
  f.doc("An image selector; filters are ORed.");
  f.field("image", &ModelSourceFilter::image,
          "`org/repo*` (wildcard), `org/repo:tag` (exact tag, overrides versions), or a full "
          "URI `ghcr.io/org/repo:tag` / `ghcr.io/org/repo*` (overrides the registry).")
      .required()
      .max_length(512);
  f.field("exclude", &ModelSourceFilter::exclude,
          "Repositories to leave out (compared with the repository path only).");
  f.field("versions", &ModelSourceFilter::versions,
          "Semver constraints for this filter; override the global versions.");
}

void AIMClusterModelSourceSpec::describe(Fields<AIMClusterModelSourceSpec>& f) {
  f.doc("Desired state of a model source.");
  f.field("registry", &AIMClusterModelSourceSpec::registry,
          "Registry host (`docker.io`, `ghcr.io`, ...).")
      .default_value("docker.io");
  describe_image_pull_secrets(f,
                              "Registry credentials in the operator namespace; copied to the "
                              "created models.");
  f.field("filters", &AIMClusterModelSourceSpec::filters, "Image selectors, ORed.")
      .required()
      .min_items(1)
      .max_items(100);
  f.field("syncInterval", &AIMClusterModelSourceSpec::sync_interval,
          "Resync period as a duration (at least `15m` recommended).")
      .default_value("1h")
      .pattern(std::string(kDurationPattern));
  f.field("versions", &AIMClusterModelSourceSpec::versions,
          "Global semver constraints, e.g. `>=1.0.0`, `~1.2.0`, `^1.0.0`.");
  f.field("maxModels", &AIMClusterModelSourceSpec::max_models,
          "Cap on the AIMClusterModels created.")
      .default_value(100)
      .minimum(1)
      .maximum(10000)
      .format("");
}

void AIMClusterModelSourceStatus::describe(Fields<AIMClusterModelSourceStatus>& f) {
  f.doc("Observed state of a model source.");
  f.field("status", &AIMClusterModelSourceStatus::status, "Aggregate state.")
      .enums({"Pending", "Starting", "Progressing", "Ready", "Running", "Degraded", "NotAvailable",
              "Failed"});
  f.field("lastSyncTime", &AIMClusterModelSourceStatus::last_sync_time, "Last registry sync.")
      .format("date-time");
  f.field("discoveredModels", &AIMClusterModelSourceStatus::discovered_models,
          "AIMClusterModels managed by this source.")
      .format("");
  f.field("availableModels", &AIMClusterModelSourceStatus::available_models,
          "Registry images matching the filters.")
      .format("");
  f.field("modelsLimitReached", &AIMClusterModelSourceStatus::models_limit_reached,
          "More images match than maxModels allows.");
  f.field("conditions", &AIMClusterModelSourceStatus::conditions, "Current conditions.")
      .list_map({"type"});
  f.field("observedGeneration", &AIMClusterModelSourceStatus::observed_generation,
          "Last generation processed.");
}

}  // namespace aim::api
