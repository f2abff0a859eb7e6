// Image labels -> the AIM image metadata of AIMModel `status.imageMetadata` (behavior.md §4.1,
// api.md §3.6, seed 000). Pure.
//
// AMD keys are read with the prefix `com.amd.aim.`, then the legacy `org.amd.silogen.`, then
// (extension, seed 000) the `aim.eai.amd.com/` spelling:
// `aim.eai.amd.com/model.recommended-deployments`, `aim.eai.amd.com/model.name` (the canonical
// name) and `aim.eai.amd.com/model.family` (stored as `model.family`, an additive field). OCI
// labels `org.opencontainers.image.*` fill `oci`. `model` and `oci` are always present;
// `originalLabels` holds every label.
//
// recommendedDeployments: trimmed, every `'` replaced by `"`, wrapped in `[...]` unless it starts
// with `[`, then decoded like Go's encoding/json into
// [{gpuModel, gpuCount (int32), precision, metric, profileId, description}]. A malformed value
// fails the whole extraction.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace aim::registry {

Result<nlohmann::json, std::string> image_metadata_from_labels(
    const std::map<std::string, std::string>& labels);

// Just the recommendedDeployments rule above (exposed for tests and for spec-provided text).
Result<nlohmann::json, std::string> parse_recommended_deployments(std::string_view text);

}  // namespace aim::registry
