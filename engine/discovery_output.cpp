#include "engine/discovery_output.h"

#include <array>
#include <optional>

namespace aim::engine {
namespace {

using nlohmann::json;

// Go's encoding/json into a typed struct: a null leaves the zero value, a wrong type is an error.
bool optional_string(const json& obj, const char* key, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool optional_int(const json& obj, const char* key, std::int64_t& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return out >= INT32_MIN && out <= INT32_MAX;  // gpu_count is an int32
}

bool optional_number(const json& obj, const char* key, double& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_number()) return false;
  out = it->get<double>();
  return true;
}

bool optional_object(const json& obj, const char* key, const json*& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_object()) return false;
  out = &*it;
  return true;
}

// One element of the output array, or nullopt when it would not decode into the reference's
// struct. A null element decodes to the zero value.
std::optional<DiscoveryOutput> decode_result(const json& r) {
  DiscoveryOutput out;
  json metadata = json::object();
  out.profile = json::object();
  if (r.is_null()) {
    out.profile["metadata"] = metadata;
    return out;
  }
  if (!r.is_object()) return std::nullopt;
  std::string filename;
  if (!optional_string(r, "filename", filename)) return std::nullopt;

  const json* profile = nullptr;
  if (!optional_object(r, "profile", profile)) return std::nullopt;
  if (profile != nullptr) {
    std::string model, quantized;
    if (!optional_string(*profile, "model", model) ||
        !optional_string(*profile, "quantized_model", quantized)) {
      return std::nullopt;
    }
    const json* meta = nullptr;
    if (!optional_object(*profile, "metadata", meta)) return std::nullopt;
    if (meta != nullptr) {
      std::string engine, gpu, precision, metric, type;
      std::int64_t gpu_count = 0;
      if (!optional_string(*meta, "engine", engine) || !optional_string(*meta, "gpu", gpu) ||
          !optional_string(*meta, "precision", precision) ||
          !optional_int(*meta, "gpu_count", gpu_count) ||
          !optional_string(*meta, "metric", metric) || !optional_string(*meta, "type", type)) {
        return std::nullopt;
      }
      if (!engine.empty()) metadata["engine"] = engine;
      if (!gpu.empty()) metadata["gpu"] = gpu;
      if (gpu_count != 0) metadata["gpuCount"] = gpu_count;
      if (!metric.empty()) metadata["metric"] = metric;
      if (!precision.empty()) metadata["precision"] = precision;
      if (!type.empty()) metadata["type"] = type;
      out.gpu = DiscoveredGpu{gpu_count, gpu};
    }
    const json* engine_args = nullptr;
    if (!optional_object(*profile, "engine_args", engine_args)) return std::nullopt;
    if (engine_args != nullptr) out.profile["engine_args"] = *engine_args;
    const json* env_vars = nullptr;
    if (!optional_object(*profile, "env_vars", env_vars)) return std::nullopt;
    if (env_vars != nullptr) {
      json env = json::object();
      for (const auto& [k, v] : env_vars->items()) {
        if (v.is_null()) {
          env[k] = "";
        } else if (v.is_string()) {
          env[k] = v;
        } else {
          return std::nullopt;
        }
      }
      out.profile["env_vars"] = std::move(env);
    }
  }
  out.profile["metadata"] = std::move(metadata);

  auto models = r.find("models");
  if (models != r.end() && !models->is_null()) {
    if (!models->is_array()) return std::nullopt;
    for (const auto& m : *models) {
      DiscoveredModelSource src;
      double size_gb = 0;
      if (!m.is_null()) {
        if (!m.is_object() || !optional_string(m, "name", src.model_id) ||
            !optional_string(m, "source", src.source_uri) ||
            !optional_number(m, "size_gb", size_gb)) {
          return std::nullopt;
        }
      }
      src.size_bytes = static_cast<std::int64_t>(size_gb * 1024.0 * 1024.0 * 1024.0);
      out.model_sources.push_back(std::move(src));
    }
  }
  return out;
}

// The array decoded element by element; nullopt when any element does not decode.
std::optional<std::vector<DiscoveryOutput>> decode_array(std::string_view text) {
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  std::vector<DiscoveryOutput> results;
  if (parsed.is_null()) return results;  // Go decodes `null` into an empty slice
  if (!parsed.is_array()) return std::nullopt;
  for (const auto& item : parsed) {
    auto r = decode_result(item);
    if (!r) return std::nullopt;
    results.push_back(std::move(*r));
  }
  return results;
}

// Extension over the reference's scan, for output followed by noise that itself contains ']':
// arrays that start a line, closed by any of the last kMaxClosings ']' (rightmost first).
std::optional<std::vector<DiscoveryOutput>> scan_line_arrays(std::string_view log) {
  constexpr int kMaxClosings = 64;
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i] != '[') continue;
    std::size_t j = i;
    while (j > 0 && (log[j - 1] == ' ' || log[j - 1] == '\t')) --j;
    if (j == 0 || log[j - 1] == '\n') starts.push_back(i);
  }
  int closings = 0;
  for (std::size_t end = log.rfind(']'); end != std::string_view::npos && closings < kMaxClosings;
       end = end == 0 ? std::string_view::npos : log.rfind(']', end - 1), ++closings) {
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
      if (*it >= end) continue;
      auto candidate = decode_array(log.substr(*it, end - *it + 1));
      if (candidate && !candidate->empty()) return candidate;
    }
  }
  return std::nullopt;
}

}  // namespace

json DiscoveryOutput::model_sources_json() const {
  json out = json::array();
  for (const auto& s : model_sources) {
    out.push_back({{"modelId", s.model_id},
                   {"sourceUri", s.source_uri},
                   {"size", binary_si_quantity(s.size_bytes)}});
  }
  return out;
}

std::string binary_si_quantity(std::int64_t bytes) {
  static constexpr std::array<const char*, 7> kSuffixes{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (bytes == 0) return "0";
  if (bytes > -1024 && bytes < 1024) return std::to_string(bytes);
  std::int64_t v = bytes;
  std::size_t i = 0;
  while (i + 1 < kSuffixes.size() && v % 1024 == 0) {
    v /= 1024;
    ++i;
  }
  return std::to_string(v) + kSuffixes[i];
}

Result<DiscoveryOutput, std::string> parse_discovery_output(std::string_view log) {
  std::optional<std::vector<DiscoveryOutput>> results = decode_array(log);
  if (!results) {
    // Mixed output: only the last ']' ends a candidate, as in the reference.
    std::size_t end = log.rfind(']');
    if (end != std::string_view::npos) {
      for (std::size_t i = end + 1; i-- > 0;) {
        if (log[i] != '[') continue;
        auto candidate = decode_array(log.substr(i, end - i + 1));
        if (candidate && !candidate->empty()) {
          results = std::move(candidate);
          break;
        }
      }
    }
    if (!results) results = scan_line_arrays(log);
    if (!results) {
      return fail(std::string(
          "failed to parse discovery output: no JSON array of discovery results found in the "
          "discovery container's log"));
    }
  }
  if (results->empty()) return fail(std::string("discovery output contains an empty array"));
  DiscoveryOutput first = std::move(results->front());
  if (first.model_sources.empty()) {
    return fail(std::string("discovery output lists no model sources"));
  }
  for (std::size_t i = 0; i < first.model_sources.size(); ++i) {
    if (first.model_sources[i].source_uri.empty()) {
      return fail("discovery output: model source " + std::to_string(i) + " has no source URI");
    }
  }
  return first;
}

}  // namespace aim::engine
