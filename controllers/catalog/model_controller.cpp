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
  if (has_items(spec.model_sources)) return true;
  if (!metadata) return std::nullopt;
  const bool recommended = metadata->model && metadata->model->recommended_deployments &&
                           !metadata->model->recommended_deployments->empty();
  return recommended || has_items(spec.custom_templates);
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

// A value that says nothing: absent, "", "0" or 0 (a template's field left at its zero value).
bool zero(const Json& v) {
  return v.is_null() || (v.is_number() && v.get<double>() == 0) ||
         (v.is_string() && (v.get<std::string>().empty() || v.get<std::string>() == "0"));
}
bool zero(const api::Quantity& q) {
  return zero(q.value);
}

bool empty(const api::HardwareRequirements& h) {
  return !h.gpu && !h.cpu && (h.extra.is_null() || h.extra.empty());
}

// A custom template's hardware over the model's custom.hardware: the template's GPU count,
// model and resource name and its non-zero CPU fields win.
std::optional<api::HardwareRequirements> hardware_merge(
    const std::optional<api::HardwareRequirements>& defaults,
    const std::optional<api::HardwareRequirements>& tmpl) {
  if (!defaults || empty(*defaults)) return tmpl;
  if (!tmpl || empty(*tmpl)) return defaults;
  api::HardwareRequirements out = *defaults;
  if (const auto& tg = tmpl->gpu) {
    if (!out.gpu) {
      out.gpu = tg;
    } else {
      if (tg->requests.value_or(0) != 0) out.gpu->requests = tg->requests;
      if (auto m = non_empty(tg->model)) out.gpu->model = m;
      if (auto r = non_empty(tg->resource_name)) out.gpu->resource_name = r;
    }
  }
  if (const auto& tc = tmpl->cpu) {
    if (!out.cpu) {
      out.cpu = tc;
    } else {
      if (!zero(tc->requests)) out.cpu->requests = tc->requests;
      if (tc->limits && !zero(*tc->limits)) out.cpu->limits = tc->limits;
      if (tc->extra.is_object())
        for (const auto& [k, v] : tc->extra.items())
          if (!zero(v)) out.cpu->extra[k] = v;
    }
  }
  return out;
}

// The model's env with a custom template's on top, by name, in first-seen order.
api::EnvList env_merge_by_name(const std::optional<api::EnvList>& base,
                               const std::optional<api::EnvList>& over) {
  api::EnvList out;
  std::map<std::string, size_t> at;
  for (const auto* list : {&base, &over}) {
    if (!*list) continue;
    for (const auto& e : **list) {
      auto [it, fresh] = at.emplace(e.name, out.size());
      if (fresh)
        out.push_back(e);
      else
        out[it->second] = e;
    }
  }
  return out;
}

// A template being planned: its metadata and spec, typed, and the scope that gives its kind.
struct PlannedTemplate {
  api::ObjectMeta metadata;
  api::AIMServiceTemplateSpec spec;
};

PlannedTemplate template_object(const ModelScope& scope, const api::AIMModel& model,
                                const std::string& name) {
  PlannedTemplate t;
  t.metadata.name = name;
  if (!scope.cluster) t.metadata.namespace_ = namespace_of(model.metadata);
  t.metadata.labels =
      api::StringMap{{std::string(api::kLabelModel), name_of(model.metadata)},
                     {std::string(api::kLabelOrigin), std::string(api::kOriginAutoGenerated)}};
  t.spec.model_name = name_of(model.metadata);
  if (has_items(model.spec.image_pull_secrets))
    t.spec.image_pull_secrets = model.spec.image_pull_secrets;
  t.spec.service_account_name = non_empty(model.spec.service_account_name);
  return t;
}

Json encoded(const ModelScope& scope, const PlannedTemplate& t) {
  return kube::make_object(scope.template_type, api::encode(t.metadata), api::encode(t.spec));
}

