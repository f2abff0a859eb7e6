// CustomResourceDefinitions and the API reference page, generated from the kind list.
#pragma once

#include <string>
#include <vector>

#include "api/kinds.h"

namespace aim::api {

// The full openAPIV3Schema of a kind (root object with apiVersion, kind, metadata, spec,
// status).
Json root_schema(const KindEntry& kind);

// The apiextensions.k8s.io/v1 CustomResourceDefinition of a kind.
Json crd(const KindEntry& kind);

struct GeneratedFile {
  std::string path;  // relative to the repository root
  std::string content;
};

// Every generated file: deploy/crds/<group>_<plural>.yaml, deploy/crds-optional/...,
// docs/api-reference.md.
std::vector<GeneratedFile> generated_files();

// The markdown API reference.
std::string api_reference_markdown();

}  // namespace aim::api
