#include "engine/discovery_output.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

const char* kResult = R"([{"filename":"vllm-mi300x-fp8-tp1-latency.yaml",
  "profile":{"model":"Qwen/Qwen3-32B","quantized_model":"",
    "metadata":{"engine":"vllm","gpu":"MI300X","precision":"fp8","gpu_count":1,"metric":"latency","type":"optimized"},
    "engine_args":{"tensor-parallel-size":1,"max-model-len":32768},"env_vars":{"VLLM_USE_TRITON":"1"}},
  "models":[{"name":"Qwen/Qwen3-32B","source":"hf://Qwen/Qwen3-32B","size_gb":16},
            {"name":"tokenizer","source":"hf://Qwen/Qwen3-32B/tokenizer.json","size_gb":0.001953125}]}])";

TEST(DiscoveryOutput, CleanLog) {
  auto out = parse_discovery_output(kResult);
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->model_sources.size(), 2U);
  EXPECT_EQ(out->model_sources[0].model_id, "Qwen/Qwen3-32B");
  EXPECT_EQ(out->model_sources[0].size_bytes, 17179869184);
  EXPECT_EQ(out->model_sources[1].size_bytes, 2097152);
  EXPECT_EQ(
      out->model_sources_json(),
      json::parse(R"([{"modelId":"Qwen/Qwen3-32B","sourceUri":"hf://Qwen/Qwen3-32B","size":"16Gi"},
                            {"modelId":"tokenizer","sourceUri":"hf://Qwen/Qwen3-32B/tokenizer.json","size":"2Mi"}])"));
  EXPECT_EQ(
      out->profile["metadata"],
      json::parse(
          R"({"engine":"vllm","gpu":"MI300X","precision":"fp8","gpuCount":1,"metric":"latency","type":"optimized"})"));
  EXPECT_EQ(out->profile["engine_args"]["max-model-len"], 32768);
  EXPECT_EQ(out->profile["env_vars"]["VLLM_USE_TRITON"], "1");
  EXPECT_EQ(out->gpu.gpu_count, 1);
  EXPECT_EQ(out->gpu.gpu_model, "MI300X");
}

TEST(DiscoveryOutput, NoiseAroundTheJson) {
  std::string log =
      std::string("INFO starting dry run [profile selection]\nwarning: [x] is deprecated\n") +
      kResult + "\nDone. [ok]\n";
  // The last ']' belongs to "[ok]": the reference's scan (only the last ']' ends a candidate)
  // finds nothing there; the line-start scan finds the output.
  auto trailing = parse_discovery_output(log);
  ASSERT_TRUE(trailing) << trailing.error();
  EXPECT_EQ(trailing->model_sources.size(), 2U);

  std::string before = std::string("INFO [1/3] loading\nnot json [ at all\n") + kResult + "\n";
  auto out = parse_discovery_output(before);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->model_sources.size(), 2U);
}

TEST(DiscoveryOutput, FailuresAreClear) {
  struct Case {
    std::string log;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"[]", "empty array"},
      {"null", "empty array"},
      {"", "no JSON array"},
      {"Traceback (most recent call last):\n  boom\n", "no JSON array"},
      {R"([{"profile":{"metadata":{"gpu_count":"one"}},"models":[{"name":"a","source":"hf://a/b"}]}])",
       "no JSON array"},
      {R"([{"profile":{},"models":[]}])", "no model sources"},
      {R"([{"profile":{},"models":[{"name":"a","size_gb":1}]}])", "no source URI"},
  };
  for (const auto& c : cases) {
    auto out = parse_discovery_output(c.log);
    ASSERT_FALSE(out) << c.log;
    EXPECT_NE(out.error().find(c.message_part), std::string::npos) << out.error();
  }
}

TEST(DiscoveryOutput, OnlyTheFirstResultIsUsed) {
  auto out = parse_discovery_output(
      R"([{"models":[{"name":"a/b","source":"hf://a/b","size_gb":1}]},{"models":[{"name":"c/d","source":"hf://c/d"}]}])");
  ASSERT_TRUE(out) << out.error();
  ASSERT_EQ(out->model_sources.size(), 1U);
  EXPECT_EQ(out->model_sources[0].model_id, "a/b");
  EXPECT_EQ(out->profile, json::parse(R"({"metadata":{}})"));
}

TEST(DiscoveryOutput, BinarySiQuantity) {
  EXPECT_EQ(binary_si_quantity(0), "0");
  EXPECT_EQ(binary_si_quantity(1000), "1000");
  EXPECT_EQ(binary_si_quantity(1536), "1536");
  EXPECT_EQ(binary_si_quantity(2048), "2Ki");
  EXPECT_EQ(binary_si_quantity(17179869184), "16Gi");
  EXPECT_EQ(binary_si_quantity(1LL << 40), "1Ti");
}

}  // namespace
}  // namespace aim::engine
