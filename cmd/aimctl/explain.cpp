#include "cmd/aimctl/explain.h"

#include <algorithm>
#include <sstream>

namespace aim::aimctl {
namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Left-aligned in a column of `width`, always followed by at least two spaces.
std::string pad(std::string s, std::size_t width) {
  s.append(s.size() + 2 > width ? 2 : width - s.size(), ' ');
  return s;
}

// The width of the name column: the longest candidate name (template names reach 63).
std::size_t name_width(const Json& candidates) {
  std::size_t w = 8;
  for (const auto& c : candidates) w = std::max(w, c.value("name", std::string()).size());
  return w + 2;
}

}  // namespace

std::string render_explanation(const Json& svc) {
  std::ostringstream out;
  const Json status = svc.value("status", Json::object());
  const Json meta = svc.value("metadata", Json::object());
  out << "AIMService " << str(meta, "namespace") << "/" << str(meta, "name") << ": "
      << (status.contains("status") ? str(status, "status") : "no status yet") << "\n";
  if (auto m = status.find("resolvedModel"); m != status.end()) {
    out << "  model:    " << str(*m, "name") << " (" << str(*m, "kind") << ")\n";
  }
  if (auto t = status.find("resolvedTemplate"); t != status.end()) {
    out << "  template: " << str(*t, "name") << " (" << str(*t, "kind") << ")\n";
  }
  const Json spec = svc.value("spec", Json::object());
  const Json tmpl = spec.value("template", Json::object());
  auto sel = status.find("templateSelection");
  if (!str(tmpl, "name").empty()) {
    out << "\nTemplate named explicitly (spec.template.name: " << str(tmpl, "name")
        << "); no automatic selection.\n";
  } else if (sel == status.end()) {
    out << "\nNo selection recorded yet (the model may not be resolved).\n";
  } else {
    out << "\nSelection: " << str(*sel, "outcome") << "\n  " << str(*sel, "summary") << "\n\n";
    const Json candidates = sel->value("candidates", Json::array());
    const std::size_t width = name_width(candidates);
    out << "  " << pad("TEMPLATE", width) << pad("SCOPE", 11) << pad("RESULT", 10)
        << "STAGE / REASON\n";
    for (const auto& c : candidates) {
      std::string result = str(c, "status");
      std::string why =
          result == "chosen" ? "" : "stage " + str(c, "stage") + ": " + str(c, "reason");
      // The engine's reasons already start with "stage N:"; do not say it twice.
      if (auto r = str(c, "reason"); r.rfind("stage ", 0) == 0) why = r;
      out << "  " << pad(str(c, "name"), width) << pad(str(c, "scope"), 11) << pad(result, 10)
          << why << "\n";
    }
    if (sel->contains("omittedCandidates")) {
      out << "  ... and " << str(*sel, "omittedCandidates") << " more\n";
    }
  }
  bool header = false;
  for (const auto& c : status.value("conditions", Json::array())) {
    if (str(c, "status") == "True") continue;
    if (!header) {
      out << "\nConditions not True:\n";
      header = true;
    }
    out << "  " << pad(str(c, "type"), 28) << pad(str(c, "reason"), 28) << str(c, "message")
        << "\n";
  }
  return out.str();
}

}  // namespace aim::aimctl
