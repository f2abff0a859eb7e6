// DynamoModel (nvidia.com/v1alpha1, optional CRD; spec README §5, seed 003) mapped onto the
// AIMArtifact machinery: each DynamoModel owns one AIMArtifact of the same name whose spec is
// translated from the DynamoModel's, and its status (state, pvcName, downloadJobName,
// lastDownloadTime, conditions) is read back from that artifact.
#include "api/constants.h"
#include "controllers/cache/dynamo_model.h"
#include "controllers/cache/internal.h"

namespace aim::controllers {

namespace dynamo {

namespace {
std::string str(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

Json artifact_for(const Json& model) {
  const Json spec = model.value("spec", Json::object());
  const Json pvc = spec.value("pvc", Json::object());
  Json aspec{{"sourceUri", str(spec, "sourceURL")}, {"modelId", str(spec, "name")}};
  if (!str(spec, "version").empty()) aspec["revision"] = spec["version"];
  if (!str(spec, "secretRef").empty())
    aspec["credentialsSecretRef"] = {{"name", spec["secretRef"]}};
  if (!str(spec, "downloaderRef").empty()) aspec["downloaderRef"] = spec["downloaderRef"];
  bool create = pvc.value("create", true);
  if (!create && !str(pvc, "name").empty()) aspec["existingClaimName"] = pvc["name"];
  if (pvc.contains("size") && !pvc["size"].is_null()) aspec["size"] = pvc["size"];
  if (!str(pvc, "storageClass").empty()) aspec["storageClassName"] = pvc["storageClass"];
  if (!str(pvc, "volumeAccessMode").empty()) aspec["accessMode"] = pvc["volumeAccessMode"];
  Json a{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
         {"kind", "AIMArtifact"},
         {"metadata",
          {{"name", name_of(model)},
           {"namespace", namespace_of(model)},
           {"labels", {{"aim.eai.amd.com/dynamo-model.name", name_of(model)}}}}},
         {"spec", aspec}};
  set_controller_owner(a, model);
  return a;
}

std::string state_of(const Json& artifact) {
  if (artifact.is_null()) return "Pending";
  const Json st = artifact.value("status", Json::object());
  std::string s = str(st, "status");
  if (s == api::kStatusReady) return "Ready";
  if (s == api::kStatusFailed || s == api::kStatusDegraded) {
    for (auto& c : st.value("conditions", Json::array()))
      if (str(c, "status") == "False" && str(c, "reason") != "Downloading" &&
          (str(c, "type") == "DownloadComplete" || str(c, "type") == "CheckSizeJobReady" ||
           str(c, "type") == "DownloadJobReady"))
        return "Failed";
    if (s == api::kStatusFailed) return "Failed";
  }
  if (!str(st, "downloadJobName").empty()) return "Downloading";
  return "Pending";
}

Json status_for(const Json& model, const Json& artifact) {
  Json status = model.value("status", Json::object());
  if (!status.is_object()) status = Json::object();
  status["state"] = state_of(artifact);
  const Json ast = artifact.is_null() ? Json::object() : artifact.value("status", Json::object());
  for (const char* k : {"downloadJobName", "lastDownloadTime"})
    if (!str(ast, k).empty()) status[k] = ast[k];
  if (!str(ast, "persistentVolumeClaim").empty()) status["pvcName"] = ast["persistentVolumeClaim"];
  Json conds = Json::array();
  for (auto& c : ast.value("conditions", Json::array()))
    if (str(c, "type") == "Ready" || str(c, "type") == "DownloadComplete") conds.push_back(c);
  if (!conds.empty()) status["conditions"] = conds;
  return status;
}

}  // namespace dynamo

namespace {

kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req) {
  auto ptr = ctx.cache(types::dynamo_models()).get(req.ns, req.name);
  if (!ptr || is_being_deleted(*ptr)) return kube::Action::done();
  if (is_paused(*ptr))
    return report_paused(ctx, types::dynamo_models(), *ptr, "aim-dynamo-model-controller");
  const Json& model = *ptr;
  auto live = ctx.cache(types::aim_artifacts()).get(req.ns, req.name);
  Json status;
  if (live && !is_controlled_by(*live, model)) {
    status = model.value("status", Json::object());
    if (!status.is_object()) status = Json::object();
    status["state"] = "Failed";
    set_conditions(status, model,
                   {engine::Condition{
                       "Ready",
                       "False",
                       "NameConflict",
                       "AIMArtifact " + req.name + " exists and is not owned by this DynamoModel",
                       "",
                       {}}},
                   ctx.now_rfc3339());
  } else {
    Json desired = dynamo::artifact_for(model);
    // sourceUri, revision and existingClaimName are immutable on an artifact: a DynamoModel that
    // changes one of them gets a new artifact (and so a new PVC and download).
    if (live) {
      const Json ls = live->value("spec", Json::object());
      for (const char* k : {"sourceUri", "revision", "existingClaimName"}) {
        if (ls.value(k, Json()) != desired["spec"].value(k, Json())) {
          kube::DeleteOptions del;
          del.propagation_policy = "Background";
          del.precondition_uid = uid_of(*live);  // never the successor a stale cache hides
          auto r = ctx.client->remove(types::aim_artifacts(), req.ns, req.name, del);
          if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound) &&
              !r.error().is(kube::ErrorCode::kConflict))
            return aim::fail(kube::ReconcileError(r.error()));
          return kube::Action::requeue_after(std::chrono::seconds(1));
        }
      }
    }
    auto applied = apply_child(ctx, types::aim_artifacts(), desired, live ? live.get() : nullptr,
                               "aim-dynamo-model-controller");
    if (!applied.ok()) return aim::fail(kube::ReconcileError(applied.error()));
    status = dynamo::status_for(model, live ? *live : Json());
  }
  auto written = write_status(ctx, types::dynamo_models(), model, status);
  if (!written.ok()) return aim::fail(kube::ReconcileError(written.error()));
  return kube::Action::done();
}

}  // namespace

void register_dynamo_model_controller(kube::Manager& mgr, const Context& ctx) {
  const Context* c = &ctx;
  auto by_label = [](const Json& a) {
    std::vector<kube::Request> out;
    std::string n = label(a, "aim.eai.amd.com/dynamo-model.name");
    if (!n.empty()) out.push_back(kube::Request{namespace_of(a), n});
    return out;
  };
  mgr.controller("dynamomodel")
      .for_type(types::dynamo_models())
      .watches(types::aim_artifacts(), by_label)
      .max_concurrent_reconciles(1)
      .complete([c](const kube::Request& r) { return reconcile(*c, r); });
}

}  // namespace aim::controllers
