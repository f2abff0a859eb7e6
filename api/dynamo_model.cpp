#include "api/dynamo_model.h"

#include "api/artifact.h"

namespace aim::api {

void DynamoModelPvc::describe(Fields<DynamoModelPvc>& f) {
  f.doc("PVC configuration for the model storage.");
  f.cel("(has(self.create) && !self.create) || (has(self.storageClass) && has(self.size))",
        "storageClass and size are required when create is true");
  f.cel("has(self.create) && !self.create ? has(self.name) : true",
        "name is required when create is false");
  f.field("create", &DynamoModelPvc::create, "Whether to create a new PVC.").default_value(true);
  f.field("name", &DynamoModelPvc::name, "Name of the PVC; defaults to the model name.");
  f.field("storageClass", &DynamoModelPvc::storage_class,
          "Storage class of the created PVC (required when create is true).");
  quantity_bounds(
      f.field("size", &DynamoModelPvc::size, "Size of the volume (required when create is true)."),
      "size", kMaxModelSize);
  f.field("volumeAccessMode", &DynamoModelPvc::volume_access_mode, "Volume access mode.")
      .default_value("ReadWriteMany")
      .enums({"ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany", "ReadWriteOncePod"});
}

void DynamoModelSpec::describe(Fields<DynamoModelSpec>& f) {
  f.doc("Desired state of a DynamoModel.");
  f.field("name", &DynamoModelSpec::name,
          "Canonical model name, e.g. `meta-llama/Llama-3.3-70B-Instruct`.")
      .required()
      .min_length(1);
  f.field("version", &DynamoModelSpec::version,
          "Version pin (commit SHA or tag) that prevents drift.");
  uri_segment_rules(f.field("sourceURL", &DynamoModelSpec::source_url,
                            "Source location: `hf://`, `s3://`, `ngc://`, `https://` or a custom "
                            "downloader's scheme."))
      .required()
      .pattern(std::string(kArtifactSourceUriPattern));
  f.field("secretRef", &DynamoModelSpec::secret_ref, "Secret with credentials for the source.");
  f.field("downloaderRef", &DynamoModelSpec::downloader_ref,
          "Custom downloader (an AIMClusterArtifactDownloader name).");
  f.field("pvc", &DynamoModelSpec::pvc, "").required();
}

void DynamoModelStatus::describe(Fields<DynamoModelStatus>& f) {
  f.doc("Observed state of a DynamoModel.");
  f.field("state", &DynamoModelStatus::state, "Lifecycle state.")
      .enums({"Pending", "Downloading", "Ready", "Failed"});
  f.field("conditions", &DynamoModelStatus::conditions, "Detailed status conditions.")
      .list_map({"type"});
  f.field("pvcName", &DynamoModelStatus::pvc_name, "Name of the created or used PVC.");
  f.field("downloadJobName", &DynamoModelStatus::download_job_name, "Name of the download Job.");
  f.field("lastDownloadTime", &DynamoModelStatus::last_download_time,
          "Time of the last successful download.")
      .format("date-time");
}

}  // namespace aim::api
