#include "cmd/aimctl/explain.h"

#include <sstream>

namespace aim::aimctl {
namespace {

using Json = nlohmann::json;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
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
    out << "  " << pad("TEMPLATE", 56) << pad("SCOPE", 11) << pad("RESULT", 10)
        << "STAGE / REASON\n";
    for (const auto& c : sel->value("candidates", Json::array())) {
      std::string result = str(c, "status");
      std::string why =
          result == "chosen" ? "" : "stage " + str(c, "stage") + ": " + str(c, "reason");
      // The engine's reasons already start with "stage N:"; do not say it twice.
      if (auto r = str(c, "reason"); r.rfind("stage ", 0) == 0) why = r;
      out << "  " << pad(str(c, "name"), 56) << pad(str(c, "scope"), 11) << pad(result, 10) << why
          << "\n";
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
    out << "  " << pad(str(c, "type"), 24) << pad(str(c, "reason"), 28) << str(c, "message")
        << "\n";
  }
  return out.str();
}

}  // namespace aim::aimctl
