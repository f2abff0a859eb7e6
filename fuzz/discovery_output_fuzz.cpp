// engine/discovery_output: the pod log of a model container's `dry-run --format=json`, a JSON
// array possibly surrounded by other output (the container writes whatever it likes).
#include "engine/discovery_output.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto out = engine::parse_discovery_output(fuzz::as_text(data, size));
  if (!out) return 0;
  if (out->model_sources.empty()) fuzz::violated("success without model sources", "");
  (void)out->profile.dump();
  (void)out->model_sources_json().dump();
  for (const auto& m : out->model_sources) (void)engine::binary_si_quantity(m.size_bytes);
  return 0;
}
