#include "kube/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace aim::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Json pod(const std::string& ns, const std::string& name, const std::string& rv = "1",
         Json labels = Json::object(), Json owners = Json::array()) {
  return Json{{"metadata",
               {{"namespace", ns},
                {"name", name},
                {"resourceVersion", rv},
                {"labels", labels},
                {"ownerReferences", owners}}}};
}

std::vector<std::string> names(const std::vector<ObjectPtr>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back((*o)["metadata"]["name"]);
  return out;
}

// Every behaviour holds whether the store keeps trees or packed objects.
class StoreBothWays : public ::testing::TestWithParam<Store::Representation> {};

INSTANTIATE_TEST_SUITE_P(Representations, StoreBothWays,
                         ::testing::Values(Store::Representation::kTree,
                                           Store::Representation::kPacked),
                         [](const auto& info) {
                           return info.param == Store::Representation::kTree ? "Tree" : "Packed";
                         });

TEST(StoreTest, KeysAreNamespaceSlashNameOrNameForClusterScoped) {
  EXPECT_EQ(object_key(pod("ns", "a")), "ns/a");
  EXPECT_EQ(object_key(Json{{"metadata", {{"name", "node1"}}}}), "node1");
  EXPECT_EQ(split_key("ns/a"), std::make_pair(std::string("ns"), std::string("a")));
  EXPECT_EQ(split_key("node1"), std::make_pair(std::string(), std::string("node1")));
}

