// Rendering of `aimctl explain`: an AIMService's template selection (status.templateSelection),
// its resolved model and template, and the conditions that are not True, as text.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aim::aimctl {

std::string render_explanation(const nlohmann::json& service);

}  // namespace aim::aimctl
