#include "registry/image_metadata.h"

#include <gtest/gtest.h>

namespace aim::registry {
namespace {

using nlohmann::json;

TEST(ImageMetadata, AimAndOciLabels) {
  std::map<std::string, std::string> labels = {
      {"com.amd.aim.model.canonicalName", "meta-llama/Llama-3.1-8B-Instruct"},
      {"org.amd.silogen.model.canonicalName", "ignored/legacy"},
      {"org.amd.silogen.model.source", "https://huggingface.co/meta-llama"},
      {"com.amd.aim.model.tags", " chat, llama ,,instruct "},
      {"com.amd.aim.hfToken.required", "True"},
      {"com.amd.aim.model.recommendedDeployments",
       R"([{"gpuModel":"MI300X","gpuCount":1,"precision":"fp8","metric":"latency","profileId":"p1"}])"},
      {"org.opencontainers.image.title", "Llama"},
      {"org.opencontainers.image.created", "2025-01-02T03:04:05Z"},
      {"unrelated", "x"},
  };
  auto md = image_metadata_from_labels(labels);
  ASSERT_TRUE(md) << md.error();
  EXPECT_EQ((*md)["model"]["canonicalName"], "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ((*md)["model"]["source"], "https://huggingface.co/meta-llama");
  EXPECT_EQ((*md)["model"]["tags"], json({"chat", "llama", "instruct"}));
  EXPECT_EQ((*md)["model"]["hfTokenRequired"], true);
  EXPECT_EQ(
      (*md)["model"]["recommendedDeployments"],
      json::parse(
          R"([{"gpuModel":"MI300X","gpuCount":1,"precision":"fp8","metric":"latency","profileId":"p1"}])"));
  EXPECT_EQ((*md)["oci"], json({{"title", "Llama"}, {"created", "2025-01-02T03:04:05Z"}}));
  EXPECT_EQ((*md)["originalLabels"].size(), labels.size());
}

TEST(ImageMetadata, SeedLabelSpelling) {
  auto md = image_metadata_from_labels({
      {"aim.eai.amd.com/model.recommended-deployments",
       R"([{"gpuModel": "MI300X", "gpuCount": 4, "precision": "fp16", "metric": "throughput"}])"},
      {"aim.eai.amd.com/model.name", "meta-llama/Llama-3-8B"},
      {"aim.eai.amd.com/model.family", "llama"},
  });
  ASSERT_TRUE(md) << md.error();
  EXPECT_EQ((*md)["model"]["canonicalName"], "meta-llama/Llama-3-8B");
  EXPECT_EQ((*md)["model"]["family"], "llama");
  EXPECT_EQ((*md)["model"]["recommendedDeployments"][0]["gpuCount"], 4);
}

TEST(ImageMetadata, NoLabels) {
  auto md = image_metadata_from_labels({});
  ASSERT_TRUE(md);
  EXPECT_EQ(*md, json({{"model", json::object()}, {"oci", json::object()}}));
}

TEST(ImageMetadata, RecommendedDeploymentsForms) {
  struct Case {
    std::string text;
    std::optional<json> want;
  };
  const std::vector<Case> cases = {
      {R"([{"gpuModel":"MI300X","gpuCount":8}])",
       json::parse(R"([{"gpuModel":"MI300X","gpuCount":8}])")},
      {R"(  {'gpuModel': 'MI325X', 'metric': 'latency'}  )",
       json::parse(R"([{"gpuModel":"MI325X","metric":"latency"}])")},
      {R"({"gpuModel":"A"},{"gpuModel":"B"})",
       json::parse(R"([{"gpuModel":"A"},{"gpuModel":"B"}])")},
      {R"([{"GPUMODEL":"MI210","unknown":1,"gpuCount":null}])",
       json::parse(R"([{"gpuModel":"MI210"}])")},
      {"[]", json::array()},
      {R"([{"gpuCount":"8"}])", std::nullopt},
      {R"([{"gpuCount":1.5}])", std::nullopt},
      {R"([{"gpuModel":7}])", std::nullopt},
      {"not json", std::nullopt},
      {R"({"a":1})", json::parse("[{}]")},
  };
  for (const auto& c : cases) {
    auto r = parse_recommended_deployments(c.text);
    ASSERT_EQ(r.ok(), c.want.has_value()) << c.text;
    if (r) {
      EXPECT_EQ(*r, *c.want) << c.text;
    }
  }
  auto md = image_metadata_from_labels({{"com.amd.aim.model.recommendedDeployments", "[{broken"}});
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().rfind("failed to parse image labels: ", 0), 0U);
}

}  // namespace
}  // namespace aim::registry
