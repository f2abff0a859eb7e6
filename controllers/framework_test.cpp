#include "controllers/framework.h"

#include <gtest/gtest.h>

#include "api/template_cache.h"
#include "controllers/typed.h"
#include "kube/testing/fake_client.h"

namespace aim::controllers {
namespace {

using kube::WatchEvent;

Json model(const std::string& name) {
  return {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
          {"kind", "AIMModel"},
          {"metadata",
           {{"name", name},
            {"namespace", "ns1"},
            {"uid", "uid-" + name},
            {"labels", {{"aim.eai.amd.com/team", "a"}, {"team", "b"}, {"other", "c"}}}}},
          {"spec", {{"image", "example.com/m:1"}}}};
}

TEST(Framework, PausedOnlyForExactlyTrue) {
  Json m = model("m");
  EXPECT_FALSE(is_paused(m));
  m["metadata"]["annotations"]["aim.eai.amd.com/reconciliation-paused"] = "True";
  EXPECT_FALSE(is_paused(m));
  m["metadata"]["annotations"]["aim.eai.amd.com/reconciliation-paused"] = "true";
  EXPECT_TRUE(is_paused(m));
}

TEST(Framework, JsonSubsetComparesDesiredFieldsOnly) {
  Json live = {{"a", 1}, {"b", {{"c", "x"}, {"d", {1, 2}}}}, {"server", "set"}};
  EXPECT_TRUE(json_subset({{"a", 1}}, live));
  EXPECT_TRUE(json_subset({{"a", 1.0}}, live));  // 1 and 1.0 are the same JSON number
  EXPECT_TRUE(json_subset({{"b", {{"d", {1, 2}}}}}, live));
  EXPECT_TRUE(json_subset({{"e", Json::array()}}, live));  // empty equals absent
  EXPECT_FALSE(json_subset({{"a", 2}}, live));
  EXPECT_FALSE(json_subset({{"b", {{"d", {1}}}}}, live));     // list length matters
  EXPECT_FALSE(json_subset({{"b", {{"d", {2, 1}}}}}, live));  // and order
  EXPECT_FALSE(json_subset({{"f", "new"}}, live));
}

TEST(Framework, LabelChildCopiesAimLabelsAndPropagationMatches) {
  Json parent = model("llama");
  Json job = {{"kind", "Job"}, {"metadata", {{"labels", {{"team", "mine"}}}}}};
  Json rc = {{"labelPropagation", {{"enabled", true}, {"match", {"te*", "[invalid"}}}}};
  label_child(job, parent, "model", rc);
  const Json& l = job["metadata"]["labels"];
  EXPECT_EQ(l["aim.eai.amd.com/team"], "a");
  EXPECT_EQ(l["team"], "mine");  // present keys are never overwritten
  EXPECT_FALSE(l.contains("other"));
  EXPECT_EQ(l["app.kubernetes.io/managed-by"], "aim-model-controller");
  EXPECT_EQ(l["aim.eai.amd.com/model.name"], "llama");
  EXPECT_EQ(l["aim.eai.amd.com/managed-by"], "aim-engine");  // what the child caches select
  const Json& pod = job["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(pod["aim.eai.amd.com/model.name"], "llama");
  EXPECT_EQ(pod["team"], "b");
  EXPECT_FALSE(pod.contains("app.kubernetes.io/managed-by"));

  Json cm = {{"kind", "ConfigMap"}};
  label_child(cm, parent, "model");  // no runtime config: only aim labels propagate
  EXPECT_FALSE(cm["metadata"]["labels"].contains("team"));
  EXPECT_FALSE(cm.contains("spec"));
}

TEST(Framework, ControllerOwnerReplacesPreviousController) {
  Json child = {
      {"metadata",
       {{"ownerReferences",
         {{{"uid", "old"}, {"controller", true}}, {{"uid", "keep"}, {"controller", false}}}}}}};
  set_controller_owner(child, model("m"));
  ASSERT_EQ(child["metadata"]["ownerReferences"].size(), 2u);
  EXPECT_TRUE(is_controlled_by(child, model("m")));
  EXPECT_FALSE(is_controlled_by(child, model("n")));
}

class FrameworkClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx.client = fake;
    ctx.clock = [] { return int64_t{1767225600}; };  // 2026-01-01T00:00:00Z
  }
  std::shared_ptr<kube::testing::FakeClient> fake = std::make_shared<kube::testing::FakeClient>();
  Context ctx;
};

TEST_F(FrameworkClient, ApplyChildCreatesThenSkipsUnchangedThenApplies) {
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "c"}, {"namespace", "ns1"}, {"labels", {{"x", "1"}}}}},
             {"data", {{"k", "v"}}}};
  auto first = apply_child(ctx, kube::types::config_maps(), cm, nullptr, "aim-test");
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->first, ApplyOutcome::kCreated);
  Json live = first->second;

  fake->clear_actions();
  auto second = apply_child(ctx, kube::types::config_maps(), cm, &live, "aim-test");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->first, ApplyOutcome::kUnchanged);
  EXPECT_TRUE(fake->actions().empty()) << "an unchanged child must cost no request";

  cm["data"]["k"] = "w";
  auto third = apply_child(ctx, kube::types::config_maps(), cm, &live, "aim-test");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->first, ApplyOutcome::kUpdated);
  EXPECT_EQ(third->second["data"]["k"], "w");
  EXPECT_EQ(fake->actions("apply").size(), 1u);
  EXPECT_EQ(first->second["metadata"]["labels"]["aim.eai.amd.com/managed-by"], "aim-engine");

  // A child an older operator made without the managed label is not "unchanged": the apply
  // labels it, so the label-selected cache sees it again.
  Json old = live;
  old["metadata"]["labels"].erase("aim.eai.amd.com/managed-by");
  old["data"]["k"] = "w";
  fake->clear_actions();
  auto fourth = apply_child(ctx, kube::types::config_maps(), cm, &old, "aim-test");
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->first, ApplyOutcome::kUpdated);
  EXPECT_EQ(fourth->second["metadata"]["labels"]["aim.eai.amd.com/managed-by"], "aim-engine");
}

