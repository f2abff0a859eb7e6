#include "engine/template_naming.h"

#include <array>
#include <nlohmann/json.hpp>

#include "core/digest.h"
#include "engine/service_names.h"

namespace aim::engine {
namespace {

constexpr std::size_t kNameMax = 63;
constexpr std::string_view kDiscoveryPrefix = "discover-";
constexpr std::size_t kDiscoveryHashHex = 8;

// Lowercase hex of the first `bytes` bytes of SHA-256(data).
std::string sha256_prefix_hex(std::string_view data, std::size_t bytes) {
  return sha256_hex(data).substr(0, bytes * 2);
}

}  // namespace

std::string metric_shorthand(std::string_view metric) {
  if (metric == "latency") return "lat";
  if (metric == "throughput") return "thr";
  return std::string(metric);
}

std::string recommended_template_name(std::string_view model_name, std::string_view image,
                                      const RecommendedDeployment& d) {
  std::vector<std::string> suffix;
  if (d.gpu_count > 0 && !d.gpu_model.empty()) {
    suffix.push_back(std::to_string(d.gpu_count) + "x-" + d.gpu_model);
  } else if (!d.gpu_model.empty()) {
    suffix.push_back(d.gpu_model);
  } else if (d.gpu_count > 0) {
    suffix.push_back("x" + std::to_string(d.gpu_count));
  }
  if (!d.metric.empty()) suffix.push_back(metric_shorthand(d.metric));
  if (!d.precision.empty()) suffix.push_back(d.precision);
  std::string joined;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (i > 0) joined.push_back('-');
    joined += suffix[i];
  }

  std::string hash_input = std::string(model_name) + "-" + std::string(image);
  if (!d.gpu_model.empty()) hash_input += "-" + d.gpu_model;
  if (d.gpu_count > 0) hash_input += "-x" + std::to_string(d.gpu_count);
  if (!d.metric.empty()) hash_input += "-" + d.metric;
  if (!d.precision.empty()) hash_input += "-" + d.precision;

  return service_names::derived_name({std::string(image), joined}, {nlohmann::json(hash_input)}, 4,
                                     kNameMax);
}

std::string custom_template_name(std::string_view model_name, const CustomTemplateNaming* declared,
                                 int index) {
  std::vector<std::string> parts{std::string(model_name), "custom"};
  std::vector<nlohmann::json> hash{nlohmann::json(std::string(model_name)), nlohmann::json(index)};
  if (declared != nullptr) {
    if (!declared->name.empty()) parts.push_back(declared->name);
    if (declared->profile && !declared->profile->precision.empty()) {
      parts.push_back(declared->profile->precision);
    }
    if (declared->gpu && !declared->gpu->model.empty()) parts.push_back(declared->gpu->model);

    hash.emplace_back(declared->name);
    if (declared->profile) {
      hash.emplace_back(declared->profile->precision);
      hash.emplace_back(declared->profile->metric);
    }
    if (declared->gpu) {
      hash.emplace_back(declared->gpu->requests);
      hash.emplace_back(declared->gpu->model);
    }
  }
  return service_names::derived_name(std::move(parts), hash, 8, kNameMax);
}

std::string discovery_job_name(const DiscoveryJobNaming& in) {
  std::string h = in.model_name + in.image + in.service_account;
  for (const auto& [name, value] : in.env) h += name + value;
  for (const auto& secret : in.pull_secrets) h += secret;
  h += in.metric;
  h += in.precision;
  if (in.gpu) h += in.gpu->model + std::to_string(in.gpu->requests);
  h += in.profile_id;

  const std::size_t max_template = kNameMax - kDiscoveryPrefix.size() - 1 - kDiscoveryHashHex;
  std::string tmpl = in.template_name.substr(0, std::min(in.template_name.size(), max_template));
  return std::string(kDiscoveryPrefix) + tmpl + "-" + sha256_prefix_hex(h, kDiscoveryHashHex / 2);
}

std::string discovery_spec_hash(const DiscoveryJobNaming& in) {
  std::string h = in.model_name + in.image + in.metric + in.precision;
  if (in.gpu) h += in.gpu->model + std::to_string(in.gpu->requests);
  h += in.profile_id;
  return sha256_prefix_hex(h, 8);
}

}  // namespace aim::engine