TEST_P(StoreBothWays, UpsertGetRemove) {
  Store s(GetParam());
  EXPECT_EQ(s.upsert(pod("ns", "a", "1")), nullptr);
  auto old = s.upsert(pod("ns", "a", "2"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ((*old)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*s.get("ns", "a"))["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(s.get("ns", "missing"), nullptr);
  EXPECT_NE(s.remove("ns/a"), nullptr);
  EXPECT_EQ(s.remove("ns/a"), nullptr);
  EXPECT_EQ(s.size(), 0u);
}

TEST_P(StoreBothWays, ReadersKeepTheirSnapshotAcrossUpdates) {
  Store s(GetParam());
  s.upsert(pod("ns", "a", "1"));
  auto held = s.get("ns/a");
  s.upsert(pod("ns", "a", "2"));
  EXPECT_EQ((*held)["metadata"]["resourceVersion"], "1");
}

TEST_P(StoreBothWays, NamespaceIndex) {
  Store s(GetParam());
  s.upsert(pod("x", "b"));
  s.upsert(pod("x", "a"));
  s.upsert(pod("y", "c"));
  EXPECT_THAT(names(s.list("x")), ElementsAre("a", "b"));
  EXPECT_THAT(names(s.list("y")), ElementsAre("c"));
  EXPECT_THAT(names(s.list()), ElementsAre("a", "b", "c"));
  s.remove("x/a");
  EXPECT_THAT(names(s.list("x")), ElementsAre("b"));
}

TEST_P(StoreBothWays, OwnerUidIndexFollowsUpdates) {
  Store s(GetParam());
  s.upsert(pod("ns", "a", "1", {}, Json::array({{{"uid", "u1"}}, {{"uid", "u2"}}})));
  s.upsert(pod("ns", "b", "1", {}, Json::array({{{"uid", "u1"}}})));
  EXPECT_THAT(names(s.by_index(index_names::kOwnerUid, "u1")), ElementsAre("a", "b"));
  EXPECT_THAT(names(s.by_index(index_names::kOwnerUid, "u2")), ElementsAre("a"));
  // a drops its owner u1: the index forgets it.
  s.upsert(pod("ns", "a", "2", {}, Json::array({{{"uid", "u2"}}})));
  EXPECT_THAT(names(s.by_index(index_names::kOwnerUid, "u1")), ElementsAre("b"));
  EXPECT_THAT(s.by_index("no-such-index", "u1"), IsEmpty());
}

TEST_P(StoreBothWays, LabelSelection) {
  Store s(GetParam());
  s.upsert(pod("ns", "a", "1", {{"app", "web"}, {"tier", "fe"}}));
  s.upsert(pod("ns", "b", "1", {{"app", "web"}}));
  s.upsert(pod("other", "c", "1", {{"app", "web"}, {"tier", "fe"}}));
  EXPECT_THAT(names(s.by_labels({{"app", "web"}, {"tier", "fe"}})), ElementsAre("a", "c"));
  EXPECT_THAT(names(s.by_labels({{"app", "web"}}, "ns")), ElementsAre("a", "b"));
  EXPECT_THAT(names(s.by_labels({{"app", "db"}})), IsEmpty());
  EXPECT_TRUE(labels_match(*s.get("ns/a"), {}));
}

TEST_P(StoreBothWays, CustomIndexAddedLaterCoversExistingObjects) {
  Store s(GetParam());
  auto by_model = [](const Json& o) -> std::vector<std::string> {
    auto m = o.value("spec", Json::object()).value("modelName", "");
    if (m.empty()) return {};  // not indexed when empty
    return {m};
  };
  s.upsert(
      Json{{"metadata", {{"namespace", "n"}, {"name", "t1"}}}, {"spec", {{"modelName", "m"}}}});
  s.upsert(Json{{"metadata", {{"namespace", "n"}, {"name", "t2"}}}, {"spec", Json::object()}});
  s.add_index("spec.modelName", by_model);
  EXPECT_THAT(names(s.by_index("spec.modelName", "m")), ElementsAre("t1"));
  s.upsert(
      Json{{"metadata", {{"namespace", "n"}, {"name", "t2"}}}, {"spec", {{"modelName", "m"}}}});
  EXPECT_THAT(s.keys_by_index("spec.modelName", "m"), ElementsAre("n/t1", "n/t2"));
  EXPECT_THAT(s.keys_by_index("spec.modelName", ""), IsEmpty());
}

TEST_P(StoreBothWays, ReplaceReportsTheDifference) {
  Store s(GetParam());
  s.upsert(pod("ns", "keep", "1"));
  s.upsert(pod("ns", "change", "1"));
  s.upsert(pod("ns", "gone", "1"));
  auto diff = s.replace({pod("ns", "keep", "1"), pod("ns", "change", "2"), pod("ns", "new", "1")});
  EXPECT_THAT(names(diff.added), ElementsAre("new"));
  ASSERT_EQ(diff.updated.size(), 1u);
  EXPECT_EQ((*diff.updated[0].first)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*diff.updated[0].second)["metadata"]["resourceVersion"], "2");
  EXPECT_THAT(names(diff.deleted), ElementsAre("gone"));
  EXPECT_THAT(s.keys(), ElementsAre("ns/change", "ns/keep", "ns/new"));
  EXPECT_THAT(names(s.list("ns")), ElementsAre("change", "keep", "new"));
}

TEST(StoreTest, SyncedSignalWakesWaiters) {
  Store s;
  EXPECT_FALSE(s.synced());
  EXPECT_FALSE(s.wait_synced(std::chrono::milliseconds(1)));
  std::thread t([&] { s.mark_synced(); });
  EXPECT_TRUE(s.wait_synced(std::chrono::seconds(30)));
  t.join();
}

TEST(StoreTest, WaitSyncedReturnsWhenStopped) {
  Store s;
  std::atomic<bool> stop{true};
  EXPECT_FALSE(s.wait_synced(std::chrono::seconds(30), &stop));
}

TEST_P(StoreBothWays, ConcurrentWritersAndReaders) {
  Store s(GetParam());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&s, t] {
      for (int i = 0; i < 200; ++i) {
        s.upsert(pod("ns" + std::to_string(t), "p" + std::to_string(i), "1",
                     {{"t", std::to_string(t)}}));
        (void)s.by_labels({{"t", std::to_string(t)}});
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(s.size(), 800u);
  EXPECT_EQ(s.by_labels({{"t", "2"}}).size(), 200u);
}

// A packed store gives back the object it was given, value for value (numbers of each kind,
// nested arrays, nulls, unicode), and holds it in fewer bytes than its JSON text.
TEST(StoreTest, PackedObjectsReadBackEqualAndSmallerThanTheirText) {
  Store s(Store::Representation::kPacked);
  Json o = pod("ns", "a", "7", {{"app", "web"}}, Json::array({{{"uid", "u1"}}}));
  o["spec"] = {{"replicas", 3},
               {"ratio", 0.25},
               {"offset", -12},
               {"big", 18446744073709551615ULL},
               {"none", nullptr},
               {"on", true},
               {"args", {"--a", "b", Json::array({1, 2})}},
               {"text", "grüß / ☃"}};
  o["status"] = {{"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
  s.upsert(o);
  EXPECT_EQ(*s.get("ns/a"), o);
  EXPECT_GT(s.packed_bytes(), 0u);
  EXPECT_LT(s.packed_bytes(), o.dump().size());
  EXPECT_EQ(Store().packed_bytes(), 0u);
}

// While a reader holds the decoded object, every reader of the same version shares it (one decode,
// one tree); once nobody holds it, it is freed and decoded again on the next read.
TEST(StoreTest, PackedReadersShareTheTreeInUse) {
  Store s(Store::Representation::kPacked);
  ObjectPtr stored;
  s.upsert(pod("ns", "a", "1"), &stored);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(s.get("ns/a"), stored);
  EXPECT_EQ(s.list().front(), stored);
  std::weak_ptr<const Json> watch = stored;
  stored.reset();
  EXPECT_TRUE(watch.expired());  // the store itself holds no tree
  auto a = s.get("ns/a");
  EXPECT_EQ(s.get("ns/a"), a);
  s.upsert(pod("ns", "a", "2"));
  EXPECT_NE(s.get("ns/a"), a);  // a new version is a new tree
  EXPECT_EQ((*a)["metadata"]["resourceVersion"], "1");
}

}  // namespace
}  // namespace aim::kube
