// Codec behaviour of the DSL: presence, unknown fields, defaults, errors, quantities.
#include <gtest/gtest.h>

#include "api/kinds.h"
#include "api/yaml.h"

namespace aim::api {
namespace {

Json parse(const std::string& yaml) {
  auto docs = parse_yaml(yaml);
  EXPECT_EQ(docs.error, "");
  EXPECT_EQ(docs.documents.size(), 1u);
  return docs.documents.at(0);
}

TEST(Codec, DecodesTypedFields) {
  auto d = decode<AIMService>(parse(R"(
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
metadata: {name: svc, namespace: ns, generation: 3, labels: {a: b}}
spec:
  model: {name: llama}
  replicas: 2
  routing: {enabled: false}
)"));
  ASSERT_TRUE(d) << d.error;
  const AIMService& s = *d.value;
  EXPECT_EQ(s.metadata.name, "svc");
  EXPECT_EQ(s.metadata.namespace_, "ns");
  EXPECT_EQ(s.metadata.generation, 3);
  EXPECT_EQ(s.metadata.labels->at("a"), "b");
  EXPECT_EQ(s.spec.model.name, "llama");
  EXPECT_EQ(s.spec.replicas, 2);
  ASSERT_TRUE(s.spec.routing);
  ASSERT_TRUE(s.spec.routing->enabled.has_value());  // "false" is present, not absent
  EXPECT_FALSE(*s.spec.routing->enabled);
  EXPECT_FALSE(s.spec.routing->gateway_ref.has_value());
}

TEST(Codec, FalseAndAbsentStayDistinctOnEncode) {
  AIMRuntimeConfig rc;
  rc.metadata.name = "default";
  rc.spec.routing = RoutingConfig{};
  Json absent = encode(rc);
  EXPECT_FALSE(absent["spec"]["routing"].contains("enabled"));
  rc.spec.routing->enabled = false;
  Json set = encode(rc);
  ASSERT_TRUE(set["spec"]["routing"].contains("enabled"));
  EXPECT_EQ(set["spec"]["routing"]["enabled"], false);
}

TEST(Codec, UnknownFieldsArePreservedAtEveryLevel) {
  Json in = parse(R"(
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMArtifact
metadata:
  name: a
  managedFields: [{manager: kubectl}]
futureTopLevel: 1
spec:
  sourceUri: hf://org/model
  futureSpecField: {nested: [1, 2]}
  env:
  - name: X
    value: y
    futureEnvField: z
status:
  progress: {percentage: 5, futureProgress: true}
)");
  auto d = decode<AIMArtifact>(in);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.value->spec.extra["futureSpecField"]["nested"][1], 2);
  EXPECT_EQ(encode(*d.value), in);
}

TEST(Codec, TypeMismatchIsAnErrorWithPath) {
  auto d = decode<AIMService>(parse(R"(
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
spec: {model: {name: x}, replicas: "two"}
)"));
  EXPECT_FALSE(d);
  EXPECT_EQ(d.error, "spec.replicas: expected an integer");
}

TEST(Codec, IntegerRangeIsChecked) {
  Json in = {{"spec", {{"model", {{"name", "x"}}}, {"replicas", 4294967296LL}}}};
  EXPECT_EQ(decode<AIMService>(in).error, "spec.replicas: integer out of range");
  in["spec"]["replicas"] = 1e300;
  EXPECT_EQ(decode<AIMService>(in).error, "spec.replicas: expected an integer");
  in["spec"]["replicas"] = 3.0;
  auto d = decode<AIMService>(in);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.value->spec.replicas, 3);
}

TEST(Codec, GarbageNeverCrashes) {
  for (const char* text :
       {"[]", "42", "\"s\"", "null", "{\"spec\": 7}", "{\"metadata\": []}",
        "{\"spec\": {\"env\": {\"a\": 1}}}", "{\"status\": {\"conditions\": 1}}"}) {
    auto d = decode<AIMModel>(Json::parse(text));
    if (!d) {
      EXPECT_FALSE(d.error.empty()) << text;
    }
  }
}

TEST(Codec, QuantityKeepsItsJsonType) {
  Json in = parse(R"(
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMServiceTemplate
metadata: {name: t}
spec:
  modelName: m
  hardware: {cpu: {requests: 4, limits: "8"}, gpu: {minVram: 192Gi}}
)");
  auto d = decode<AIMServiceTemplate>(in);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.value->spec.hardware->cpu->requests.str(), "4");
  EXPECT_TRUE(d.value->spec.hardware->cpu->requests.value.is_number());
  EXPECT_EQ(d.value->spec.hardware->cpu->limits->str(), "8");
  EXPECT_EQ(d.value->spec.hardware->gpu->min_vram->str(), "192Gi");
  EXPECT_EQ(encode(*d.value), in);
}

TEST(Defaults, AppliedOnlyWhereTheParentExists) {
  auto d = decode<AIMService>(parse(R"(
apiVersion: aim.eai.amd.com/v1alpha1
kind: AIMService
metadata: {name: s}
spec:
  model: {name: m}
  storage: {}
  overrides: {hardware: {gpu: {requests: 1}}}
)"));
  ASSERT_TRUE(d) << d.error;
  apply_defaults(*d.value);
  const auto& spec = d.value->spec;
  EXPECT_EQ(spec.replicas, 1);
  EXPECT_EQ(spec.storage->pvc_headroom_percent, 10);
  EXPECT_EQ(spec.overrides->hardware->gpu->resource_name, "amd.com/gpu");
  EXPECT_FALSE(spec.caching.has_value());  // no parent, no default
  EXPECT_FALSE(spec.routing.has_value());
  EXPECT_EQ(d.value->status.status, "Pending");
}

TEST(Defaults, ExplicitValuesWin) {
  AIMClusterModelSource src;
  src.spec.filters.push_back(ModelSourceFilter{.image = "amd/*"});
  src.spec.max_models = 5;
  apply_defaults(src);
  EXPECT_EQ(src.spec.max_models, 5);
  EXPECT_EQ(src.spec.registry, "docker.io");
  EXPECT_EQ(src.spec.sync_interval, "1h");
}

TEST(Defaults, ArtifactExtensionsDefault) {
  AIMArtifact a;
  a.spec.source_uri = "ngc://nvidia/llama";
  apply_defaults(a);
  EXPECT_EQ(a.spec.access_mode, "ReadWriteMany");
  EXPECT_EQ(a.spec.model_download_image, "ghcr.io/silogen/aim-artifact-downloader:0.2.0");
}

TEST(Defaults, DynamoModelPvcCreateDefaultsTrue) {
  DynamoModel m;
  m.spec.name = "org/m";
  m.spec.source_url = "hf://org/m";
  apply_defaults(m);
  EXPECT_EQ(m.spec.pvc.create, true);
  EXPECT_EQ(m.spec.pvc.volume_access_mode, "ReadWriteMany");
}

TEST(ModelSource, EffectiveModelIdDerivedFromHfUri) {
  ModelSource s;
  s.source_uri = "hf://meta-llama/Llama-3-8B";
  EXPECT_EQ(s.effective_model_id(), "meta-llama/Llama-3-8B");
  s.source_uri.reset();
  s.source_uri_alias = "hf://Qwen/Qwen3-32B/tokenizer.json";
  EXPECT_EQ(s.effective_uri(), "hf://Qwen/Qwen3-32B/tokenizer.json");
  EXPECT_EQ(s.effective_model_id(), "Qwen/Qwen3-32B");
  s.source_uri = "s3://bucket/key";
  EXPECT_EQ(s.effective_model_id(), "");
  s.model_id = "org/name";
  EXPECT_EQ(s.effective_model_id(), "org/name");
}

TEST(Kinds, IdentityConstantsForDynamicClients) {
  EXPECT_EQ(AIMService::kind_info.plural, "aimservices");
  EXPECT_EQ(AIMService::kind_info.api_version(), "aim.eai.amd.com/v1alpha1");
  EXPECT_FALSE(AIMClusterModel::kind_info.namespaced);
  EXPECT_EQ(AIMClusterArtifactDownloader::kind_info.short_names[0], "aimcldl");
  EXPECT_EQ(DynamoModel::kind_info.group, "nvidia.com");
  AIMModel m;
  EXPECT_EQ(m.api_version, "aim.eai.amd.com/v1alpha1");
  EXPECT_EQ(m.kind, "AIMModel");
  EXPECT_EQ(all_kinds().size(), 12u);
  EXPECT_NE(find_kind("aim.eai.amd.com/v1alpha1", "AIMTemplateCache"), nullptr);
  EXPECT_EQ(find_kind("aim.eai.amd.com/v1", "AIMTemplateCache"), nullptr);
}

TEST(Kinds, ListsDecode) {
  Json in = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
             {"kind", "AIMServiceList"},
             {"metadata", {{"resourceVersion", "42"}, {"continue", "abc"}}},
             {"items",
              {{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMService"},
                {"metadata", {{"name", "a"}}},
                {"spec", {{"model", {{"name", "m"}}}}}}}}};
  auto d = decode<ResourceList<AIMService>>(in);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.value->metadata.resource_version, "42");
  ASSERT_EQ(d.value->items.size(), 1u);
  EXPECT_EQ(d.value->items[0].spec.model.name, "m");
  EXPECT_EQ(encode(*d.value), in);
  EXPECT_EQ(ResourceList<AIMService>{}.kind, "AIMServiceList");
}

