// AIMModel / AIMClusterModel (behavior.md §3.1, §4.1, §4.6, §4.7).
#include "controllers/catalog/model_controller.h"

#include <algorithm>
#include <map>

#include "api/constants.h"
#include "api/model.h"
#include "api/service_template.h"
#include "controllers/catalog/internal.h"
#include "controllers/typed.h"
#include "engine/template_naming.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/image_metadata.h"

namespace aim::controllers::catalog {

using engine::ComponentHealth;
using engine::ComponentState;
using engine::ErrorCategory;

ModelScope ModelScope::namespaced() {
  return {false, types::aim_models(), types::aim_service_templates(), "model", "ServiceTemplates"};
}
ModelScope ModelScope::cluster_scoped() {
  return {true, types::aim_cluster_models(), types::aim_cluster_service_templates(),
          "cluster-model", "ClusterServiceTemplates"};
}

namespace {

engine::RegistryFailure failure_of(const registry::Error& e) {
  using registry::ErrorKind;
  switch (e.kind) {
    case ErrorKind::kAuth:
      return engine::RegistryFailure::kAuth;
    case ErrorKind::kNotFound:
      return engine::RegistryFailure::kNotFound;
    case ErrorKind::kInvalidReference:
      return engine::RegistryFailure::kInvalidReference;
    case ErrorKind::kBadResponse:
      return engine::RegistryFailure::kBadResponse;
    case ErrorKind::kUnreachable:
      break;
  }
  if (!e.transport) return engine::RegistryFailure::kNetwork;
  switch (*e.transport) {
    case http::ErrorKind::kConnect:
      return engine::RegistryFailure::kConnectionRefused;
    case http::ErrorKind::kResolve:
      return engine::RegistryFailure::kDns;
    case http::ErrorKind::kTimeout:
      return engine::RegistryFailure::kTimeout;
    case http::ErrorKind::kTls:
      return engine::RegistryFailure::kTls;
    default:
      return engine::RegistryFailure::kNetwork;
  }
}

}  // namespace

Result<Json, ComponentHealth> inspect_image_metadata(const Context& ctx,
                                                     const api::AIMModelSpec& spec,
                                                     const std::string& model_namespace,
                                                     bool cluster) {
  auto dep = cluster ? engine::Dependency::Upstream : engine::Dependency::Unspecified;
  std::string secret_ns = cluster ? ctx.operator_namespace : model_namespace;
  std::vector<registry::PullSecret> secrets;
  for (const auto& name : pull_secret_names(spec.image_pull_secrets)) {
    auto got = ctx.client->get(kube::types::secrets(), secret_ns, name);
    if (!got) {
      if (got.error().is(kube::ErrorCode::kNotFound)) {
        return fail(error_health(
            "ImageMetadata", ErrorCategory::kMissingUpstream, "SecretNotFound",
            "imagePullSecret \"" + name + "\" not found in namespace \"" + secret_ns + "\"", dep));
      }
      return fail(error_health(
          "ImageMetadata", ErrorCategory::kInfrastructure, "SecretAccessFailed",
          "imagePullSecret \"" + name + "\" could not be read: " + got.error().message, dep));
    }
    secrets.push_back(pull_secret_from(name, *got));
  }
  registry::Keychain keychain;
  if (!secrets.empty()) {
    auto kc = registry::keychain_from_pull_secrets(secrets);
    if (!kc) {
      return fail(error_health("ImageMetadata", ErrorCategory::kInvalidSpec, "InvalidPullSecret",
                               kc.error(), dep));
    }
    keychain = std::move(*kc);
  }
  registry::ClientOptions options;
  options.timeout = std::chrono::seconds(20);
  options.connect_timeout = std::chrono::seconds(5);
  registry::Client client(options, std::move(keychain));
  auto info = client.inspect(spec.image);
  if (!info) {
    engine::RegistryErrorInfo e;
    e.failure = failure_of(info.error());
    e.http_status = info.error().http_status;
    e.host = info.error().registry;
    e.message = info.error().message;
    auto c = engine::classify_registry_error(e);
    return fail(error_health("ImageMetadata", c.category, c.reason, c.message, dep));
  }
  auto md = registry::image_metadata_from_labels(info->config.labels);
  if (!md) {
    return fail(error_health("ImageMetadata", ErrorCategory::kInvalidSpec, "InvalidImageMetadata",
                             "failed to parse image labels: " + md.error(), dep));
  }
  return std::move(*md);
}

namespace {

// spec.discovery switches.
bool extract_metadata(const api::AIMModelSpec& spec) {
  return !spec.discovery || spec.discovery->extract_metadata.value_or(true);
}

bool create_templates(const api::AIMModelSpec& spec) {
  if (!spec.discovery) return true;
  // The seed 000 spelling wins when set.
  if (spec.discovery->create_templates) return *spec.discovery->create_templates;
  return spec.discovery->create_service_templates.value_or(true);
}

// nullopt = unknown (no metadata yet).
std::optional<bool> expects_templates(const api::AIMModelSpec& spec,
                                      const std::optional<api::ImageMetadata>& metadata) {
  if (!create_templates(spec)) return false;
  if (spec.model_sources && !spec.model_sources->empty()) return true;
  if (!metadata) return std::nullopt;
  const bool recommended = metadata->model && metadata->model->recommended_deployments &&
                           !metadata->model->recommended_deployments->empty();
  return recommended || (spec.custom_templates && !spec.custom_templates->empty());
}

ComponentHealth templates_health(const std::string& component, std::optional<bool> expected,
                                 const std::vector<std::string>& statuses, bool cluster) {
  ComponentHealth h;
  h.component = component;
  h.dependency = cluster ? engine::Dependency::Upstream : engine::Dependency::Unspecified;
  auto set = [&](ComponentState s, std::string reason, std::string message) {
    h.state = s;
    h.reason = std::move(reason);
    h.message = std::move(message);
    return h;
  };
  if (statuses.empty()) {
    if (!expected) {
      return set(ComponentState::Progressing, "AwaitingMetadata",
                 "Waiting for the model to fetch metadata");
    }
    if (*expected) {
      return set(ComponentState::Progressing, "CreatingTemplates",
                 "Creating templates for the model");
    }
    return set(ComponentState::Ready, "NoTemplatesExpected",
               "The model does not have any recommended templates");
  }
  size_t ready = 0, failed = 0, na = 0, progressing = 0;
  for (const auto& s : statuses) {
    if (s == "Ready") ++ready;
    if (s == "Degraded" || s == "Failed") ++failed;
    if (s == "NotAvailable") ++na;
    if (s == "Progressing" || s == "Pending") ++progressing;
  }
  size_t n = statuses.size();
  std::string counts = std::to_string(ready) + " of " + std::to_string(n) + " templates ready";
  if (ready == n) return set(ComponentState::Ready, "AllTemplatesReady", "All templates are ready");
  if (failed == n) {
    return set(ComponentState::Failed, "AllTemplatesFailed", "All templates failed");
  }
  if (na == n) {
    return set(ComponentState::NotAvailable, "NoTemplatesAvailable",
               "No template can run on the GPUs of this cluster");
  }
  if (failed > 0) return set(ComponentState::Degraded, "SomeTemplatesDegraded", counts);
  if (progressing > 0) return set(ComponentState::Progressing, "TemplatesProgressing", counts);
  if (ready + na == n) return set(ComponentState::Ready, "SomeTemplatesReady", counts);
  return set(ComponentState::Progressing, "TemplatesProgressing", "Unknown status");
}

// Copies `key` from `from` into `to` when it is a non-empty string / array / object.
void copy_if_set(Json& to, const Json& from, const char* key) {
  const Json& v = field(from, key);
  if ((v.is_string() && !v.get<std::string>().empty()) || (v.is_array() && !v.empty()) ||
      (v.is_object() && !v.empty())) {
    to[key] = v;
  }
}

Json hardware_merge(const Json& defaults, const Json& tmpl) {
  if (!defaults.is_object() || defaults.empty()) return tmpl;
  if (!tmpl.is_object() || tmpl.empty()) return defaults;
  Json out = defaults;
  const Json& tg = field(tmpl, "gpu");
  if (tg.is_object()) {
    if (!out.contains("gpu") || !out["gpu"].is_object()) {
      out["gpu"] = tg;
    } else {
      Json& g = out["gpu"];
      if (field(tg, "requests").is_number_integer() && tg["requests"].get<int64_t>() != 0) {
        g["requests"] = tg["requests"];
      }
      for (const char* k : {"model", "resourceName"}) {
        if (!str_field(tg, k).empty()) g[k] = tg[k];
      }
    }
  }
  const Json& tc = field(tmpl, "cpu");
  if (tc.is_object()) {
    if (!out.contains("cpu") || !out["cpu"].is_object()) {
      out["cpu"] = tc;
    } else {
      for (const auto& [k, v] : tc.items()) {
        bool zero = v.is_null() || (v.is_number() && v.get<double>() == 0) ||
                    (v.is_string() && (v.get<std::string>().empty() || v == "0"));
        if (!zero) out["cpu"][k] = v;
      }
    }
  }
  return out;
}

Json env_merge_by_name(const Json& base, const Json& over) {
  Json out = Json::array();
  std::map<std::string, size_t> at;
  for (const Json* list : {&base, &over}) {
    if (!list->is_array()) continue;
    for (const auto& e : *list) {
      std::string n = str_field(e, "name");
      auto it = at.find(n);
      if (it == at.end()) {
        at[n] = out.size();
        out.push_back(e);
      } else {
        out[it->second] = e;
      }
    }
  }
  return out;
}

Json template_object(const ModelScope& scope, const Json& model, const std::string& name) {
  Json t = {{"apiVersion", scope.template_type.api_version()},
            {"kind", scope.template_type.kind},
            {"metadata", {{"name", name}, {"labels", Json::object()}}},
            {"spec", Json::object()}};
  if (!scope.cluster) t["metadata"]["namespace"] = namespace_of(model);
  t["metadata"]["labels"][std::string(api::kLabelModel)] = name_of(model);
  t["metadata"]["labels"][std::string(api::kLabelOrigin)] = std::string(api::kOriginAutoGenerated);
  const Json& spec = field(model, "spec");
  t["spec"]["modelName"] = name_of(model);
  copy_if_set(t["spec"], spec, "imagePullSecrets");
  copy_if_set(t["spec"], spec, "serviceAccountName");
  return t;
}

Json custom_template(const ModelScope& scope, const Json& model, const Json* declared, int index) {
  const Json& spec = field(model, "spec");
  const Json& custom = field(spec, "custom");
  engine::CustomTemplateNaming naming;
  Json hardware = field(custom, "hardware");
  std::string type = str_field(custom, "type");
  if (declared != nullptr) {
    naming.name = str_field(*declared, "name");
    const Json& profile = field(*declared, "profile");
    if (profile.is_object()) {
      naming.profile = engine::CustomTemplateNaming::Profile{str_field(profile, "precision"),
                                                             str_field(profile, "metric")};
    }
    const Json& gpu = field(field(*declared, "hardware"), "gpu");
    if (gpu.is_object()) {
      engine::CustomTemplateNaming::Gpu g;
      g.requests = field(gpu, "requests").is_number_integer() ? gpu["requests"].get<int64_t>() : 0;
      g.model = str_field(gpu, "model");
      naming.gpu = g;
    }
    hardware = hardware_merge(hardware, field(*declared, "hardware"));
    if (!str_field(*declared, "type").empty()) type = str_field(*declared, "type");
  }
  std::string name =
      engine::custom_template_name(name_of(model), declared ? &naming : nullptr, index);
  Json t = template_object(scope, model, name);
  if (!naming.name.empty()) {
    t["metadata"]["labels"][std::string(api::kLabelTemplateAlias)] = naming.name;
  }
  Json& ts = t["spec"];
  copy_if_set(ts, spec, "modelSources");
  ts["type"] = type.empty() ? "unoptimized" : type;
  if (naming.profile) {
    if (!naming.profile->metric.empty()) ts["metric"] = naming.profile->metric;
    if (!naming.profile->precision.empty()) ts["precision"] = naming.profile->precision;
  }
  if (hardware.is_object() && !hardware.empty()) {
    ts["hardware"] = hardware;
    const Json& cpu = field(hardware, "cpu");
    if (cpu.is_object() && !field(cpu, "requests").is_null()) {
      ts["resources"] = {{"requests", {{"cpu", cpu["requests"]}}}};
      if (!field(cpu, "limits").is_null()) ts["resources"]["limits"] = {{"cpu", cpu["limits"]}};
    }
  }
  if (!scope.cluster) {
    Json env = declared ? env_merge_by_name(field(spec, "env"), field(*declared, "env"))
                        : field(spec, "env");
    if (env.is_array() && !env.empty()) ts["env"] = env;
  }
  return t;
}

}  // namespace

std::vector<Json> plan_templates(const ModelScope& scope, const Json& model, const Json& metadata) {
  std::vector<Json> out;
  const Json& spec = field(model, "spec");
  const Json& customs = field(spec, "customTemplates");
  bool custom_model = non_empty_array(field(spec, "modelSources"));
  if (!custom_model) {
    const Json& deps = field(field(metadata, "model"), "recommendedDeployments");
    if (deps.is_array()) {
      for (const auto& d : deps) {
        engine::RecommendedDeployment rd;
        rd.gpu_model = str_field(d, "gpuModel");
        rd.gpu_count = field(d, "gpuCount").is_number_integer() ? d["gpuCount"].get<int64_t>() : 0;
        rd.precision = str_field(d, "precision");
        rd.metric = str_field(d, "metric");
        rd.profile_id = str_field(d, "profileId");
        std::string name =
            engine::recommended_template_name(name_of(model), str_field(spec, "image"), rd);
        Json t = template_object(scope, model, name);
        Json& ts = t["spec"];
        if (!rd.metric.empty()) ts["metric"] = rd.metric;
        if (!rd.precision.empty()) ts["precision"] = rd.precision;
        if (!rd.profile_id.empty()) ts["profileId"] = rd.profile_id;
        if (!rd.gpu_model.empty() && rd.gpu_count > 0) {
          ts["hardware"] = {{"gpu", {{"requests", rd.gpu_count}, {"model", rd.gpu_model}}}};
        }
        out.push_back(std::move(t));
      }
    }
  }
  if (non_empty_array(customs)) {
    int i = 0;
    for (const auto& c : customs) out.push_back(custom_template(scope, model, &c, i++));
  } else if (custom_model) {
    out.push_back(custom_template(scope, model, nullptr, 0));
  }
  return out;
}

namespace {

// Image metadata: spec (air-gapped) > status (the only cache) > registry.
struct MetadataRead {
  std::optional<api::ImageMetadata> fetched;   // obtained by this reconcile (spec or registry)
  std::optional<api::ImageMetadata> metadata;  // what the model has (fetched, else status)
  ComponentHealth health;
  bool error = false;
};

MetadataRead read_metadata(const Context& ctx, const Cached<api::AIMModel>& model, bool cluster) {
  MetadataRead r;
  r.health.component = "ImageMetadata";
  r.health.dependency = cluster ? engine::Dependency::Upstream : engine::Dependency::Unspecified;
  r.health.state = ComponentState::Ready;
  const auto& spec = model->spec;
  if (!extract_metadata(spec)) {
    // skipped
  } else if (spec.image_metadata) {
    r.fetched = spec.image_metadata;
  } else if (model->status.image_metadata) {
    // cached in status
  } else {
    auto got = inspect_image_metadata(ctx, spec, namespace_of(model->metadata), cluster);
    if (!got) {
      r.health = got.error();
      r.error = true;
    } else if (auto md = api::decode<api::ImageMetadata>(*got); !md) {
      r.health = error_health("ImageMetadata", ErrorCategory::kInvalidSpec, "InvalidImageMetadata",
                              "the image labels do not make valid metadata: " + md.error,
                              r.health.dependency);
      r.error = true;
    } else {
      r.fetched = std::move(*md.value);
    }
  }
  r.metadata = r.fetched ? r.fetched : model->status.image_metadata;
  if (!r.error) {
    const bool canonical =
        r.metadata && r.metadata->model && !r.metadata->model->canonical_name.value_or("").empty();
    r.health.reason = canonical ? "ImageMetadataFound" : "ImageFound";
    r.health.message = canonical ? "Image metadata found" : "Image found";
  }
  return r;
}

// The status of each template naming this model (any origin).
std::vector<std::string> template_statuses(const Context& ctx, const ModelScope& scope,
                                           const std::string& ns, const std::string& model) {
  std::vector<std::string> out;
  for (const auto& t : typed_list<api::AIMServiceTemplate>(ctx.cache(scope.template_type).list(ns)))
    if (t->spec.model_name == model) out.push_back(t->status.status.value_or(std::string()));
  return out;
}

// apply: the planned templates, created or converged; the first failure stops it and becomes
// DependenciesReachable=False on `state`.
void apply_templates(const Context& ctx, const ModelScope& scope,
                     const Cached<api::AIMModel>& model, const Json& metadata, const Json& rc_spec,
                     engine::DerivedState& state) {
  const std::string ns = scope.cluster ? std::string() : namespace_of(model->metadata);
  for (auto& t : plan_templates(scope, *model.raw, metadata)) {
    set_controller_owner(t, *model.raw);
    label_child(t, *model.raw, scope.controller, rc_spec);
    auto live = ctx.cache(scope.template_type).get(ns, name_of(t));
    auto applied = apply_child(ctx, scope.template_type, t, live.get(),
                               "aim-" + scope.controller + "-controller");
    if (!applied) {
      state.conditions.push_back(
          make_condition("DependenciesReachable", false, "InfrastructureError",
                         "Failed to apply resources: " + applied.error().message));
      state.infrastructure_error = true;
      return;
    }
  }
}

// A condition may appear twice when an apply failed after the state engine ran; keep the last.
std::vector<engine::Condition> last_of_each_type(const std::vector<engine::Condition>& conditions) {
  std::vector<engine::Condition> desired;
  for (const auto& c : conditions) {
    auto it = std::find_if(desired.begin(), desired.end(),
                           [&](const engine::Condition& d) { return d.type == c.type; });
    if (it != desired.end()) {
      *it = c;
    } else {
      desired.push_back(c);
    }
  }
  return desired;
}

}  // namespace

kube::ReconcileResult reconcile_model(const Context& ctx, const ModelScope& scope,
                                      const kube::Request& req) {
  // AIMModel and AIMClusterModel share one spec and status: the namespaced declaration reads both.
  auto got = typed<api::AIMModel>(ctx.cache(scope.model_type).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(scope.model_type.kind, req, got.error());
  const Cached<api::AIMModel>& model = got.value();
  const Json& raw = *model.raw;
  if (is_being_deleted(raw)) return kube::Action::done();
  if (is_paused(raw))
    return report_paused(ctx, scope.model_type, raw, "aim-" + scope.controller + "-controller");
  const auto& spec = model->spec;
  const std::string ns = scope.cluster ? std::string() : namespace_of(model->metadata);

  std::vector<ComponentHealth> components;
  auto rc = resolve_runtime_config(ctx, ns, spec.runtime_config_name.value_or(std::string()));
  components.push_back(runtime_config_health(rc, scope.cluster));
  MetadataRead md = read_metadata(ctx, model, scope.cluster);
  components.push_back(md.health);
  auto expected = expects_templates(spec, md.metadata);
  components.push_back(templates_health(scope.templates_component, expected,
                                        template_statuses(ctx, scope, ns, name_of(model->metadata)),
                                        scope.cluster));

  auto old_conditions = conditions_of(raw);
  auto state = engine::derive_state(components, old_conditions);
  if (state.should_apply && expected.value_or(false))
    apply_templates(ctx, scope, model, md.metadata ? api::encode(*md.metadata) : Json(), rc.spec,
                    state);

  api::AIMModelStatus st = model->status;
  st.source_type = spec.model_sources && !spec.model_sources->empty() ? "Custom" : "Image";
  if (md.fetched) st.image_metadata = md.fetched;
  st.status = status_string(state.root);
  Json status = api::encode(st);
  set_conditions(status, raw, last_of_each_type(state.conditions), ctx.now_rfc3339());
  auto written = write_status(ctx, scope.model_type, raw, status);
  emit_condition_events(ctx.events("aim-" + scope.controller + "-controller"), raw, old_conditions,
                        status_conditions(status), components);
  if (!written) return fail(kube::ReconcileError(written.error()));
  // A metadata failure that is not infrastructure (auth, missing image or secret, bad labels) is
  // retried once a minute: Secrets and registries are not watched, and fixing them must heal.
  std::optional<std::chrono::seconds> requeue;
  if (md.error && !(md.health.error && engine::is_infrastructure(*md.health.error))) {
    requeue = std::chrono::seconds(60);
  }
  return finish(state, components, requeue);
}

}  // namespace aim::controllers::catalog
