// engine/quantity and engine/gpu: Kubernetes quantities from objects (model sizes, PVC requests,
// VRAM). Mode byte: 0 the rest as a JSON string, 1 the rest as JSON (numbers, anything),
// 2 parse_vram_bytes. A value found is printed back as a BinarySI quantity, which must parse to
// the same number.
#include <nlohmann/json.hpp>

#include "engine/discovery_output.h"
#include "engine/gpu.h"
#include "engine/quantity.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 3);
  std::optional<std::int64_t> value;
  switch (mode) {
    case 0:
      value = engine::quantity_value(nlohmann::json(std::string(text)));
      break;
    case 1: {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) return 0;
      value = engine::quantity_value(j);
      break;
    }
    default:
      (void)engine::parse_vram_bytes(text);
      return 0;
  }
  if (value) {
    if (*value < 0) fuzz::violated("negative quantity", text);
    std::string printed = engine::binary_si_quantity(*value);
    auto again = engine::quantity_value(nlohmann::json(printed));
    if (!again || *again != *value)
      fuzz::violated("binary_si_quantity does not parse back", printed);
  }
  return 0;
}
