#include "engine/source_filter.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

TEST(SourceFilter, ParseFilter) {
  struct Case {
    std::string in;
    ParsedImageFilter want;
  };
  const std::vector<Case> cases = {
      {"amdenterpriseai/aim-*", {"", "amdenterpriseai/aim-*", "", true}},
      {"ghcr.io/silogen/aim-*", {"ghcr.io", "silogen/aim-*", "", true}},
      {"localhost/aim-*", {"", "localhost/aim-*", "", true}},  // no '.' before the first '/'
      {"silogen/aim-llama:1.0.0", {"", "silogen/aim-llama", "1.0.0", false}},
      {"silogen/aim-llama", {"", "silogen/aim-llama", "", false}},
      {"nginx", {"", "library/nginx", "", false}},
      {"docker.io/amd/x:2", {"", "amd/x", "2", false}},
      {"ghcr.io/org/repo:v1", {"ghcr.io", "org/repo", "v1", false}},
      {"127.0.0.1:5000/aim/llama", {"127.0.0.1:5000", "aim/llama", "", false}},
      {"Bad Name", {"", "Bad Name", "", false}},  // unparsable: taken as a literal pattern
  };
  for (const auto& c : cases) {
    auto p = parse_image_filter(c.in);
    EXPECT_EQ(p.registry, c.want.registry) << c.in;
    EXPECT_EQ(p.repository, c.want.repository) << c.in;
    EXPECT_EQ(p.tag, c.want.tag) << c.in;
    EXPECT_EQ(p.has_wildcard, c.want.has_wildcard) << c.in;
  }
}

TEST(SourceFilter, Wildcards) {
  EXPECT_TRUE(wildcard_match("org/aim-*", "org/aim-llama"));
  EXPECT_TRUE(wildcard_match("org/aim-*", "org/aim-"));
  EXPECT_TRUE(wildcard_match("*", "anything/at/all"));
  EXPECT_TRUE(wildcard_match("org/*-instruct", "org/llama/3-instruct"));  // '*' crosses '/'
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXcYYb"));
  EXPECT_FALSE(wildcard_match("org/aim-*", "other/aim-llama"));
  EXPECT_TRUE(wildcard_match("org/exact", "org/exact"));
  EXPECT_FALSE(wildcard_match("org/exact", "org/exact2"));
  EXPECT_FALSE(wildcard_match("ab*ba", "aba"));  // prefix and suffix may not overlap
}

TEST(SourceFilter, ConstraintNormalization) {
  EXPECT_EQ(normalize_semver_constraint(">=0.9"), ">=0.9.0");
  EXPECT_EQ(normalize_semver_constraint(">= 1.2"), ">= 1.2.0");
  EXPECT_EQ(normalize_semver_constraint(">=1.2.3"), ">=1.2.3");
  EXPECT_EQ(normalize_semver_constraint(">=1.0 <2.0"),
            ">=1.0 <2.0");  // two dots after the first digit
  EXPECT_EQ(normalize_semver_constraint("latest"), "latest");
}

TEST(SourceFilter, TagConstraints) {
  EXPECT_TRUE(tag_satisfies("1.2.0", {">=1.0"}));
  EXPECT_TRUE(tag_satisfies("v1.2.0", {">=1.0", "<2.0"}));
  EXPECT_FALSE(tag_satisfies("2.0.0", {">=1.0", "<2.0"}));
  EXPECT_FALSE(tag_satisfies("latest", {">=1.0"}));
  EXPECT_FALSE(tag_satisfies("1.2", {">=1.0"}));         // not strict semver
  EXPECT_TRUE(tag_satisfies("0.8.1-rc1", {">=0.8.0"}));  // semver prerelease ordering
  EXPECT_TRUE(tag_satisfies("0.1.0", {"~1.2.0"}));       // unsupported constraint: skipped
  EXPECT_FALSE(tag_satisfies("0.1.0", {"~1.2.0", ">=1.0"}));
}

TEST(SourceFilter, Matching) {
  const std::vector<std::string> global = {">=1.0.0"};
  ModelSourceFilter f{"amd/aim-*", {"amd/aim-base"}, {}};
  EXPECT_TRUE(filter_matches({"docker.io", "amd/aim-llama", "1.0.0"}, f, global));
  EXPECT_FALSE(filter_matches({"docker.io", "amd/aim-llama", "0.9.0"}, f, global));
  EXPECT_FALSE(filter_matches({"docker.io", "amd/aim-base", "1.0.0"}, f, global));  // excluded
  EXPECT_FALSE(filter_matches({"docker.io", "amd/other", "1.0.0"}, f, global));
  EXPECT_TRUE(filter_matches({"docker.io", "amd/aim-llama", "0.9.0"},
                             ModelSourceFilter{"amd/aim-*", {}, {"<1.0"}},
                             global));  // the filter's versions win over the global ones
  // An explicit tag overrides versions.
  EXPECT_TRUE(filter_matches({"docker.io", "amd/aim-llama", "dev"},
                             ModelSourceFilter{"amd/aim-llama:dev", {}, {}}, global));
  EXPECT_FALSE(filter_matches({"docker.io", "amd/aim-llama", "1.0.0"},
                              ModelSourceFilter{"amd/aim-llama:dev", {}, {}}, global));
  // A registry in the filter must equal the image's.
  ModelSourceFilter ghcr{"ghcr.io/amd/aim-*", {}, {}};
  EXPECT_TRUE(filter_matches({"ghcr.io", "amd/aim-x", "latest"}, ghcr, {}));
  EXPECT_FALSE(filter_matches({"docker.io", "amd/aim-x", "latest"}, ghcr, {}));
}

