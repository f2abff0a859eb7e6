#include "engine/gpu.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

TEST(Gpu, NormalizeModel) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"MI300X", "MI300X"},
      {"mi300x", "MI300X"},
      {"MI300X (rev 2)", "MI300X"},
      {"Instinct-MI325X", "MI325X"},
      {"AMD Instinct MI250X", "MI250X"},
      {"RX7900-XTX", "RX7900"},
      {"amd_mi210", "MI210"},
      {"  ", ""},
      {"AI", "AI"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(normalize_gpu_model(in), want) << in;
}

TEST(Gpu, DeviceIdTable) {
  EXPECT_EQ(gpu_model_for_device_id("74a1"), "MI300X");
  EXPECT_EQ(gpu_model_for_device_id("0x74A5"), "MI325X");
  EXPECT_EQ(gpu_model_for_device_id("73BF"), "RX6800");
  EXPECT_EQ(gpu_model_for_device_id("abcd"), "AMD-ABCD");
  EXPECT_EQ(device_ids_for_gpu_model("MI300X"),
            (std::vector<std::string>{"74a1", "74a9", "74b5", "74bd"}));
  EXPECT_EQ(device_ids_for_gpu_model("instinct mi308x"),
            (std::vector<std::string>{"74a2", "74a8", "74b6"}));
  EXPECT_TRUE(device_ids_for_gpu_model("H100").empty());
}

TEST(Gpu, VramTableAndParsing) {
  EXPECT_EQ(static_gpu_vram("MI300X"), "192G");
  EXPECT_EQ(static_gpu_vram("MI210"), "64G");
  EXPECT_FALSE(static_gpu_vram("H100").has_value());
  EXPECT_EQ(parse_vram_bytes("192G"), 192LL << 30);
  EXPECT_EQ(parse_vram_bytes(" 1t "), 1LL << 40);
  EXPECT_EQ(parse_vram_bytes("1024"), 1024);
  EXPECT_EQ(parse_vram_bytes("192Gi"), 0);  // "I" is not a digit
  EXPECT_EQ(parse_vram_bytes(""), 0);
  EXPECT_EQ(format_vram_gi(192LL << 30), "192Gi");
  EXPECT_EQ(format_vram_gi(0), "0");
}

// Found by fuzz/quantity_fuzz.cpp: a long number in a VRAM label overflowed int64 (UBSan: signed
// integer overflow in parse_vram_bytes). Beyond int64 bytes is no size.
TEST(Gpu, VramBeyondInt64IsNoSize) {
  EXPECT_EQ(parse_vram_bytes("26666666666666666666666666666666666666666666666"), 0);
  EXPECT_EQ(parse_vram_bytes("9223372036854775807"), 9223372036854775807LL);
  EXPECT_EQ(parse_vram_bytes("9223372036854775808"), 0);
  EXPECT_EQ(parse_vram_bytes("8589934591G"), 8589934591LL << 30);
  EXPECT_EQ(parse_vram_bytes("8589934592G"), 0);  // 2^63 bytes
  EXPECT_EQ(parse_vram_bytes("8388608T"), 0);
}

TEST(Gpu, NodeLabels) {
  struct Case {
    NodeLabels labels;
    std::optional<std::string> model;
    std::string vram;
    std::int64_t count;
  };
  const std::vector<Case> cases = {
      {{{"amd.com/gpu.device-id", "74a1"}}, "MI300X", "192G", 0},
      {{{"beta.amd.com/gpu.device-id", " 0x74b9 "}}, "MI325X", "256G", 0},
      {{{"amd.com/gpu.device-id", "74a1"}, {"amd.com/gpu.vram", "191G"}}, "MI300X", "191G", 0},
      {{{"amd.com/gpu.device-id.74a5", "8"}}, "MI325X", "256G", 8},
      {{{"amd.com/gpu.device-id.74a1", "0"}, {"amd.com/gpu.device-id.740f", "4"}},
       "MI210",
       "64G",
       4},
      {{{"amd.com/gpu.family", "AI"}}, "AI", "", 0},
      {{{"beta.amd.com/gpu.family.MI300X", "2"}}, "MI300X", "192G", 2},
      {{{"kubernetes.io/os", "linux"}}, std::nullopt, "", 0},
      {{{"amd.com/gpu.device-id", "  "}}, std::nullopt, "", 0},
  };
  for (const auto& c : cases) {
    auto g = node_gpu(c.labels);
    ASSERT_EQ(g.has_value(), c.model.has_value()) << c.labels.begin()->first;
    if (!g) continue;
    EXPECT_EQ(g->model, *c.model);
    EXPECT_EQ(g->vram, c.vram);
    EXPECT_EQ(g->count, c.count);
  }
}

