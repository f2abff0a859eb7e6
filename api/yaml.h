// YAML <-> JSON for manifests: a deterministic emitter (sorted keys, conservative quoting) used
// for the generated CRDs, and a yaml-cpp based reader (YAML 1.2 core scalars; quoted scalars
// stay strings) for examples and kubectl output.
#pragma once

#include <string>
#include <vector>

#include "api/schema.h"

namespace aim::api {

// Emits one YAML document (no leading `---`). Map keys come out in sorted order.
std::string to_yaml(const Json& value);

struct YamlDocuments {
  std::vector<Json> documents;  // empty documents are skipped
  std::string error;            // parse error, if any
};

// Parses every document of a (multi-document) YAML stream.
YamlDocuments parse_yaml(const std::string& text);

}  // namespace aim::api
