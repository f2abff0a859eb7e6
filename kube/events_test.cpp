#include "kube/events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>

#include "kube/testing/fake_client.h"

namespace aim::kube {
namespace {

using std::chrono::minutes;
using testing::FakeClient;

// Delegates to a FakeClient but holds every create until open() (a slow API server).
class GatedClient final : public Client {
 public:
  explicit GatedClient(std::shared_ptr<FakeClient> inner) : inner_(std::move(inner)) {}
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  Result<Json> create(const ResourceType& t, const Json& o) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
    return inner_->create(t, o);
  }
  Result<Json> get(const ResourceType& t, std::string_view ns, std::string_view n) override {
    return inner_->get(t, ns, n);
  }
  Result<ListResult> list(const ResourceType& t, std::string_view ns,
                          const ListOptions& o) override {
    return inner_->list(t, ns, o);
  }
  Result<Json> update(const ResourceType& t, const Json& o) override {
    return inner_->update(t, o);
  }
  Result<Json> update_status(const ResourceType& t, const Json& o) override {
    return inner_->update_status(t, o);
  }
  Result<Json> merge_patch(const ResourceType& t, std::string_view ns, std::string_view n,
                           const Json& p, std::string_view sub) override {
    return inner_->merge_patch(t, ns, n, p, sub);
  }
  Result<Json> apply(const ResourceType& t, const Json& o, const ApplyOptions& opt,
                     std::string_view sub) override {
    return inner_->apply(t, o, opt, sub);
  }
  Result<void> remove(const ResourceType& t, std::string_view ns, std::string_view n,
                      const DeleteOptions& o) override {
    return inner_->remove(t, ns, n, o);
  }
  Result<void> watch(const ResourceType& t, std::string_view ns, const ListOptions& o,
                     const std::function<bool(WatchEvent&&)>& f,
                     const std::atomic<bool>* c) override {
    return inner_->watch(t, ns, o, f, c);
  }
  Result<std::string> get_raw(std::string_view p) override { return inner_->get_raw(p); }
  Result<Json> server_version() override { return inner_->server_version(); }
  const Config& config() const override { return inner_->config(); }

 private:
  std::shared_ptr<FakeClient> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

Json model(const std::string& ns, const std::string& name) {
  return Json{
      {"apiVersion", "aim.eai.amd.com/v1alpha1"},
      {"kind", "AIMModel"},
      {"metadata",
       {{"namespace", ns}, {"name", name}, {"uid", "uid-" + name}, {"resourceVersion", "7"}}}};
}

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<FakeClient>();
    registry_ = metrics::make_registry();
  }
  EventRecorderOptions options() {
    EventRecorderOptions o;
    o.reporting_controller = "aim-model-controller";
    o.reporting_instance = "pod-1";
    o.clock = &clock_;
    o.registry = registry_.get();
    return o;
  }
  std::vector<Json> events(const std::string& ns = {}) {
    return client_->objects(types::events(), ns);
  }

  std::shared_ptr<FakeClient> client_;
  std::unique_ptr<metrics::Registry> registry_;
  FakeClock clock_;
};

TEST_F(EventsTest, RecordsAnEventsK8sIoV1Event) {
  EventRecorder rec(client_, options());
  rec.warning(model("team", "llama"), "ImagePullBackOff", "Reconcile", "cannot pull image");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto evs = events("team");
  ASSERT_EQ(evs.size(), 1u);
  const auto& e = evs[0];
  EXPECT_EQ(e["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(e["reportingController"], "aim-model-controller");
  EXPECT_EQ(e["reportingInstance"], "pod-1");
  EXPECT_EQ(e["reason"], "ImagePullBackOff");
  EXPECT_EQ(e["action"], "Reconcile");
  EXPECT_EQ(e["note"], "cannot pull image");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["eventTime"], format_micro_time(clock_.wall()));
  EXPECT_EQ(e["regarding"], (Json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                                  {"kind", "AIMModel"},
                                  {"namespace", "team"},
                                  {"name", "llama"},
                                  {"uid", "uid-llama"},
                                  {"resourceVersion", "7"}}));
  EXPECT_FALSE(e.contains("series"));
  EXPECT_THAT(e["metadata"]["name"].get<std::string>(), ::testing::StartsWith("llama."));
}