// Issue 25: a field the operator stops setting leaves the child. The subset comparison alone
// cannot see a removed label (the live object still has it), so the child records a hash of what
// was applied; a different hash is one apply, which the API server's field ownership turns into
// the removal (test/integration: ServiceIT.ALabelRemovedFromAServiceLeavesItsInferenceService).
TEST_F(FrameworkClient, ApplyChildReappliesWhenAFieldIsNoLongerSet) {
  Json cm = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", "c"}, {"namespace", "ns1"}, {"labels", {{"team", "a"}, {"x", "1"}}}}},
      {"data", {{"k", "v"}}}};
  auto first = apply_child(ctx, kube::types::config_maps(), cm, nullptr, "aim-test");
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(fake->actions("apply").size(), 1u) << "created by apply, so apply owns its fields";
  EXPECT_TRUE(fake->actions("create").empty());
  const Json live = first->second;
  const std::string hash = annotation_of(live, "aim.eai.amd.com/applied-hash");
  EXPECT_EQ(hash.size(), 16u);

  cm["metadata"]["labels"].erase("team");
  fake->clear_actions();
  auto second = apply_child(ctx, kube::types::config_maps(), cm, &live, "aim-test");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->first, ApplyOutcome::kUpdated) << "a label no longer set is a change";
  ASSERT_EQ(fake->actions("apply").size(), 1u);
  EXPECT_NE(annotation_of(second->second, "aim.eai.amd.com/applied-hash"), hash);

  // The same desired object against a live one with its hash: nothing to do.
  fake->clear_actions();
  auto third = apply_child(ctx, kube::types::config_maps(), cm, &second->second, "aim-test");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->first, ApplyOutcome::kUnchanged);
  EXPECT_TRUE(fake->actions().empty());

  // A child applied before the hash existed is applied once more, then left alone.
  Json unhashed = second->second;
  unhashed["metadata"]["annotations"].erase("aim.eai.amd.com/applied-hash");
  auto fourth = apply_child(ctx, kube::types::config_maps(), cm, &unhashed, "aim-test");
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->first, ApplyOutcome::kUpdated);
}

TEST_F(FrameworkClient, CreateChildLabelsItsOwnUnlabelledChildAndNothingElse) {
  auto child = [](const std::string& name, const std::string& owner_uid) {
    return Json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata",
                 {{"name", name},
                  {"namespace", "ns1"},
                  {"ownerReferences", {{{"uid", owner_uid}, {"controller", true}}}}}}};
  };
  auto created = create_child(ctx, kube::types::config_maps(), child("new", "uid-m"));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_TRUE(created.value());
  auto got = fake->get(kube::types::config_maps(), "ns1", "new");
  EXPECT_EQ((*got)["metadata"]["labels"]["aim.eai.amd.com/managed-by"], "aim-engine");

  // Made before children were labelled: same owner, so it is adopted.
  ASSERT_TRUE(fake->create(kube::types::config_maps(), child("old", "uid-m")).ok());
  auto again = create_child(ctx, kube::types::config_maps(), child("old", "uid-m"));
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_FALSE(again.value());
  got = fake->get(kube::types::config_maps(), "ns1", "old");
  EXPECT_EQ((*got)["metadata"]["labels"]["aim.eai.amd.com/managed-by"], "aim-engine");

  // Someone else's object of the same name is not touched.
  ASSERT_TRUE(fake->create(kube::types::config_maps(), child("theirs", "uid-other")).ok());
  auto theirs = create_child(ctx, kube::types::config_maps(), child("theirs", "uid-m"));
  ASSERT_TRUE(theirs.ok());
  EXPECT_FALSE(theirs.value());
  got = fake->get(kube::types::config_maps(), "ns1", "theirs");
  EXPECT_FALSE((*got)["metadata"].contains("labels"));
}

