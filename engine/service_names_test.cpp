#include "engine/service_names.h"

#include <gtest/gtest.h>

namespace aim::engine::service_names {
namespace {

TEST(Rfc1123Part, Table) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"Llama_3.1", "llama-3-1"},
      {"--a--", "a"},
      {"a..b", "a--b"},  // one for one, runs are not collapsed
      {"", "part"},
      {"!!!", "part"},
      {std::string(70, 'x'), std::string(63, 'x')},
      {std::string(62, 'x') + "-y", std::string(62, 'x')},  // cut to 63 then trailing '-' trimmed
  };
  for (const auto& c : cases) EXPECT_EQ(rfc1123_part(c.in), c.want) << c.in;
}

TEST(GoJson, EscapesLikeGo) {
  EXPECT_EQ(go_json("a<b>&c"), R"("a\u003cb\u003e\u0026c")");
  EXPECT_EQ(go_json("q\"\\\n\t\x01"), R"("q\"\\\n\t\u0001")");
  EXPECT_EQ(go_json(4), "4");
  EXPECT_EQ(go_json(nullptr), "null");
  nlohmann::json env = nlohmann::json::array({{{"value", "1"}, {"name", "A"}}});
  EXPECT_EQ(go_json(env), R"([{"name":"A","value":"1"}])");
}

TEST(DerivedName, WorkedExamplesFromBehaviorMd) {
  // behavior.md §4.9: ISVC for service qwen-chat in ml-team.
  auto isvc = inference_service_name("qwen-chat", "ml-team");
  ASSERT_TRUE(isvc.ok());
  EXPECT_EQ(*isvc, "qwen-chat-a04542d9");
  // behavior.md §4.6: auto-created template name (hash length 4, exactly 63 characters).
  std::string name = derived_name(
      {"amdenterpriseai/aim-qwen-qwen3-32b:0.8.5", "1x-mi300x-lat-fp8"},
      {"qwen-qwen3-32b-amdenterpriseai/aim-qwen-qwen3-32b:0.8.5-MI300X-x1-latency-fp8"}, 4);
  EXPECT_EQ(name, "amdenterpriseai-aim-qwen-qwen3-32b-0-8-5-1x-mi300x-lat-fp8-c381");
}

TEST(DerivedName, ShortensLongestPartFirst) {
  std::string a(40, 'a'), b(30, 'b');
  std::string name = derived_name({a, b}, {"x"}, 8, 63);
  EXPECT_EQ(name.size(), 63u);
  // 40 + 30 + 2 + 8 = 80: 17 characters come off. 10 from the 40 until both are 30, then
  // alternately (the first part on ties): 26 and 27.
  EXPECT_EQ(name.substr(0, 27), std::string(26, 'a') + "-");
  EXPECT_EQ(name.substr(27, 28), std::string(27, 'b') + "-");
}

TEST(DerivedName, NoHashWithoutInputs) {
  EXPECT_EQ(derived_name({"a", "b"}, {}, 8, 63), "a-b");
  EXPECT_EQ(derived_name({"a", "b"}, {"x"}, 0, 63), "a-b");
}

TEST(InferenceServiceName, NamespaceTooLong) {
  EXPECT_TRUE(inference_service_name("svc", std::string(42, 'n')).ok());
  auto r = inference_service_name("svc", std::string(43, 'n'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("42"), std::string::npos);
}

TEST(InferenceServiceName, FitsPredictorHost) {
  std::string ns(30, 'n');
  auto r = inference_service_name(std::string(60, 's'), ns);
  ASSERT_TRUE(r.ok());
  // <isvc>-predictor-<namespace> must fit 63.
  EXPECT_LE(r->size() + std::string("-predictor-").size() + ns.size(), 63u);
}

TEST(SanitizeLabelValue, Table) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"My Template", "my_template"},
      {"a//b", "a_b"},
      {"-._x_.-", "x"},
      {"meta-llama/Llama-3.1-8B", "meta-llama_llama-3.1-8b"},
  };
  for (const auto& c : cases) {
    auto r = sanitize_label_value(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  EXPECT_FALSE(sanitize_label_value("///").ok());
  auto long_value = sanitize_label_value(std::string(62, 'a') + "._b");
  ASSERT_TRUE(long_value.ok());
  EXPECT_EQ(*long_value, std::string(62, 'a'));
}

TEST(NormalizeGpuModel, Table) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"MI300X", "MI300X"},
      {"mi300x", "MI300X"},
      {"Instinct-MI325X", "MI325X"},
      {"AMD Instinct MI210", "MI210"},
      {"MI300X (rev 2)", "MI300X"},
      {"amd_mi250x", "MI250X"},
      {"A100", "A100"},
      {"gpu", "GPU"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_gpu_model(c.in), c.want) << c.in;
}

TEST(CacheNames, SharedAndDedicatedDiffer) {
  std::string shared = shared_template_cache_name("tpl", "ns");
  std::string dedicated = dedicated_template_cache_name("tpl", "svc", "uid-1");
  EXPECT_EQ(shared.rfind("tpl-", 0), 0u);
  EXPECT_EQ(dedicated.rfind("tpl-svc-", 0), 0u);
  EXPECT_NE(dedicated, dedicated_template_cache_name("tpl", "svc", "uid-2"));
  EXPECT_EQ(service_pvc_name("svc", "u").rfind("svc-model-cache-", 0), 0u);
}

}  // namespace
}  // namespace aim::engine::service_names
