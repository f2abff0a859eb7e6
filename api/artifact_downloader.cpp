#include "api/artifact_downloader.h"

namespace aim::api {

void AIMClusterArtifactDownloaderSpec::describe(Fields<AIMClusterArtifactDownloaderSpec>& f) {
  f.doc(
      "Desired state of a custom downloader. The container receives the artifact's sourceUri "
      "in `AIM_SOURCE_URI`, the pinned revision in `AIM_REVISION` and the target directory in "
      "`AIM_TARGET_DIR` (also as its last two arguments), the artifact's include / exclude "
      "patterns in `AIM_INCLUDE` / `AIM_EXCLUDE` (one glob per line, absent when none), and "
      "must exit 0 once the files are in place.");
  image_reference(
      f.field("image", &AIMClusterArtifactDownloaderSpec::image, "Downloader container image.")
          .required()
          .min_length(1),
      "image");
  f.field("command", &AIMClusterArtifactDownloaderSpec::command,
          "Entrypoint; absent uses the image's.");
  f.field("args", &AIMClusterArtifactDownloaderSpec::args, "Arguments to the entrypoint.");
  describe_env(f, "Extra environment of the downloader container.");
  f.field("schemes", &AIMClusterArtifactDownloaderSpec::schemes,
          "URI schemes served, without `://` (e.g. `mlflow`, `custom`).")
      .list_type("set");
  f.field("prefixes", &AIMClusterArtifactDownloaderSpec::prefixes,
          "URI prefixes served (e.g. `s3://internal-bucket/`); the longest match wins over a "
          "scheme match.")
      .list_type("set");
  describe_image_pull_secrets(f, "Secrets for the downloader image, in the artifact's namespace.");
  f.field("resources", &AIMClusterArtifactDownloaderSpec::resources,
          "Resources of the downloader container.");
}

void AIMClusterArtifactDownloaderStatus::describe(Fields<AIMClusterArtifactDownloaderStatus>& f) {
  f.doc("Observed state of a custom downloader.");
  f.field("observedGeneration", &AIMClusterArtifactDownloaderStatus::observed_generation,
          "Last generation processed.");
  f.field("conditions", &AIMClusterArtifactDownloaderStatus::conditions, "Current conditions.")
      .list_map({"type"});
}

}  // namespace aim::api
