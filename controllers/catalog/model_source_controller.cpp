// AIMClusterModelSource (behavior.md §3.4, §4.11; fixed: a sync runs once per syncInterval, not
// on every reconcile, and lastSyncTime changes only when a sync ran).
#include "controllers/catalog/model_source_controller.h"

#include <cstdlib>
#include <set>

#include "api/constants.h"
#include "engine/source_filter.h"
#include "registry/auth.h"
#include "registry/client.h"

namespace aim::controllers::catalog {

using engine::ComponentHealth;
using engine::ComponentState;

namespace {

struct FilterResult {
  std::vector<engine::RegistryImage> images;
  std::optional<std::string> error;
};

Result<registry::Keychain, std::string> source_keychain(const Context& ctx, const Json& spec) {
  std::vector<registry::PullSecret> secrets;
  for (const auto& name : pull_secret_names(field(spec, "imagePullSecrets"))) {
    auto got = ctx.client->get(kube::types::secrets(), ctx.operator_namespace, name);
    if (!got) {
      return fail("imagePullSecret \"" + name + "\" could not be read in namespace \"" +
                  ctx.operator_namespace + "\": " + got.error().message);
    }
    secrets.push_back(pull_secret_from(name, *got));
  }
  if (secrets.empty()) return registry::Keychain{};
  return registry::keychain_from_pull_secrets(secrets);
}

FilterResult run_filter(registry::Client& client, const engine::ModelSourceFilter& filter,
                        const Json& spec, const std::vector<std::string>& global_versions) {
  FilterResult r;
  auto plan = engine::plan_filter(filter, str_field(spec, "registry"));
  auto keep_tags = [&](const std::string& repo, const std::vector<std::string>& tags) {
    for (const auto& tag : tags) {
      engine::RegistryImage img{plan.registry, repo, tag};
      if (engine::filter_matches(img, filter, global_versions)) r.images.push_back(img);
    }
  };
  switch (plan.strategy) {
    case engine::FilterStrategy::kStatic:
      r.images.push_back({plan.registry, plan.repository, plan.tag});
      break;
    case engine::FilterStrategy::kTagList: {
      auto tags = client.list_tags(plan.registry, plan.repository);
      if (!tags) {
        r.error = tags.error().message;
      } else {
        keep_tags(plan.repository, *tags);
      }
      break;
    }
    case engine::FilterStrategy::kWildcard: {
      if (engine::is_docker_hub_registry(plan.registry) || plan.registry == "ghcr.io") {
        r.error = "listing repositories of " + plan.registry +
                  " is not supported by this operator; name the repository or use a registry "
                  "with the /v2/_catalog API";
        break;
      }
      auto repos = client.catalog(plan.registry);
      if (!repos) {
        r.error = repos.error().message;
        break;
      }
      for (const auto& repo : *repos) {
        if (!engine::wildcard_match(plan.repository, repo)) continue;
        auto tags = client.list_tags(plan.registry, repo);
        if (tags) keep_tags(repo, *tags);  // repositories with errors are skipped
      }
      break;
    }
  }
  return r;
}

std::vector<std::string> strings_of(const Json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& s : v) {
      if (s.is_string()) out.push_back(s.get<std::string>());
    }
  }
  return out;
}

}  // namespace

