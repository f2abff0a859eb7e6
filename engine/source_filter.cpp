#include "engine/source_filter.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "engine/semver.h"
#include "engine/service_names.h"
#include "registry/reference.h"

namespace aim::engine {
namespace {

constexpr std::string_view kDockerIo = "docker.io";
constexpr std::int64_t kDefaultMaxModels = 100;

std::vector<std::string_view> split_star(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find('*', start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string first_segment_without_stars(std::string_view pattern) {
  std::string_view first = pattern.substr(0, pattern.find('/'));
  while (!first.empty() && first.back() == '*') first.remove_suffix(1);
  return std::string(first);
}

}  // namespace

ParsedImageFilter parse_image_filter(std::string_view filter) {
  ParsedImageFilter p;
  p.has_wildcard = filter.find('*') != std::string_view::npos;
  if (p.has_wildcard) {
    auto slash = filter.find('/');
    if (slash != std::string_view::npos && slash > 0 &&
        filter.substr(0, slash).find('.') != std::string_view::npos) {
      p.registry = std::string(filter.substr(0, slash));
      p.repository = std::string(filter.substr(slash + 1));
      return p;
    }
    p.repository = std::string(filter);
    return p;
  }
  auto ref = registry::parse_reference(filter);
  if (!ref) {
    p.repository = std::string(filter);
    return p;
  }
  if (ref->registry != registry::kDockerHubRegistry && ref->registry != kDockerIo) {
    p.registry = ref->registry;
  }
  p.repository = ref->repository;
  if (!p.registry.empty() && p.repository.rfind(p.registry + "/", 0) == 0) {
    p.repository.erase(0, p.registry.size() + 1);
  }
  // The reference keeps the tag whenever the string contains ':' at all, so a registry port
  // ("host:5000/repo") turned into an implicit ":latest"; only a ':' in the last segment counts.
  std::string_view last_segment =
      filter.substr(filter.rfind('/') == std::string_view::npos ? 0 : filter.rfind('/') + 1);
  if (ref->digest.empty() && last_segment.find(':') != std::string_view::npos) p.tag = ref->tag;
  return p;
}

bool wildcard_match(std::string_view pattern, std::string_view s) {
  auto parts = split_star(pattern);
  if (parts.size() == 1) return pattern == s;
  if (s.substr(0, parts.front().size()) != parts.front()) return false;
  s.remove_prefix(parts.front().size());
  const auto& last = parts.back();
  if (s.size() < last.size() || s.substr(s.size() - last.size()) != last) return false;
  s.remove_suffix(last.size());
  for (std::size_t i = 1; i + 1 < parts.size(); ++i) {
    auto idx = s.find(parts[i]);
    if (idx == std::string_view::npos) return false;
    s.remove_prefix(idx + parts[i].size());
  }
  return true;
}

std::string normalize_semver_constraint(std::string_view constraint) {
  for (std::size_t i = 0; i < constraint.size(); ++i) {
    if (constraint[i] >= '0' && constraint[i] <= '9') {
      std::string op(constraint.substr(0, i));
      std::string version(constraint.substr(i));
      while (!version.empty() && std::isspace(static_cast<unsigned char>(version.back())))
        version.pop_back();
      std::size_t dots = 0;
      for (char c : version) dots += c == '.' ? 1 : 0;
      if (dots == 1) version += ".0";
      return op + version;
    }
  }
  return std::string(constraint);
}

bool tag_satisfies(std::string_view tag, const std::vector<std::string>& constraints) {
  if (!tag.empty() && tag.front() == 'v') tag.remove_prefix(1);
  auto version = parse_semver(tag);
  if (!version) return false;
  for (const auto& c : constraints) {
    auto range = parse_semver_range(normalize_semver_constraint(c));
    if (!range) continue;  // an unparsable constraint is skipped, as in the reference
    if (!(*range)(*version)) return false;
  }
  return true;
}

bool filter_matches(const RegistryImage& image, const ModelSourceFilter& filter,
                    const std::vector<std::string>& global_versions) {
  ParsedImageFilter p = parse_image_filter(filter.image);
  if (!p.registry.empty() && p.registry != image.registry) return false;
  if (!wildcard_match(p.repository, image.repository)) return false;
  for (const auto& ex : filter.exclude) {
    if (image.repository == ex) return false;
  }
  if (!p.tag.empty()) return image.tag == p.tag;
  const auto& constraints = filter.versions.empty() ? global_versions : filter.versions;
  if (!constraints.empty()) return tag_satisfies(image.tag, constraints);
  return true;
}

bool is_docker_hub_registry(std::string_view registry) {
  return registry.empty() || registry == kDockerIo || registry == registry::kDockerHubRegistry ||
         registry.find("hub.docker.com") != std::string_view::npos;
}

FilterPlan plan_filter(const ModelSourceFilter& filter, std::string_view spec_registry) {
  ParsedImageFilter p = parse_image_filter(filter.image);
  FilterPlan plan;
  plan.registry = !p.registry.empty()      ? p.registry
                  : !spec_registry.empty() ? std::string(spec_registry)
                                           : std::string(kDockerIo);
  plan.repository = p.repository;
  if (!p.has_wildcard && !p.tag.empty()) {
    plan.strategy = FilterStrategy::kStatic;
    plan.tag = p.tag;
  } else if (!p.has_wildcard) {
    plan.strategy = FilterStrategy::kTagList;
    plan.tag_list_repository = is_docker_hub_registry(plan.registry)
                                   ? plan.repository
                                   : plan.registry + "/" + plan.repository;
  } else {
    plan.strategy = FilterStrategy::kWildcard;
    if (is_docker_hub_registry(plan.registry) || plan.registry == "ghcr.io") {
      plan.list_namespace = first_segment_without_stars(plan.repository);
      if (plan.registry == "ghcr.io" && plan.list_namespace.find('.') != std::string::npos) {
        plan.list_namespace.clear();
      }
    }
  }
  return plan;
}

std::string image_uri(const RegistryImage& image) {
  if (image.registry.empty() || image.registry == kDockerIo)
    return image.repository + ":" + image.tag;
  return image.registry + "/" + image.repository + ":" + image.tag;
}

std::string cluster_model_name(const RegistryImage& image) {
  return service_names::derived_name(
      {image.repository, image.tag},
      {nlohmann::json(image.registry), nlohmann::json(image.repository), nlohmann::json(image.tag)},
      6, 63);
}

ModelSourceComposition compose_source_models(
    const std::vector<std::vector<RegistryImage>>& per_filter,
    const std::set<std::string>& existing_image_uris, std::optional<std::int64_t> max_models) {
  ModelSourceComposition c;
  const std::int64_t limit = max_models.value_or(kDefaultMaxModels);
  const auto existing = static_cast<std::int64_t>(existing_image_uris.size());
  for (const auto& images : per_filter) {
    for (const auto& img : images) {
      ++c.available;
      if (existing_image_uris.count(image_uri(img)) > 0) continue;
      if (existing + static_cast<std::int64_t>(c.to_create.size()) < limit)
        c.to_create.push_back(img);
    }
  }
  c.discovered = existing + static_cast<std::int64_t>(c.to_create.size());
  c.limit_reached = c.available > c.discovered;
  return c;
}

SourceCondition filters_health(std::size_t filters, std::size_t failed) {
  if (filters == 0) return {"Progressing", "NoFilters", "No filters configured"};
  if (failed == 0) {
    return {"Ready", "AllFiltersSucceeded",
            "All " + std::to_string(filters) + " filters succeeded"};
  }
  if (failed < filters) {
    return {"Degraded", "SomeFiltersFailed",
            std::to_string(failed) + " of " + std::to_string(filters) + " filters had errors"};
  }
  return {"Failed", "AllFiltersFailed", "All " + std::to_string(filters) + " filters failed"};
}

SourceCondition max_models_condition(const ModelSourceComposition& c) {
  if (c.limit_reached) {
    return {"True", "LimitReached",
            "Limit reached: " + std::to_string(c.discovered) + " created, " +
                std::to_string(c.available) + " available"};
  }
  return {"False", "WithinLimit",
          "Created " + std::to_string(c.discovered) + " models, within limit"};
}

}  // namespace aim::engine
