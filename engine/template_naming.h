// Names the model catalog gives to the objects it generates, reproduced byte for byte from the
// reference (behavior.md §4.2, §4.6, §4.7, §4.11; api.md §9): templates created from an image's
// recommended deployments, templates of custom models, discovery Jobs (with their own
// truncate-and-hash scheme), the discovery spec hash of the circuit breaker, and the models an
// AIMClusterModelSource creates. All rest on service_names::derived_name, the one
// implementation of the reference's derived-name algorithm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aim::engine {

// One entry of an image's `recommendedDeployments` label (api.md §3.6).
struct RecommendedDeployment {
  std::string gpu_model;
  std::int64_t gpu_count = 0;
  std::string precision;
  std::string metric;
  std::string profile_id;
  std::string description;
};

// `latency` -> `lat`, `throughput` -> `thr`, anything else unchanged.
std::string metric_shorthand(std::string_view metric);

// Template created from a recommended deployment (§4.6): derived-name of
// [model spec.image as written, "<count>x-<gpu>-<lat|thr>-<precision>"] with a 4-character hash
// of "<modelName>-<image>[-<gpu>][-x<count>][-<metric>][-<precision>]".
std::string recommended_template_name(std::string_view model_name, std::string_view image,
                                      const RecommendedDeployment& deployment);

// The parts of a declared custom template that enter its name (§4.7).
struct CustomTemplateNaming {
  std::string name;  // the alias; may be empty
  struct Profile {
    std::string precision;
    std::string metric;
  };
  std::optional<Profile> profile;  // set when the template has a profile block
  struct Gpu {
    std::int64_t requests = 0;
    std::string model;
  };
  std::optional<Gpu> gpu;  // set when the template has hardware.gpu
};

// Template of a custom model (§4.7), 8-character hash. `declared` is null for the single
// auto-generated template of a model without customTemplates (index 0).
std::string custom_template_name(std::string_view model_name, const CustomTemplateNaming* declared,
                                 int index);

// Inputs of the discovery Job name (§4.2). Optional fields mirror the reference's pointers: a
// set-but-empty value hashes like an unset one, but `gpu` adds decimal(requests) when present.
struct DiscoveryJobNaming {
  std::string template_name;
  std::string model_name;                                // template spec.modelName
  std::string image;                                     // the model's spec.image
  std::string service_account;                           // the model's
  std::vector<std::pair<std::string, std::string>> env;  // (name, value); valueFrom is not hashed
  std::vector<std::string> pull_secrets;                 // the model's, by name
  std::string metric;
  std::string precision;
  struct Gpu {
    std::string model;
    std::int64_t requests = 0;
  };
  std::optional<Gpu> gpu;
  std::string profile_id;
};

// "discover-<template name cut to 45 bytes>-<8 hex>"; the hex is the first 4 bytes of SHA-256
// over the plain concatenation of the inputs.
std::string discovery_job_name(const DiscoveryJobNaming& in);

// The circuit breaker's spec hash (§4.2): hex of the first 8 bytes of SHA-256 over modelName +
// image + metric + precision + (gpu.model + decimal(gpu.requests) if gpu is set) + profileId.
std::string discovery_spec_hash(const DiscoveryJobNaming& in);

}  // namespace aim::engine