TEST(Framework, CachedNodesKeepOnlyWhatTheControllersRead) {
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata",
                {{"name", "n1"},
                 {"uid", "u1"},
                 {"resourceVersion", "7"},
                 {"labels", {{"amd.com/gpu.device-id", "74a1"}}},
                 {"annotations", {{"big", std::string(2000, 'x')}}}}},
               {"spec", {{"podCIDR", "10.0.0.0/24"}}},
               {"status",
                {{"allocatable", {{"amd.com/gpu", "8"}}},
                 {"capacity", {{"amd.com/gpu", "8"}}},
                 {"images", Json::array({{{"names", {"a"}}}})},
                 {"conditions", Json::array()}}}};
  node_for_cache(node);
  EXPECT_EQ(node, (Json{{"apiVersion", "v1"},
                        {"kind", "Node"},
                        {"metadata",
                         {{"name", "n1"},
                          {"uid", "u1"},
                          {"resourceVersion", "7"},
                          {"labels", {{"amd.com/gpu.device-id", "74a1"}}}}},
                        {"status", {{"allocatable", {{"amd.com/gpu", "8"}}}}}}));
}

TEST_F(FrameworkClient, OnlyEventsAboutInferenceServicesAreCachedAndTrimmed) {
  auto event = [](const std::string& name, const std::string& kind) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", "ns1"}, {"uid", name + "-uid"}}},
                {"involvedObject", {{"kind", kind}, {"name", "s"}, {"namespace", "ns1"}}},
                {"reason", "InternalError"},
                {"message", "fails"},
                {"type", "Warning"},
                {"source", {{"component", "kserve"}}},
                {"count", 3}};
  };
  const Json e1 = fake->inject(types::core_events(), kube::WatchEvent::Type::kAdded,
                               event("e1", "InferenceService"));
  fake->inject(types::core_events(), kube::WatchEvent::Type::kAdded, event("e2", "AIMService"));
  fake->inject(types::core_events(), kube::WatchEvent::Type::kAdded, event("e3", "Pod"));
  kube::InformerFactory informers(fake);
  configure_caches(informers);
  auto informer = informers.informer(types::core_events());
  informers.start();
  ASSERT_TRUE(informer->wait_for_sync(std::chrono::seconds(10)));
  EXPECT_EQ(informer->store().size(), 1u);
  auto cached = informer->store().get("ns1", "e1");
  ASSERT_TRUE(cached);
  Json expected = event("e1", "InferenceService");
  expected.erase("source");
  expected.erase("count");
  expected["metadata"]["uid"] = e1["metadata"]["uid"];
  expected["metadata"]["resourceVersion"] = e1["metadata"]["resourceVersion"];
  EXPECT_EQ(*cached, expected);
  informers.stop();
}

