#include "engine/service_status.h"

#include <algorithm>

namespace aim::engine {
namespace {

ComponentHealth from_error(std::string component, ComponentState state, const ObservedError& e,
                           Dependency dep) {
  ComponentHealth h = component_health(std::move(component), state, e.reason, e.message, dep);
  h.error = e.category;
  return h;
}

ComponentHealth model_health(const ModelObservation& m) {
  const auto up = Dependency::Upstream;
  std::string who = m.kind_name + " " + m.name;
  switch (m.kind) {
    case ModelObservation::Kind::WillCreate:
      return component_health("Model", ComponentState::Pending, "CreatingModel",
                              m.create_message.empty() ? "Model will be created" : m.create_message,
                              Dependency::Downstream);
    case ModelObservation::Kind::Error:
      return from_error("Model", ComponentState::Failed, m.error, up);
    case ModelObservation::Kind::Found:
      if (m.status == "Ready")
        return component_health("Model", ComponentState::Ready, "ModelResolved", who + " is ready",
                                up);
      if (m.status == "Failed" || m.status == "Degraded") {
        return component_health("Model", ComponentState::Failed, "ModelNotReady",
                                who + " is in failed state", up);
      }
      return component_health(
          "Model", ComponentState::Progressing, "ModelNotReady",
          who + " is not ready (" + (m.status.empty() ? "no status" : m.status) + ")", up);
    case ModelObservation::Kind::NotFound:
      break;
  }
  return component_health("Model", ComponentState::Pending, "ModelNotFound",
                          "No model found for service", up);
}

ComponentHealth template_health(const TemplateObservation& t) {
  const auto up = Dependency::Upstream;
  std::string who = t.kind_name + " " + t.name;
  switch (t.kind) {
    case TemplateObservation::Kind::Error:
      return from_error("Template", ComponentState::Failed, t.error, up);
    case TemplateObservation::Kind::Found:
    case TemplateObservation::Kind::WaitingForDerived: {
      std::string prefix =
          t.kind == TemplateObservation::Kind::WaitingForDerived ? "derived template " + who : who;
      if (t.status == "Ready")
        return component_health("Template", ComponentState::Ready, "Resolved", prefix + " is ready",
                                up);
      const std::string detail = t.detail.empty() ? "" : ": " + t.detail;
      if (t.status == "NotAvailable") {
        return component_health("Template", ComponentState::NotAvailable, "TemplateNotReady",
                                prefix + " is not available (no matching GPUs)" + detail, up);
      }
      if (t.status == "Failed" || t.status == "Degraded") {
        return component_health("Template", ComponentState::Failed, "TemplateNotReady",
                                prefix + " is in failed state" + detail, up);
      }
      return component_health(
          "Template", ComponentState::Progressing, "TemplateNotReady",
          prefix + " is not ready (" + (t.status.empty() ? "no status" : t.status) + ")", up);
    }
    case TemplateObservation::Kind::Selection:
      if (t.selection) {
        const auto& s = *t.selection;
        switch (s.outcome) {
          case SelectionOutcome::Ambiguous:
            // Seed 001: an ambiguous selection is an error the user resolves; it is not "not
            // found".
            return component_health("Template", ComponentState::Failed, s.reason, s.message, up);
          case SelectionOutcome::NoneReady:
            return component_health("Template", ComponentState::Progressing, s.reason, s.message,
                                    up);
          case SelectionOutcome::NoMatch:
          case SelectionOutcome::NoCandidates:
            return component_health("Template", ComponentState::Pending, s.reason, s.message, up);
          case SelectionOutcome::Selected:
            break;
        }
      }
      break;
    case TemplateObservation::Kind::None:
      break;
  }
  return component_health("Template", ComponentState::Pending, "TemplateNotFound",
                          "No template found for service", up);
}

ComponentHealth isvc_health(const IsvcObservation& i) {
  const auto down = Dependency::Downstream;
  switch (i.kind) {
    case IsvcObservation::Kind::NotFound:
      return component_health("InferenceService", ComponentState::Progressing, "CreatingRuntime",
                              "InferenceService not found", down);
    case IsvcObservation::Kind::Error: {
      ObservedError e = i.error;
      e.reason = "FetchError";
      return from_error("InferenceService", ComponentState::Failed, e, down);
    }
    case IsvcObservation::Kind::Present:
      break;
  }
  if (i.serverless_rejected) {
    return component_health("InferenceService", ComponentState::Failed, "ServerlessModeRejected",
                            "Knative is not available. Configure KServe to use RawDeployment mode.",
                            down);
  }
  const std::string& ie = i.internal_error_event;
  if (!ie.empty() && ie.find("the object has been modified") == std::string::npos &&
      ie.find("Operation cannot be fulfilled") == std::string::npos) {
    return component_health("InferenceService", ComponentState::Failed, "InternalError", ie, down);
  }
  if (i.ready)
    return component_health("InferenceService", ComponentState::Ready, "RuntimeReady",
                            "InferenceService is ready", down);
  return component_health("InferenceService", ComponentState::Progressing, "CreatingRuntime",
                          "InferenceService is not ready", down);
}

std::optional<ComponentHealth> route_health(const RoutingObservation& r) {
  if (!r.enabled) return std::nullopt;
  const auto down = Dependency::Downstream;
  if (r.render_error) {
    if (r.render_error->reason == "GatewayNotConfigured") {
      auto h = component_health("HTTPRoute", ComponentState::Failed, "GatewayNotConfigured",
                                r.render_error->message, down);
      h.error = ErrorCategory::kInvalidSpec;
      return h;
    }
    // PathTemplateInvalid and friends: the service still serves inside the cluster.
    return component_health("HTTPRoute", ComponentState::Degraded, r.render_error->reason,
                            r.render_error->message, down);
  }
  switch (r.route) {
    case RoutingObservation::Route::NotFound:
      return component_health("HTTPRoute", ComponentState::Progressing, "HTTPRouteCreating",
                              "HTTPRoute is being created", down);
    case RoutingObservation::Route::Error: {
      ObservedError e = r.error;
      e.reason = "HTTPRouteFetchError";
      return from_error("HTTPRoute", ComponentState::Failed, e, down);
    }
    case RoutingObservation::Route::Present:
      break;
  }
  if (r.health) {
    ComponentHealth h = *r.health;
    h.component = "HTTPRoute";
    h.dependency = down;
    return h;
  }
  return component_health("HTTPRoute", ComponentState::Progressing, "HTTPRoutePending",
                          "HTTPRoute has no status yet", down);
}

std::optional<ComponentHealth> hpa_health(const HpaObservation& h, bool isvc_ready) {
  if (!h.configured) return std::nullopt;
  const auto down = Dependency::Downstream;
  switch (h.kind) {
    case HpaObservation::Kind::NotFound:
      return component_health("HPA", ComponentState::Progressing, "HPANotFound",
                              "Waiting for KEDA to create HorizontalPodAutoscaler", down);
    case HpaObservation::Kind::Error: {
      ObservedError e = h.error;
      e.reason = "HPAFetchError";
      return from_error("HPA", ComponentState::Failed, e, down);
    }
    case HpaObservation::Kind::Present:
      break;
  }
  if (!h.scaling_active.value_or(false)) {
    if (!isvc_ready) {
      return component_health("HPA", ComponentState::Progressing, "WaitingForMetrics",
                              "Waiting for the InferenceService before metrics are available",
                              down);
    }
    return component_health("HPA", ComponentState::Failed, "MetricsFailed",
                            "HPA cannot get metrics: " + h.scaling_active_message, down);
  }
  if (h.able_to_scale.has_value() && !*h.able_to_scale) {
    return component_health("HPA", ComponentState::Progressing, "ScaleTargetNotReady",
                            "HPA cannot scale the target yet", down);
  }
  return component_health("HPA", ComponentState::Ready, "HPAOperational", "HPA is operational",
                          down);
}

}  // namespace

const char* to_string(CachingMode m) {
  switch (m) {
    case CachingMode::Always:
      return "Always";
    case CachingMode::Auto:
      return "Auto";
    case CachingMode::Never:
      return "Never";
    case CachingMode::Shared:
      return "Shared";
    case CachingMode::Dedicated:
      return "Dedicated";
  }
  return "Auto";
}

CachingMode parse_caching_mode(const std::string& mode) {
  if (mode == "Always") return CachingMode::Always;
  if (mode == "Never") return CachingMode::Never;
  if (mode == "Shared") return CachingMode::Shared;
  if (mode == "Dedicated") return CachingMode::Dedicated;
  return CachingMode::Auto;
}

std::optional<int64_t> service_pvc_bytes(const std::vector<std::optional<int64_t>>& sizes,
                                         int32_t headroom_percent) {
  if (sizes.empty()) return std::nullopt;
  constexpr int64_t kMax = int64_t{1} << 52;  // 4 PiB: far beyond any model, keeps the math exact
  int64_t total = 0;
  for (const auto& s : sizes) {
    if (!s || *s <= 0 || *s > kMax) return std::nullopt;
    total += *s;
    if (total > kMax) return std::nullopt;
  }
  int64_t headroom = std::clamp<int64_t>(headroom_percent, 0, 1000);
  int64_t bytes = total / 100 * (100 + headroom) + total % 100 * (100 + headroom) / 100;
  constexpr int64_t kGiB = int64_t{1} << 30;
  return (bytes + kGiB - 1) / kGiB * kGiB;
}

CachingDecision decide_caching(const CachingInput& in) {
  CachingDecision out;
  const auto down = Dependency::Downstream;
  const bool upstream_ready = in.model_ready && in.template_ready;
  const bool dedicated = in.mode == CachingMode::Dedicated;

  const std::string no_size =
      "model sizes are unknown, so the model is downloaded into the container's ephemeral storage";
  if (in.mode == CachingMode::Never) {
    out.apply_isvc = upstream_ready || in.isvc_exists;
    out.create_service_pvc = out.apply_isvc && in.model_size_known;
    out.storage = in.model_size_known ? ModelStorage::Kind::ServicePvc : ModelStorage::Kind::None;
    if (!out.apply_isvc) out.waiting = "Waiting for the model and template to become Ready";
    out.cache_health = component_health(
        "Cache", ComponentState::Ready, "CachingDisabled",
        in.model_size_known ? "Caching is Never: the model is downloaded into a service-owned PVC"
                            : "Caching is Never: " + no_size,
        down);
    return out;
  }

  out.template_cache_mode = dedicated ? "Dedicated" : "Shared";
  out.create_template_cache =
      in.template_ready && in.template_has_sources && in.cache == CachingInput::Cache::Absent;

  if (in.mode == CachingMode::Auto) {
    if (in.isvc_exists && in.isvc_mounts_template_cache) {
      out.storage = ModelStorage::Kind::Live;  // already switched: keep the mounts stable
    } else if (in.cache == CachingInput::Cache::Ready) {
      out.storage = ModelStorage::Kind::TemplateCache;  // first deploy, or the one-time switch
    } else if (in.model_size_known) {
      out.storage =
          ModelStorage::Kind::ServicePvc;  // deploy at once; switch when the cache is Ready
    } else {
      out.storage = ModelStorage::Kind::None;  // same, but nothing to size a PVC with
    }
    out.apply_isvc = upstream_ready || in.isvc_exists;
    out.create_service_pvc = out.apply_isvc && out.storage == ModelStorage::Kind::ServicePvc;
    if (!out.apply_isvc) out.waiting = "Waiting for the model and template to become Ready";
  } else if (in.isvc_exists) {
    out.apply_isvc = true;
    out.storage = ModelStorage::Kind::Live;
  } else if (!upstream_ready) {
    out.waiting = "Waiting for the model and template to become Ready";
  } else if (in.cache == CachingInput::Cache::Ready) {
    out.apply_isvc = true;
    out.storage = ModelStorage::Kind::TemplateCache;
  } else {
    out.waiting =
        "Waiting for the template cache to become Ready before creating the InferenceService";
  }

  ComponentHealth& h = out.cache_health;
  switch (in.cache) {
    case CachingInput::Cache::Ready:
      h = component_health("Cache", ComponentState::Ready, "CacheReady", "Template cache is ready",
                           down);
      break;
    case CachingInput::Cache::Progressing:
      h = component_health("Cache", ComponentState::Progressing, "CacheNotReady",
                           "Template cache is not ready yet", down);
      break;
    case CachingInput::Cache::Failed:
      h = component_health(
          "Cache", in.mode == CachingMode::Auto ? ComponentState::Degraded : ComponentState::Failed,
          "CacheFailed", "Template cache failed", down);
      break;
    case CachingInput::Cache::Other:
      h = component_health("Cache", ComponentState::Progressing, "CacheCreating",
                           "Template cache status: " + in.cache_status, down);
      break;
    case CachingInput::Cache::Absent:
      if (in.isvc_exists && in.isvc_mounts_template_cache) {
        h = dedicated ? component_health("Cache", ComponentState::Degraded, "CacheCreating",
                                         "Dedicated template cache is being recreated", down)
                      : component_health(
                            "Cache", ComponentState::Degraded, "CacheLost",
                            "The template cache is gone while the InferenceService still mounts "
                            "its volumes",
                            down);
      } else if (in.template_ready && !in.template_has_sources) {
        h = component_health(
            "Cache", ComponentState::Progressing, "CacheCreating",
            "Waiting for the template's model sources before creating the template cache", down);
      } else {
        h = component_health("Cache", ComponentState::Progressing, "CacheCreating",
                             "Creating template cache", down);
      }
      break;
  }
  if (in.mode == CachingMode::Auto && !is_error_state(h.state) &&
      h.state != ComponentState::Ready &&
      (out.storage == ModelStorage::Kind::ServicePvc || out.storage == ModelStorage::Kind::None)) {
    h.affects_readiness = false;
    // Only something resolved can be served: without a model and a Ready template the message
    // stays what the cache is waiting for.
    if (in.model_ready && in.template_ready)
      h.message =
          (out.storage == ModelStorage::Kind::ServicePvc
               ? "Serving from the service PVC until the template cache is ready: "
               : "Serving without a cache until the template cache is ready (" + no_size + "): ") +
          h.message;
  }
  return out;
}

nlohmann::json runtime_status(const std::optional<HpaReplicas>& hpa,
                              std::optional<int32_t> spec_min_replicas,
                              std::optional<int32_t> spec_replicas) {
  int32_t min = 0, max = 0, current = 0, desired = 0;
  if (hpa) {
    min = hpa->min_replicas.value_or(0);
    max = hpa->max_replicas;
    current = hpa->current_replicas;
    desired = hpa->desired_replicas;
  } else {
    min = max = current = desired = spec_min_replicas.value_or(spec_replicas.value_or(1));
  }
  std::string display = std::to_string(current);
  if (min != max) {
    display += "/" + std::to_string(desired) + " (" + std::to_string(min) + "-" +
               std::to_string(max) + ")";
  }
  return nlohmann::json{{"currentReplicas", current},
                        {"desiredReplicas", desired},
                        {"minReplicas", min},
                        {"maxReplicas", max},
                        {"replicas", display}};
}

std::vector<ComponentHealth> service_components(const ServiceObservation& o) {
  std::vector<ComponentHealth> out;
  out.push_back(model_health(o.model));
  out.push_back(template_health(o.template_));
  if (o.runtime_config) {
    if (o.runtime_config->error) {
      out.push_back(from_error("RuntimeConfig", ComponentState::Failed, *o.runtime_config->error,
                               Dependency::Upstream));
    } else {
      out.push_back(component_health("RuntimeConfig", ComponentState::Ready,
                                     "RuntimeConfigResolved", "Runtime config resolved",
                                     Dependency::Upstream));
    }
  }
  if (o.pull_secrets) out.push_back(*o.pull_secrets);
  out.push_back(isvc_health(o.isvc));
  if (o.pods && o.isvc.kind == IsvcObservation::Kind::Present) {
    ComponentHealth p = *o.pods;
    p.component = "InferenceServicePods";
    p.dependency = Dependency::Downstream;
    out.push_back(std::move(p));
  }
  ComponentHealth cache = o.cache;
  cache.component = "Cache";
  out.push_back(std::move(cache));
  if (auto r = route_health(o.routing)) out.push_back(std::move(*r));
  if (auto h = hpa_health(o.hpa, o.isvc.kind == IsvcObservation::Kind::Present && o.isvc.ready)) {
    out.push_back(std::move(*h));
  }
  return out;
}

DerivedStatus derive_service_status(const std::vector<ComponentHealth>& components,
                                    const std::vector<Condition>& old_conditions) {
  DerivedStatus out;
  static_cast<DerivedState&>(out) = derive_state(components, old_conditions);
  const ComponentState root = out.root;
  switch (root) {
    case ComponentState::Ready:
      out.status = "Running";
      break;
    case ComponentState::Progressing:
    case ComponentState::Starting:
      out.status = "Starting";
      break;
    default:
      out.status = to_string(root);
      break;
  }
  return out;
}

}  // namespace aim::engine
