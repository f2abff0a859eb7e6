#include <algorithm>
#include <cctype>
#include <cmath>

#include "api/common.h"
#include "api/constants.h"
#include "controllers/service/internal.h"
#include "core/chrono.h"
#include "engine/derived_template.h"
#include "engine/error_class.h"
#include "engine/gpu.h"
#include "engine/service_names.h"
#include "registry/reference.h"

namespace aim::controllers::service {

namespace names = engine::service_names;

namespace {

const Json kNull;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Lowercase, runs of [^a-z0-9-] become '-', repeated dashes collapsed, '-' trimmed.
std::string sanitize_image_part(std::string_view s) {
  std::string out;
  for (char raw : lower(s)) {
    bool ok = (raw >= 'a' && raw <= 'z') || (raw >= '0' && raw <= '9');
    char c = ok ? raw : '-';
    if (c == '-' && !out.empty() && out.back() == '-') continue;
    out.push_back(c);
  }
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string env_value(const Json& env, std::string_view name) {
  if (!env.is_array()) return "";
  for (const auto& e : env) {
    if (e.is_object() && e.value("name", "") == name) return e.value("value", "");
  }
  return "";
}

engine::ComponentHealth make(engine::ComponentState state, std::string reason,
                             std::string message) {
  engine::ComponentHealth h;
  h.component = "InferenceServicePods";
  h.state = state;
  h.reason = std::move(reason);
  h.message = std::move(message);
  h.dependency = engine::Dependency::Downstream;
  return h;
}

bool condition_true(const Json& obj, std::string_view type) {
  const Json& conds = at(obj, {"status", "conditions"});
  if (!conds.is_array()) return false;
  for (const auto& c : conds) {
    if (c.is_object() && c.value("type", "") == type) return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

const Json& at(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string str_at(const Json& obj, std::initializer_list<const char*> path) {
  const Json& v = at(obj, path);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::vector<std::string> template_ref_values(const Json& service) {
  std::vector<std::string> out;
  std::string name = trim(str_at(service, {"spec", "template", "name"}));
  if (!name.empty()) {
    out.push_back(name);
    const Json& ov = at(service, {"spec", "overrides"});
    if (ov.is_object()) {
      engine::TemplateOverrides o;
      o.metric = ov.value("metric", "");
      o.precision = ov.value("precision", "");
      o.hardware = ov.value("hardware", Json());
      if (auto d = engine::derived_template_name(name, o)) out.push_back(*d);
    }
  }
  std::string resolved = str_at(service, {"status", "resolvedTemplate", "name"});
  if (!resolved.empty()) out.push_back(resolved);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> model_ref_values(const Json& service) {
  std::vector<std::string> out;
  std::string name = trim(str_at(service, {"spec", "model", "name"}));
  if (!name.empty()) out.push_back(name);
  std::string resolved = str_at(service, {"status", "resolvedModel", "name"});
  if (!resolved.empty() && resolved != name) out.push_back(resolved);
  return out;
}

std::optional<std::string> image_reference_problem(std::string_view field,
                                                   const std::string& image) {
  auto ref = registry::parse_reference(image);
  if (ref.ok()) return std::nullopt;
  return std::string(field) + " is not a valid image reference (" + ref.error() +
         "): write it as [registry/]repository[:tag] or [registry/]repository@sha256:<digest>, "
         "e.g. ghcr.io/amd/llama:1";
}

Result<std::string, std::string> model_name_for_image(std::string_view image_in) {
  const std::string image = trim(image_in);
  // The model controller pulls this reference: one it cannot parse gets no model (issue 26: an
  // AIMModel was created under the mangled name, and the service only said it failed).
  if (auto problem = image_reference_problem("spec.model.image", image)) return fail(*problem);
  std::string_view rest = image;
  // The registry is the first segment when it looks like a host.
  std::string registry = "docker.io";
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      registry = std::string(first);
      rest = rest.substr(slash + 1);
    }
  }
  std::string_view last = rest;
  if (auto p = rest.rfind('/'); p != std::string_view::npos) last = rest.substr(p + 1);
  std::string name_part, tag;
  if (auto atpos = last.find('@'); atpos != std::string_view::npos) {
    name_part = std::string(last.substr(0, atpos));
    std::string_view digest = last.substr(atpos + 1);
    auto colon = digest.find(':');
    std::string_view hex = colon == std::string_view::npos ? digest : digest.substr(colon + 1);
    tag = std::string(hex.substr(0, std::min<std::size_t>(6, hex.size())));
  } else if (auto colon = last.find(':'); colon != std::string_view::npos) {
    name_part = std::string(last.substr(0, colon));
    tag = std::string(last.substr(colon + 1));
  } else {
    name_part = std::string(last);
    tag = "latest";
  }
  std::string n = sanitize_image_part(name_part);
  std::string t = sanitize_image_part(tag);
  if (registry.empty() || n.empty() || t.empty()) {
    return fail(std::string("image \"") + image + "\" has no usable repository name or tag");
  }
  return names::derived_name({n, t}, {Json(image)}, 8, 63);
}

std::string custom_model_name(const std::string& base_image, const Json& model_sources) {
  std::vector<Json> inputs{Json(base_image)};
  std::string first;
  if (model_sources.is_array()) {
    for (const auto& s : model_sources) {
      std::string id = s.value("modelId", "");
      std::string uri = s.value("sourceUri", s.value("sourceURI", ""));
      if (first.empty()) first = id;
      inputs.emplace_back(id);
      inputs.emplace_back(uri);
      std::string ep = env_value(s.value("env", Json()), "AWS_ENDPOINT_URL");
      if (!ep.empty()) inputs.emplace_back(ep);
    }
  }
  return names::derived_name({first.empty() ? std::string("custom-model") : first}, inputs, 8, 63);
}

bool same_model_sources(const Json& a, const Json& b) {
  if (!a.is_array() || !b.is_array() || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Json &x = a[i], &y = b[i];
    if (!x.is_object() || !y.is_object()) return false;
    if (x.value("modelId", "") != y.value("modelId", "")) return false;
    if (x.value("sourceUri", x.value("sourceURI", "")) !=
        y.value("sourceUri", y.value("sourceURI", "")))
      return false;
    if (env_value(x.value("env", Json()), "AWS_ENDPOINT_URL") !=
        env_value(y.value("env", Json()), "AWS_ENDPOINT_URL"))
      return false;
  }
  return true;
}

std::string effective_model_id(const Json& source) {
  api::ModelSource ms;
  if (source.contains("modelId") && source["modelId"].is_string())
    ms.model_id = source["modelId"].get<std::string>();
  if (source.contains("sourceUri") && source["sourceUri"].is_string())
    ms.source_uri = source["sourceUri"].get<std::string>();
  if (source.contains("sourceURI") && source["sourceURI"].is_string())
    ms.source_uri_alias = source["sourceURI"].get<std::string>();
  return ms.effective_model_id();
}

std::set<std::string> cluster_gpu_models(const std::vector<Json>& nodes) {
  std::set<std::string> out;
  for (const auto& node : nodes) {
    const Json& labels = at(node, {"metadata", "labels"});
    if (!labels.is_object()) continue;
    engine::NodeLabels l;
    for (const auto& [k, v] : labels.items()) {
      if (v.is_string()) l[k] = v.get<std::string>();
    }
    if (auto g = engine::node_gpu(l)) out.insert(g->model);
  }
  return out;
}

engine::TemplateCandidate template_candidate(const Json& tmpl, engine::TemplateScope scope) {
  engine::TemplateCandidate c;
  c.name = str_at(tmpl, {"metadata", "name"});
  c.scope = scope;
  c.status = str_at(tmpl, {"status", "status"});
  const Json& profile = at(tmpl, {"status", "profile"});
  c.has_profile = profile.is_object();
  if (c.has_profile) {
    const Json& md = at(profile, {"metadata"});
    c.profile_type = str_at(md, {"type"});
    c.profile_metric = str_at(md, {"metric"});
    c.profile_precision = str_at(md, {"precision"});
    c.profile_gpu = str_at(md, {"gpu"});
    const Json& n = at(md, {"gpuCount"});
    if (n.is_number_integer()) c.profile_gpu_count = n.get<int32_t>();
  }
  c.spec_metric = str_at(tmpl, {"spec", "metric"});
  c.spec_precision = str_at(tmpl, {"spec", "precision"});
  c.spec_gpu_model = str_at(tmpl, {"spec", "hardware", "gpu", "model"});
  const Json& req = at(tmpl, {"spec", "hardware", "gpu", "requests"});
  if (req.is_number_integer()) c.spec_gpu_count = req.get<int32_t>();
  return c;
}

kube::ListOptions inference_pods_selector() {
  kube::ListOptions o;
  o.label_selector = std::string(api::kLabelKServeInferenceService);
  return o;
}

namespace {

std::optional<engine::ComponentHealth> image_pull_problem(const std::vector<const Json*>& pods) {
  using S = engine::ComponentState;
  for (const Json* pod : pods) {
    for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
      const Json& list = at(*pod, {"status", key});
      if (!list.is_array()) continue;
      for (const auto& cs : list) {
        std::string reason = str_at(cs, {"state", "waiting", "reason"});
        if (reason != "ImagePullBackOff" && reason != "ErrImagePull") continue;
        std::string msg = str_at(cs, {"state", "waiting", "message"});
        std::string text = "Container " + cs.value("name", "") + ": " + msg;
        auto kind = engine::classify_image_error_text(msg);
        engine::ComponentHealth h;
        if (kind == engine::ImageErrorKind::kAuth) {
          h = make(S::Failed, "ImagePullAuthFailure", text);
          h.error = engine::ErrorCategory::kAuth;
        } else if (kind == engine::ImageErrorKind::kNotFound) {
          h = make(S::Failed, "ImageNotFound", text);
          h.error = engine::ErrorCategory::kMissingUpstream;
        } else {
          h = make(S::Degraded, "ImagePullBackOff", text);
          h.error = engine::ErrorCategory::kInfrastructure;
        }
        return h;
      }
    }
  }
  return std::nullopt;
}

// Any pod that has not failed (a replacement of an evicted one, say).
bool has_live_pod(const std::vector<const Json*>& pods) {
  return std::any_of(pods.begin(), pods.end(), [](const Json* p) {
    return str_at(*p, {"status", "phase"}) != "Failed";
  });
}

bool evicted(const Json& pod) {
  return str_at(pod, {"status", "phase"}) == "Failed" &&
         str_at(pod, {"status", "reason"}) == "Evicted";
}

// What the scheduler and the kubelet say of a stuck pod (engine/pod_issue.h), with the grace
// period of Unschedulable.
std::optional<engine::ComponentHealth> stuck_pod(const std::vector<const Json*>& pods, int64_t now,
                                                 const engine::PodIssueOptions& opts,
                                                 std::optional<std::chrono::seconds>& recheck) {
  const bool replaced = has_live_pod(pods);
  for (const Json* pod : pods) {
    auto issue = engine::classify_pod(*pod, opts);
    if (!issue || issue->reason == engine::kReasonImagePullFailed) continue;  // reported above
    if (issue->reason == engine::kReasonEvicted && replaced) continue;
    if (issue->reason == engine::kReasonUnschedulable) {
      if (now <= 0) continue;
      const int64_t due =
          parse_rfc3339(issue->since).value_or(now) + opts.unschedulable_grace.count();
      if (now < due) {
        const auto wait = std::chrono::seconds(due - now);
        if (!recheck || wait < *recheck) recheck = wait;
        continue;
      }
    }
    // Named, as a service has several pods (some messages of pod_issue.h name it already).
    std::string message = issue->message;
    if (message.find(issue->pod) == std::string::npos)
      message = "Pod " + issue->pod + ": " + message;
    return make(issue->state, issue->reason, std::move(message));
  }
  return std::nullopt;
}

}  // namespace

PodsHealth predictor_pods_health(const std::vector<Json>& all, int64_t now,
                                 const engine::PodIssueOptions& options) {
  using S = engine::ComponentState;
  std::vector<const Json*> pods;
  for (const auto& p : all)
    if (at(p, {"metadata", "deletionTimestamp"}).is_null()) pods.push_back(&p);
  PodsHealth out;
  if (pods.empty()) {
    out.health = make(S::Progressing, "NoPods", "No pods found");
    return out;
  }
  if (auto pull = image_pull_problem(pods)) {
    out.health = std::move(*pull);
    return out;
  }
  if (auto stuck = stuck_pod(pods, now, options, out.recheck_after)) {
    out.health = std::move(*stuck);
    return out;
  }
  for (const Json* pod : pods) {
    // An evicted pod left here was replaced (stuck_pod reports one that was not).
    if (str_at(*pod, {"status", "phase"}) != "Failed" || evicted(*pod)) continue;
    std::string msg = "Pod failed";
    const Json& list = at(*pod, {"status", "containerStatuses"});
    if (list.is_array()) {
      for (const auto& cs : list) {
        const Json& term = at(cs, {"state", "terminated"});
        if (!term.is_object()) continue;
        msg = "Container " + cs.value("name", "") +
              " terminated with reason: " + term.value("reason", std::string("Error"));
        if (term.value("reason", "") == "OOMKilled") {
          out.health = make(S::Failed, "PodOOMKilled", msg);
          out.health.error = engine::ErrorCategory::kInvalidSpec;
          return out;
        }
        break;
      }
    }
    out.health = make(S::Failed, "PodFailed", msg);
    out.health.error = engine::ErrorCategory::kInvalidSpec;
    return out;
  }
  bool running = false, pending = false;
  for (const Json* pod : pods) {
    std::string phase = str_at(*pod, {"status", "phase"});
    if (phase == "Succeeded" || (phase == "Running" && condition_true(*pod, "Ready"))) {
      out.health = make(S::Ready, "PodsReady", "Pods are ready");
      return out;
    }
    if (phase == "Running") running = true;
    if (phase == "Pending") pending = true;
  }
  if (running) {
    out.health = make(S::Starting, "PodsStarting", "Pods are running but not ready");
  } else if (pending) {
    out.health = make(S::Pending, "PodsPending", "Pods are pending");
  } else {
    out.health = make(S::Progressing, "PodsProgressing", "Pods are progressing");
  }
  return out;
}

engine::ComponentHealth pods_health(const std::vector<Json>& pods) {
  return predictor_pods_health(pods, 0).health;
}

engine::ComponentHealth http_route_health(const Json& route) {
  using S = engine::ComponentState;
  engine::ComponentHealth h;
  h.component = "HTTPRoute";
  h.dependency = engine::Dependency::Downstream;
  const Json& parents = at(route, {"status", "parents"});
  if (parents.is_array()) {
    for (const auto& p : parents) {
      const Json& conds = at(p, {"conditions"});
      if (!conds.is_array()) continue;
      for (const auto& c : conds) {
        std::string type = c.value("type", ""), status = c.value("status", "");
        if (type == "Accepted" && status == "True") {
          h.state = S::Ready;
          h.reason = "HTTPRouteAccepted";
          h.message = "HTTPRoute accepted by the gateway";
          return h;
        }
        if (type == "Accepted") {
          h.state = S::Failed;
          h.reason = c.value("reason", std::string("NotAccepted"));
          h.message = "HTTPRoute rejected: " + c.value("message", std::string());
          h.error = engine::ErrorCategory::kInvalidSpec;
          return h;
        }
        if (type == "ResolvedRefs" && status == "False") {
          h.state = S::Progressing;
          h.reason = c.value("reason", std::string("RefsNotResolved"));
          h.message = "HTTPRoute backend not resolved: " + c.value("message", std::string());
          return h;
        }
      }
    }
  }
  h.state = S::Progressing;
  h.reason = "HTTPRoutePending";
  h.message = "HTTPRoute is waiting for the gateway";
  return h;
}

bool isvc_ready(const Json& isvc) {
  return condition_true(isvc, "Ready");
}

}  // namespace aim::controllers::service
