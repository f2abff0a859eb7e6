#include "engine/derived_template.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

TemplateOverrides ovr(std::string metric, std::string precision, json hardware = nullptr) {
  return TemplateOverrides{std::move(metric), std::move(precision), std::move(hardware)};
}

TEST(DerivedTemplateName, Table) {
  // Hashes: first 4 hex of SHA-256 over the Go-JSON inputs joined by '|', e.g.
  // "gpu"|"MI325X"|"count"|4|"precision"|"fp16"|"metric"|"latency" -> 29c5.
  struct Case {
    std::string label;
    std::string base;
    TemplateOverrides o;
    std::optional<std::string> want;
  } cases[] = {
      {"all parts", "my-template",
       ovr("latency", "fp16", json{{"gpu", {{"model", "MI325X"}, {"requests", 4}}}}),
       "my-template-ovr-mi325x-4gpu-fp16-latency-29c5"},
      {"precision only", "base", ovr("", "fp8"), "base-ovr-fp8-f7cb"},
      {"nothing to derive", "base", ovr("", ""), std::nullopt},
      {"cpu-only hardware adds no part", "base", ovr("", "", json{{"cpu", {{"requests", "4"}}}}),
       std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(derived_template_name(c.base, c.o), c.want) << c.label;
}

TEST(DerivedTemplateName, IdenticalOverridesShareAName) {
  auto a = derived_template_name("tpl", ovr("latency", "fp8"));
  auto b = derived_template_name("tpl", ovr("latency", "fp8"));
  auto c = derived_template_name("tpl", ovr("throughput", "fp8"));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(DerivedTemplateName, AtMost63Characters) {
  std::string base(60, 'b');
  auto name = derived_template_name(
      base, ovr("throughput", "fp16", json{{"gpu", {{"model", "MI300X"}, {"requests", 8}}}}));
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->size(), 63u);
  EXPECT_NE(name->find("-ovr-"), std::string::npos);
  EXPECT_EQ(name->substr(name->size() - 5, 1), "-");
}

TEST(ExplicitTemplateLookup, Order) {
  auto plain = explicit_template_lookup("t", std::nullopt);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].scope, TemplateScope::Namespace);
  EXPECT_EQ(plain[1].scope, TemplateScope::Cluster);

  auto with = explicit_template_lookup("t", ovr("", "fp8"));
  ASSERT_EQ(with.size(), 3u);
  EXPECT_EQ(with[0].name, *derived_template_name("t", ovr("", "fp8")));
  EXPECT_EQ(with[0].scope, TemplateScope::Namespace);
  EXPECT_EQ(with[1].name, "t");
  EXPECT_EQ(with[1].scope, TemplateScope::Namespace);
  EXPECT_EQ(with[2].scope, TemplateScope::Cluster);
}

TEST(IsDerivedTemplate, Labels) {
  EXPECT_TRUE(is_derived_template(json{{"aim.eai.amd.com/origin", "derived"}}));
  EXPECT_FALSE(is_derived_template(json{{"aim.eai.amd.com/origin", "auto-generated"}}));
  EXPECT_FALSE(is_derived_template(nullptr));
}

json base_spec() {
  return json{
      {"modelName", "llama"},
      {"metric", "throughput"},
      {"precision", "fp16"},
      {"hardware", {{"gpu", {{"model", "MI300X"}, {"requests", 1}}}}},
      {"env", json::array({{{"name", "A"}, {"value", "1"}}})},
      {"imagePullSecrets", json::array({{{"name", "base-secret"}}})},
      {"resources", {{"limits", {{"memory", "1Gi"}}}}},
      {"caching", {{"enabled", false}, {"env", json::array({{{"name", "C"}, {"value", "2"}}})}}},
      {"runtimeConfigName", "team"}};
}

TEST(DeriveTemplate, AppliesOverridesAndKeepsTheRest) {
  DerivedTemplateInput in;
  in.base_name = "base";
  in.base_spec = base_spec();
  in.overrides = ovr("latency", "fp8", json{{"gpu", {{"model", "MI325X"}, {"requests", 2}}}});
  auto d = derive_template(in);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->name, *derived_template_name("base", in.overrides));
  EXPECT_EQ(d->labels["aim.eai.amd.com/origin"], "derived");
  EXPECT_EQ(d->labels["app.kubernetes.io/managed-by"], "aim-engine");
  EXPECT_EQ(d->labels["aim.eai.amd.com/model"], "llama");
  const json& s = d->spec;
  EXPECT_EQ(s["modelName"], "llama");
  EXPECT_EQ(s["metric"], "latency");
  EXPECT_EQ(s["precision"], "fp8");
  EXPECT_EQ(s["hardware"], (json{{"gpu", {{"model", "MI325X"}, {"requests", 2}}}}));
  EXPECT_EQ(s["env"], base_spec()["env"]);
  EXPECT_EQ(s["imagePullSecrets"], base_spec()["imagePullSecrets"]);
  EXPECT_EQ(s["resources"], base_spec()["resources"]);
  EXPECT_EQ(s["runtimeConfigName"], "team");
  EXPECT_EQ(s["caching"], (json{{"enabled", true}}));  // Shared: base caching env dropped
}

TEST(DeriveTemplate, ServiceValuesWinAndDedicatedKeepsCaching) {
  DerivedTemplateInput in;
  in.base_name = "base";
  in.base_spec = base_spec();
  in.base_spec.erase("modelName");
  in.base_spec.erase("runtimeConfigName");
  in.resolved_model_name = "resolved";
  in.overrides = ovr("", "fp8");
  in.service_image_pull_secrets = json::array({{{"name", "svc-secret"}}});
  in.service_resources = json{{"requests", {{"cpu", "8"}}}};
  in.shared_caching = false;
  auto d = derive_template(in);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->spec["modelName"], "resolved");
  EXPECT_EQ(d->spec["runtimeConfigName"], "default");
  EXPECT_EQ(d->spec["metric"], "throughput");  // not overridden
  EXPECT_EQ(d->spec["hardware"], base_spec()["hardware"]);
  EXPECT_EQ(d->spec["imagePullSecrets"], in.service_image_pull_secrets);
  EXPECT_EQ(d->spec["resources"], in.service_resources);
  EXPECT_EQ(d->spec["caching"], base_spec()["caching"]);

  in.service_runtime_config_name = "svc-rc";
  EXPECT_EQ(derive_template(in)->spec["runtimeConfigName"], "svc-rc");
}

TEST(DeriveTemplate, NoOverridesNoTemplate) {
  DerivedTemplateInput in;
  in.base_name = "base";
  in.base_spec = base_spec();
  EXPECT_FALSE(derive_template(in).has_value());
}

}  // namespace
}  // namespace aim::engine
