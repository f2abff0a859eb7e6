// AIMClusterArtifactDownloader (cluster-scoped, extension): a custom downloader for AIMArtifacts,
// in the spirit of KServe's ClusterStorageContainer. An artifact uses it when spec.downloaderRef
// names it, or when its sourceUri matches one of the downloader's schemes or prefixes.
#pragma once

#include "api/common.h"
#include "api/resource.h"

namespace aim::api {

struct AIMClusterArtifactDownloaderSpec {
  std::string image;
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> args;
  std::optional<EnvList> env;
  std::optional<std::vector<std::string>> schemes;
  std::optional<std::vector<std::string>> prefixes;
  std::optional<std::vector<LocalObjectReference>> image_pull_secrets;
  std::optional<ResourceRequirements> resources;
  Json extra;
  static void describe(Fields<AIMClusterArtifactDownloaderSpec>& f);
};

struct AIMClusterArtifactDownloaderStatus {
  std::optional<int64_t> observed_generation;
  std::vector<Condition> conditions;
  Json extra;
  static void describe(Fields<AIMClusterArtifactDownloaderStatus>& f);
};

struct AIMClusterArtifactDownloaderTag {
  using Spec = AIMClusterArtifactDownloaderSpec;
  using Status = AIMClusterArtifactDownloaderStatus;
  static constexpr KindInfo info = {
      kGroup,
      kVersion,
      "AIMClusterArtifactDownloader",
      "aimclusterartifactdownloaders",
      "aimclusterartifactdownloader",
      "AIMClusterArtifactDownloaderList",
      false,
      {"aimcldl"},
      kAimCategories,
      {{{"Image", "string", ".spec.image"},
        {"Schemes", "string", ".spec.schemes"},
        {"Age", "date", ".metadata.creationTimestamp"}}},
      "AIMClusterArtifactDownloader defines a custom downloader container for AIMArtifacts "
      "(e.g. MLflow or an internal registry): the image and command to run and the URI schemes "
      "or prefixes it serves.",
      "A kind of its own, modelled on KServe's ClusterStorageContainer, for the DynamoModel "
      "design's `downloaderRef` (seed 003)."};
};

using AIMClusterArtifactDownloader = Resource<AIMClusterArtifactDownloaderTag>;

}  // namespace aim::api
