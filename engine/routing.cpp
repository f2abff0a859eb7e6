#include "engine/routing.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/chrono.h"
#include "engine/service_names.h"

namespace aim::engine {
namespace {

constexpr std::size_t kMaxPath = 200;

RouteError invalid(std::string message) {
  return RouteError{"PathTemplateInvalid", std::move(message)};
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Lowercase RFC-1123 label: invalid characters to '-', '-' trimmed, cut to 63. May be empty.
std::string rfc1123_segment(const std::string& s) {
  std::string out;
  for (char ch : s) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    out.push_back(ok ? c : '-');
  }
  std::size_t b = out.find_first_not_of('-');
  if (b == std::string::npos) return "";
  out = out.substr(b, out.find_last_not_of('-') - b + 1);
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// One step of a JSONPath: a member name or an array index.
struct Step {
  bool is_index = false;
  std::string key;
  std::size_t index = 0;
};

Result<std::vector<Step>, std::string> parse_jsonpath(const std::string& expr) {
  std::vector<Step> steps;
  std::size_t i = 0;
  if (i < expr.size() && expr[i] == '$') ++i;
  if (i >= expr.size()) return fail(std::string("empty expression"));
  while (i < expr.size()) {
    if (expr[i] == '.') {
      ++i;
      std::size_t start = i;
      while (i < expr.size() && expr[i] != '.' && expr[i] != '[') {
        char c = expr[i];
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
          return fail("unsupported character '" + std::string(1, c) + "'");
        }
        ++i;
      }
      if (i == start) return fail(std::string("empty field name"));
      steps.push_back({false, expr.substr(start, i - start), 0});
    } else if (expr[i] == '[') {
      ++i;
      if (i < expr.size() && (expr[i] == '\'' || expr[i] == '"')) {
        char q = expr[i++];
        std::size_t end = expr.find(q, i);
        if (end == std::string::npos || end + 1 >= expr.size() || expr[end + 1] != ']') {
          return fail(std::string("unterminated quoted key"));
        }
        steps.push_back({false, expr.substr(i, end - i), 0});
        i = end + 2;
      } else {
        std::size_t end = expr.find(']', i);
        if (end == std::string::npos) return fail(std::string("missing ']'"));
        std::string num = expr.substr(i, end - i);
        if (num.empty() || num.size() > 6 ||
            num.find_first_not_of("0123456789") != std::string::npos) {
          return fail("unsupported index [" + num + "] (only [n], ['key'] and [\"key\"])");
        }
        steps.push_back({true, "", static_cast<std::size_t>(std::stoul(num))});
        i = end + 1;
      }
    } else {
      return fail("expected '.' or '[' at \"" + expr.substr(i) + "\"");
    }
  }
  return steps;
}

std::string describe(const std::vector<Step>& steps, std::size_t upto) {
  std::string out;
  for (std::size_t i = 0; i <= upto && i < steps.size(); ++i) {
    out += steps[i].is_index ? "[" + std::to_string(steps[i].index) + "]" : "." + steps[i].key;
  }
  return out;
}

// Evaluates one `{...}` expression to its (trimmed, for non-annotations normalized) text.
Result<std::string, RouteError> evaluate(const std::string& raw, const nlohmann::json& service) {
  std::string expr = trim(raw);
  auto steps = parse_jsonpath(expr);
  if (!steps.ok()) return fail(invalid("expression {" + raw + "}: " + steps.error()));
  const nlohmann::json* cur = &service;
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const Step& s = (*steps)[i];
    if (s.is_index) {
      if (!cur->is_array() || s.index >= cur->size()) {
        return fail(invalid("expression {" + expr + "}: " + describe(*steps, i) + " not found"));
      }
      cur = &(*cur)[s.index];
    } else {
      if (!cur->is_object() || !cur->contains(s.key)) {
        bool lookup = i == 2 && (*steps)[0].key == "metadata" &&
                      ((*steps)[1].key == "labels" || (*steps)[1].key == "annotations");
        std::string what = lookup
                               ? std::string((*steps)[1].key == "labels" ? "label" : "annotation") +
                                     " \"" + s.key + "\" is not set on the service"
                               : describe(*steps, i) + " not found";
        return fail(invalid("expression {" + expr + "}: " + what));
      }
      cur = &(*cur)[s.key];
    }
  }
  std::string text;
  if (cur->is_string()) {
    text = cur->get<std::string>();
  } else if (cur->is_number() || cur->is_boolean()) {
    text = cur->dump();
  } else {
    return fail(invalid("expression {" + expr + "}: resolves to " +
                        (cur->is_null() ? std::string("null") : std::string("an object or list")) +
                        ", not a single value"));
  }
  text = trim(text);
  bool annotation =
      steps->size() == 3 && (*steps)[0].key == "metadata" && (*steps)[1].key == "annotations";
  if (!annotation) text = rfc1123_segment(text);
  if (text.empty()) return fail(invalid("expression {" + expr + "}: renders an empty value"));
  return text;
}

Result<std::string, RouteError> normalize_path(const std::string& rendered) {
  std::string p = trim(rendered);
  if (p.empty()) return fail(invalid("path is empty"));
  if (p.front() != '/') p.insert(p.begin(), '/');
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.size() > kMaxPath) {
    return fail(invalid("path is " + std::to_string(p.size()) + " characters; at most 200"));
  }
  std::string out;
  std::size_t start = 1;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string seg = rfc1123_segment(trim(p.substr(start, end - start)));
    if (!seg.empty()) out += "/" + seg;
    start = end + 1;
  }
  if (out.empty()) return fail(invalid("path \"" + rendered + "\" has no valid segment"));
  if (out.size() > kMaxPath) {
    return fail(invalid("path is " + std::to_string(out.size()) + " characters; at most 200"));
  }
  return out;
}

