#include "engine/env_merge.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

json ev(const std::string& n, const std::string& v) {
  return json{{"name", n}, {"value", v}};
}

TEST(MergeEnv, Table) {
  json secret_ref = {{"name", "TOKEN"},
                     {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}};
  struct Case {
    std::string label;
    json base, over, want;
  } cases[] = {
      {"null inputs", nullptr, nullptr, json::array()},
      {"append new names in override order", json::array({ev("A", "1")}),
       json::array({ev("C", "3"), ev("B", "2")}),
       json::array({ev("A", "1"), ev("C", "3"), ev("B", "2")})},
      {"replace in place", json::array({ev("A", "1"), ev("B", "2")}), json::array({ev("A", "9")}),
       json::array({ev("A", "9"), ev("B", "2")})},
      {"valueFrom replaces a value", json::array({ev("TOKEN", "plain")}), json::array({secret_ref}),
       json::array({secret_ref})},
      {"engine args deep merge",
       json::array({ev("AIM_ENGINE_ARGS", R"({"a":1,"n":{"x":1,"y":2}})")}),
       json::array({ev("AIM_ENGINE_ARGS", R"({"b":2,"n":{"y":3}})")}),
       json::array({ev("AIM_ENGINE_ARGS", R"({"a":1,"b":2,"n":{"x":1,"y":3}})")})},
      {"engine args non-object override wins", json::array({ev("AIM_ENGINE_ARGS", R"({"a":1})")}),
       json::array({ev("AIM_ENGINE_ARGS", "--foo")}),
       json::array({ev("AIM_ENGINE_ARGS", "--foo")})},
      {"engine args non-object base", json::array({ev("AIM_ENGINE_ARGS", "[1]")}),
       json::array({ev("AIM_ENGINE_ARGS", R"({"a":1})")}),
       json::array({ev("AIM_ENGINE_ARGS", R"({"a":1})")})},
  };
  for (const auto& c : cases) EXPECT_EQ(merge_env(c.base, c.over), c.want) << c.label;
}

TEST(MergeEngineArgs, GoStyleOutput) {
  EXPECT_EQ(merge_engine_args(R"({"z":"<x>"})", R"({"a":true})"),
            R"({"a":true,"z":"\u003cx\u003e"})");
}

TEST(InferenceEnv, DefaultsOnly) {
  auto env = inference_env({});
  EXPECT_EQ(env, json::array({ev("AIM_CACHE_PATH", "/workspace/cache"),
                              ev("VLLM_ENABLE_METRICS", "true")}));
}

TEST(InferenceEnv, PrecedenceTable) {
  // Each row: which layers set X, and which value must win.
  struct Case {
    std::string label;
    InferenceEnvInput in;
    std::string name, want;
  } cases[] = {
      {"runtime config over system default",
       {json::array({ev("VLLM_ENABLE_METRICS", "false")}), "", "", "", nullptr, std::nullopt,
        nullptr},
       "VLLM_ENABLE_METRICS",
       "false"},
      {"template metric over runtime config",
       {json::array({ev("AIM_METRIC", "throughput")}), "", "latency", "", nullptr, std::nullopt,
        nullptr},
       "AIM_METRIC",
       "latency"},
      {"template env over template metric",
       {nullptr, "", "latency", "", json::array({ev("AIM_METRIC", "tpl")}), std::nullopt, nullptr},
       "AIM_METRIC",
       "tpl"},
      {"model id over template env",
       {nullptr, "", "", "", json::array({ev("AIM_MODEL_ID", "x")}), "org/model", nullptr},
       "AIM_MODEL_ID",
       "org/model"},
      {"service env over everything",
       {json::array({ev("AIM_MODEL_ID", "rc")}), "", "", "", json::array({ev("AIM_MODEL_ID", "t")}),
        "org/model", json::array({ev("AIM_MODEL_ID", "svc")})},
       "AIM_MODEL_ID",
       "svc"},
      {"profile id from template",
       {nullptr, "p-1", "", "", nullptr, std::nullopt, nullptr},
       "AIM_PROFILE_ID",
       "p-1"},
      {"precision from template",
       {nullptr, "", "", "fp8", nullptr, std::nullopt, nullptr},
       "AIM_PRECISION",
       "fp8"},
  };
  for (const auto& c : cases) {
    auto env = inference_env(c.in);
    int seen = 0;
    for (const auto& e : env) {
      if (e["name"] == c.name) {
        ++seen;
        EXPECT_EQ(e["value"], c.want) << c.label;
      }
    }
    EXPECT_EQ(seen, 1) << c.label << ": exactly one entry per name";
  }
}

TEST(InferenceEnv, SortedByName) {
  InferenceEnvInput in;
  in.service_env = json::array({ev("ZED", "1"), ev("ALPHA", "2")});
  in.metric = "latency";
  in.model_id = "org/m";
  auto env = inference_env(in);
  std::vector<std::string> names;
  for (const auto& e : env) names.push_back(e["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"AIM_CACHE_PATH", "AIM_METRIC", "AIM_MODEL_ID",
                                             "ALPHA", "VLLM_ENABLE_METRICS", "ZED"}));
}

TEST(InferenceEnv, EngineArgsMergeAcrossLayers) {
  InferenceEnvInput in;
  in.runtime_config_env = json::array({ev("AIM_ENGINE_ARGS", R"({"max-model-len":4096,"tp":1})")});
  in.template_env = json::array({ev("AIM_ENGINE_ARGS", R"({"tp":2})")});
  in.service_env = json::array({ev("AIM_ENGINE_ARGS", R"({"enforce-eager":true})")});
  auto env = inference_env(in);
  EXPECT_EQ(env[0], ev("AIM_CACHE_PATH", "/workspace/cache"));
  EXPECT_EQ(env[1], ev("AIM_ENGINE_ARGS", R"({"enforce-eager":true,"max-model-len":4096,"tp":2})"));
}

TEST(TemplateCacheEnv, Precedence) {
  auto env =
      template_cache_env(json::array({ev("A", "t"), ev("B", "t")}),
                         json::array({ev("B", "c"), ev("C", "c")}), json::array({ev("C", "s")}));
  EXPECT_EQ(env, json::array({ev("A", "t"), ev("B", "c"), ev("C", "s")}));
}

}  // namespace
}  // namespace aim::engine
