#include "api/runtime_config.h"

namespace aim::api {

void AIMRuntimeConfigSpec::describe(Fields<AIMRuntimeConfigSpec>& f) {
  f.doc("Desired state of a runtime config.");
  describe_service_runtime_config(f);
  f.field("model", &AIMRuntimeConfigSpec::model, "");
  f.field("labelPropagation", &AIMRuntimeConfigSpec::label_propagation, "");
  f.field("defaultStorageClassName", &AIMRuntimeConfigSpec::default_storage_class_name,
          "Use storage.defaultStorageClassName (migrated when that is unset).")
      .deprecated();
  f.field("pvcHeadroomPercent", &AIMRuntimeConfigSpec::pvc_headroom_percent,
          "Use storage.pvcHeadroomPercent (migrated when that is unset).")
      .deprecated();
}

void AIMRuntimeConfigStatus::describe(Fields<AIMRuntimeConfigStatus>& f) {
  f.doc("Observed state of a runtime config: whether it resolved and is valid.");
  f.field("observedGeneration", &AIMRuntimeConfigStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMRuntimeConfigStatus::conditions, "Current conditions.")
      .list_map({"type"});
}

}  // namespace aim::api
