// AIMClusterModelSource filtering (behavior.md §3.4, §4.11): parsing a filter's `image`
// string, choosing how to list images (static / tag list / wildcard), matching a registry image
// against a filter (wildcard repository patterns, exclusions, exact tags, semver constraints),
// the image URI and AIMClusterModel name of a match, and composing the models to create under
// `maxModels`. Registry access itself is the controller's (through registry/).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace aim::engine {

struct ModelSourceFilter {
  std::string image;
  std::vector<std::string> exclude;
  std::vector<std::string> versions;
};

struct ParsedImageFilter {
  std::string registry;    // empty unless the filter names one (docker.io is dropped)
  std::string repository;  // a pattern when has_wildcard
  std::string tag;         // only when the last path segment names one (fix: a port is no tag)
  bool has_wildcard = false;
};

ParsedImageFilter parse_image_filter(std::string_view filter);

// `*` matches any run of characters ('/' included); without `*` the match is exact.
bool wildcard_match(std::string_view pattern, std::string_view s);

// ">=0.9" -> ">=0.9.0": `.0` appended when the text from the first digit on has exactly one dot.
std::string normalize_semver_constraint(std::string_view constraint);

// The tag (a leading 'v' stripped) must be strict semver and satisfy every parsable constraint.
bool tag_satisfies(std::string_view tag, const std::vector<std::string>& constraints);

struct RegistryImage {
  std::string registry;  // "docker.io" for Docker Hub
  std::string repository;
  std::string tag;
  bool operator==(const RegistryImage&) const = default;
};

bool filter_matches(const RegistryImage& image, const ModelSourceFilter& filter,
                    const std::vector<std::string>& global_versions);

enum class FilterStrategy {
  kStatic,    // a tag and no wildcard: exactly that image, no registry call
  kTagList,   // no wildcard, no tag: list the repository's tags
  kWildcard,  // list repositories (Docker Hub API, GitHub packages, or /v2/_catalog), then tags
};

struct FilterPlan {
  FilterStrategy strategy = FilterStrategy::kStatic;
  std::string registry;    // effective: filter registry, else spec.registry, else docker.io
  std::string repository;  // repository or pattern
  std::string tag;         // kStatic only
  // kWildcard on Docker Hub / ghcr.io: the namespace or org to enumerate (first pattern segment
  // with trailing '*' removed); empty means the filter cannot be listed there.
  std::string list_namespace;
  // The repository to list tags of, as the registry client wants it: "<repo>" for Docker Hub,
  // else "<registry>/<repo>" (kTagList only).
  std::string tag_list_repository;
};

FilterPlan plan_filter(const ModelSourceFilter& filter, std::string_view spec_registry);

bool is_docker_hub_registry(std::string_view registry);  // docker.io, empty, *hub.docker.com*

// "<repository>:<tag>" on Docker Hub, else "<registry>/<repository>:<tag>".
std::string image_uri(const RegistryImage& image);

// derived-name([repository, tag], hash [registry, repository, tag], 6).
std::string cluster_model_name(const RegistryImage& image);

// Compose (behavior.md §3.4): walk every filter's images in order; an image not already a
// model is planned while existing + new < maxModels (default 100). Duplicates across filters
// are not removed (applying twice is idempotent), and each one counts as available.
struct ModelSourceComposition {
  std::vector<RegistryImage> to_create;
  std::int64_t discovered = 0;  // existing + new
  std::int64_t available = 0;   // every filtered image, duplicates included
  bool limit_reached = false;   // available > discovered
};
ModelSourceComposition compose_source_models(
    const std::vector<std::vector<RegistryImage>>& per_filter,
    const std::set<std::string>& existing_image_uris, std::optional<std::int64_t> max_models);

struct SourceCondition {
  std::string state;  // AIM status: Ready, Degraded, Failed, Progressing
  std::string reason;
  std::string message;
};

// The `Filters` component: NoFilters / AllFiltersSucceeded / SomeFiltersFailed / AllFiltersFailed.
SourceCondition filters_health(std::size_t filters, std::size_t failed);

// MaxModelsLimitReached: True/LimitReached or False/WithinLimit (state "True"/"False").
SourceCondition max_models_condition(const ModelSourceComposition& c);

}  // namespace aim::engine