TEST(SourceFilter, Plans) {
  auto s = plan_filter({"amd/aim-llama:1.0.0", {}, {}}, "");
  EXPECT_EQ(s.strategy, FilterStrategy::kStatic);
  EXPECT_EQ(s.registry, "docker.io");
  EXPECT_EQ(s.tag, "1.0.0");

  auto t = plan_filter({"amd/aim-llama", {}, {}}, "");
  EXPECT_EQ(t.strategy, FilterStrategy::kTagList);
  EXPECT_EQ(t.tag_list_repository, "amd/aim-llama");
  auto t2 = plan_filter({"aim/llama", {}, {}}, "127.0.0.1:5000");
  EXPECT_EQ(t2.tag_list_repository, "127.0.0.1:5000/aim/llama");

  auto w = plan_filter({"amdenterpriseai*/aim-*", {}, {}}, "docker.io");
  EXPECT_EQ(w.strategy, FilterStrategy::kWildcard);
  EXPECT_EQ(w.list_namespace, "amdenterpriseai");
  auto g = plan_filter({"ghcr.io/silogen/aim-*", {}, {}}, "docker.io");
  EXPECT_EQ(g.registry, "ghcr.io");
  EXPECT_EQ(g.list_namespace, "silogen");
  auto c = plan_filter({"aim/*", {}, {}}, "registry.example.com");
  EXPECT_EQ(c.strategy, FilterStrategy::kWildcard);
  EXPECT_EQ(c.list_namespace, "");  // catalog API
}

TEST(SourceFilter, UrisAndModelNames) {
  EXPECT_EQ(image_uri({"docker.io", "amd/x", "1.0.0"}), "amd/x:1.0.0");
  EXPECT_EQ(image_uri({"", "amd/x", "1.0.0"}), "amd/x:1.0.0");
  EXPECT_EQ(image_uri({"ghcr.io", "amd/x", "1.0.0"}), "ghcr.io/amd/x:1.0.0");
  // Golden values from the reference algorithm (Go).
  EXPECT_EQ(cluster_model_name({"docker.io", "amdenterpriseai/aim-qwen-qwen3-32b", "0.8.5"}),
            "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-72f726");
  EXPECT_EQ(cluster_model_name({"ghcr.io", "org/repo", "v1.0.0"}), "org-repo-v1-0-0-529f97");
}

TEST(SourceFilter, Compose) {
  std::vector<std::vector<RegistryImage>> per_filter = {
      {{"docker.io", "a/x", "1"}, {"docker.io", "a/y", "1"}, {"docker.io", "a/z", "1"}},
      {{"docker.io", "a/y", "1"}},  // matched by two filters: planned twice, counted twice
  };
  auto c = compose_source_models(per_filter, {"a/x:1"}, std::nullopt);
  EXPECT_EQ(c.to_create.size(), 3U);
  EXPECT_EQ(c.discovered, 4);
  EXPECT_EQ(c.available, 4);
  EXPECT_FALSE(c.limit_reached);
  EXPECT_EQ(max_models_condition(c).reason, "WithinLimit");
  EXPECT_EQ(max_models_condition(c).message, "Created 4 models, within limit");

  auto limited = compose_source_models(per_filter, {"a/x:1"}, 2);
  ASSERT_EQ(limited.to_create.size(), 1U);
  EXPECT_EQ(limited.to_create[0].repository, "a/y");
  EXPECT_EQ(limited.discovered, 2);
  EXPECT_TRUE(limited.limit_reached);
  EXPECT_EQ(max_models_condition(limited).message, "Limit reached: 2 created, 4 available");
}

TEST(SourceFilter, FiltersHealth) {
  EXPECT_EQ(filters_health(0, 0).reason, "NoFilters");
  EXPECT_EQ(filters_health(3, 0).message, "All 3 filters succeeded");
  EXPECT_EQ(filters_health(3, 1).state, "Degraded");
  EXPECT_EQ(filters_health(3, 1).message, "1 of 3 filters had errors");
  EXPECT_EQ(filters_health(3, 3).reason, "AllFiltersFailed");
}

}  // namespace
}  // namespace aim::engine
