// Reading back a discovery Job (behavior.md §4.2): the pod log of `dry-run --format=json`, a
// JSON array of results possibly surrounded by other output. The whole log is tried first; then,
// as the reference does, the text between the last ']' and each '[' to its left, rightmost
// first, until a non-empty array of result objects parses; failing that (extension), arrays
// that start a line, closed by one of the last ']' (so trailing noise such as "done [ok]" does
// not hide the output). Only the first result is used.
//
// Unlike the reference, an empty array and a result without model sources are errors with a
// clear message (spec README §4: such a discovery must not make a Ready template).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/gpu.h"

namespace aim::engine {

struct DiscoveredModelSource {
  std::string model_id;         // "name"
  std::string source_uri;       // "source"
  std::int64_t size_bytes = 0;  // int64(size_gb * 1024^3)
};

struct DiscoveryOutput {
  // status.profile: {engine_args?, env_vars?, metadata: {engine?, gpu?, gpuCount?, metric?,
  // precision?, type?}}; metadata is always present.
  nlohmann::json profile;
  std::vector<DiscoveredModelSource> model_sources;
  DiscoveredGpu gpu;  // profile.metadata.{gpu_count, gpu}

  // status.modelSources: [{modelId, sourceUri, size}] with size as a binary-SI quantity.
  nlohmann::json model_sources_json() const;
};

Result<DiscoveryOutput, std::string> parse_discovery_output(std::string_view log);

// A byte count the way Kubernetes prints a BinarySI quantity: the largest exact binary suffix
// (17179869184 -> "16Gi", 2097152 -> "2Mi"), else the plain number.
std::string binary_si_quantity(std::int64_t bytes);

}  // namespace aim::engine