TEST_F(EventsTest, RepeatWithinTheWindowFoldsIntoASeries) {
  EventRecorder rec(client_, options());
  rec.normal(model("team", "llama"), "Progressing", "Reconcile", "waiting for pods");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  clock_.advance(minutes(3));
  rec.normal(model("team", "llama"), "Progressing", "Reconcile", "waiting for pods");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  clock_.advance(minutes(9));  // 9 minutes after the previous occurrence: still folds
  rec.normal(model("team", "llama"), "Progressing", "Reconcile", "waiting for pods");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["series"]["count"], 3);
  EXPECT_EQ(evs[0]["series"]["lastObservedTime"], format_micro_time(clock_.wall()));
  EXPECT_EQ(client_->actions("create", "events").size(), 1u);
  EXPECT_EQ(client_->actions("patch", "events").size(), 2u);
}

TEST_F(EventsTest, RepeatAfterTheWindowStartsANewEvent) {
  EventRecorder rec(client_, options());
  rec.normal(model("team", "llama"), "Progressing", "Reconcile", "x");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  clock_.advance(minutes(11));
  rec.normal(model("team", "llama"), "Progressing", "Reconcile", "x");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  EXPECT_EQ(events().size(), 2u);
}

TEST_F(EventsTest, DifferentNoteReasonOrObjectAreSeparateEvents) {
  EventRecorder rec(client_, options());
  rec.normal(model("team", "a"), "R", "Reconcile", "one");
  rec.normal(model("team", "a"), "R", "Reconcile", "two");
  rec.normal(model("team", "a"), "Other", "Reconcile", "one");
  rec.normal(model("team", "b"), "R", "Reconcile", "one");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  EXPECT_EQ(events().size(), 4u);
}

TEST_F(EventsTest, ClusterScopedObjectsGetEventsInDefault) {
  EventRecorder rec(client_, options());
  Json cluster_model{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
                     {"kind", "AIMClusterModel"},
                     {"metadata", {{"name", "shared"}, {"uid", "u1"}}}};
  rec.normal(cluster_model, "Ready", "Reconcile", "ok");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  ASSERT_EQ(events("default").size(), 1u);
  EXPECT_FALSE(events("default")[0]["regarding"].contains("namespace"));
}

TEST_F(EventsTest, RecreatesAFoldedEventThatWasDeleted) {
  EventRecorder rec(client_, options());
  rec.normal(model("team", "a"), "R", "Reconcile", "n");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto first = events()[0];
  ASSERT_TRUE(
      client_->remove(types::events(), "team", first["metadata"]["name"].get<std::string>()).ok());
  clock_.advance(std::chrono::seconds(1));
  rec.normal(model("team", "a"), "R", "Reconcile", "n");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["series"]["count"], 2);
}

TEST_F(EventsTest, LongNotesAreTruncatedTo1024Bytes) {
  EventRecorder rec(client_, options());
  rec.normal(model("team", "a"), "R", "Reconcile", std::string(5000, 'x'));
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto note = events()[0]["note"].get<std::string>();
  EXPECT_EQ(note.size(), 1024u);
  EXPECT_THAT(note, ::testing::EndsWith("..."));
}

TEST_F(EventsTest, NeverBlocksAndDropsWhenTheQueueIsFull) {
  auto gated = std::make_shared<GatedClient>(client_);
  auto o = options();
  o.queue_capacity = 2;
  EventRecorder rec(gated, o);
  rec.normal(model("team", "a0"), "R", "Reconcile", "n");
  for (int i = 1; i < 50; ++i)
    rec.normal(model("team", "a" + std::to_string(i)), "R", "Reconcile", "n");
  // At most three events are held (one in flight, two queued); the rest are dropped, and
  // record() returned each time although the API server did not answer.
  EXPECT_GE(rec.dropped(), 47u);
  gated->open();
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  EXPECT_EQ(events().size() + rec.dropped(), 50u);
  EXPECT_THAT(
      registry_->render(),
      ::testing::HasSubstr("event_recorder_dropped_total{controller=\"aim-model-controller\"} " +
                           std::to_string(rec.dropped())));
}

TEST_F(EventsTest, RepeatsThatArriveBeforeTheFirstSendAreCreatedAsASeries) {
  auto gated = std::make_shared<GatedClient>(client_);
  EventRecorder rec(gated, options());
  rec.normal(model("team", "blocker"), "R", "Reconcile", "n");
  for (int i = 0; i < 5; ++i) rec.normal(model("team", "b"), "R", "Reconcile", "n");
  gated->open();
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  for (const auto& e : events()) {
    if (e["regarding"]["name"] == "b") {
      EXPECT_EQ(e["series"]["count"], 5);
    } else {
      EXPECT_FALSE(e.contains("series"));
    }
  }
  EXPECT_EQ(events().size(), 2u);
}

}  // namespace
}  // namespace aim::kube