bool set(const nlohmann::json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && !obj[key].is_null();
}

}  // namespace

RoutingConfig resolve_routing(const nlohmann::json& rc, const nlohmann::json& svc) {
  RoutingConfig out;
  auto pick = [&](const char* key) -> nlohmann::json {
    if (set(svc, key)) return svc[key];
    if (set(rc, key)) return rc[key];
    return nullptr;
  };
  auto enabled = pick("enabled");
  out.enabled = enabled.is_boolean() && enabled.get<bool>();
  out.gateway_ref = pick("gatewayRef");
  auto tmpl = pick("pathTemplate");
  if (tmpl.is_string()) out.path_template = tmpl.get<std::string>();
  auto timeout = pick("requestTimeout");
  if (timeout.is_string()) out.request_timeout = timeout.get<std::string>();
  for (const auto* src : {&rc, &svc}) {
    if (set(*src, "annotations") && (*src)["annotations"].is_object()) {
      for (const auto& [k, v] : (*src)["annotations"].items()) out.annotations[k] = v;
    }
  }
  return out;
}

Result<std::string, RouteError> render_route_path(const std::string& path_template,
                                                  const nlohmann::json& service) {
  std::string rendered;
  std::size_t i = 0;
  while (i < path_template.size()) {
    char c = path_template[i];
    if (c == '}') {
      return fail(invalid("unmatched '}' at position " + std::to_string(i) + " of \"" +
                          path_template + "\""));
    }
    if (c != '{') {
      rendered.push_back(c);
      ++i;
      continue;
    }
    std::size_t end = path_template.find_first_of("{}", i + 1);
    if (end == std::string::npos || path_template[end] == '{') {
      return fail(invalid("unmatched '{' at position " + std::to_string(i) + " of \"" +
                          path_template + "\""));
    }
    auto value = evaluate(path_template.substr(i + 1, end - i - 1), service);
    if (!value.ok()) return fail(value.error());
    rendered += *value;
    i = end + 1;
  }
  return normalize_path(rendered);
}

std::string default_route_path(const std::string& ns, const std::string& uid) {
  auto p = normalize_path("/" + ns + "/" + uid);
  return p.ok() ? *p : "/";
}

Result<std::string, std::string> go_duration_string(const std::string& text) {
  auto d = parse_go_duration(trim(text));
  if (!d.ok()) return fail(d.error());
  return format_go_duration(*d);
}

Result<RenderedRoute, RouteError> render_http_route(const RoutingConfig& cfg,
                                                    const nlohmann::json& service) {
  const auto& meta = service.value("metadata", nlohmann::json::object());
  std::string name = meta.value("name", "");
  std::string ns = meta.value("namespace", "");
  std::string uid = meta.value("uid", "");
  if (!cfg.gateway_ref.is_object() || cfg.gateway_ref.empty()) {
    return fail(RouteError{"GatewayNotConfigured",
                           "routing is enabled but no gatewayRef is set on the service or its "
                           "runtime config"});
  }
  auto isvc = service_names::inference_service_name(name, ns);
  if (!isvc.ok()) return fail(RouteError{"InvalidName", isvc.error()});

  std::string path;
  if (cfg.path_template.empty()) {
    path = default_route_path(ns, uid);
  } else {
    auto rendered = render_route_path(cfg.path_template, service);
    if (!rendered.ok()) return fail(rendered.error());
    path = *rendered;
  }

  nlohmann::json rule = {
      {"matches", nlohmann::json::array({{{"path", {{"type", "PathPrefix"}, {"value", path}}}}})},
      {"filters",
       nlohmann::json::array(
           {{{"type", "URLRewrite"},
             {"urlRewrite",
              {{"path", {{"type", "ReplacePrefixMatch"}, {"replacePrefixMatch", "/"}}}}}}})},
      {"backendRefs", nlohmann::json::array({{{"kind", "Service"},
                                              {"name", *isvc + "-predictor"},
                                              {"namespace", ns},
                                              {"port", 80}}})},
  };
  if (!cfg.request_timeout.empty()) {
    auto d = go_duration_string(cfg.request_timeout);
    if (!d.ok()) return fail(invalid("requestTimeout: " + d.error()));
    rule["timeouts"] = {{"request", *d}};
  }

  nlohmann::json labels = {{"app.kubernetes.io/component", "routing"},
                           {"app.kubernetes.io/managed-by", "aim-engine"},
                           {"aim.eai.amd.com/service.name", name}};
  if (auto v = service_names::sanitize_label_value(name); v.ok()) {
    labels["aim.eai.amd.com/service"] = *v;
  }
  nlohmann::json metadata = {
      {"name", service_names::http_route_name(name, ns)}, {"namespace", ns}, {"labels", labels}};
  if (!cfg.annotations.empty()) metadata["annotations"] = cfg.annotations;

  RenderedRoute out;
  out.path = path;
  out.object = {{"apiVersion", "gateway.networking.k8s.io/v1"},
                {"kind", "HTTPRoute"},
                {"metadata", metadata},
                {"spec",
                 {{"parentRefs", nlohmann::json::array({cfg.gateway_ref})},
                  {"rules", nlohmann::json::array({rule})}}}};
  return out;
}

}  // namespace aim::engine
