#include "controllers/service/resolve.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "api/constants.h"
#include "controllers/service/internal.h"
#include "engine/derived_template.h"

namespace aim::controllers::service {
namespace {

using engine::ErrorCategory;
using engine::TemplateScope;

// ---- model resolution (behavior.md §4.8) --------------------------------------------------------

void set_found(ModelResult& r, kube::ObjectPtr o, bool cluster) {
  r.object = std::move(o);
  r.cluster = cluster;
  r.obs.kind = engine::ModelObservation::Kind::Found;
  r.obs.kind_name = cluster ? "AIMClusterModel" : "AIMModel";
  r.obs.name = name_of(*r.object);
  r.obs.status = str_at(*r.object, {"status", "status"});
}

void set_error(ModelResult& r, ErrorCategory cat, std::string reason, std::string message) {
  r.obs.kind = engine::ModelObservation::Kind::Error;
  r.obs.error = {cat, std::move(reason), std::move(message)};
}

Json base_model_spec(const Json& spec) {
  Json out = Json::object();
  for (const char* key : {"runtimeConfigName", "imagePullSecrets", "serviceAccountName"}) {
    if (spec.contains(key) && !spec[key].is_null()) out[key] = spec[key];
  }
  return out;
}

// ---- template resolution (behavior.md §4.5, seed 001) -------------------------------------------

// spec.overrides as the engine's two views (gpuSelector, a seed 001 extension, fills the GPU
// fields that hardware.gpu leaves unset).
std::optional<engine::TemplateOverrides> overrides_of(const Json& svc) {
  const Json& ov = at(svc, {"spec", "overrides"});
  if (!ov.is_object()) return std::nullopt;
  engine::TemplateOverrides o;
  o.metric = ov.value("metric", "");
  o.precision = ov.value("precision", "");
  o.hardware = ov.value("hardware", Json());
  const Json& sel = at(ov, {"gpuSelector"});
  if (sel.is_object()) {
    if (!o.hardware.is_object()) o.hardware = Json::object();
    Json& gpu = o.hardware["gpu"];
    if (!gpu.is_object()) gpu = Json::object();
    if (sel.contains("model") && !gpu.contains("model")) gpu["model"] = sel["model"];
    if (sel.contains("count") && !gpu.contains("requests")) gpu["requests"] = sel["count"];
  }
  return o;
}

std::optional<engine::SelectionOverrides> selection_overrides(
    const std::optional<engine::TemplateOverrides>& o) {
  if (!o) return std::nullopt;
  engine::SelectionOverrides s;
  s.metric = o->metric;
  s.precision = o->precision;
  s.gpu_model = str_at(o->hardware, {"gpu", "model"});
  const Json& n = at(o->hardware, {"gpu", "requests"});
  if (n.is_number_integer()) s.gpu_count = n.get<int32_t>();
  if (s.empty()) return std::nullopt;
  return s;
}

void set_template(TemplateResult& r, kube::ObjectPtr o, TemplateScope scope, bool derived) {
  r.object = std::move(o);
  r.scope = scope;
  r.obs.kind_name =
      scope == TemplateScope::Cluster ? "AIMClusterServiceTemplate" : "AIMServiceTemplate";
  r.obs.name = name_of(*r.object);
  r.obs.status = str_at(*r.object, {"status", "status"});
  if (r.obs.status != "Ready") {
    std::string ready, gpu;
    const Json& conds = at(*r.object, {"status", "conditions"});
    if (conds.is_array())
      for (const auto& c : conds) {
        if (!c.is_object() || c.value("status", "") == "True") continue;
        if (c.value("type", "") == "GPUReady") gpu = c.value("message", "");
        if (c.value("type", "") == "Ready") ready = c.value("message", "");
      }
    r.obs.detail = !gpu.empty() ? gpu : ready;
  }
  r.obs.kind = derived && r.obs.status != "Ready"
                   ? engine::TemplateObservation::Kind::WaitingForDerived
                   : engine::TemplateObservation::Kind::Found;
}

kube::ObjectPtr lookup_template(const Context& ctx, const std::string& ns, const std::string& name,
                                TemplateScope scope) {
  if (scope == TemplateScope::Cluster)
    return ctx.cache(types::aim_cluster_service_templates()).get("", name);
  return ctx.cache(types::aim_service_templates()).get(ns, name);
}

}  // namespace

ModelResult resolve_model(const Context& ctx, const Json& svc) {
  const std::string ns = namespace_of(svc);
  const Json& spec = at(svc, {"spec"});
  const Json& m = at(spec, {"model"});
  auto& models = ctx.cache(types::aim_models());
  auto& cluster_models = ctx.cache(types::aim_cluster_models());
  ModelResult r;

  const std::string name = trim(str_at(m, {"name"}));
  const std::string image = trim(str_at(m, {"image"}));
  const Json& custom = at(m, {"custom"});

  if (!name.empty()) {
    if (auto o = models.get(ns, name)) {
      set_found(r, o, false);
    } else if (auto c = cluster_models.get("", name)) {
      set_found(r, c, true);
    } else {
      set_error(r, ErrorCategory::kMissingUpstream, "ModelNotFound",
                "model \"" + name + "\" not found in namespace " + ns + " or cluster scope");
    }
    return r;
  }

  if (!image.empty()) {
    std::vector<std::pair<kube::ObjectPtr, bool>> matches;
    for (auto& o : models.by_index(index::kSpecImage, image)) {
      if (namespace_of(*o) == ns) matches.emplace_back(o, false);
    }
    for (auto& o : cluster_models.by_index(index::kSpecImage, image)) matches.emplace_back(o, true);
    if (matches.size() == 1) {
      set_found(r, matches[0].first, matches[0].second);
      return r;
    }
    if (matches.size() > 1) {
      std::string list;
      for (const auto& [o, cluster] : matches) {
        if (!list.empty()) list += ", ";
        list += cluster ? name_of(*o) + " (cluster)" : ns + "/" + name_of(*o) + " (namespace)";
      }
      set_error(r, ErrorCategory::kInvalidSpec, "MultipleModelsFound",
                std::to_string(matches.size()) + " models have image " + image + ": " + list +
                    "; set spec.model.name to choose one");
      return r;
    }
    auto model_name = model_name_for_image(image);
    if (!model_name) {
      set_error(r, ErrorCategory::kInvalidSpec, "InvalidImageReference", model_name.error());
      return r;
    }
    r.obs.kind = engine::ModelObservation::Kind::WillCreate;
    r.obs.name = *model_name;
    r.obs.kind_name = "AIMModel";
    r.obs.create_message = "Model will be created for image " + image;
    Json mspec = base_model_spec(spec);
    mspec["image"] = image;
    r.create = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMModel"},
                {"metadata",
                 {{"name", *model_name},
                  {"namespace", ns},
                  {"labels", {{std::string(api::kLabelOrigin), api::kOriginAutoGenerated}}}}},
                {"spec", mspec}};
    return r;
  }