TEST(Typed, AnObjectVersionIsDecodedOncePerThread) {
  Json cache = {{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                {"kind", "AIMTemplateCache"},
                {"metadata", {{"name", "c"}, {"namespace", "ns1"}, {"uid", "u1"}}},
                {"spec", {{"templateName", "t1"}}}};
  // No resourceVersion: every call decodes.
  auto a = decoded_once<api::AIMTemplateCache>(cache);
  ASSERT_TRUE(a);
  EXPECT_NE(a, decoded_once<api::AIMTemplateCache>(cache));
  cache["metadata"]["resourceVersion"] = "7";
  auto b = decoded_once<api::AIMTemplateCache>(cache);
  EXPECT_EQ(b, decoded_once<api::AIMTemplateCache>(cache)) << "one version, one decode";
  EXPECT_EQ(b->spec.template_name, "t1");
  // A new version of the object (same address) is decoded again.
  cache["spec"]["templateName"] = "t2";
  cache["metadata"]["resourceVersion"] = "8";
  auto c = decoded_once<api::AIMTemplateCache>(cache);
  EXPECT_EQ(c->spec.template_name, "t2");
  // Another object of the same version string is another object.
  Json other = cache;
  other["metadata"]["uid"] = "u2";
  EXPECT_NE(decoded_once<api::AIMTemplateCache>(other), c);
  // What does not read as the kind is nullptr (and indexes nothing).
  Json bad = cache;
  bad["spec"] = "not an object";
  EXPECT_FALSE(decoded_once<api::AIMTemplateCache>(bad));
}

TEST_F(FrameworkClient, WriteStatusOnlyWhenChanged) {
  auto type = types::aim_models();
  Json stored = fake->inject(type, WatchEvent::Type::kAdded, model("m"));
  Json status = {{"status", "Ready"}};
  auto w1 = write_status(ctx, type, stored, status);
  ASSERT_TRUE(w1.ok());
  EXPECT_TRUE(*w1);
  Json now = fake->objects(type, "ns1").at(0);
  EXPECT_EQ(now["status"], status);

  fake->clear_actions();
  auto w2 = write_status(ctx, type, now, status);
  ASSERT_TRUE(w2.ok());
  EXPECT_FALSE(*w2);
  EXPECT_TRUE(fake->actions().empty());

  // A stale object: the conflict is swallowed (the watch brings the newer object back).
  auto w3 = write_status(ctx, type, stored, Json{{"status", "Failed"}});
  ASSERT_TRUE(w3.ok());
  EXPECT_FALSE(*w3);
}

TEST_F(FrameworkClient, SetConditionsKeepsTimestampsAndDropsStale) {
  Json obj = model("m");
  obj["metadata"]["generation"] = 3;
  obj["status"]["conditions"] = {{{"type", "Ready"},
                                  {"status", "False"},
                                  {"reason", "Progressing"},
                                  {"lastTransitionTime", "2025-01-01T00:00:00Z"}},
                                 {{"type", "Stale"}, {"status", "True"}, {"reason", "X"}}};
  Json status = Json::object();
  engine::Condition ready{"Ready", "False", "Progressing", "new message", "", std::nullopt};
  set_conditions(status, obj, {ready}, ctx.now_rfc3339());
  ASSERT_EQ(status["conditions"].size(), 1u);
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "2025-01-01T00:00:00Z");
  EXPECT_EQ(status["conditions"][0]["observedGeneration"], 3);

  ready.status = "True";
  ready.reason = "AllComponentsReady";
  set_conditions(status, obj, {ready}, ctx.now_rfc3339());
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
}

TEST_F(FrameworkClient, FinalizersAddAndRemove) {
  auto type = types::aim_models();
  Json stored = fake->inject(type, WatchEvent::Type::kAdded, model("m"));
  auto added = add_finalizer(ctx, type, stored, "aim.eai.amd.com/x");
  ASSERT_TRUE(added.ok()) << added.error().describe();
  EXPECT_TRUE(has_finalizer(*added, "aim.eai.amd.com/x"));
  // Adding again is a no-op without a request.
  fake->clear_actions();
  ASSERT_TRUE(add_finalizer(ctx, type, *added, "aim.eai.amd.com/x").ok());
  EXPECT_TRUE(fake->actions().empty());
  auto removed = remove_finalizer(ctx, type, *added, "aim.eai.amd.com/x");
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(has_finalizer(*removed, "aim.eai.amd.com/x"));
  // A stale copy conflicts.
  auto stale = add_finalizer(ctx, type, stored, "aim.eai.amd.com/y");
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().is(kube::ErrorCode::kConflict));
}

TEST_F(FrameworkClient, NamespaceTerminating) {
  fake->inject(kube::types::namespaces(), WatchEvent::Type::kAdded,
               {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "live"}}}});
  fake->inject(kube::types::namespaces(), WatchEvent::Type::kAdded,
               {{"apiVersion", "v1"},
                {"kind", "Namespace"},
                {"metadata", {{"name", "dying"}, {"deletionTimestamp", "2026-01-01T00:00:00Z"}}}});
  EXPECT_FALSE(*namespace_terminating(ctx, "live"));
  EXPECT_TRUE(*namespace_terminating(ctx, "dying"));
  EXPECT_TRUE(*namespace_terminating(ctx, "gone"));
}

TEST(Framework, HealthFromErrorByDependency) {
  kube::Error nf;
  nf.code = kube::ErrorCode::kNotFound;
  auto up = health_from_error("Model", nf, engine::Dependency::Upstream);
  EXPECT_EQ(up.error, engine::ErrorCategory::kMissingUpstream);
  EXPECT_EQ(up.reason, "ReferenceNotFound");
  auto down = health_from_error("Job", nf, engine::Dependency::Downstream);
  EXPECT_EQ(down.error, engine::ErrorCategory::kMissingDownstream);
  kube::Error forbidden;
  forbidden.code = kube::ErrorCode::kForbidden;
  EXPECT_EQ(health_from_error("X", forbidden, engine::Dependency::Upstream).state,
            engine::ComponentState::Failed);
  kube::Error timeout;
  timeout.code = kube::ErrorCode::kTimeout;
  EXPECT_EQ(classify(timeout).reason, "Timeout");
  EXPECT_EQ(classify(timeout).category, engine::ErrorCategory::kInfrastructure);
}

}  // namespace
}  // namespace aim::controllers
