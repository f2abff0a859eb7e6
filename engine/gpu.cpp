#include "engine/gpu.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

#include "core/strings.h"
#include "engine/quantity.h"
#include "engine/service_names.h"

namespace aim::engine {
namespace {

struct DeviceEntry {
  std::string_view id;
  std::string_view model;
};

// api.md §10.1 (KnownAmdDevices).
constexpr std::array<DeviceEntry, 35> kDevices{{
    {"738c", "MI100"},  {"738e", "MI100"},  {"7408", "MI250X"}, {"740c", "MI250X"},
    {"740f", "MI210"},  {"7410", "MI210"},  {"74a0", "MI300A"}, {"74a1", "MI300X"},
    {"74a2", "MI308X"}, {"74a5", "MI325X"}, {"74a8", "MI308X"}, {"74a9", "MI300X"},
    {"74b5", "MI300X"}, {"74b6", "MI308X"}, {"74b9", "MI325X"}, {"74bd", "MI300X"},
    {"75a0", "MI350X"}, {"75a3", "MI355X"}, {"75b0", "MI350X"}, {"75b3", "MI355X"},
    {"7460", "V710"},   {"7461", "V710"},   {"7448", "W7900"},  {"744a", "W7900"},
    {"7449", "W7800"},  {"745e", "W7800"},  {"73a2", "W6900X"}, {"73a3", "W6800"},
    {"73ab", "W6800X"}, {"73a1", "V620"},   {"73ae", "V620"},   {"7550", "RX9070"},
    {"744c", "RX7900"}, {"73af", "RX6900"}, {"73bf", "RX6800"},
}};

// api.md §10.2 (KnownGPUVRAM).
constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kVram{{
    {"MI355X", "288G"}, {"MI350X", "288G"}, {"MI325X", "256G"}, {"MI308X", "128G"},
    {"MI300X", "192G"}, {"MI300A", "128G"}, {"MI250X", "128G"}, {"MI210", "64G"},
    {"MI100", "32G"},   {"V710", "32G"},    {"W7900", "48G"},   {"W7800", "32G"},
    {"W6900X", "32G"},  {"W6800", "32G"},   {"W6800X", "32G"},  {"V620", "32G"},
    {"RX9070", "16G"},  {"RX7900", "24G"},  {"RX6900", "16G"},  {"RX6800", "16G"},
}};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n\v\f");
  return std::string(s.substr(b, e - b + 1));
}

std::string label_value(const NodeLabels& labels, std::string_view a, std::string_view b) {
  for (auto key : {a, b}) {
    auto it = labels.find(std::string(key));
    if (it == labels.end()) continue;
    std::string v = trim(it->second);
    if (!v.empty()) return v;
  }
  return "";
}

// The suffix of the first key under either prefix whose value is neither empty nor "0".
std::optional<std::pair<std::string, std::string>> count_encoded(const NodeLabels& labels,
                                                                 std::string_view base_a,
                                                                 std::string_view base_b) {
  for (auto base : {base_a, base_b}) {
    std::string prefix = std::string(base) + ".";
    for (auto it = labels.lower_bound(prefix); it != labels.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      std::string v = trim(it->second);
      if (v.empty() || v == "0") continue;
      std::string suffix = it->first.substr(prefix.size());
      if (!suffix.empty()) return std::make_pair(suffix, v);
    }
  }
  return std::nullopt;
}

std::int64_t parse_count(const std::string& v) {
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

std::string normalize_gpu_model(std::string_view model) {
  if (trim(model).empty()) return "";
  return service_names::normalize_gpu_model(model);
}

std::string gpu_model_for_device_id(std::string_view device_id) {
  std::string id(device_id);
  for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (id.rfind("0x", 0) == 0) id.erase(0, 2);
  for (const auto& d : kDevices) {
    if (d.id == id) return std::string(d.model);
  }
  for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "AMD-" + id;
}

std::vector<std::string> device_ids_for_gpu_model(std::string_view model) {
  std::string normalized = normalize_gpu_model(model);
  std::vector<std::string> ids;
  for (const auto& d : kDevices) {
    if (d.model == normalized) ids.emplace_back(d.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<std::string> static_gpu_vram(std::string_view model) {
  std::string normalized = normalize_gpu_model(model);
  for (const auto& [m, v] : kVram) {
    if (m == normalized) return std::string(v);
  }
  return std::nullopt;
}

std::int64_t parse_vram_bytes(std::string_view vram) {
  if (vram.empty()) return 0;
  std::string v = trim(vram);
  for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::int64_t mult = 1;
  if (!v.empty() && v.back() == 'G') {
    mult = std::int64_t{1} << 30;
    v.pop_back();
  } else if (!v.empty() && v.back() == 'T') {
    mult = std::int64_t{1} << 40;
    v.pop_back();
  }
  // A label is text anyone can write: a size beyond int64 bytes is no size either (it overflowed
  // here; found by fuzz/quantity_fuzz.cpp).
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    if (n > (kMax - (c - '0')) / 10) return 0;
    n = n * 10 + (c - '0');
  }
  return n > kMax / mult ? 0 : n * mult;
}

std::string format_vram_gi(std::int64_t bytes) {
  if (bytes == 0) return "0";
  return std::to_string(bytes / (std::int64_t{1} << 30)) + "Gi";
}

std::optional<NodeGpu> node_gpu(const NodeLabels& labels) {
  NodeGpu gpu;
  if (auto id = label_value(labels, kNodeLabelDeviceId, kNodeLabelDeviceIdBeta); !id.empty()) {
    gpu.model = gpu_model_for_device_id(id);
  } else if (auto enc = count_encoded(labels, kNodeLabelDeviceId, kNodeLabelDeviceIdBeta)) {
    gpu.model = gpu_model_for_device_id(enc->first);
    gpu.count = parse_count(enc->second);
  } else if (auto fam = label_value(labels, kNodeLabelFamily, kNodeLabelFamilyBeta); !fam.empty()) {
    gpu.model = normalize_gpu_model(fam);
  } else if (auto fenc = count_encoded(labels, kNodeLabelFamily, kNodeLabelFamilyBeta)) {
    gpu.model = normalize_gpu_model(fenc->first);
    gpu.count = parse_count(fenc->second);
  }
  if (gpu.model.empty()) return std::nullopt;

  for (auto key : {kNodeLabelVram, kNodeLabelVramBeta}) {
    auto it = labels.find(std::string(key));
    if (it != labels.end() && !it->second.empty()) {
      gpu.vram = it->second;
      gpu.vram_source = VramSource::kLabel;
      return gpu;
    }
  }
  if (auto v = static_gpu_vram(gpu.model)) {
    gpu.vram = *v;
    gpu.vram_source = VramSource::kStatic;
  }
  return gpu;
}

GpuInventory gpu_inventory(const std::vector<NodeLabels>& nodes) {
  GpuInventory inv;
  for (const auto& labels : nodes) {
    auto gpu = node_gpu(labels);
    if (!gpu || inv.count(gpu->model) > 0) continue;
    inv.emplace(gpu->model, GpuInfo{std::string(kGpuResourceName), gpu->vram, gpu->vram_source});
  }
  return inv;
}

std::optional<GpuRequirement> gpu_requirement(const nlohmann::json& hardware) {
  if (!hardware.is_object()) return std::nullopt;
  auto it = hardware.find("gpu");
  if (it == hardware.end() || !it->is_object()) return std::nullopt;
  GpuRequirement req;
  if (auto r = it->find("requests"); r != it->end() && r->is_number_integer()) {
    req.requests = r->get<std::int64_t>();
  }
  if (auto m = it->find("model"); m != it->end() && m->is_string())
    req.model = m->get<std::string>();
  if (auto v = it->find("minVram"); v != it->end()) {
    if (v->is_string()) req.min_vram_bytes = quantity_value(*v).value_or(0);
    if (v->is_number()) req.min_vram_bytes = static_cast<std::int64_t>(std::ceil(v->get<double>()));
  }
  return req;
}

bool gpu_required(const std::optional<GpuRequirement>& gpu) {
  return gpu && (gpu->requests > 0 || !trim(gpu->model).empty());
}

bool gpu_available(const GpuRequirement& gpu, const GpuInventory& inventory) {
  std::string model = normalize_gpu_model(gpu.model);
  if (model.empty()) return !inventory.empty();
  return inventory.count(model) > 0;
}

std::optional<GpuHealth> gpu_health(const std::optional<GpuRequirement>& gpu,
                                    const GpuInventory& inventory,
                                    const std::optional<std::string>& inventory_error) {
  if (!gpu_required(gpu)) return std::nullopt;
  if (inventory_error) {
    return GpuHealth{"Degraded", "GPUCheckFailed",
                     "Failed to check GPU availability: " + *inventory_error};
  }
  if (gpu->min_vram_bytes != 0) {
    std::vector<std::string> enough;
    std::int64_t highest = 0;
    std::string highest_model;
    for (const auto& [model, info] : inventory) {  // sorted by model, unlike the reference
      std::int64_t bytes = parse_vram_bytes(info.vram);
      if (bytes > highest) {
        highest = bytes;
        highest_model = model;
      }
      if (bytes >= gpu->min_vram_bytes) enough.push_back(model + " (" + info.vram + ")");
    }
    if (enough.empty()) {
      std::string best = highest_model.empty()
                             ? std::string("none detected")
                             : highest_model + " (" + format_vram_gi(highest) + ")";
      return GpuHealth{"NotAvailable", "VRAMNotAvailable",
                       "Required minimum VRAM (" + format_vram_gi(gpu->min_vram_bytes) +
                           ") exceeds available GPUs. Highest available: " + best};
    }
    // Enough VRAM somewhere: the model check below decides, as in the reference.
  }
  std::vector<std::string> available;
  for (const auto& [model, info] : inventory) available.push_back(model);
  std::string normalized = normalize_gpu_model(gpu->model);
  if (normalized.empty()) {
    if (!inventory.empty()) {
      return GpuHealth{"Ready", "GPUAvailable",
                       "GPU available (any model accepted): " + join(available, ", ")};
    }
    return GpuHealth{"NotAvailable", "GPUNotAvailable", "No GPUs available in cluster"};
  }
  if (inventory.count(normalized) > 0) {
    return GpuHealth{"Ready", "GPUAvailable", "GPU model '" + normalized + "' is available"};
  }
  return GpuHealth{"NotAvailable", "GPUNotAvailable",
                   "Required GPU model '" + gpu->model + "' not available in cluster. Available: " +
                       (available.empty() ? std::string("none") : join(available, ", "))};
}

NodeCapacity node_capacity(const nlohmann::json& node) {
  NodeCapacity out;
  if (!node.is_object()) return out;
  NodeLabels labels;
  const auto md = node.find("metadata");
  if (md != node.end() && md->is_object()) {
    const auto l = md->find("labels");
    if (l != md->end() && l->is_object())
      for (const auto& [k, v] : l->items())
        if (v.is_string()) labels[k] = v.get<std::string>();
  }
  if (auto g = node_gpu(labels)) out.model = g->model;
  const auto st = node.find("status");
  if (st != node.end() && st->is_object()) {
    const auto alloc = st->find("allocatable");
    if (alloc != st->end() && alloc->is_object())
      for (const auto& [k, v] : alloc->items())
        if (auto n = quantity_value(v)) out.allocatable[k] = *n;
  }
  return out;
}

std::optional<std::int64_t> largest_gpu_node(const std::vector<NodeCapacity>& nodes,
                                             std::string_view model, std::string_view resource) {
  const std::string wanted = normalize_gpu_model(model);
  std::optional<std::int64_t> largest;
  for (const auto& n : nodes) {
    if (n.model.empty() || (!wanted.empty() && n.model != wanted)) continue;
    auto it = n.allocatable.find(std::string(resource));
    if (it == n.allocatable.end()) continue;
    largest = std::max(largest.value_or(0), it->second);
  }
  return largest;
}

std::optional<GpuHealth> gpu_count_health(const GpuRequirement& gpu, std::string_view resource,
                                          std::optional<std::int64_t> largest) {
  if (!largest || gpu.requests <= *largest) return std::nullopt;
  const std::string model = normalize_gpu_model(gpu.model);
  const std::string what = model.empty() ? std::string("GPU") : model;
  return GpuHealth{
      "NotAvailable", "GPUCountNotAvailable",
      "Requires " + std::to_string(gpu.requests) + " " + std::string(resource) +
          " in one pod, but the largest " + what + " node can allocate " +
          std::to_string(*largest) +
          ": lower hardware.gpu.requests (the template's spec, or the service's overrides) or "
          "add a node with more GPUs"};
}

nlohmann::json gpu_node_affinity(const std::optional<GpuRequirement>& gpu,
                                 const GpuInventory& inventory) {
  if (!gpu_required(gpu)) return nullptr;
  std::vector<std::string> ids;
  if (!trim(gpu->model).empty()) {
    ids = device_ids_for_gpu_model(gpu->model);
  } else if (gpu->min_vram_bytes != 0) {
    for (const auto& [model, info] : inventory) {
      if (parse_vram_bytes(info.vram) >= gpu->min_vram_bytes) {
        auto more = device_ids_for_gpu_model(model);
        ids.insert(ids.end(), more.begin(), more.end());
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  if (ids.empty()) return nullptr;
  return {{"requiredDuringSchedulingIgnoredDuringExecution",
           {{"nodeSelectorTerms",
             nlohmann::json::array(
                 {{{"matchExpressions", nlohmann::json::array({{{"key", kNodeLabelDeviceId},
                                                                {"operator", "In"},
                                                                {"values", ids}}})}}})}}}};
}

nlohmann::json resolved_hardware(const nlohmann::json& spec_hardware,
                                 const std::optional<DiscoveredGpu>& discovered) {
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& spec = spec_hardware.is_object() ? spec_hardware : empty;
  const nlohmann::json spec_gpu =
      spec.contains("gpu") && spec["gpu"].is_object() ? spec["gpu"] : empty;

  std::int64_t count = 0;
  std::string model;
  if (discovered) {
    count = discovered->gpu_count;
    model = discovered->gpu_model;
  } else {
    if (auto r = spec_gpu.find("requests"); r != spec_gpu.end() && r->is_number_integer()) {
      count = r->get<std::int64_t>();
    }
    if (auto m = spec_gpu.find("model"); m != spec_gpu.end() && m->is_string()) {
      model = m->get<std::string>();
    }
  }
  std::string resource;
  if (auto r = spec_gpu.find("resourceName"); r != spec_gpu.end() && r->is_string()) {
    resource = r->get<std::string>();
  }

  nlohmann::json out = nlohmann::json::object();
  if (count > 0 || !model.empty() || !resource.empty()) {
    nlohmann::json g = nlohmann::json::object();
    if (count > 0) g["requests"] = count;
    if (!model.empty()) g["model"] = model;
    if (auto v = spec_gpu.find("minVram"); v != spec_gpu.end() && !v->is_null()) g["minVram"] = *v;
    if (!resource.empty()) g["resourceName"] = resource;
    out["gpu"] = std::move(g);
  }
  if (auto c = spec.find("cpu"); c != spec.end() && c->is_object()) out["cpu"] = *c;
  if (out.empty()) return nullptr;
  return out;
}

std::string hardware_summary(const nlohmann::json& resolved) {
  if (!resolved.is_object()) return "";
  auto g = resolved.find("gpu");
  if (g == resolved.end() || !g->is_object()) return "CPU";
  std::int64_t requests = g->value("requests", std::int64_t{0});
  std::string model = g->value("model", std::string());
  if (requests > 0) return std::to_string(requests) + " x " + (model.empty() ? "GPU" : model);
  if (!model.empty()) return model;
  return "CPU";
}

}  // namespace aim::engine
