// AIMClusterModelSource (behavior.md §3.4, §4.11; fixed: a sync runs once per syncInterval, not
// on every reconcile, and lastSyncTime changes only when a sync ran).
#include "controllers/catalog/model_source_controller.h"

#include <cstdlib>
#include <set>

#include "api/constants.h"
#include "api/model.h"
#include "api/model_source.h"
#include "controllers/typed.h"
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

Result<registry::Keychain, std::string> source_keychain(
    const Context& ctx, const api::AIMClusterModelSourceSpec& spec) {
  std::vector<registry::PullSecret> secrets;
  for (const auto& name : pull_secret_names(spec.image_pull_secrets)) {
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
                        const std::string& default_registry,
                        const std::vector<std::string>& global_versions) {
  FilterResult r;
  auto plan = engine::plan_filter(filter, default_registry);
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

// observe: every filter against the registry (one client, the source's pull secrets), and the
// health of the filters as a whole.
struct FilterRun {
  std::vector<std::vector<engine::RegistryImage>> per_filter;
  ComponentHealth health;
};

FilterRun run_filters(const Context& ctx, const api::AIMClusterModelSourceSpec& spec) {
  FilterRun out;
  size_t failed = 0;
  std::string first_error;
  auto keychain = source_keychain(ctx, spec);
  if (!keychain) {
    failed = spec.filters.size();
    first_error = keychain.error();
  } else {
    registry::ClientOptions options;
    options.timeout = std::chrono::seconds(20);
    options.connect_timeout = std::chrono::seconds(5);
    registry::Client client(options, std::move(*keychain));
    const auto global_versions = spec.versions.value_or(std::vector<std::string>{});
    for (const auto& f : spec.filters) {
      engine::ModelSourceFilter filter{f.image, f.exclude.value_or(std::vector<std::string>{}),
                                       f.versions.value_or(std::vector<std::string>{})};
      auto r = run_filter(client, filter, spec.registry.value_or(std::string()), global_versions);
      if (r.error) {
        ++failed;
        if (first_error.empty()) first_error = *r.error;
      }
      out.per_filter.push_back(std::move(r.images));
    }
  }
  auto fh = engine::filters_health(spec.filters.size(), failed);
  out.health.component = "Filters";
  out.health.state = fh.state == "Ready"      ? ComponentState::Ready
                     : fh.state == "Degraded" ? ComponentState::Degraded
                     : fh.state == "Failed"   ? ComponentState::Failed
                                              : ComponentState::Progressing;
  out.health.reason = fh.reason;
  out.health.message = fh.message + (first_error.empty() ? "" : ": " + first_error);
  return out;
}

// plan: the AIMClusterModel of one image the source found.
Json model_for_image(const Cached<api::AIMClusterModelSource>& source,
                     const engine::RegistryImage& img) {
  const std::string source_name = name_of(source->metadata);
  api::AIMClusterModel m;
  m.metadata.name = engine::cluster_model_name(img);
  m.metadata.labels =
      api::StringMap{{std::string(api::kLabelModelSource), source_name},
                     {std::string(api::kLabelOrigin), std::string(api::kOriginAutoGenerated)}};
  m.metadata.annotations =
      api::StringMap{{std::string(api::kAnnotationSourceRegistry), img.registry},
                     {std::string(api::kAnnotationSourceRepository), img.repository},
                     {std::string(api::kAnnotationSourceTag), img.tag}};
  m.spec.image = engine::image_uri(img);
  if (source->spec.image_pull_secrets && !source->spec.image_pull_secrets->empty())
    m.spec.image_pull_secrets = source->spec.image_pull_secrets;
  Json out = api::encode(m);
  set_controller_owner(out, *source.raw);
  label_child(out, *source.raw, "cluster-model-source");
  return out;
}

// apply: creates or converges the planned models; the first error, or "".
std::string apply_models(const Context& ctx, const Cached<api::AIMClusterModelSource>& source,
                         const std::vector<engine::RegistryImage>& to_create) {
  for (const auto& img : to_create) {
    Json m = model_for_image(source, img);
    auto live = ctx.cache(types::aim_cluster_models()).get("", name_of(m));
    auto applied = apply_child(ctx, types::aim_cluster_models(), m, live.get(),
                               "aim-cluster-model-source-controller");
    if (!applied) return applied.error().message;
  }
  return {};
}

int64_t sync_interval_seconds(const api::AIMClusterModelSourceSpec& spec) {
  auto parsed = parse_go_duration(spec.sync_interval.value_or(std::string()));
  int64_t interval =
      parsed.ok() ? std::chrono::duration_cast<std::chrono::seconds>(*parsed).count() : 0;
  return interval > 0 ? interval : 3600;
}

}  // namespace

kube::ReconcileResult reconcile_model_source(const Context& ctx, const kube::Request& req) {
  auto type = types::aim_cluster_model_sources();
  auto got = typed<api::AIMClusterModelSource>(ctx.cache(type).get("", req.name));
  if (!got.ok()) return unreadable_primary(type.kind, req, got.error());
  const Cached<api::AIMClusterModelSource>& source = got.value();
  const Json& raw = *source.raw;
  if (is_being_deleted(raw)) return kube::Action::done();
  if (is_paused(raw)) return report_paused(ctx, type, raw, "aim-cluster-model-source-controller");
  const auto& spec = source->spec;
  const auto& old_status = source->status;
  const int64_t now = ctx.now();
  const int64_t interval = sync_interval_seconds(spec);

  // Sync only when due: the spec changed (generation) or syncInterval has passed.
  const auto gen = source->metadata.generation;
  const int64_t last = parse_rfc3339(old_status.last_sync_time.value_or(std::string())).value_or(0);
  const bool spec_changed =
      !(gen && old_status.observed_generation && *gen == *old_status.observed_generation);
  if (!spec_changed && last > 0 && now < last + interval) {
    return kube::Action::requeue_after(std::chrono::seconds(last + interval - now));
  }

  // fetch: the models this source made before.
  std::set<std::string> existing;
  const auto made =
      ctx.cache(types::aim_cluster_models())
          .by_labels({{std::string(api::kLabelModelSource), name_of(source->metadata)}}, "");
  for (const auto& m : typed_list<api::AIMClusterModel>(made)) existing.insert(m->spec.image);
  std::vector<ComponentHealth> components;
  ComponentHealth em;
  em.component = "ExistingModels";
  em.state = ComponentState::Ready;
  em.reason = "Listed";
  em.message = "Found " + std::to_string(existing.size()) + " existing models";
  components.push_back(em);

  FilterRun filters = run_filters(ctx, spec);
  components.push_back(filters.health);
  auto composition = engine::compose_source_models(filters.per_filter, existing, spec.max_models);

  auto old_conditions = conditions_of(raw);
  auto state = engine::derive_state(components, old_conditions);
  std::string apply_error;
  if (state.should_apply) apply_error = apply_models(ctx, source, composition.to_create);

  api::AIMClusterModelSourceStatus st = old_status;
  st.discovered_models = static_cast<int64_t>(composition.discovered);
  st.available_models = static_cast<int64_t>(composition.available);
  st.models_limit_reached = composition.limit_reached;
  st.last_sync_time = format_rfc3339(now);
  if (gen) st.observed_generation = gen;
  st.status = status_string(state.root);
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
  Json status = api::encode(st);
  set_conditions(status, raw, desired, ctx.now_rfc3339());
  auto written = write_status(ctx, type, raw, status);
  emit_condition_events(ctx.events("aim-cluster-model-source-controller"), raw, old_conditions,
                        status_conditions(status), components);
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