TEST(Gpu, InventoryFirstNodeFixesVram) {
  auto inv = gpu_inventory({{{"amd.com/gpu.device-id", "74a1"}, {"amd.com/gpu.vram", "190G"}},
                            {{"amd.com/gpu.device-id", "74a9"}},
                            {{"amd.com/gpu.device-id", "740f"}},
                            {{"node-role", "cpu"}}});
  ASSERT_EQ(inv.size(), 2U);
  EXPECT_EQ(inv["MI300X"].vram, "190G");
  EXPECT_EQ(inv["MI300X"].vram_source, VramSource::kLabel);
  EXPECT_EQ(inv["MI210"].vram_source, VramSource::kStatic);
  EXPECT_EQ(inv["MI210"].resource_name, "amd.com/gpu");
}

TEST(Gpu, RequirementAndAvailability) {
  auto req =
      gpu_requirement(json{{"gpu", {{"requests", 2}, {"model", "mi300x"}, {"minVram", "64Gi"}}}});
  ASSERT_TRUE(req);
  EXPECT_EQ(req->requests, 2);
  EXPECT_EQ(req->min_vram_bytes, 64LL << 30);
  EXPECT_FALSE(gpu_requirement(json{{"cpu", {{"requests", "2"}}}}));
  EXPECT_FALSE(gpu_required(gpu_requirement(json{{"gpu", {{"requests", 0}}}})));
  EXPECT_TRUE(gpu_required(gpu_requirement(json{{"gpu", {{"model", "MI300X"}}}})));

  GpuInventory inv{{"MI300X", GpuInfo{"amd.com/gpu", "192G", VramSource::kStatic}}};
  EXPECT_TRUE(gpu_available(*req, inv));
  EXPECT_FALSE(gpu_available(GpuRequirement{1, "MI325X", 0}, inv));
  EXPECT_TRUE(gpu_available(GpuRequirement{1, "", 0}, inv));
  EXPECT_FALSE(gpu_available(GpuRequirement{1, "", 0}, {}));
}

TEST(Gpu, HealthComponent) {
  GpuInventory inv{{"MI210", GpuInfo{"amd.com/gpu", "64G", VramSource::kStatic}},
                   {"MI300X", GpuInfo{"amd.com/gpu", "192G", VramSource::kStatic}}};
  struct Case {
    std::optional<GpuRequirement> req;
    GpuInventory inv;
    std::optional<std::string> err;
    std::string state, reason, message;
  };
  const std::vector<Case> cases = {
      {GpuRequirement{1, "Instinct MI300X", 0}, inv, std::nullopt, "Ready", "GPUAvailable",
       "GPU model 'MI300X' is available"},
      {GpuRequirement{1, "MI325X", 0}, inv, std::nullopt, "NotAvailable", "GPUNotAvailable",
       "Required GPU model 'MI325X' not available in cluster. Available: MI210, MI300X"},
      {GpuRequirement{1, "MI325X", 0},
       {},
       std::nullopt,
       "NotAvailable",
       "GPUNotAvailable",
       "Required GPU model 'MI325X' not available in cluster. Available: none"},
      {GpuRequirement{2, "", 0}, inv, std::nullopt, "Ready", "GPUAvailable",
       "GPU available (any model accepted): MI210, MI300X"},
      {GpuRequirement{2, "", 0},
       {},
       std::nullopt,
       "NotAvailable",
       "GPUNotAvailable",
       "No GPUs available in cluster"},
      {GpuRequirement{1, "", 256LL << 30}, inv, std::nullopt, "NotAvailable", "VRAMNotAvailable",
       "Required minimum VRAM (256Gi) exceeds available GPUs. Highest available: MI300X (192Gi)"},
      {GpuRequirement{1, "", 256LL << 30},
       {},
       std::nullopt,
       "NotAvailable",
       "VRAMNotAvailable",
       "Required minimum VRAM (256Gi) exceeds available GPUs. Highest available: none detected"},
      {GpuRequirement{1, "", 100LL << 30}, inv, std::nullopt, "Ready", "GPUAvailable",
       "GPU available (any model accepted): MI210, MI300X"},
      {GpuRequirement{1, "MI300X", 0}, inv, std::string("nodes is forbidden"), "Degraded",
       "GPUCheckFailed", "Failed to check GPU availability: nodes is forbidden"},
  };
  for (const auto& c : cases) {
    auto h = gpu_health(c.req, c.inv, c.err);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->state, c.state) << c.message;
    EXPECT_EQ(h->reason, c.reason) << c.message;
    EXPECT_EQ(h->message, c.message);
  }
  EXPECT_FALSE(gpu_health(std::nullopt, inv, std::nullopt));
  EXPECT_FALSE(gpu_health(GpuRequirement{0, " ", 0}, inv, std::nullopt));
}

