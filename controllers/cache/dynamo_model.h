// DynamoModel -> AIMArtifact mapping (pure; controllers/cache/dynamo_model_controller.cpp).
//   spec.sourceURL -> sourceUri, spec.name -> modelId, spec.version -> revision,
//   spec.secretRef -> credentialsSecretRef, spec.downloaderRef -> downloaderRef,
//   pvc.size -> size, pvc.storageClass -> storageClassName, pvc.volumeAccessMode -> accessMode,
//   pvc.create=false + pvc.name -> existingClaimName.
#pragma once

#include <string>

#include "api/artifact.h"
#include "api/dynamo_model.h"

namespace aim::controllers::dynamo {

// The AIMArtifact a DynamoModel owns (same name and namespace, controller owner reference).
api::AIMArtifact artifact_for(const api::DynamoModel& model);
// Pending (no artifact status yet) -> Downloading (a download Job exists) -> Ready, or Failed.
// `artifact` is nullptr when it does not exist yet.
std::string state_of(const api::AIMArtifact* artifact);
// The DynamoModel status from its artifact (nullptr when the artifact does not exist yet); what
// this mapping does not set is kept from `old_status`.
api::DynamoModelStatus status_for(api::DynamoModelStatus old_status,
                                  const api::AIMArtifact* artifact);
// Does the live artifact differ from the desired one in a field the API server keeps immutable
// (sourceUri, revision, existingClaimName)? Then it is replaced, not updated.
bool immutable_fields_differ(const api::AIMArtifactSpec& live, const api::AIMArtifactSpec& desired);

}  // namespace aim::controllers::dynamo