  if (custom.is_object()) {
    const std::string base_image = trim(str_at(custom, {"baseImage"}));
    if (auto problem = image_reference_problem("spec.model.custom.baseImage", base_image)) {
      set_error(r, ErrorCategory::kInvalidSpec, "InvalidImageReference", *problem);
      return r;
    }
    const Json& sources = at(custom, {"modelSources"});
    for (auto& o : models.by_index(index::kSpecImage, base_image)) {
      if (namespace_of(*o) == ns && same_model_sources(at(*o, {"spec", "modelSources"}), sources)) {
        set_found(r, o, false);
        return r;
      }
    }
    std::string model_name = custom_model_name(base_image, sources);
    std::string first_id =
        sources.is_array() && !sources.empty() ? effective_model_id(sources[0]) : "";
    r.obs.kind = engine::ModelObservation::Kind::WillCreate;
    r.obs.name = model_name;
    r.obs.kind_name = "AIMModel";
    r.obs.create_message = "Custom model will be created for " + first_id;
    Json mspec = base_model_spec(spec);
    mspec["image"] = base_image;
    mspec["modelSources"] = sources;
    if (custom.contains("hardware")) mspec["custom"] = {{"hardware", custom["hardware"]}};
    if (spec.contains("env") && !spec["env"].is_null()) mspec["env"] = spec["env"];
    r.create = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMModel"},
                {"metadata",
                 {{"name", model_name},
                  {"namespace", ns},
                  {"labels",
                   {{std::string(api::kLabelOrigin), api::kOriginAutoGenerated},
                    {std::string(api::kLabelCustomModel), "true"},
                    {std::string(api::kLabelService), name_of(svc)}}}}},
                {"spec", mspec}};
    return r;
  }

  set_error(r, ErrorCategory::kInvalidSpec, "InvalidSpec",
            "spec.model must set exactly one of name, image or custom");
  return r;
}

namespace {

// Rewrites a fresh selection so that `kept` (the service's running, still Ready template) is the
// chosen one. A different fresh winner is reported as rejected at stage 6 with the reason.
void keep_previous_choice(engine::TemplateSelection& sel, const std::string& kept,
                          TemplateScope scope) {
  const bool same = sel.outcome == engine::SelectionOutcome::Selected && sel.chosen &&
                    *sel.chosen == kept && sel.chosen_scope == scope;
  if (same) return;
  for (auto& v : sel.verdicts) {
    if (v.name == kept && v.scope == scope) {
      v.chosen = true;
      v.stage = 0;
      v.reason.clear();
    } else if (v.chosen ||
               (sel.outcome == engine::SelectionOutcome::Ambiguous &&
                std::find(sel.tied.begin(), sel.tied.end(), v.name) != sel.tied.end())) {
      v.chosen = false;
      v.stage = 6;
      v.reason = "preferred by a fresh selection; the running choice is kept (no rollout)";
    }
  }
  std::stable_partition(sel.verdicts.begin(), sel.verdicts.end(),
                        [](const engine::CandidateVerdict& v) { return v.chosen; });
  sel.outcome = engine::SelectionOutcome::Selected;
  sel.chosen = kept;
  sel.chosen_scope = scope;
  sel.tied.clear();
  sel.reason.clear();
  sel.message.clear();
}

}  // namespace