TEST(Yaml, EmitterOutputParsesBackToTheSameJson) {
  Json v = {{"plain", "abc"},
            {"needsQuotes", "a: b"},
            {"boolish", "true"},
            {"numberish", "10"},
            {"dur", "1h"},
            {"empty", ""},
            {"list", {1, "x", {{"k", "v"}, {"k2", {1, 2}}}, Json::array()}},
            {"nested", {{"a", Json::object()}, {"b", nullptr}, {"c", 1.5}}},
            {"pattern", R"(^(hf|s3)://[^ \t\r\n]+$)"},
            {"multi", "line1\nline2 \"quoted\""}};
  auto back = parse_yaml(to_yaml(v));
  ASSERT_EQ(back.error, "");
  ASSERT_EQ(back.documents.size(), 1u);
  EXPECT_EQ(back.documents[0], v) << to_yaml(v);
}

// Issue 26 (bench/yaml_emitter): DEL, the C1 controls and U+FFFE/U+FFFF went out raw inside
// double quotes, where YAML readers refuse them (PyYAML: "unacceptable character #x007f"), and
// NEL, U+2028 and U+2029 are line breaks to a YAML 1.1 reader. They are written as escapes.
TEST(Yaml, CharactersOutsideYamlsPrintableSetAreEscaped) {
  const Json v = {{"del", "a\x7F"},
                  {"c1", "\xC2\x80\xC2\x85\xC2\x9F"},
                  {"separators", "\xE2\x80\xA8\xE2\x80\xA9"},
                  {"nonchars", "\xEF\xBF\xBE\xEF\xBF\xBF"},
                  {"kept", "\xC2\xA0\xC3\xA9\xE2\x80\xA7\xEF\xBF\xBD\xF0\x9F\x98\x80"}};
  const std::string yaml = to_yaml(v);
  EXPECT_EQ(yaml,
            "c1: \"\\u0080\\u0085\\u009F\"\n"
            "del: \"a\\u007F\"\n"
            "kept: \"\xC2\xA0\xC3\xA9\xE2\x80\xA7\xEF\xBF\xBD\xF0\x9F\x98\x80\"\n"
            "nonchars: \"\\uFFFE\\uFFFF\"\n"
            "separators: \"\\u2028\\u2029\"\n");
  auto back = parse_yaml(yaml);
  ASSERT_EQ(back.error, "");
  ASSERT_EQ(back.documents.size(), 1u);
  EXPECT_EQ(back.documents[0], v);
}

}  // namespace
}  // namespace aim::api
