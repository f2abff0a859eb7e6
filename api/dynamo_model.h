// DynamoModel (nvidia.com/v1alpha1, namespaced): the model-artifact resource of seed 003, served
// as written and mapped by the operator onto an AIMArtifact. Its CRD is optional
// (deploy/crds-optional/), installed only when the feature is enabled.
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct DynamoModelPvc {
  std::optional<bool> create;
  std::optional<std::string> name;
  std::optional<std::string> storage_class;
  std::optional<Quantity> size;
  std::optional<std::string> volume_access_mode;
  Json extra;
  static void describe(Fields<DynamoModelPvc>& f);
};

struct DynamoModelSpec {
  std::string name;
  std::optional<std::string> version;
  std::string source_url;
  std::optional<std::string> secret_ref;
  std::optional<std::string> downloader_ref;
  DynamoModelPvc pvc;
  Json extra;
  static void describe(Fields<DynamoModelSpec>& f);
};

struct DynamoModelStatus {
  std::optional<std::string> state;
  std::vector<Condition> conditions;
  std::optional<std::string> pvc_name;
  std::optional<std::string> download_job_name;
  std::optional<std::string> last_download_time;
  Json extra;
  static void describe(Fields<DynamoModelStatus>& f);
};

struct DynamoModelTag {
  using Spec = DynamoModelSpec;
  using Status = DynamoModelStatus;
  static constexpr KindInfo info = {
      "nvidia.com",
      "v1alpha1",
      "DynamoModel",
      "dynamomodels",
      "dynamomodel",
      "DynamoModelList",
      true,
      {},
      {},
      {{{"State", "string", ".status.state"},
        {"Model", "string", ".spec.name"},
        {"Version", "string", ".spec.version"},
        {"PVC", "string", ".status.pvcName"},
        {"Age", "date", ".metadata.creationTimestamp"}}},
      "DynamoModel pins a model artifact (name, version, source) to a PVC so that every "
      "deployment and benchmark referencing it uses identical files. aim-engine serves it by "
      "mapping it onto an AIMArtifact.",
      "Served from the DynamoModel design (seed 003); its CRD is optional.",
      true};
};

using DynamoModel = Resource<DynamoModelTag>;

}  // namespace aim::api
