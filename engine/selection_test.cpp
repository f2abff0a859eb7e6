#include "engine/selection.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

TemplateCandidate tpl(std::string name, std::string gpu, std::string metric, std::string precision,
                      std::string type = "optimized",
                      TemplateScope scope = TemplateScope::Namespace,
                      std::string status = "Ready") {
  TemplateCandidate c;
  c.name = std::move(name);
  c.scope = scope;
  c.status = std::move(status);
  c.has_profile = true;
  c.profile_type = std::move(type);
  c.profile_metric = std::move(metric);
  c.profile_precision = std::move(precision);
  c.profile_gpu = std::move(gpu);
  c.profile_gpu_count = 1;
  return c;
}

SelectionInput input(std::vector<TemplateCandidate> cands,
                     std::set<std::string> gpus = {"MI300X", "MI325X", "MI250X", "MI210", "A100",
                                                   "H100", "MI355X"}) {
  SelectionInput in;
  in.model_name = "llama";
  in.cluster_gpus = std::move(gpus);
  in.candidates = std::move(cands);
  return in;
}

const CandidateVerdict* verdict(const TemplateSelection& s, const std::string& name) {
  for (const auto& v : s.verdicts) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

TEST(SelectionRanks, SeedOrders) {
  // GPU tier: MI325X > MI300X > MI250X > MI210 > A100 > H100 > others.
  std::vector<std::string> gpus = {"MI325X", "MI300X", "MI250X", "MI210", "A100", "H100", "MI355X"};
  for (std::size_t i = 0; i + 1 < gpus.size(); ++i) {
    EXPECT_LT(gpu_tier_rank(gpus[i]), gpu_tier_rank(gpus[i + 1])) << gpus[i];
  }
  // Precision: fp4 > fp8 > fp16 > fp32 > bf16 > int4 > int8 > others.
  std::vector<std::string> precs = {"fp4", "fp8", "fp16", "fp32", "bf16", "int4", "int8", "auto"};
  for (std::size_t i = 0; i + 1 < precs.size(); ++i) {
    EXPECT_LT(precision_rank(precs[i]), precision_rank(precs[i + 1])) << precs[i];
  }
  EXPECT_LT(metric_rank("latency"), metric_rank("throughput"));
  EXPECT_LT(metric_rank("Throughput"), metric_rank(""));
  EXPECT_LT(profile_type_rank("optimized"), profile_type_rank("preview"));
  EXPECT_LT(profile_type_rank("preview"), profile_type_rank("unoptimized"));
  EXPECT_EQ(gpu_tier_rank("instinct-mi325x"), gpu_tier_rank("MI325X"));
}

struct PickCase {
  std::string label;
  std::vector<TemplateCandidate> cands;
  bool allow_unoptimized;
  std::string want;
};

TEST(SelectTemplate, PicksByPreference) {
  std::vector<PickCase> cases = {
      {"gpu tier beats metric",
       {tpl("a", "MI300X", "latency", "fp8"), tpl("b", "MI325X", "throughput", "fp16")},
       false,
       "b"},
      {"metric after gpu",
       {tpl("a", "MI300X", "throughput", "fp4"), tpl("b", "MI300X", "latency", "int8")},
       false,
       "b"},
      {"precision seed order fp32 over bf16",
       {tpl("a", "MI300X", "latency", "bf16"), tpl("b", "MI300X", "latency", "fp32")},
       false,
       "b"},
      {"precision seed order int4 over int8",
       {tpl("a", "MI300X", "latency", "int8"), tpl("b", "MI300X", "latency", "int4")},
       false,
       "b"},
      {"A100 above H100 above others",
       {tpl("h", "H100", "latency", "fp8"), tpl("a", "A100", "latency", "fp8"),
        tpl("x", "MI355X", "latency", "fp8")},
       false,
       "a"},
      {"profile type first when unoptimized allowed",
       {tpl("u", "MI325X", "latency", "fp4", "unoptimized"),
        tpl("p", "MI325X", "latency", "fp4", "preview"), tpl("o", "MI210", "throughput", "int8")},
       true,
       "o"},
      {"preview over unoptimized",
       {tpl("u", "MI325X", "latency", "fp4", "unoptimized"),
        tpl("p", "MI210", "latency", "fp4", "preview")},
       true,
       "p"},
  };
  for (const auto& c : cases) {
    auto in = input(c.cands);
    in.allow_unoptimized = c.allow_unoptimized;
    auto s = select_template(in);
    ASSERT_EQ(s.outcome, SelectionOutcome::Selected) << c.label << ": " << s.message;
    EXPECT_EQ(s.chosen.value_or(""), c.want) << c.label;
    ASSERT_FALSE(s.verdicts.empty());
    EXPECT_TRUE(s.verdicts.front().chosen) << c.label;
  }
}

TEST(SelectTemplate, Stage1OnlyReady) {
  auto s = select_template(
      input({tpl("a", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace, "Pending"),
             tpl("b", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace,
                 "NotAvailable")}));
  EXPECT_EQ(s.outcome, SelectionOutcome::NoneReady);
  EXPECT_EQ(s.reason, "TemplateNotReady");
  EXPECT_EQ(verdict(s, "a")->stage, 1);
  EXPECT_EQ(verdict(s, "b")->reason, "stage 1: status NotAvailable, not Ready");
}

// A template on its way to Ready (no status yet, Pending, Progressing) is rejected with one
// reason, so its progress through discovery leaves the services' selection status unchanged;
// a state it stopped in (Failed, NotAvailable, Degraded) is named.
TEST(SelectTemplate, Stage1GivesOneReasonForEveryStepTowardsReady) {
  std::string first;
  for (const char* st : {"", "Pending", "Progressing"}) {
    auto s = select_template(
        input({tpl("a", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace, st)}));
    const std::string reason = verdict(s, "a")->reason;
    EXPECT_EQ(reason, "stage 1: not Ready yet (Pending or Progressing)") << st;
    EXPECT_EQ(
        selection_to_json(s),
        selection_to_json(select_template(input({tpl("a", "MI300X", "latency", "fp8", "optimized",
                                                     TemplateScope::Namespace, "Pending")}))))
        << st;
  }
  auto failed = select_template(input(
      {tpl("a", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace, "Failed")}));
  EXPECT_EQ(verdict(failed, "a")->reason, "stage 1: status Failed, not Ready");
}

TEST(SelectTemplate, Stage2OptimizedOnlyByDefault) {
  TemplateCandidate no_profile = tpl("np", "MI300X", "", "");
  no_profile.has_profile = false;
  auto s = select_template(input({tpl("u", "MI325X", "latency", "fp8", "unoptimized"),
                                  tpl("p", "MI325X", "latency", "fp8", "preview"), no_profile,
                                  tpl("o", "MI210", "latency", "fp8")}));
  ASSERT_EQ(s.outcome, SelectionOutcome::Selected);
  EXPECT_EQ(*s.chosen, "o");
  EXPECT_EQ(verdict(s, "u")->stage, 2);
  EXPECT_EQ(verdict(s, "p")->stage, 2);
  EXPECT_EQ(verdict(s, "np")->stage, 2);  // a missing profile counts as unoptimized
  EXPECT_NE(verdict(s, "p")->reason.find("preview"), std::string::npos);
}

TEST(SelectTemplate, Stage3Overrides) {
  auto a = tpl("a", "MI300X", "latency", "fp8");
  a.spec_gpu_count = 4;
  auto b = tpl("b", "MI300X", "throughput", "fp8");
  auto c = tpl("c", "MI325X", "latency", "fp8");
  auto d = tpl("d", "MI300X", "latency", "fp16");
  auto e = tpl("e", "mi300x", "Latency", "FP8");
  e.spec_gpu_count = 8;
  auto in = input({a, b, c, d, e});
  in.overrides = SelectionOverrides{"latency", "fp8", "Instinct-MI300X", 4};
  auto s = select_template(in);
  ASSERT_EQ(s.outcome, SelectionOutcome::Selected) << s.message;
  EXPECT_EQ(*s.chosen, "a");
  EXPECT_EQ(verdict(s, "b")->reason, "stage 3: metric throughput does not match override latency");
  EXPECT_EQ(verdict(s, "c")->reason, "stage 3: GPU MI325X does not match override Instinct-MI300X");
  EXPECT_EQ(verdict(s, "d")->reason, "stage 3: precision fp16 does not match override fp8");
  EXPECT_EQ(verdict(s, "e")->reason, "stage 3: 8 GPUs do not match override 4");
}

TEST(SelectTemplate, Stage3CandidateWithoutGpuPassesGpuOverride) {
  auto cpu = tpl("cpu", "", "latency", "fp8");
  cpu.profile_gpu_count = 0;
  auto in = input({cpu});
  in.overrides = SelectionOverrides{"", "", "MI300X", 2};
  auto s = select_template(in);
  EXPECT_EQ(s.outcome, SelectionOutcome::Selected);
}

TEST(SelectTemplate, Stage4GpuMustBeInCluster) {
  auto s = select_template(
      input({tpl("big", "MI355X", "latency", "fp4"), tpl("small", "MI210", "throughput", "int8")},
            {"mi210"}));
  ASSERT_EQ(s.outcome, SelectionOutcome::Selected);
  EXPECT_EQ(*s.chosen, "small");
  EXPECT_EQ(verdict(s, "big")->reason, "stage 4: GPU MI355X not present in cluster");
}

TEST(SelectTemplate, Stage5NamespaceOverCluster) {
  auto s = select_template(
      input({tpl("cl", "MI325X", "latency", "fp4", "optimized", TemplateScope::Cluster),
             tpl("ns", "MI210", "throughput", "int8", "optimized", TemplateScope::Namespace)}));
  ASSERT_EQ(s.outcome, SelectionOutcome::Selected);
  EXPECT_EQ(*s.chosen, "ns");
  EXPECT_EQ(s.chosen_scope, TemplateScope::Namespace);
  EXPECT_EQ(verdict(s, "cl")->stage, 5);
}

TEST(SelectTemplate, Stage5ClusterWhenNoNamespaceSurvives) {
  auto s = select_template(
      input({tpl("cl", "MI325X", "latency", "fp4", "optimized", TemplateScope::Cluster),
             tpl("ns", "MI355X", "latency", "fp4", "optimized", TemplateScope::Namespace)},
            {"MI325X"}));
  ASSERT_EQ(s.outcome, SelectionOutcome::Selected);
  EXPECT_EQ(*s.chosen, "cl");
  EXPECT_EQ(s.chosen_scope, TemplateScope::Cluster);
}

TEST(SelectTemplate, TieIsAmbiguousAndNamesTheTied) {
  auto s = select_template(
      input({tpl("zeta", "MI300X", "latency", "fp8"), tpl("alpha", "MI300X", "latency", "fp8"),
             tpl("loser", "MI210", "latency", "fp8")}));
  EXPECT_EQ(s.outcome, SelectionOutcome::Ambiguous);
  EXPECT_FALSE(s.chosen.has_value());
  EXPECT_EQ(s.reason, "TemplateSelectionAmbiguous");
  EXPECT_EQ(s.tied, (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_NE(s.message.find("alpha, zeta"), std::string::npos);
  EXPECT_EQ(verdict(s, "alpha")->reason, "stage 6: tied at the best score with zeta");
  EXPECT_NE(verdict(s, "loser")->reason.find("GPU tier MI210 vs MI300X"), std::string::npos);
  // Tied candidates are listed before other stage-6 losers.
  EXPECT_EQ(s.verdicts[0].name, "alpha");
  EXPECT_EQ(s.verdicts[1].name, "zeta");
  EXPECT_EQ(s.verdicts[2].name, "loser");
}

TEST(SelectTemplate, NoCandidatesAndNoMatch) {
  auto none = select_template(input({}));
  EXPECT_EQ(none.outcome, SelectionOutcome::NoCandidates);
  EXPECT_EQ(none.reason, "TemplateNotFound");

  auto nomatch = select_template(input({tpl("a", "MI355X", "latency", "fp8")}, {}));
  EXPECT_EQ(nomatch.outcome, SelectionOutcome::NoMatch);
  EXPECT_EQ(nomatch.reason, "TemplateNotFound");
  EXPECT_NE(nomatch.message.find("1 GPU not in cluster"), std::string::npos);
}

TEST(SelectTemplate, SpecValuesAndFallbacks) {
  TemplateCandidate c = tpl("a", "MI210", "", "");
  c.spec_gpu_model = "MI325X";  // spec GPU wins over the profile's
  c.spec_metric = "latency";    // used when the profile has none
  c.spec_precision = "fp8";
  EXPECT_EQ(effective_gpu_model(c), "MI325X");
  EXPECT_EQ(effective_metric(c), "latency");
  c.profile_metric = "throughput";  // the profile's metric wins over the spec's
  EXPECT_EQ(effective_metric(c), "throughput");
}

TEST(SelectTemplate, DeterministicOrderIndependentOfInputOrder) {
  std::vector<TemplateCandidate> cands = {
      tpl("c", "MI300X", "latency", "fp8", "optimized", TemplateScope::Cluster),
      tpl("b", "MI300X", "latency", "fp8", "preview"),
      tpl("a", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace, "Failed"),
      tpl("d", "MI325X", "latency", "fp8"),
      tpl("e", "MI300X", "latency", "fp8"),
  };
  auto s1 = select_template(input(cands));
  std::reverse(cands.begin(), cands.end());
  auto s2 = select_template(input(cands));
  EXPECT_EQ(selection_to_json(s1), selection_to_json(s2));
  std::vector<std::string> order;
  for (const auto& v : s1.verdicts) order.push_back(v.name);
  EXPECT_EQ(order, (std::vector<std::string>{"d", "e", "c", "b", "a"}));
}

TEST(SelectionJson, ShapeAndCap) {
  std::vector<TemplateCandidate> cands;
  for (int i = 0; i < 25; ++i) {
    cands.push_back(tpl("t" + std::to_string(100 + i), "MI210", "throughput", "int8"));
  }
  cands.push_back(tpl("best", "MI325X", "latency", "fp4"));
  auto s = select_template(input(cands));
  auto j = selection_to_json(s, 20);
  EXPECT_EQ(j["outcome"], "Selected");
  EXPECT_EQ(j["chosen"], "best");
  EXPECT_EQ(j["chosenScope"], "Namespace");
  ASSERT_EQ(j["candidates"].size(), 20u);
  EXPECT_EQ(j["omittedCandidates"], 6);
  EXPECT_EQ(j["candidates"][0],
            (nlohmann::json{{"name", "best"}, {"scope", "Namespace"}, {"status", "chosen"}}));
  EXPECT_EQ(j["candidates"][1]["status"], "rejected");
  EXPECT_EQ(j["candidates"][1]["stage"], 6);
  EXPECT_EQ(j["summary"],
            "selected best (Namespace) from 26 candidates; rejected: 25 lower preference");
}

TEST(SelectionJson, ReasonsAreBounded) {
  std::string long_name(63, 'x');
  auto s = select_template(input({tpl(long_name + "1", "MI300X", "latency", "fp8"),
                                  tpl(long_name + "2", "MI300X", "latency", "fp8"),
                                  tpl(long_name + "3", "MI300X", "latency", "fp8")}));
  ASSERT_EQ(s.outcome, SelectionOutcome::Ambiguous);
  for (const auto& v : s.verdicts) {
    EXPECT_LE(v.reason.size(), 120u);
    EXPECT_EQ(v.reason.substr(v.reason.size() - 3), "...");
  }
}

TEST(SelectionSummary, Outcomes) {
  EXPECT_EQ(selection_summary(select_template(input({}))), "no templates for this model");
  auto amb = select_template(
      input({tpl("a", "MI300X", "latency", "fp8"), tpl("b", "MI300X", "latency", "fp8")}));
  EXPECT_EQ(selection_summary(amb),
            "ambiguous: 2 templates tie at the best score (a, b) from 2 candidates");
  auto nomatch = select_template(
      input({tpl("a", "MI300X", "latency", "fp8", "optimized", TemplateScope::Namespace, "Pending"),
             tpl("b", "MI355X", "latency", "fp8")},
            {"MI300X"}));
  EXPECT_EQ(selection_summary(nomatch),
            "no template selected from 2 candidates; rejected: 1 not Ready, 1 GPU not in cluster");
}

}  // namespace
}  // namespace aim::engine