json gpu_node(const std::string& device_id, json allocatable) {
  json n = {{"metadata", {{"name", "n-" + device_id}, {"labels", json::object()}}},
            {"status", {{"allocatable", std::move(allocatable)}}}};
  if (!device_id.empty()) n["metadata"]["labels"]["amd.com/gpu.device-id"] = device_id;
  return n;
}

TEST(Gpu, NodeCapacityReadsTheModelAndTheAllocatableCounts) {
  auto c = node_capacity(gpu_node("74a1", {{"amd.com/gpu", "8"}, {"cpu", "128"}, {"x", "bogus"}}));
  EXPECT_EQ(c.model, "MI300X");
  EXPECT_EQ(c.allocatable.at("amd.com/gpu"), 8);
  EXPECT_EQ(c.allocatable.at("cpu"), 128);
  EXPECT_EQ(c.allocatable.count("x"), 0u);
  EXPECT_EQ(node_capacity(gpu_node("", {{"cpu", "2"}})).model, "");
  EXPECT_TRUE(node_capacity(json()).allocatable.empty());
}

TEST(Gpu, TheLargestNodeOfTheModelBoundsOnePodsGpuCount) {
  std::vector<NodeCapacity> nodes = {
      node_capacity(gpu_node("74a1", {{"amd.com/gpu", "8"}})),
      node_capacity(gpu_node("74a1", {{"amd.com/gpu", "4"}})),
      node_capacity(gpu_node("75a0", {{"amd.com/gpu", "16"}})),  // MI350X
      node_capacity(gpu_node("", {{"amd.com/gpu", "64"}})),      // no GPU labels: not counted
      node_capacity(gpu_node("740f", {{"cpu", "64"}})),          // MI210, resource not listed
  };
  EXPECT_EQ(largest_gpu_node(nodes, "MI300X", "amd.com/gpu"), 8);
  EXPECT_EQ(largest_gpu_node(nodes, "mi300x", "amd.com/gpu"), 8);
  EXPECT_EQ(largest_gpu_node(nodes, "", "amd.com/gpu"), 16);
  EXPECT_EQ(largest_gpu_node(nodes, "MI210", "amd.com/gpu"), std::nullopt);
  EXPECT_EQ(largest_gpu_node(nodes, "MI300X", "amd.com/gpu-partition"), std::nullopt);
  EXPECT_EQ(largest_gpu_node({}, "MI300X", "amd.com/gpu"), std::nullopt);

  auto h = gpu_count_health(GpuRequirement{20, "MI300X", 0}, "amd.com/gpu", 8);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->state, "NotAvailable");
  EXPECT_EQ(h->reason, "GPUCountNotAvailable");
  EXPECT_EQ(h->message,
            "Requires 20 amd.com/gpu in one pod, but the largest MI300X node can allocate 8: lower "
            "hardware.gpu.requests (the template's spec, or the service's overrides) or add a "
            "node with more GPUs");
  EXPECT_FALSE(gpu_count_health(GpuRequirement{8, "MI300X", 0}, "amd.com/gpu", 8));
  EXPECT_FALSE(gpu_count_health(GpuRequirement{20, "MI300X", 0}, "amd.com/gpu", std::nullopt));
  auto any = gpu_count_health(GpuRequirement{20, "", 0}, "amd.com/gpu", 16);
  ASSERT_TRUE(any);
  EXPECT_NE(any->message.find("the largest GPU node can allocate 16"), std::string::npos);
}

