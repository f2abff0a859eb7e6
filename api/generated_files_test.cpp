// The checked-in generated files (deploy/crds*, docs/api-reference.md) must equal what the
// generator produces from the current declarations, and the generated CRDs must be well formed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/crd.h"
#include "api/yaml.h"

namespace aim::api {
namespace {

std::string read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(GeneratedFiles, CheckedInFilesAreUpToDate) {
  for (const auto& f : generated_files()) {
    EXPECT_TRUE(read(f.path) == f.content)
        << f.path << " is out of date: run `aim-crdgen write .` from the repository root "
        << "(the aim_api_generate build target does it)";
  }
}

TEST(GeneratedFiles, CrdYamlParsesBackToTheSchema) {
  for (const auto& kind : all_kinds()) {
    auto docs = parse_yaml(to_yaml(crd(kind)));
    ASSERT_EQ(docs.error, "");
    ASSERT_EQ(docs.documents.size(), 1u);
    EXPECT_EQ(docs.documents[0], crd(kind)) << kind.info->kind;
  }
}

void expect_descriptions(const Json& n, const std::string& path, const std::string& kind) {
  if (n.contains("properties")) {
    for (const auto& [k, v] : n["properties"].items()) {
      const std::string p = path.empty() ? k : path + "." + k;
      if (p != "metadata") {
        EXPECT_FALSE(v.value("description", "").empty()) << kind << ": " << p;
      }
      expect_descriptions(v, p, kind);
    }
  }
  if (n.contains("items")) expect_descriptions(n["items"], path + "[]", kind);
  if (n.contains("additionalProperties")) {
    expect_descriptions(n["additionalProperties"], path + "{*}", kind);
  }
}

TEST(GeneratedFiles, EveryFieldHasADescription) {
  for (const auto& kind : all_kinds()) {
    expect_descriptions(root_schema(kind), "", std::string(kind.info->kind));
  }
}

TEST(GeneratedFiles, CrdIdentityMatchesTheReference) {
  int aim_crds = 0;
  for (const auto& kind : all_kinds()) {
    const Json c = crd(kind);
    const KindInfo& k = *kind.info;
    EXPECT_EQ(c["metadata"]["name"], std::string(k.plural) + "." + std::string(k.group));
    const Json& v = c["spec"]["versions"][0];
    EXPECT_EQ(v["subresources"]["status"], Json::object());
    EXPECT_EQ(v["served"], true);
    EXPECT_EQ(v["storage"], true);
    if (k.group == kGroup) {
      ++aim_crds;
      EXPECT_EQ(c["spec"]["names"]["categories"], Json({"aim", "all"})) << k.kind;
      EXPECT_EQ(c["spec"]["names"]["shortNames"].size(), 1u) << k.kind;
      EXPECT_FALSE(k.optional_crd);
    } else {
      EXPECT_TRUE(k.optional_crd);
    }
  }
  EXPECT_EQ(aim_crds, 11);  // the ten reference kinds + AIMClusterArtifactDownloader
  const Json artifact = crd(*find_kind("aim.eai.amd.com/v1alpha1", "AIMArtifact"));
  const Json& cols = artifact["spec"]["versions"][0]["additionalPrinterColumns"];
  ASSERT_EQ(cols.size(), 7u);
  EXPECT_EQ(cols[4]["name"], "Protocol");
  EXPECT_EQ(cols[4]["priority"], 1);
  EXPECT_EQ(cols[2]["jsonPath"], ".status.displaySize");
  const Json rc = crd(*find_kind("aim.eai.amd.com/v1alpha1", "AIMRuntimeConfig"));
  EXPECT_FALSE(rc["spec"]["versions"][0].contains("additionalPrinterColumns"));
}

}  // namespace
}  // namespace aim::api
