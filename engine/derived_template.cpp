#include "engine/derived_template.h"

#include <cctype>

#include "engine/service_names.h"

namespace aim::engine {
namespace {

std::string gpu_model_of(const nlohmann::json& hardware) {
  if (!hardware.is_object()) return "";
  auto gpu = hardware.find("gpu");
  if (gpu == hardware.end() || !gpu->is_object()) return "";
  auto m = gpu->find("model");
  return m != gpu->end() && m->is_string() ? m->get<std::string>() : "";
}

int64_t gpu_requests_of(const nlohmann::json& hardware) {
  if (!hardware.is_object()) return 0;
  auto gpu = hardware.find("gpu");
  if (gpu == hardware.end() || !gpu->is_object()) return 0;
  auto r = gpu->find("requests");
  return r != gpu->end() && r->is_number_integer() ? r->get<int64_t>() : 0;
}

bool is_set(const nlohmann::json& v) {
  return !v.is_null() && !(v.is_object() && v.empty());
}

}  // namespace

std::optional<std::string> derived_template_name(const std::string& base_name,
                                                 const TemplateOverrides& overrides) {
  std::vector<std::string> parts;
  std::vector<nlohmann::json> hash;
  std::string gpu = gpu_model_of(overrides.hardware);
  int64_t requests = gpu_requests_of(overrides.hardware);
  if (!gpu.empty()) {
    std::string lowered = gpu;
    for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    parts.push_back(lowered);
    hash.insert(hash.end(), {"gpu", gpu});
  }
  if (requests > 0) {
    parts.push_back(std::to_string(requests) + "gpu");
    hash.insert(hash.end(), {"count", requests});
  }
  if (!overrides.precision.empty()) {
    parts.push_back(overrides.precision);
    hash.insert(hash.end(), {"precision", overrides.precision});
  }
  if (!overrides.metric.empty()) {
    parts.push_back(overrides.metric);
    hash.insert(hash.end(), {"metric", overrides.metric});
  }
  if (parts.empty()) return std::nullopt;
  parts.insert(parts.begin(), {base_name, "ovr"});
  return service_names::derived_name(std::move(parts), hash, 4, 63);
}

bool is_derived_template(const nlohmann::json& labels) {
  if (!labels.is_object()) return false;
  auto it = labels.find(kLabelOrigin);
  return it != labels.end() && it->is_string() && *it == kOriginDerived;
}

std::vector<TemplateRef> explicit_template_lookup(
    const std::string& base_name, const std::optional<TemplateOverrides>& overrides) {
  std::vector<TemplateRef> out;
  if (overrides) {
    if (auto derived = derived_template_name(base_name, *overrides)) {
      out.push_back({*derived, TemplateScope::Namespace});
    }
  }
  out.push_back({base_name, TemplateScope::Namespace});
  out.push_back({base_name, TemplateScope::Cluster});
  return out;
}

std::optional<DerivedTemplate> derive_template(const DerivedTemplateInput& in) {
  auto name = derived_template_name(in.base_name, in.overrides);
  if (!name) return std::nullopt;
  nlohmann::json spec = in.base_spec.is_object() ? in.base_spec : nlohmann::json::object();

  if (!spec.contains("modelName") || !spec["modelName"].is_string() ||
      spec["modelName"].get<std::string>().empty()) {
    spec["modelName"] = in.resolved_model_name;
  }
  std::string rc = in.service_runtime_config_name;
  if (rc.empty() && spec.contains("runtimeConfigName") && spec["runtimeConfigName"].is_string()) {
    rc = spec["runtimeConfigName"].get<std::string>();
  }
  spec["runtimeConfigName"] = rc.empty() ? "default" : rc;

  if (!in.overrides.metric.empty()) spec["metric"] = in.overrides.metric;
  if (!in.overrides.precision.empty()) spec["precision"] = in.overrides.precision;
  if (is_set(in.overrides.hardware)) spec["hardware"] = in.overrides.hardware;  // as a whole

  if (in.service_image_pull_secrets.is_array() && !in.service_image_pull_secrets.empty()) {
    spec["imagePullSecrets"] = in.service_image_pull_secrets;
  }
  if (is_set(in.service_resources)) spec["resources"] = in.service_resources;
  if (in.shared_caching) spec["caching"] = nlohmann::json{{"enabled", true}};

  DerivedTemplate out;
  out.name = *name;
  out.labels = {{"app.kubernetes.io/managed-by", "aim-engine"}, {kLabelOrigin, kOriginDerived}};
  // Like the templates a model creates (an addition to the reference's two labels): selects the
  // template, and its discovery pods, by model.
  if (spec.contains("modelName") && spec["modelName"].is_string() &&
      !spec["modelName"].get<std::string>().empty()) {
    out.labels["aim.eai.amd.com/model"] = spec["modelName"];
  }
  out.spec = std::move(spec);
  return out;
}

}  // namespace aim::engine
