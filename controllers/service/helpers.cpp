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

std::string env_value(const std::optional<api::EnvList>& env, std::string_view name) {
  if (!env) return "";
  for (const auto& e : *env)
    if (e.name == name) return e.value.value_or(std::string());
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

}  // namespace

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> template_ref_values(const Service& service) {
  std::vector<std::string> out;
  const auto& spec = service.spec;
  std::string name = spec.template_ ? trimmed(spec.template_->name) : std::string();
  if (!name.empty()) {
    out.push_back(name);
    if (spec.overrides) {
      engine::TemplateOverrides o;
      o.metric = spec.overrides->metric.value_or(std::string());
      o.precision = spec.overrides->precision.value_or(std::string());
      if (spec.overrides->hardware) o.hardware = api::encode(*spec.overrides->hardware);
      if (auto d = engine::derived_template_name(name, o)) out.push_back(*d);
    }
  }
  const auto& st = service.status.resolved_template;
  std::string resolved = st ? st->name.value_or(std::string()) : std::string();
  if (!resolved.empty()) out.push_back(resolved);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> model_ref_values(const Service& service) {
  std::vector<std::string> out;
  std::string name = trimmed(service.spec.model.name);
  if (!name.empty()) out.push_back(name);
  const auto& sm = service.status.resolved_model;
  std::string resolved = sm ? sm->name.value_or(std::string()) : std::string();
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

// The sourceUri of a source, under either spelling ("" when neither is set).
std::string source_uri(const api::ModelSource& s) {
  return s.source_uri ? *s.source_uri : s.source_uri_alias.value_or(std::string());
}

std::string custom_model_name(const std::string& base_image,
                              const std::vector<api::ModelSource>& model_sources) {
  std::vector<Json> inputs{Json(base_image)};
  std::string first;
  for (const auto& s : model_sources) {
    std::string id = s.model_id.value_or(std::string());
    if (first.empty()) first = id;
    inputs.emplace_back(id);
    inputs.emplace_back(source_uri(s));
    std::string ep = env_value(s.env, "AWS_ENDPOINT_URL");
    if (!ep.empty()) inputs.emplace_back(ep);
  }
  return names::derived_name({first.empty() ? std::string("custom-model") : first}, inputs, 8, 63);
}

bool same_model_sources(const std::vector<api::ModelSource>& a,
                        const std::vector<api::ModelSource>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto &x = a[i], &y = b[i];
    if (x.model_id.value_or(std::string()) != y.model_id.value_or(std::string())) return false;
    if (source_uri(x) != source_uri(y)) return false;
    if (env_value(x.env, "AWS_ENDPOINT_URL") != env_value(y.env, "AWS_ENDPOINT_URL")) return false;
  }
  return true;
}

std::set<std::string> cluster_gpu_models(const std::vector<kube::ObjectPtr>& nodes) {
  std::set<std::string> out;
  for (const auto& node : typed_list<api::ObjectHead>(nodes)) {
    if (!node->metadata.labels) continue;
    engine::NodeLabels l(node->metadata.labels->begin(), node->metadata.labels->end());
    if (auto g = engine::node_gpu(l)) out.insert(g->model);
  }
  return out;
}

engine::TemplateCandidate template_candidate(const Template& tmpl, engine::TemplateScope scope) {
  engine::TemplateCandidate c;
  c.name = name_of(tmpl.metadata);
  c.scope = scope;
  c.status = tmpl.status.status.value_or(std::string());
  c.has_profile = tmpl.status.profile.has_value();
  if (c.has_profile && tmpl.status.profile->metadata) {
    const auto& md = *tmpl.status.profile->metadata;
    c.profile_type = md.type.value_or(std::string());
    c.profile_metric = md.metric.value_or(std::string());
    c.profile_precision = md.precision.value_or(std::string());
    c.profile_gpu = md.gpu.value_or(std::string());
    c.profile_gpu_count = md.gpu_count.value_or(0);
  }
  c.spec_metric = tmpl.spec.metric.value_or(std::string());
  c.spec_precision = tmpl.spec.precision.value_or(std::string());
  if (tmpl.spec.hardware && tmpl.spec.hardware->gpu) {
    c.spec_gpu_model = tmpl.spec.hardware->gpu->model.value_or(std::string());
    c.spec_gpu_count = tmpl.spec.hardware->gpu->requests.value_or(0);
  }
  return c;
}

kube::ListOptions inference_pods_selector() {
  kube::ListOptions o;
  o.label_selector = std::string(api::kLabelKServeInferenceService);
  return o;
}

namespace {

using PodRef = const Cached<api::Pod>*;

std::optional<engine::ComponentHealth> image_pull_problem(const std::vector<PodRef>& pods) {
  using S = engine::ComponentState;
  for (PodRef pod : pods) {
    const auto& st = (*pod)->status;
    for (const auto* list : {&st.init_container_statuses, &st.container_statuses}) {
      if (!*list) continue;
      for (const auto& cs : **list) {
        if (!cs.state || !cs.state->waiting) continue;
        const std::string reason = cs.state->waiting->reason.value_or(std::string());
        if (reason != "ImagePullBackOff" && reason != "ErrImagePull") continue;
        const std::string msg = cs.state->waiting->message.value_or(std::string());
        std::string text = "Container " + cs.name + ": " + msg;
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

std::string phase_of(PodRef pod) {
  return (*pod)->status.phase.value_or(std::string());
}

// Any pod that has not failed (a replacement of an evicted one, say).
bool has_live_pod(const std::vector<PodRef>& pods) {
  return std::any_of(pods.begin(), pods.end(), [](PodRef p) { return phase_of(p) != "Failed"; });
}

bool evicted(PodRef pod) {
  return phase_of(pod) == "Failed" && (*pod)->status.reason == "Evicted";
}

// What the scheduler and the kubelet say of a stuck pod (engine/pod_issue.h), with the grace
// period of Unschedulable.
std::optional<engine::ComponentHealth> stuck_pod(const std::vector<PodRef>& pods, int64_t now,
                                                 const engine::PodIssueOptions& opts,
                                                 std::optional<std::chrono::seconds>& recheck) {
  const bool replaced = has_live_pod(pods);
  for (PodRef pod : pods) {
    auto issue = engine::classify_pod(*pod->raw, opts);
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

// A failed pod (not evicted) as a Failed health: OOMKilled when its first terminated container
// says so.
engine::ComponentHealth failed_pod(PodRef pod) {
  using S = engine::ComponentState;
  std::string msg = "Pod failed";
  std::string reason = "PodFailed";
  if (const auto& list = (*pod)->status.container_statuses) {
    for (const auto& cs : *list) {
      if (!cs.state || !cs.state->terminated) continue;
      const std::string why = cs.state->terminated->reason.value_or("Error");
      msg = "Container " + cs.name + " terminated with reason: " + why;
      if (why == "OOMKilled") reason = "PodOOMKilled";
      break;
    }
  }
  auto h = make(S::Failed, reason, msg);
  h.error = engine::ErrorCategory::kInvalidSpec;
  return h;
}

}  // namespace

PodsHealth predictor_pods_health(const Pods& all, int64_t now,
                                 const engine::PodIssueOptions& options) {
  using S = engine::ComponentState;
  std::vector<PodRef> pods;
  for (const auto& p : all)
    if (!p->metadata.deletion_timestamp) pods.push_back(&p);
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
  for (PodRef pod : pods) {
    // An evicted pod left here was replaced (stuck_pod reports one that was not).
    if (phase_of(pod) == "Failed" && !evicted(pod)) {
      out.health = failed_pod(pod);
      return out;
    }
  }
  bool running = false, pending = false;
  for (PodRef pod : pods) {
    const std::string phase = phase_of(pod);
    if (phase == "Succeeded" ||
        (phase == "Running" && api::condition_true((*pod)->status.conditions, "Ready"))) {
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

engine::ComponentHealth pods_health(const Pods& pods) {
  return predictor_pods_health(pods, 0).health;
}

engine::ComponentHealth http_route_health(const api::HTTPRoute& route) {
  using S = engine::ComponentState;
  engine::ComponentHealth h;
  h.component = "HTTPRoute";
  h.dependency = engine::Dependency::Downstream;
  if (route.status.parents) {
    for (const auto& p : *route.status.parents) {
      if (!p.conditions) continue;
      for (const auto& c : *p.conditions) {
        const std::string status = c.status.value_or(std::string());
        const std::string reason = c.reason.value_or(std::string());
        const std::string message = c.message.value_or(std::string());
        if (c.type == "Accepted" && status == "True") {
          h.state = S::Ready;
          h.reason = "HTTPRouteAccepted";
          h.message = "HTTPRoute accepted by the gateway";
          return h;
        }
        if (c.type == "Accepted") {
          h.state = S::Failed;
          h.reason = c.reason ? reason : "NotAccepted";
          h.message = "HTTPRoute rejected: " + message;
          h.error = engine::ErrorCategory::kInvalidSpec;
          return h;
        }
        if (c.type == "ResolvedRefs" && status == "False") {
          h.state = S::Progressing;
          h.reason = c.reason ? reason : "RefsNotResolved";
          h.message = "HTTPRoute backend not resolved: " + message;
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

bool isvc_ready(const api::InferenceService& isvc) {
  return api::condition_true(isvc.status.conditions, "Ready");
}

}  // namespace aim::controllers::service
