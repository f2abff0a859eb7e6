// The list of every kind this operator serves, type-erased for the CRD generator, the docs
// generator and the round-trip tool. Adding a kind means adding one line in kinds.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/artifact.h"
#include "api/artifact_downloader.h"
#include "api/dynamo_model.h"
#include "api/model.h"
#include "api/model_source.h"
#include "api/resource.h"
#include "api/runtime_config.h"
#include "api/service.h"
#include "api/service_template.h"
#include "api/template_cache.h"

namespace aim::api {

struct KindEntry {
  const KindInfo* info;
  std::function<Json()> spec_schema;
  std::function<Json()> status_schema;
  // Decodes an object of this kind and encodes it again (error text on failure).
  std::function<Decoded<Json>(const Json&)> roundtrip;
  // Decodes, applies schema defaults and encodes.
  std::function<Decoded<Json>(const Json&)> with_defaults;
};

// Every kind, in a stable order: the ten reference kinds, then the extensions.
const std::vector<KindEntry>& all_kinds();

// The kind entry for apiVersion + kind, or nullptr.
const KindEntry* find_kind(std::string_view api_version, std::string_view kind);

}  // namespace aim::api
