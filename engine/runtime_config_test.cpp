#include "engine/runtime_config.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

TEST(RuntimeConfig, Resolution) {
  auto none_default = resolve_runtime_config("", std::nullopt, std::nullopt);
  EXPECT_EQ(none_default.outcome, RuntimeConfigOutcome::kDefaultNotFound);
  EXPECT_EQ(none_default.name, "default");
  EXPECT_EQ(none_default.reason, "DefaultConfigNotFound");
  EXPECT_EQ(none_default.message, "Default config was not found");

  auto none_named = resolve_runtime_config("high-security", std::nullopt, std::nullopt);
  EXPECT_EQ(none_named.outcome, RuntimeConfigOutcome::kNotFound);
  EXPECT_EQ(none_named.reason, "ConfigNotFound");
  EXPECT_EQ(none_named.message, "RuntimeConfig high-security not found");

  auto cluster_only =
      resolve_runtime_config("", std::nullopt, json{{"model", {{"autoDiscovery", true}}}});
  EXPECT_EQ(cluster_only.outcome, RuntimeConfigOutcome::kFound);
  EXPECT_TRUE(cluster_only.from_cluster);
  EXPECT_FALSE(cluster_only.from_namespace);
  EXPECT_EQ(cluster_only.spec["model"]["autoDiscovery"], true);
  EXPECT_EQ(cluster_only.reason, "ConfigFound");
}

TEST(RuntimeConfig, NamespaceFalseOverridesClusterTrue) {
  json cluster = {{"routing", {{"enabled", true}, {"pathTemplate", "/{.metadata.namespace}"}}},
                  {"storage", {{"pvcHeadroomPercent", 20}, {"defaultStorageClassName", "fast"}}},
                  {"model", {{"autoDiscovery", true}}},
                  {"labelPropagation", {{"enabled", true}, {"match", {"team-*", "org/*"}}}}};
  json ns = {{"routing", {{"enabled", false}}},
             {"storage", {{"pvcHeadroomPercent", 0}}},
             {"model", {{"autoDiscovery", false}}},
             {"labelPropagation", {{"match", {"only-*"}}}}};
  auto r = resolve_runtime_config("default", ns, cluster);
  ASSERT_EQ(r.outcome, RuntimeConfigOutcome::kFound);
  EXPECT_EQ(r.spec["routing"]["enabled"], false);
  EXPECT_EQ(r.spec["routing"]["pathTemplate"], "/{.metadata.namespace}");
  EXPECT_EQ(r.spec["storage"]["pvcHeadroomPercent"], 0);
  EXPECT_EQ(r.spec["storage"]["defaultStorageClassName"], "fast");
  EXPECT_EQ(r.spec["model"]["autoDiscovery"], false);
  EXPECT_EQ(r.spec["labelPropagation"]["enabled"], true);
  EXPECT_EQ(r.spec["labelPropagation"]["match"], json({"only-*"}));
  EXPECT_EQ(runtime_pvc_headroom_percent(r.spec), 0);
}

TEST(RuntimeConfig, MapsUnionAndNullMeansUnset) {
  json cluster = {{"routing", {{"annotations", {{"a", "1"}, {"b", "2"}}}, {"enabled", true}}}};
  json ns = {{"routing", {{"annotations", {{"b", "3"}, {"c", "4"}}}, {"enabled", nullptr}}}};
  json merged = merge_runtime_config(cluster, ns);
  EXPECT_EQ(merged["routing"]["annotations"], json({{"a", "1"}, {"b", "3"}, {"c", "4"}}));
  EXPECT_EQ(merged["routing"]["enabled"], true);
}

TEST(RuntimeConfig, EnvMergedByName) {
  json cluster = {{"env", {{{"name", "A"}, {"value", "1"}}, {{"name", "B"}, {"value", "2"}}}}};
  json ns = {{"env", {{{"name", "B"}, {"value", "3"}}, {{"name", "C"}, {"value", "4"}}}}};
  json merged = merge_runtime_config(cluster, ns);
  EXPECT_EQ(merged["env"],
            json::parse(
                R"([{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}])"));
}

TEST(RuntimeConfig, DeprecatedFieldsMigrate) {
  json old = {{"defaultStorageClassName", "legacy"}, {"pvcHeadroomPercent", 15}};
  json migrated = migrate_runtime_config(old);
  EXPECT_EQ(migrated["storage"]["defaultStorageClassName"], "legacy");
  EXPECT_EQ(migrated["storage"]["pvcHeadroomPercent"], 15);
  json both = {{"defaultStorageClassName", "legacy"},
               {"storage", {{"defaultStorageClassName", "new"}}}};
  EXPECT_EQ(migrate_runtime_config(both)["storage"]["defaultStorageClassName"], "new");
  EXPECT_EQ(runtime_storage_class(migrate_runtime_config(both)), "new");
  EXPECT_EQ(runtime_storage_class(json::object()), std::nullopt);
  EXPECT_EQ(runtime_pvc_headroom_percent(json::object()), 10);
  EXPECT_EQ(effective_runtime_config_name(""), "default");
  EXPECT_EQ(effective_runtime_config_name("x"), "x");
}

}  // namespace
}  // namespace aim::engine
