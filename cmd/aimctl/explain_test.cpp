#include "cmd/aimctl/explain.h"

#include <gtest/gtest.h>

namespace aim::aimctl {
namespace {

using Json = nlohmann::json;

Json service_with_selection() {
  return Json::parse(R"json({
    "metadata": {"name": "chat", "namespace": "team-a"},
    "spec": {"model": {"name": "llama"}},
    "status": {
      "status": "Starting",
      "resolvedModel": {"name": "llama", "kind": "AIMClusterModel"},
      "resolvedTemplate": {"name": "llama-mi300x-fp8", "kind": "AIMClusterServiceTemplate"},
      "templateSelection": {
        "outcome": "Selected", "chosen": "llama-mi300x-fp8", "chosenScope": "Cluster",
        "summary": "selected llama-mi300x-fp8 (Cluster) from 3 candidates",
        "candidates": [
          {"name": "llama-mi300x-fp8", "scope": "Cluster", "status": "chosen"},
          {"name": "llama-mi355x-fp4", "scope": "Cluster", "status": "rejected", "stage": 4,
           "reason": "stage 4: GPU MI355X not present in cluster"},
          {"name": "llama-mi300x-fp16", "scope": "Cluster", "status": "rejected", "stage": 6,
           "reason": "lower preference (precision fp16)"}],
        "omittedCandidates": 2},
      "conditions": [
        {"type": "Ready", "status": "False", "reason": "Progressing", "message": "Waiting"},
        {"type": "ModelReady", "status": "True", "reason": "ModelResolved", "message": "ok"}]}})json");
}

TEST(AimctlExplain, ListsEveryCandidateWithStageAndReason) {
  std::string out = render_explanation(service_with_selection());
  EXPECT_NE(out.find("AIMService team-a/chat: Starting"), std::string::npos) << out;
  EXPECT_NE(out.find("template: llama-mi300x-fp8 (AIMClusterServiceTemplate)"), std::string::npos);
  EXPECT_NE(out.find("Selection: Selected"), std::string::npos);
  // The engine's reason already names the stage; it is not repeated.
  EXPECT_NE(out.find("stage 4: GPU MI355X not present in cluster"), std::string::npos);
  EXPECT_EQ(out.find("stage 4: stage 4"), std::string::npos);
  EXPECT_NE(out.find("stage 6: lower preference (precision fp16)"), std::string::npos);
  EXPECT_NE(out.find("... and 2 more"), std::string::npos);
  // Columns never run together, however long the name.
  EXPECT_NE(out.find("llama-mi300x-fp16  "), std::string::npos);
  // Only conditions that are not True are listed.
  EXPECT_NE(out.find("Ready"), std::string::npos);
  EXPECT_EQ(out.find("ModelResolved"), std::string::npos);
}

TEST(AimctlExplain, ExplicitTemplateAndMissingStatus) {
  Json long_name = service_with_selection();
  std::string name63(63, 'x');
  long_name["status"]["templateSelection"]["candidates"][0]["name"] = name63;
  EXPECT_NE(render_explanation(long_name).find(name63 + "  Cluster"), std::string::npos);

  Json svc = {{"metadata", {{"name", "s"}, {"namespace", "n"}}},
              {"spec", {{"template", {{"name", "pinned"}}}}}};
  std::string out = render_explanation(svc);
  EXPECT_NE(out.find("no status yet"), std::string::npos) << out;
  EXPECT_NE(out.find("spec.template.name: pinned"), std::string::npos);

  svc["spec"].erase("template");
  out = render_explanation(svc);
  EXPECT_NE(out.find("No selection recorded yet"), std::string::npos) << out;
}

}  // namespace
}  // namespace aim::aimctl