PlannedTemplate custom_template(const ModelScope& scope, const api::AIMModel& model,
                                const api::CustomTemplate* declared, int index) {
  const auto& spec = model.spec;
  engine::CustomTemplateNaming naming;
  std::optional<api::HardwareRequirements> hardware;
  std::string type;
  if (spec.custom) {
    hardware = spec.custom->hardware;
    type = spec.custom->type.value_or(std::string());
  }
  if (declared != nullptr) {
    naming.name = declared->name.value_or(std::string());
    if (declared->profile) {
      naming.profile = engine::CustomTemplateNaming::Profile{
          declared->profile->precision.value_or(std::string()),
          declared->profile->metric.value_or(std::string())};
    }
    if (declared->hardware && declared->hardware->gpu) {
      engine::CustomTemplateNaming::Gpu g;
      g.requests = declared->hardware->gpu->requests.value_or(0);
      g.model = declared->hardware->gpu->model.value_or(std::string());
      naming.gpu = g;
    }
    hardware = hardware_merge(hardware, declared->hardware);
    if (auto t = non_empty(declared->type)) type = *t;
  }
  std::string name =
      engine::custom_template_name(name_of(model.metadata), declared ? &naming : nullptr, index);
  PlannedTemplate t = template_object(scope, model, name);
  if (!naming.name.empty())
    (*t.metadata.labels)[std::string(api::kLabelTemplateAlias)] = naming.name;
  auto& ts = t.spec;
  if (has_items(spec.model_sources)) ts.model_sources = spec.model_sources;
  ts.type = type.empty() ? "unoptimized" : type;
  if (naming.profile) {
    if (!naming.profile->metric.empty()) ts.metric = naming.profile->metric;
    if (!naming.profile->precision.empty()) ts.precision = naming.profile->precision;
  }
  if (hardware && !empty(*hardware)) {
    ts.hardware = hardware;
    if (const auto& cpu = hardware->cpu; cpu && !cpu->requests.value.is_null()) {
      api::ResourceRequirements r;
      r.requests = std::map<std::string, api::Quantity>{{"cpu", cpu->requests}};
      if (cpu->limits && !cpu->limits->value.is_null())
        r.limits = std::map<std::string, api::Quantity>{{"cpu", *cpu->limits}};
      ts.resources = std::move(r);
    }
  }
  if (!scope.cluster) {
    api::EnvList env =
        declared ? env_merge_by_name(spec.env, declared->env) : spec.env.value_or(api::EnvList{});
    if (!env.empty()) ts.env = std::move(env);
  }
  return t;
}

}  // namespace

std::vector<Json> plan_templates(const ModelScope& scope, const api::AIMModel& model,
                                 const std::optional<api::ImageMetadata>& metadata) {
  std::vector<Json> out;
  const auto& spec = model.spec;
  const bool custom_model = has_items(spec.model_sources);
  if (!custom_model && metadata && metadata->model) {
    for (const auto& d : metadata->model->recommended_deployments.value_or(
             std::vector<api::RecommendedDeployment>{})) {
      engine::RecommendedDeployment rd;
      rd.gpu_model = d.gpu_model.value_or(std::string());
      rd.gpu_count = d.gpu_count.value_or(0);
      rd.precision = d.precision.value_or(std::string());
      rd.metric = d.metric.value_or(std::string());
      rd.profile_id = d.profile_id.value_or(std::string());
      std::string name = engine::recommended_template_name(name_of(model.metadata), spec.image, rd);
      PlannedTemplate t = template_object(scope, model, name);
      auto& ts = t.spec;
      if (!rd.metric.empty()) ts.metric = rd.metric;
      if (!rd.precision.empty()) ts.precision = rd.precision;
      if (!rd.profile_id.empty()) ts.profile_id = rd.profile_id;
      if (!rd.gpu_model.empty() && rd.gpu_count > 0) {
        api::GpuRequirements gpu;
        gpu.requests = static_cast<int32_t>(rd.gpu_count);
        gpu.model = rd.gpu_model;
        ts.hardware = api::HardwareRequirements{};
        ts.hardware->gpu = std::move(gpu);
      }
      out.push_back(encoded(scope, t));
    }
  }
  if (has_items(spec.custom_templates)) {
    int i = 0;
    for (const auto& c : *spec.custom_templates)
      out.push_back(encoded(scope, custom_template(scope, model, &c, i++)));
  } else if (custom_model) {
    out.push_back(encoded(scope, custom_template(scope, model, nullptr, 0)));
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
                     const Cached<api::AIMModel>& model,
                     const std::optional<api::ImageMetadata>& metadata, const Json& rc_spec,
                     engine::DerivedState& state) {
  const std::string ns = scope.cluster ? std::string() : namespace_of(model->metadata);
  for (auto& t : plan_templates(scope, model.typed, metadata)) {
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
    apply_templates(ctx, scope, model, md.metadata, rc.spec, state);

  api::AIMModelStatus st = model->status;
  st.source_type = has_items(spec.model_sources) ? "Custom" : "Image";
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