TEST(Gpu, NodeAffinityIsSortedAndStable) {
  auto affinity = gpu_node_affinity(GpuRequirement{1, "MI300X", 0}, {});
  ASSERT_TRUE(affinity.is_object());
  const auto& expr = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
                             [0]["matchExpressions"][0];
  EXPECT_EQ(expr["key"], "amd.com/gpu.device-id");
  EXPECT_EQ(expr["operator"], "In");
  EXPECT_EQ(expr["values"], json({"74a1", "74a9", "74b5", "74bd"}));

  GpuInventory inv{{"MI325X", GpuInfo{"amd.com/gpu", "256G", VramSource::kStatic}},
                   {"MI300X", GpuInfo{"amd.com/gpu", "192G", VramSource::kStatic}},
                   {"MI210", GpuInfo{"amd.com/gpu", "64G", VramSource::kStatic}}};
  auto by_vram = gpu_node_affinity(GpuRequirement{1, "", 128LL << 30}, inv);
  EXPECT_EQ(by_vram["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
                   ["matchExpressions"][0]["values"],
            json({"74a1", "74a5", "74a9", "74b5", "74b9", "74bd"}));

  EXPECT_TRUE(gpu_node_affinity(GpuRequirement{1, "", 0}, inv).is_null());      // any GPU: no pin
  EXPECT_TRUE(gpu_node_affinity(GpuRequirement{1, "H100", 0}, inv).is_null());  // no known ids
  EXPECT_TRUE(gpu_node_affinity(std::nullopt, inv).is_null());
}

TEST(Gpu, ResolvedHardwareAndSummary) {
  json spec = {{"gpu", {{"requests", 2}, {"model", "MI300X"}, {"resourceName", "amd.com/gpu"}}},
               {"cpu", {{"requests", "4"}}}};
  json from_spec = resolved_hardware(spec, std::nullopt);
  EXPECT_EQ(from_spec["gpu"]["requests"], 2);
  EXPECT_EQ(from_spec["gpu"]["model"], "MI300X");
  EXPECT_EQ(from_spec["cpu"]["requests"], "4");
  EXPECT_EQ(hardware_summary(from_spec), "2 x MI300X");

  json from_discovery = resolved_hardware(spec, DiscoveredGpu{8, "MI325X"});
  EXPECT_EQ(from_discovery["gpu"]["requests"], 8);
  EXPECT_EQ(from_discovery["gpu"]["model"], "MI325X");
  EXPECT_EQ(from_discovery["gpu"]["resourceName"], "amd.com/gpu");

  // Discovery output wins even when it says 0 / empty; the resource name keeps the block alive.
  json zero = resolved_hardware(spec, DiscoveredGpu{0, ""});
  EXPECT_FALSE(zero["gpu"].contains("requests"));
  EXPECT_EQ(hardware_summary(zero), "CPU");

  EXPECT_EQ(hardware_summary(resolved_hardware(json{{"gpu", {{"requests", 1}}}}, std::nullopt)),
            "1 x GPU");
  EXPECT_EQ(hardware_summary(resolved_hardware(json{{"gpu", {{"model", "MI210"}}}}, std::nullopt)),
            "MI210");
  EXPECT_EQ(hardware_summary(resolved_hardware(json{{"cpu", {{"requests", "1"}}}}, std::nullopt)),
            "CPU");
  EXPECT_TRUE(resolved_hardware(nullptr, std::nullopt).is_null());
  EXPECT_EQ(hardware_summary(nullptr), "");
}

}  // namespace
}  // namespace aim::engine
