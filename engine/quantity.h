// Kubernetes resource quantities as whole numbers, as resource.Quantity.Value() gives them
// (rounded up): "16Gi", "1.5G", "500m", "16106127360", or a JSON number. One parser for model
// sizes, PVC requests and VRAM.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace aim::engine {

// nullopt when malformed (unknown suffix, no digits, two dots), negative or beyond int64.
std::optional<std::int64_t> quantity_value(const nlohmann::json& quantity);

}  // namespace aim::engine
