// DynamoModel -> AIMArtifact mapping (pure; controllers/cache/dynamo_model_controller.cpp).
//   spec.sourceURL -> sourceUri, spec.name -> modelId, spec.version -> revision,
//   spec.secretRef -> credentialsSecretRef, spec.downloaderRef -> downloaderRef,
//   pvc.size -> size, pvc.storageClass -> storageClassName, pvc.volumeAccessMode -> accessMode,
//   pvc.create=false + pvc.name -> existingClaimName.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aim::controllers::dynamo {

using Json = nlohmann::json;

Json artifact_for(const Json& dynamo_model);
// Pending (no artifact status yet) -> Downloading (a download Job exists) -> Ready, or Failed.
std::string state_of(const Json& artifact);
// The DynamoModel status from its artifact (null when the artifact does not exist yet).
Json status_for(const Json& dynamo_model, const Json& artifact);

}  // namespace aim::controllers::dynamo
