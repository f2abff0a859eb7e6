// Golden names: computed by a Go program that runs the reference's algorithm with Go's
// encoding/json and crypto/sha256 (T1 is also the worked example of behavior.md §4.6).
#include "engine/template_naming.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

struct RecommendedCase {
  std::string model, image;
  RecommendedDeployment d;
  std::string want;
};

TEST(TemplateNaming, RecommendedDeploymentNames) {
  const std::vector<RecommendedCase> cases = {
      {"qwen-qwen3-32b",
       "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5",
       {"MI300X", 1, "fp8", "latency"},
       "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-1x-mi300x-lat-fp8-c381"},
      {"m",
       "ghcr.io/amd/llama-3-8b:v1.0.0",
       {"MI325X", 8, "fp16", "throughput"},
       "ghcr-io-amd-llama-3-8b-v1-0-0-8x-mi325x-thr-fp16-90c7"},
      {"m", "img:1", {}, "img-1-part-4afe"},  // empty suffix becomes "part"
      {"m", "img:1", {"", 4, "bf16", "other"}, "img-1-x4-other-bf16-323a"},
      {"a-very-long-model-name",
       "registry.example.com/some/deep/path/with-a-very-long-image-name-indeed:1.2.3-rc.1",
       {"MI300X", 8, "fp8", "throughput"},
       "registry-example-com-some-deep-path-with-8x-mi300x-thr-fp8-409f"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(recommended_template_name(c.model, c.image, c.d), c.want) << c.image;
    EXPECT_LE(c.want.size(), 63U);
  }
}

TEST(TemplateNaming, ModelNameChangesTheHashOnly) {
  RecommendedDeployment d{"MI300X", 1, "fp8", "latency"};
  std::string a = recommended_template_name("model-a", "img:1", d);
  std::string b = recommended_template_name("model-b", "img:1", d);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, a.size() - 4), b.substr(0, b.size() - 4));
}

TEST(TemplateNaming, MetricShorthand) {
  EXPECT_EQ(metric_shorthand("latency"), "lat");
  EXPECT_EQ(metric_shorthand("throughput"), "thr");
  EXPECT_EQ(metric_shorthand("cost"), "cost");
}

TEST(TemplateNaming, CustomTemplateNames) {
  EXPECT_EQ(custom_template_name("my-model", nullptr, 0), "my-model-custom-013658a3");

  CustomTemplateNaming full;
  full.name = "fast";
  full.profile = CustomTemplateNaming::Profile{"fp8", "latency"};
  full.gpu = CustomTemplateNaming::Gpu{2, "MI300X"};
  EXPECT_EQ(custom_template_name("my-model", &full, 1), "my-model-custom-fast-fp8-mi300x-087f6f51");

  // A declared template hashes its (empty) name and an empty profile block, unlike index 0's
  // auto-generated one.
  CustomTemplateNaming bare;
  bare.profile = CustomTemplateNaming::Profile{};
  EXPECT_EQ(custom_template_name("my-model", &bare, 2), "my-model-custom-ef39f47b");

  // Go's HTML-safe JSON escaping of < > & enters the hash.
  EXPECT_EQ(custom_template_name("m<&>", nullptr, 0), "m-custom-20923434");
}

TEST(TemplateNaming, DiscoveryJobName) {
  DiscoveryJobNaming in;
  in.template_name = "qwen3-32b-latency";
  in.model_name = "qwen-qwen3-32b";
  in.image = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5";
  in.env = {{"HF_TOKEN", "abc"}};
  in.pull_secrets = {"pull"};
  in.metric = "latency";
  in.precision = "fp8";
  in.gpu = DiscoveryJobNaming::Gpu{"MI300X", 1};
  in.profile_id = "prof";
  EXPECT_EQ(discovery_job_name(in), "discover-qwen3-32b-latency-fd3ae195");

  DiscoveryJobNaming long_name;
  long_name.template_name = "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-1x-mi300x-lat-fp8-c381";
  long_name.model_name = "m";
  long_name.image = "img";
  std::string job = discovery_job_name(long_name);
  EXPECT_EQ(job, "discover-amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-1x-m-db98cf3b");
  EXPECT_EQ(job.size(), 63U);
}

TEST(TemplateNaming, DiscoverySpecHash) {
  DiscoveryJobNaming in;
  in.model_name = "qwen-qwen3-32b";
  in.image = "amdenterpriseai/aim-qwen-qwen3-32b:0.8.5";
  in.metric = "latency";
  in.precision = "fp8";
  in.gpu = DiscoveryJobNaming::Gpu{"MI300X", 1};
  EXPECT_EQ(discovery_spec_hash(in), "3d26b979e0e6c679");
  // Env, service account and pull secrets do not enter the spec hash.
  DiscoveryJobNaming with_env = in;
  with_env.env = {{"A", "b"}};
  with_env.service_account = "sa";
  EXPECT_EQ(discovery_spec_hash(with_env), discovery_spec_hash(in));
  in.precision = "fp16";
  EXPECT_NE(discovery_spec_hash(in), "3d26b979e0e6c679");
}

}  // namespace
}  // namespace aim::engine
