// GPU knowledge of the catalog (behavior.md §4.4, api.md §7.6 and §10): the AMD PCI device-id
// table and its reverse, the fallback VRAM table, VRAM strings, reading a Node's labels into a
// GPU model, the cluster inventory, the template `GPU` health component, node affinity (with
// sorted value lists, unlike the reference), and the `resolvedHardware` / `hardwareSummary`
// status fields. Hardware objects are plain JSON in the API's shape
// ({gpu: {requests, model, minVram, resourceName}, cpu: {requests, limits}}).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aim::engine {

inline constexpr std::string_view kGpuResourceName = "amd.com/gpu";
inline constexpr std::string_view kNodeLabelDeviceId = "amd.com/gpu.device-id";
inline constexpr std::string_view kNodeLabelDeviceIdBeta = "beta.amd.com/gpu.device-id";
inline constexpr std::string_view kNodeLabelFamily = "amd.com/gpu.family";
inline constexpr std::string_view kNodeLabelFamilyBeta = "beta.amd.com/gpu.family";
inline constexpr std::string_view kNodeLabelVram = "amd.com/gpu.vram";
inline constexpr std::string_view kNodeLabelVramBeta = "beta.amd.com/gpu.vram";

using NodeLabels = std::map<std::string, std::string>;

// "Instinct-MI325X" -> "MI325X", "MI300X (rev 2)" -> "MI300X", "RX7900-XTX" -> "RX7900".
std::string normalize_gpu_model(std::string_view model);

// Device id -> model: lowercased, a leading "0x" stripped; unknown ids give "AMD-<ID upper>".
std::string gpu_model_for_device_id(std::string_view device_id);

// Every device id whose table model equals normalize(model), sorted.
std::vector<std::string> device_ids_for_gpu_model(std::string_view model);

// The static per-GPU VRAM (e.g. "192G") of a normalized model, if known.
std::optional<std::string> static_gpu_vram(std::string_view model);

// "192G" -> 192 GiB, "1T" -> 1 TiB, "1024" -> 1024 bytes; any other character, or a size
// beyond int64 bytes, gives 0.
std::int64_t parse_vram_bytes(std::string_view vram);

// Bytes as whole GiB, "<n>Gi"; "0" for zero.
std::string format_vram_gi(std::int64_t bytes);

enum class VramSource { kLabel, kStatic, kUnknown };

// What one Node's labels say about its GPUs. `count` comes from a count-encoded label
// (`amd.com/gpu.device-id.<id>=<n>`) when that is how the model was found, else 0 (unknown).
struct NodeGpu {
  std::string model;
  std::string vram;  // raw, e.g. "192G"; empty when unknown
  VramSource vram_source = VramSource::kUnknown;
  std::int64_t count = 0;
};

// Rules 1-5 of §4.4: device id, count-encoded device id, family, count-encoded family. Keys of
// count-encoded labels are scanned in sorted order (the reference's map order is random).
std::optional<NodeGpu> node_gpu(const NodeLabels& labels);

struct GpuInfo {
  std::string resource_name{kGpuResourceName};
  std::string vram;
  VramSource vram_source = VramSource::kUnknown;
};

// Model -> info over every node; the first node that shows a model fixes its VRAM.
using GpuInventory = std::map<std::string, GpuInfo>;
GpuInventory gpu_inventory(const std::vector<NodeLabels>& nodes);

// Template hardware.gpu as the checks need it.
struct GpuRequirement {
  std::int64_t requests = 0;
  std::string model;
  std::int64_t min_vram_bytes = 0;  // minVram.Value(); 0 when unset
};

// Reads spec.hardware JSON; nullopt when there is no gpu block.
std::optional<GpuRequirement> gpu_requirement(const nlohmann::json& hardware);

// requests > 0 or a non-blank model.
bool gpu_required(const std::optional<GpuRequirement>& gpu);

// The plan gate: the model (or, with no model, any GPU) is present. No VRAM check.
bool gpu_available(const GpuRequirement& gpu, const GpuInventory& inventory);

// The template's `GPU` health component (behavior.md §3.2), or nullopt when no GPU is needed.
// `state` is an AIM status string: Ready, NotAvailable or Degraded.
struct GpuHealth {
  std::string state;
  std::string reason;
  std::string message;
};
std::optional<GpuHealth> gpu_health(const std::optional<GpuRequirement>& gpu,
                                    const GpuInventory& inventory,
                                    const std::optional<std::string>& inventory_error);

// What one Node offers: the GPU model its labels name (node_gpu; empty for a node without GPU
// labels) and its status.allocatable as whole counts (unparsable quantities left out).
struct NodeCapacity {
  std::string model;
  std::map<std::string, std::int64_t> allocatable;
};
NodeCapacity node_capacity(const nlohmann::json& node);

// The most `resource` one node with GPUs of `model` (normalized; empty = any GPU node) can
// allocate, or nullopt when none of those nodes lists the resource (a device plugin not yet
// registered, or a cluster that does not report it): then nothing is known and nothing blocks.
std::optional<std::int64_t> largest_gpu_node(const std::vector<NodeCapacity>& nodes,
                                             std::string_view model, std::string_view resource);

// NotAvailable / GPUCountNotAvailable when the pod asks for more `resource` than the largest
// node of its model can allocate (one pod cannot span nodes); nullopt when it fits or when
// `largest` is unknown.
std::optional<GpuHealth> gpu_count_health(const GpuRequirement& gpu, std::string_view resource,
                                          std::optional<std::int64_t> largest);

// status.resolvedNodeAffinity (a core/v1 NodeAffinity), or null when there is nothing to pin:
// device ids of the model, else of every inventory model with VRAM >= minVram. Values sorted.
nlohmann::json gpu_node_affinity(const std::optional<GpuRequirement>& gpu,
                                 const GpuInventory& inventory);

// What a discovery run says about hardware (status.profile.metadata).
struct DiscoveredGpu {
  std::int64_t gpu_count = 0;
  std::string gpu_model;
};

// status.resolvedHardware from spec.hardware (JSON, may be null) and the discovery profile:
// count and model from discovery when it ran (even if 0 / empty), else from the spec; the
// resourceName and minVram always from the spec; cpu copied. Null when neither gpu nor cpu.
nlohmann::json resolved_hardware(const nlohmann::json& spec_hardware,
                                 const std::optional<DiscoveredGpu>& discovered);

// status.hardwareSummary: "<n> x <model or GPU>", "<model>", "CPU", or "" for null hardware.
std::string hardware_summary(const nlohmann::json& resolved);

}  // namespace aim::engine
