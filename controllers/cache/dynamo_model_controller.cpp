// DynamoModel (nvidia.com/v1alpha1, optional CRD; spec README §5, seed 003) mapped onto the
// AIMArtifact machinery: each DynamoModel owns one AIMArtifact of the same name whose spec is
// translated from the DynamoModel's, and its status (state, pvcName, downloadJobName,
// lastDownloadTime, conditions) is read back from that artifact.
#include <optional>
#include <vector>

#include "api/constants.h"
#include "controllers/cache/dynamo_model.h"
#include "controllers/cache/internal.h"
#include "controllers/typed.h"

namespace aim::controllers {

namespace dynamo {

api::AIMArtifact artifact_for(const api::DynamoModel& model) {
  const auto& spec = model.spec;
  const auto& pvc = spec.pvc;
  api::AIMArtifact a;
  a.metadata.name = name_of(model.metadata);
  a.metadata.namespace_ = namespace_of(model.metadata);
  a.metadata.labels =
      api::StringMap{{"aim.eai.amd.com/dynamo-model.name", name_of(model.metadata)}};
  a.metadata.owner_references = std::vector<api::OwnerReference>{controller_reference(model)};
  a.spec.source_uri = spec.source_url;
  a.spec.model_id = spec.name;
  a.spec.revision = non_empty(spec.version);
  if (auto secret = non_empty(spec.secret_ref)) {
    api::LocalObjectReference ref;
    ref.name = *secret;
    a.spec.credentials_secret_ref = ref;
  }
  a.spec.downloader_ref = non_empty(spec.downloader_ref);
  if (!pvc.create.value_or(true)) a.spec.existing_claim_name = non_empty(pvc.name);
  if (pvc.size && !pvc.size->value.is_null()) a.spec.size = pvc.size;
  a.spec.storage_class_name = non_empty(pvc.storage_class);
  a.spec.access_mode = non_empty(pvc.volume_access_mode);
  return a;
}

std::string state_of(const api::AIMArtifact* artifact) {
  if (!artifact) return "Pending";
  const auto& st = artifact->status;
  const std::string s = st.status.value_or(std::string());
  if (s == api::kStatusReady) return "Ready";
  if (s == api::kStatusFailed || s == api::kStatusDegraded) {
    for (const auto& c : st.conditions)
      if (c.status == "False" && c.reason != "Downloading" &&
          (c.type == "DownloadComplete" || c.type == "CheckSizeJobReady" ||
           c.type == "DownloadJobReady"))
        return "Failed";
    if (s == api::kStatusFailed) return "Failed";
  }
  if (non_empty(st.download_job_name)) return "Downloading";
  return "Pending";
}

api::DynamoModelStatus status_for(api::DynamoModelStatus status, const api::AIMArtifact* artifact) {
  status.state = state_of(artifact);
  if (!artifact) return status;
  const auto& ast = artifact->status;
  if (auto v = non_empty(ast.download_job_name)) status.download_job_name = v;
  if (auto v = non_empty(ast.last_download_time)) status.last_download_time = v;
  if (auto v = non_empty(ast.persistent_volume_claim)) status.pvc_name = v;
  std::vector<api::Condition> conds;
  for (const auto& c : ast.conditions)
    if (c.type == "Ready" || c.type == "DownloadComplete") conds.push_back(c);
  if (!conds.empty()) status.conditions = std::move(conds);
  return status;
}

bool immutable_fields_differ(const api::AIMArtifactSpec& live,
                             const api::AIMArtifactSpec& desired) {
  return live.source_uri != desired.source_uri || live.revision != desired.revision ||
         live.existing_claim_name != desired.existing_claim_name;
}

}  // namespace dynamo

namespace {

constexpr const char* kController = "aim-dynamo-model-controller";

// The status of a DynamoModel whose artifact name is taken by an artifact it does not own.
Json name_conflict_status(const Context& ctx, const Cached<api::DynamoModel>& model) {
  api::DynamoModelStatus st = model->status;
  st.state = "Failed";
  Json status = api::encode(st);
  const std::string name = name_of(model->metadata);
  set_conditions(
      status, *model.raw,
      {engine::Condition{"Ready",
                         "False",
                         "NameConflict",
                         "AIMArtifact " + name + " exists and is not owned by this DynamoModel",
                         "",
                         {}}},
      ctx.now_rfc3339());
  return status;
}

kube::ReconcileResult reconcile(const Context& ctx, const kube::Request& req) {
  auto got = typed<api::DynamoModel>(ctx.cache(types::dynamo_models()).get(req.ns, req.name));
  if (!got.ok()) return unreadable_primary(types::dynamo_models().kind, req, got.error());
  const Cached<api::DynamoModel>& model = got.value();
  if (is_being_deleted(*model.raw)) return kube::Action::done();
  if (is_paused(*model.raw))
    return report_paused(ctx, types::dynamo_models(), *model.raw, kController);
  auto live_ptr = ctx.cache(types::aim_artifacts()).get(req.ns, req.name);
  auto live = typed<api::AIMArtifact>(live_ptr);
  if (live_ptr && !live.ok())
    return aim::fail(kube::ReconcileError("AIMArtifact " + req.ns + "/" + req.name +
                                          " does not read as its kind: " + live.error().message));
  Json status;
  if (live.ok() && !is_controlled_by(live->typed.metadata, uid_of(model->metadata))) {
    status = name_conflict_status(ctx, model);
  } else {
    api::AIMArtifact desired = dynamo::artifact_for(model.typed);
    // sourceUri, revision and existingClaimName are immutable on an artifact: a DynamoModel that
    // changes one of them gets a new artifact (and so a new PVC and download).
    if (live.ok() && dynamo::immutable_fields_differ(live->typed.spec, desired.spec)) {
      kube::DeleteOptions del;
      del.propagation_policy = "Background";
      del.precondition_uid =
          uid_of(live->typed.metadata);  // never the successor a stale cache hides
      auto r = ctx.client->remove(types::aim_artifacts(), req.ns, req.name, del);
      if (!r.ok() && !r.error().is(kube::ErrorCode::kNotFound) &&
          !r.error().is(kube::ErrorCode::kConflict))
        return aim::fail(kube::ReconcileError(r.error()));
      return kube::Action::requeue_after(std::chrono::seconds(1));
    }
    auto applied = apply_child(ctx, types::aim_artifacts(), api::encode(desired),
                               live_ptr ? live_ptr.get() : nullptr, kController);
    if (!applied.ok()) return aim::fail(kube::ReconcileError(applied.error()));
    status = api::encode(dynamo::status_for(model->status, live.ok() ? &live->typed : nullptr));
  }
  auto written = write_status(ctx, types::dynamo_models(), *model.raw, status);
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