TemplateResult resolve_template(const Context& ctx, const Json& svc, const ModelResult& model,
                                bool shared_caching) {
  const std::string ns = namespace_of(svc);
  TemplateResult r;
  const auto overrides = overrides_of(svc);
  const std::string explicit_name = trim(str_at(svc, {"spec", "template", "name"}));

  if (!explicit_name.empty()) {
    std::optional<std::string> derived_name;
    if (overrides) derived_name = engine::derived_template_name(explicit_name, *overrides);
    for (const auto& ref : engine::explicit_template_lookup(explicit_name, overrides)) {
      auto o = lookup_template(ctx, ns, ref.name, ref.scope);
      if (!o) continue;
      const bool is_derived = derived_name && ref.name == *derived_name;
      if (is_derived || !derived_name || engine::is_derived_template(labels_of(*o))) {
        set_template(r, o, ref.scope, is_derived);
        return r;
      }
      // The base exists and the overrides call for a derived template: create it (no owner, so
      // services with identical overrides share it) and wait until the template controller has
      // made it Ready.
      engine::DerivedTemplateInput in;
      in.base_name = explicit_name;
      in.base_spec = at(*o, {"spec"});
      if (model.object) in.resolved_model_name = name_of(*model.object);
      in.overrides = *overrides;
      in.service_runtime_config_name = str_at(svc, {"spec", "runtimeConfigName"});
      in.service_image_pull_secrets = at(svc, {"spec", "imagePullSecrets"});
      in.service_resources = at(svc, {"spec", "resources"});
      in.shared_caching = shared_caching;
      if (auto d = engine::derive_template(in)) {
        r.create_derived = {
            {"apiVersion", "aim.eai.amd.com/v1alpha1"},
            {"kind", "AIMServiceTemplate"},
            {"metadata", {{"name", d->name}, {"namespace", ns}, {"labels", d->labels}}},
            {"spec", d->spec}};
        r.obs.kind = engine::TemplateObservation::Kind::WaitingForDerived;
        r.obs.kind_name = "AIMServiceTemplate";
        r.obs.name = d->name;
        r.obs.status = "";
        return r;
      }
      set_template(r, o, ref.scope, false);
      return r;
    }
    r.obs.kind = engine::TemplateObservation::Kind::Error;
    r.obs.error = {
        ErrorCategory::kMissingUpstream, "TemplateNotFound",
        "template \"" + explicit_name + "\" not found in namespace " + ns + " or cluster scope"};
    return r;
  }

  // Automatic selection needs the model.
  if (!model.object) return r;
  const std::string model_name = name_of(*model.object);

  engine::SelectionInput in;
  in.model_name = model_name;
  in.allow_unoptimized = at(svc, {"spec", "template", "allowUnoptimized"}) == Json(true);
  in.overrides = selection_overrides(overrides);
  in.cluster_gpus = cluster_gpu_models(as_values(ctx.cache(kube::types::nodes()).list()));
  for (auto& t :
       ctx.cache(types::aim_service_templates()).by_index(index::kTemplateModel, model_name)) {
    // A derived template is one service's customization, not a namespace-wide choice: it
    // would otherwise win stage 5 for every service of the model in the namespace.
    if (namespace_of(*t) == ns && !engine::is_derived_template(labels_of(*t)))
      in.candidates.push_back(template_candidate(*t, TemplateScope::Namespace));
  }
  for (auto& t : ctx.cache(types::aim_cluster_service_templates())
                     .by_index(index::kTemplateModel, model_name)) {
    in.candidates.push_back(template_candidate(*t, TemplateScope::Cluster));
  }
  auto sel = engine::select_template(in);

  // Keep the previous choice while it is Ready (no rollout because a new template appeared).
  // The explanation still reflects today's candidates: when a fresh selection would pick another
  // template, the kept one is shown as chosen and the fresh winner says why it is not used.
  const Json& prev = at(svc, {"status", "resolvedTemplate"});
  if (prev.is_object() && !str_at(prev, {"name"}).empty()) {
    const std::string prev_name = str_at(prev, {"name"});
    TemplateScope scope =
        str_at(prev, {"scope"}) == "Cluster" ? TemplateScope::Cluster : TemplateScope::Namespace;
    auto o = lookup_template(ctx, ns, prev_name, scope);
    if (o && str_at(*o, {"status", "status"}) == "Ready" &&
        str_at(*o, {"spec", "modelName"}) == model_name) {
      keep_previous_choice(sel, prev_name, scope);
      set_template(r, o, scope, false);
      r.reused = true;
      r.selection = std::move(sel);
      return r;
    }
  }

  if (sel.outcome == engine::SelectionOutcome::Selected && sel.chosen) {
    if (auto o = lookup_template(ctx, ns, *sel.chosen, sel.chosen_scope)) {
      set_template(r, o, sel.chosen_scope, false);
      r.selection = std::move(sel);
      return r;
    }
  }
  r.obs.kind = engine::TemplateObservation::Kind::Selection;
  r.obs.selection = sel;
  r.selection = std::move(sel);
  return r;
}

}  // namespace aim::controllers::service
