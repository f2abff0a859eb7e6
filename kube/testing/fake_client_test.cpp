#include "kube/testing/fake_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace aim::kube::testing {
namespace {

Json cm(const std::string& name, Json labels = Json::object()) {
  return {{"metadata", {{"namespace", "ns"}, {"name", name}, {"labels", labels}}},
          {"data", {{"k", "v"}}}};
}

TEST(FakeClientTest, CreateAssignsServerFieldsAndRejectsDuplicates) {
  FakeClient c;
  auto a = c.create(types::config_maps(), cm("a"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["kind"], "ConfigMap");
  EXPECT_FALSE((*a)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ((*a)["metadata"]["generation"], 1);
  auto again = c.create(types::config_maps(), cm("a"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().http_status, 409);
}

TEST(FakeClientTest, StaleResourceVersionConflicts) {
  FakeClient c;
  auto a = c.create(types::config_maps(), cm("a")).value();
  auto stale = a;
  a["data"]["k"] = "v2";
  ASSERT_TRUE(c.update(types::config_maps(), a).ok());
  stale["data"]["k"] = "v3";
  auto r = c.update(types::config_maps(), stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
}

TEST(FakeClientTest, FinalizersDelayDeletion) {
  FakeClient c;
  auto obj = cm("a");
  obj["metadata"]["finalizers"] = {"x/cleanup"};
  ASSERT_TRUE(c.create(types::config_maps(), obj).ok());
  ASSERT_TRUE(c.remove(types::config_maps(), "ns", "a").ok());
  auto got = c.get(types::config_maps(), "ns", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE((*got)["metadata"].contains("deletionTimestamp"));
  auto cleared = *got;
  cleared["metadata"]["finalizers"] = Json::array();
  ASSERT_TRUE(c.update(types::config_maps(), cleared).ok());
  EXPECT_EQ(c.get(types::config_maps(), "ns", "a").error().code, ErrorCode::kNotFound);
}

TEST(FakeClientTest, StatusSubresourceIsSeparate) {
  const ResourceType widgets{"example.com", "v1", "widgets", "Widget", true};
  FakeClient c;
  auto w =
      c.create(widgets, {{"metadata", {{"namespace", "ns"}, {"name", "w"}}}, {"spec", {{"a", 1}}}})
          .value();
  w["status"] = {{"phase", "Ready"}};
  w["spec"]["a"] = 2;
  auto updated = c.update(widgets, w).value();
  EXPECT_FALSE(updated.contains("status"));  // ignored by the main resource
  EXPECT_EQ(updated["metadata"]["generation"], 2);
  auto st = c.merge_patch(widgets, "ns", "w", {{"status", {{"phase", "Ready"}}}}, "status").value();
  EXPECT_EQ(st["status"]["phase"], "Ready");
  EXPECT_EQ(st["metadata"]["generation"], 2);  // status writes do not bump generation
}

TEST(FakeClientTest, ListFiltersByLabelSelector) {
  FakeClient c;
  ASSERT_TRUE(c.create(types::config_maps(), cm("a", {{"app", "x"}})).ok());
  ASSERT_TRUE(c.create(types::config_maps(), cm("b", {{"app", "y"}})).ok());
  ListOptions o;
  o.label_selector = "app=x";
  EXPECT_EQ(c.list(types::config_maps(), "ns", o)->items.size(), 1u);
  o.label_selector = "app!=x";
  EXPECT_EQ(c.list(types::config_maps(), "ns", o)->items.size(), 1u);
  o.label_selector = "app";
  EXPECT_EQ(c.list(types::config_maps(), "", o)->items.size(), 2u);
  EXPECT_EQ(c.list(types::config_maps(), "other")->items.size(), 0u);
  ASSERT_TRUE(c.create(types::config_maps(), cm("c", {{"app", "z"}, {"tier", "t"}})).ok());
  o.label_selector = "app in (x, z)";
  EXPECT_EQ(c.list(types::config_maps(), "ns", o)->items.size(), 2u);
  o.label_selector = "app notin (x,z)";
  EXPECT_EQ(c.list(types::config_maps(), "ns", o)->items.size(), 1u);
  o.label_selector = "app in (x,z),tier";
  EXPECT_EQ(c.list(types::config_maps(), "ns", o)->items.size(), 1u);
}

TEST(FakeClientTest, WatchStreamsChangesAfterAResourceVersionAndGoneAfterCompact) {
  FakeClient c;
  auto list = c.list(types::config_maps(), "ns").value();
  std::vector<std::string> seen;
  std::atomic<bool> cancel{false};
  std::thread w([&] {
    ListOptions o;
    o.resource_version = list.resource_version;
    (void)c.watch(
        types::config_maps(), "ns", o,
        [&](WatchEvent&& ev) {
          seen.push_back(ev.object["metadata"]["name"].get<std::string>());
          return seen.size() < 2;
        },
        &cancel);
  });
  ASSERT_TRUE(c.wait_for_watches("configmaps", 1));
  ASSERT_TRUE(c.create(types::config_maps(), cm("a")).ok());
  ASSERT_TRUE(c.create(types::config_maps(), cm("b")).ok());
  w.join();
  EXPECT_THAT(seen, ::testing::ElementsAre("a", "b"));
  c.compact();
  ListOptions old;
  old.resource_version = list.resource_version;
  auto r = c.watch(types::config_maps(), "ns", old, [](WatchEvent&&) { return true; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kGone);
}

TEST(FakeClientTest, FailNextInjectsErrorsAndActionsAreRecorded) {
  FakeClient c;
  c.fail_next("create", "configmaps", api_error(ErrorCode::kForbidden), 1);
  EXPECT_EQ(c.create(types::config_maps(), cm("a")).error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(c.create(types::config_maps(), cm("a")).ok());
  EXPECT_EQ(c.actions("create", "configmaps").size(), 2u);
}

}  // namespace
}  // namespace aim::kube::testing