kube::ReconcileResult reconcile_model_source(const Context& ctx, const kube::Request& req) {
  auto type = types::aim_cluster_model_sources();
  auto obj = ctx.cache(type).get("", req.name);
  if (!obj || is_being_deleted(*obj)) return kube::Action::done();
  if (is_paused(*obj)) return report_paused(ctx, type, *obj, "aim-cluster-model-source-controller");
  const Json& source = *obj;
  const Json& spec = field(source, "spec");
  const Json& old_status = field(source, "status");
  int64_t now = ctx.now();
  auto parsed = parse_go_duration(str_field(spec, "syncInterval"));
  int64_t interval =
      parsed.ok() ? std::chrono::duration_cast<std::chrono::seconds>(*parsed).count() : 0;
  if (interval <= 0) interval = 3600;

  // Sync only when due: the spec changed (generation) or syncInterval has passed.
  const Json& gen = field(field(source, "metadata"), "generation");
  const Json& observed = field(old_status, "observedGeneration");
  int64_t last = parse_rfc3339(str_field(old_status, "lastSyncTime")).value_or(0);
  bool spec_changed = !(gen.is_number_integer() && observed.is_number_integer() && gen == observed);
  if (!spec_changed && last > 0 && now < last + interval) {
    return kube::Action::requeue_after(std::chrono::seconds(last + interval - now));
  }

  std::vector<ComponentHealth> components;
  std::set<std::string> existing;
  for (const auto& m : ctx.cache(types::aim_cluster_models()).list()) {
    if (label(*m, api::kLabelModelSource) == name_of(source)) {
      existing.insert(str_field(field(*m, "spec"), "image"));
    }
  }
  ComponentHealth em;
  em.component = "ExistingModels";
  em.state = ComponentState::Ready;
  em.reason = "Listed";
  em.message = "Found " + std::to_string(existing.size()) + " existing models";
  components.push_back(em);

  std::vector<std::vector<engine::RegistryImage>> per_filter;
  size_t failed = 0;
  std::string first_error;
  const Json& filters = field(spec, "filters");
  auto keychain = source_keychain(ctx, spec);
  if (!keychain) {
    failed = filters.is_array() ? filters.size() : 0;
    first_error = keychain.error();
  } else {
    registry::ClientOptions options;
    options.timeout = std::chrono::seconds(20);
    options.connect_timeout = std::chrono::seconds(5);
    registry::Client client(options, std::move(*keychain));
    auto global_versions = strings_of(field(spec, "versions"));
    if (filters.is_array()) {
      for (const auto& f : filters) {
        engine::ModelSourceFilter filter{str_field(f, "image"), strings_of(field(f, "exclude")),
                                         strings_of(field(f, "versions"))};
        auto r = run_filter(client, filter, spec, global_versions);
        if (r.error) {
          ++failed;
          if (first_error.empty()) first_error = *r.error;
        }
        per_filter.push_back(std::move(r.images));
      }
    }
  }
  size_t n_filters = filters.is_array() ? filters.size() : 0;
  auto fh = engine::filters_health(n_filters, failed);
  ComponentHealth filters_h;
  filters_h.component = "Filters";
  filters_h.state = fh.state == "Ready"      ? ComponentState::Ready
                    : fh.state == "Degraded" ? ComponentState::Degraded
                    : fh.state == "Failed"   ? ComponentState::Failed
                                             : ComponentState::Progressing;
  filters_h.reason = fh.reason;
  filters_h.message = fh.message + (first_error.empty() ? "" : ": " + first_error);
  components.push_back(filters_h);

  std::optional<int64_t> max_models;
  if (field(spec, "maxModels").is_number_integer()) max_models = spec["maxModels"].get<int64_t>();
  auto composition = engine::compose_source_models(per_filter, existing, max_models);

  auto old_conditions = conditions_of(source);
  auto state = engine::derive_state(components, old_conditions);
  std::string apply_error;
  if (state.should_apply) {
    for (const auto& img : composition.to_create) {
      Json m = {{"apiVersion", types::aim_cluster_models().api_version()},
                {"kind", types::aim_cluster_models().kind},
                {"metadata",
                 {{"name", engine::cluster_model_name(img)},
                  {"labels",
                   {{std::string(api::kLabelModelSource), name_of(source)},
                    {std::string(api::kLabelOrigin), std::string(api::kOriginAutoGenerated)}}},
                  {"annotations",
                   {{std::string(api::kAnnotationSourceRegistry), img.registry},
                    {std::string(api::kAnnotationSourceRepository), img.repository},
                    {std::string(api::kAnnotationSourceTag), img.tag}}}}},
                {"spec", {{"image", engine::image_uri(img)}}}};
      if (non_empty_array(field(spec, "imagePullSecrets"))) {
        m["spec"]["imagePullSecrets"] = spec["imagePullSecrets"];
      }
      set_controller_owner(m, source);
      label_child(m, source, "cluster-model-source");
      auto live = ctx.cache(types::aim_cluster_models()).get("", name_of(m));
      auto applied = apply_child(ctx, types::aim_cluster_models(), m, live.get(),
                                 "aim-cluster-model-source-controller");
      if (!applied) {
        apply_error = applied.error().message;
        break;
      }
    }
  }

  Json status = old_status.is_object() ? old_status : Json::object();
  status["discoveredModels"] = composition.discovered;
  status["availableModels"] = composition.available;
  status["modelsLimitReached"] = composition.limit_reached;
  status["lastSyncTime"] = format_rfc3339(now);
  if (gen.is_number_integer()) status["observedGeneration"] = gen;
  status["status"] = status_string(state.root);
  auto desired = state.conditions;
  auto mc = engine::max_models_condition(composition);
  desired.push_back(
      make_condition("MaxModelsLimitReached", mc.state == "True", mc.reason, mc.message));
  if (!apply_error.empty()) {
    std::erase_if(desired,
                  [](const engine::Condition& c) { return c.type == "DependenciesReachable"; });
    desired.push_back(make_condition("DependenciesReachable", false, "InfrastructureError",
                                     "Failed to apply resources: " + apply_error));
  }
  set_conditions(status, source, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, type, source, status);
  emit_condition_events(ctx.events("aim-cluster-model-source-controller"), source, old_conditions,
                        conditions_of(Json{{"status", status}}), components);
  if (!written) return fail(kube::ReconcileError(written.error()));
  if (!apply_error.empty()) return fail(kube::ReconcileError("apply failed: " + apply_error));
  return kube::Action::requeue_after(std::chrono::seconds(interval));
}

void register_model_source_controller(kube::Manager& mgr, const Context& ctx) {
  const Context* c = &ctx;
  mgr.controller("cluster-model-source")
      .for_type(types::aim_cluster_model_sources())
      .owns(types::aim_cluster_models())
      .complete([c](const kube::Request& r) { return reconcile_model_source(*c, r); });
}

}  // namespace aim::controllers::catalog
