#include "kube/controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "kube/testing/fake_client.h"

namespace aim::kube {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::FakeClient;
using ::testing::IsEmpty;

const ResourceType kWidgets{"example.com", "v1", "widgets", "Widget", true};
const ResourceType kClusterWidgets{"example.com", "v1", "clusterwidgets", "ClusterWidget", false};

// Waits for a condition that the code under test must eventually reach; the deadline only
// guards against a hang and is not a timing assertion.
template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

Json object(const std::string& ns, const std::string& name) {
  Json o{{"metadata", {{"name", name}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  return o;
}

Json owned_by(Json child, const std::string& api_version, const std::string& kind,
              const std::string& name, bool controller) {
  child["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", api_version},
                                                       {"kind", kind},
                                                       {"name", name},
                                                       {"uid", "u-" + name},
                                                       {"controller", controller}}});
  return child;
}

// Fast backoff so that error retries happen within milliseconds.
std::unique_ptr<RateLimiter> fast_limiter() {
  return std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(1),
                                                      std::chrono::milliseconds(20));
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<FakeClient>();
    factory_ = std::make_unique<InformerFactory>(client_);
    registry_ = metrics::make_registry();
  }
  void TearDown() override {
    if (controller_) controller_->stop();
    factory_->stop();
  }

  ControllerBuilder builder(const std::string& name) {
    ControllerBuilder b(*factory_, name);
    b.rate_limiter(fast_limiter).registry(registry_.get());
    return b;
  }

  void run(std::unique_ptr<Controller> c) {
    controller_ = std::move(c);
    factory_->start();
    controller_->start();
  }

  Reconciler recording(ReconcileResult result = Action::done()) {
    return [this, result](const Request& r) {
      std::lock_guard lock(mu_);
      seen_.push_back(r.key());
      return result;
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  bool saw(const std::string& key) {
    auto s = seen();
    return std::find(s.begin(), s.end(), key) != s.end();
  }
  int count(const std::string& key) {
    auto s = seen();
    return static_cast<int>(std::count(s.begin(), s.end(), key));
  }

  std::shared_ptr<FakeClient> client_;
  std::unique_ptr<InformerFactory> factory_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<Controller> controller_;
  std::mutex mu_;
  std::vector<std::string> seen_;
};

TEST_F(ControllerTest, PrimaryObjectsAreReconciledIncludingThoseThatExistedBeforeStart) {
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "early"));
  run(builder("widget").for_type(kWidgets).build(recording()));
  ASSERT_TRUE(eventually([&] { return saw("ns/early"); }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "late"));
  ASSERT_TRUE(eventually([&] { return saw("ns/late"); }));
  EXPECT_TRUE(eventually([&] {
    return registry_->render().find(
               "controller_runtime_reconcile_total{controller=\"widget\",result=\"success\"} 2") !=
           std::string::npos;
  }));
  EXPECT_THAT(registry_->render(),
              ::testing::HasSubstr(
                  "controller_runtime_max_concurrent_reconciles{controller=\"widget\"} 1"));
}

TEST_F(ControllerTest, OwnedChildEnqueuesItsControllerOwner) {
  run(builder("widget").for_type(kWidgets).owns(types::config_maps()).build(recording()));
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 1));
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded,
                  owned_by(object("ns", "child"), "example.com/v1", "Widget", "parent", true));
  ASSERT_TRUE(eventually([&] { return saw("ns/parent"); }));
  // A change of the child enqueues the owner again.
  auto child = owned_by(object("ns", "child"), "example.com/v1", "Widget", "parent", true);
  child["data"] = {{"k", "v"}};
  client_->inject(types::config_maps(), WatchEvent::Type::kModified, child);
  ASSERT_TRUE(eventually([&] { return count("ns/parent") >= 2; }));
  // So does its deletion.
  client_->inject(types::config_maps(), WatchEvent::Type::kDeleted, child);
  ASSERT_TRUE(eventually([&] { return count("ns/parent") >= 3; }));
}

TEST(OwnerMappingTest, OnlyControllerReferencesOfTheOwnerGroupAndKindMap) {
  auto child = object("ns", "c");
  EXPECT_THAT(
      controller_owner_requests(owned_by(child, "example.com/v1", "Widget", "p", true), kWidgets),
      ElementsAre(Request{"ns", "p"}));
  // Another version of the same group still matches (controller-runtime compares group+kind).
  EXPECT_THAT(
      controller_owner_requests(owned_by(child, "example.com/v2", "Widget", "p", true), kWidgets),
      ElementsAre(Request{"ns", "p"}));
  EXPECT_THAT(
      controller_owner_requests(owned_by(child, "example.com/v1", "Widget", "p", false), kWidgets),
      IsEmpty());
  EXPECT_THAT(
      controller_owner_requests(owned_by(child, "other.com/v1", "Widget", "p", true), kWidgets),
      IsEmpty());
  EXPECT_THAT(
      controller_owner_requests(owned_by(child, "example.com/v1", "Gadget", "p", true), kWidgets),
      IsEmpty());
  EXPECT_THAT(controller_owner_requests(child, kWidgets), IsEmpty());
  // A cluster-scoped owner is requested without a namespace.
  EXPECT_THAT(controller_owner_requests(
                  owned_by(child, "example.com/v1", "ClusterWidget", "cp", true), kClusterWidgets),
              ElementsAre(Request{"", "cp"}));
}

TEST_F(ControllerTest, ClusterScopedOwnerOfNamespacedChild) {
  run(builder("cw").for_type(kClusterWidgets).owns(types::config_maps()).build(recording()));
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 1));
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded,
                  owned_by(object("ns", "child"), "example.com/v1", "ClusterWidget", "top", true));
  ASSERT_TRUE(eventually([&] { return saw("top"); }));
}

TEST_F(ControllerTest, WatchedObjectsGoThroughTheMappingFunction) {
  auto map = [](const Json& cm) -> std::vector<Request> {
    auto target = cm.value("data", Json::object()).value("widget", "");
    if (target.empty()) return {};
    return {Request{cm["metadata"]["namespace"], target}};
  };
  run(builder("widget").for_type(kWidgets).watches(types::config_maps(), map).build(recording()));
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 1));
  auto cm = object("team", "settings");
  cm["data"] = {{"widget", "w1"}};
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded, cm);
  ASSERT_TRUE(eventually([&] { return saw("team/w1"); }));
  // Retargeting maps both the old and the new state.
  cm["data"] = {{"widget", "w2"}};
  client_->inject(types::config_maps(), WatchEvent::Type::kModified, cm);
  ASSERT_TRUE(eventually([&] { return saw("team/w2") && count("team/w1") >= 2; }));
}

TEST_F(ControllerTest, ASelectedWatchCachesAndMapsOnlyMatchingObjects) {
  auto map = [](const Json& cm) -> std::vector<Request> {
    return {Request{cm["metadata"]["namespace"], cm["metadata"]["name"]}};
  };
  ListOptions selected;
  selected.label_selector = "role in (job,worker)";
  run(builder("widget")
          .for_type(kWidgets)
          .watches(types::config_maps(), selected, map)
          .build(recording()));
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 1));
  auto mine = object("ns", "mine");
  mine["metadata"]["labels"] = {{"role", "job"}};
  auto other = object("ns", "other");
  other["metadata"]["labels"] = {{"role", "web"}};
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded, other);
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded, mine);
  ASSERT_TRUE(eventually([&] { return saw("ns/mine"); }));
  EXPECT_FALSE(saw("ns/other"));
  // The cache behind it is the factory's informer of that (type, selector): only `mine`.
  auto& store = factory_->informer(types::config_maps(), "", selected)->store();
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.get("ns", "mine") != nullptr);
}

TEST_F(ControllerTest, RequeueAfterSchedulesAnotherReconcileWithoutCountingAnError) {
  std::atomic<int> calls{0};
  run(builder("widget").for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    if (calls.fetch_add(1) == 0) return Action::requeue_after(std::chrono::milliseconds(5));
    return Action::done();
  }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "a"));
  ASSERT_TRUE(eventually([&] { return calls.load() >= 2; }));
  auto text = registry_->render();
  EXPECT_THAT(
      text,
      ::testing::HasSubstr(
          "controller_runtime_reconcile_total{controller=\"widget\",result=\"requeue_after\"} 1"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "controller_runtime_reconcile_errors_total{controller=\"widget\"} 0"));
}

TEST_F(ControllerTest, ErrorsBackOffAndSuccessResetsTheBackoff) {
  std::atomic<int> calls{0};
  run(builder("widget").for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    if (calls.fetch_add(1) < 3) return fail(testing::api_error(ErrorCode::kConflict, "try again"));
    return Action::done();
  }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "a"));
  ASSERT_TRUE(eventually([&] { return calls.load() >= 4; }));
  ASSERT_TRUE(eventually([&] { return controller_->queue().num_requeues("ns/a") == 0; }));
  auto text = registry_->render();
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "controller_runtime_reconcile_errors_total{controller=\"widget\"} 3"));
  EXPECT_THAT(text,
              ::testing::HasSubstr(
                  "controller_runtime_reconcile_total{controller=\"widget\",result=\"error\"} 3"));
  EXPECT_THAT(text, ::testing::HasSubstr("workqueue_retries_total{name=\"widget\"} 3"));
}

// With error_events, a failed reconcile reaches the object: a Warning event ReconcileError with
// the error's text, repeats folded into one series.
TEST_F(ControllerTest, FailedReconcilesBecomeOneWarningEventSeriesOnThePrimaryObject) {
  EventRecorderOptions o;
  o.reporting_controller = "aim-widget-controller";
  o.registry = registry_.get();
  EventRecorder recorder(client_, o);
  std::atomic<int> calls{0};
  auto b = builder("widget");
  b.error_events(&recorder);
  run(b.for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    if (calls.fetch_add(1) < 3)
      return fail(ReconcileError("AIMArtifact x is invalid: spec.modelId: Invalid value"));
    return Action::done();
  }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "a"));
  ASSERT_TRUE(eventually([&] { return calls.load() >= 4; }));
  ASSERT_TRUE(recorder.flush(std::chrono::seconds(30)));
  auto events = client_->objects(types::events(), "ns");
  ASSERT_EQ(events.size(), 1u);
  const Json& e = events[0];
  EXPECT_EQ(e.value("type", ""), "Warning");
  EXPECT_EQ(e.value("reason", ""), "ReconcileError");
  EXPECT_THAT(e.value("note", e.value("message", "")),
              ::testing::HasSubstr("spec.modelId: Invalid value"));
  EXPECT_EQ(e["regarding"].value("name", ""), "a");
}

TEST_F(ControllerTest, ErrorBackoffGrowsPerKey) {
  // With the default per-key limiter an erroring key is retried after 5 ms, 10 ms, 20 ms...;
  // the queue's retry count records each failure.
  std::atomic<int> calls{0};
  auto b = builder("widget");
  b.rate_limiter([] {
    return std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5),
                                                        std::chrono::seconds(1000));
  });
  run(b.for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    ++calls;
    return fail(ReconcileError("always failing"));
  }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "a"));
  // Each failure is recorded against the key and never forgotten while it keeps failing.
  ASSERT_TRUE(eventually([&] { return controller_->queue().num_requeues("ns/a") >= 3; }));
  EXPECT_GE(calls.load(), 3);
}

TEST_F(ControllerTest, ExceptionsAreCountedAsPanicsAndRetried) {
  std::atomic<int> calls{0};
  run(builder("widget").for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    if (calls.fetch_add(1) == 0) throw std::runtime_error("boom");
    return Action::done();
  }));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, object("ns", "a"));
  ASSERT_TRUE(eventually([&] { return calls.load() >= 2; }));
  EXPECT_THAT(
      registry_->render(),
      ::testing::HasSubstr("controller_runtime_reconcile_panics_total{controller=\"widget\"} 1"));
}

TEST_F(ControllerTest, ParallelWorkersNeverShareAKey) {
  std::mutex m;
  std::map<std::string, int> active;
  std::atomic<int> violations{0};
  std::atomic<int> calls{0};
  run(builder("widget").for_type(kWidgets).max_concurrent_reconciles(4).build(
      [&](const Request& r) -> ReconcileResult {
        {
          std::lock_guard lock(m);
          if (++active[r.key()] > 1) ++violations;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        {
          std::lock_guard lock(m);
          --active[r.key()];
        }
        ++calls;
        return Action::done();
      }));
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 5; ++i) {
      auto o = object("ns", "w" + std::to_string(i));
      o["spec"] = {{"round", round}};
      client_->inject(kWidgets, WatchEvent::Type::kModified, o);
    }
  }
  ASSERT_TRUE(eventually([&] { return calls.load() >= 5; }));
  controller_->stop();
  EXPECT_EQ(violations.load(), 0);
}

// A stopping controller finishes the reconciles in flight and leaves the rest of its queue. The
// chaos suite (seed 1, docs/chaos.md) saw a replica drain a backlog of 200 services at 20 requests
// per second after SIGTERM: it outlived the 30 s grace, was killed, never released the Lease, and
// the standby took over only after 46 s.
TEST_F(ControllerTest, StopFinishesTheReconcilesInFlightAndLeavesTheRestOfTheQueue) {
  std::atomic<int> calls{0};
  std::atomic<bool> release{false};
  run(builder("widget").for_type(kWidgets).build([&](const Request&) -> ReconcileResult {
    ++calls;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return Action::done();
  }));
  for (int i = 0; i < 50; ++i) controller_->enqueue(Request::from_key("ns/w" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return calls.load() == 1 && controller_->queue().len() == 49; }));
  std::thread stopper([&] { controller_->stop(); });
  ASSERT_TRUE(eventually([&] { return controller_->queue().shutting_down(); }));
  release = true;
  stopper.join();
  EXPECT_EQ(calls.load(), 1) << "the stopping controller went on with its queue";
}

TEST_F(ControllerTest, InformersAreSharedBetweenControllers) {
  auto a = builder("a").for_type(kWidgets).owns(types::config_maps()).build(recording());
  auto b = builder("b").for_type(types::config_maps()).build(recording());
  factory_->start();
  a->start();
  b->start();
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 1));
  ASSERT_TRUE(client_->wait_for_watches("widgets", 1));
  EXPECT_EQ(client_->open_watches("configmaps"), 1);
  a->stop();
  b->stop();
}

TEST_F(ControllerTest, CachedObjectsHaveNoManagedFieldsButKeepTheRestOfTheirMetadata) {
  auto with_fields = [](const std::string& name) {
    Json o = object("ns", name);
    o["metadata"]["labels"] = {{"app", "x"}};
    o["metadata"]["annotations"] = {{"note", "kept"}};
    o["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"},
                                                   {"operation", "Apply"},
                                                   {"fieldsV1", {{"f:spec", Json::object()}}}}});
    return o;
  };
  client_->inject(kWidgets, WatchEvent::Type::kAdded, with_fields("listed"));
  auto informer = factory_->informer(kWidgets);
  factory_->start();
  ASSERT_TRUE(informer->wait_for_sync(std::chrono::seconds(5)));
  ASSERT_TRUE(client_->wait_for_watches("widgets", 1));
  client_->inject(kWidgets, WatchEvent::Type::kAdded, with_fields("watched"));
  for (int i = 0; i < 500 && !informer->store().get("ns", "watched"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (const char* name : {"listed", "watched"}) {
    auto o = informer->store().get("ns", name);
    ASSERT_TRUE(o) << name;
    EXPECT_FALSE((*o)["metadata"].contains("managedFields")) << name;
    EXPECT_EQ((*o)["metadata"]["labels"]["app"], "x") << name;
    EXPECT_EQ((*o)["metadata"]["annotations"]["note"], "kept") << name;
  }
}

TEST_F(ControllerTest, ACacheRuleRestrictsAndTrimsEveryInformerOfItsKind) {
  factory_->set_rule(types::config_maps(), {"owner=me", "", [](Json& o) { o.erase("data"); }});
  auto map = [](const Json& cm) -> std::vector<Request> {
    return {Request{cm["metadata"]["namespace"], cm["metadata"]["name"]}};
  };
  ListOptions jobs;
  jobs.label_selector = "role=job";
  run(builder("widget")
          .for_type(kWidgets)
          .owns(types::config_maps())
          .watches(types::config_maps(), jobs, map)
          .build(recording()));
  ASSERT_TRUE(client_->wait_for_watches("configmaps", 2));
  auto labelled = [](const std::string& name, Json labels) {
    Json o = object("ns", name);
    o["metadata"]["labels"] = std::move(labels);
    o["data"] = {{"big", std::string(1000, 'x')}};
    return o;
  };
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded,
                  labelled("theirs", {{"role", "job"}}));
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded,
                  labelled("mine", {{"owner", "me"}}));
  client_->inject(types::config_maps(), WatchEvent::Type::kAdded,
                  labelled("my-job", {{"owner", "me"}, {"role", "job"}}));
  ASSERT_TRUE(eventually([&] { return saw("ns/my-job"); }));
  EXPECT_FALSE(saw("ns/theirs"));
  // Asking with no selector gets the rule's informer: only objects the rule selects, trimmed.
  auto& all = factory_->informer(types::config_maps())->store();
  ASSERT_TRUE(eventually([&] { return all.size() == 2u; }));
  EXPECT_FALSE(all.get("ns", "theirs"));
  ASSERT_TRUE(all.get("ns", "mine"));
  EXPECT_FALSE(all.get("ns", "mine")->contains("data"));
  // A caller's own selector is ANDed with the rule's.
  EXPECT_EQ(factory_->effective_selectors(types::config_maps(), jobs).label_selector,
            "owner=me,role=job");
  EXPECT_EQ(factory_->informer(types::config_maps(), "", jobs)->store().size(), 1u);
  // A rule set after an informer of its kind exists would leave objects it excludes cached.
  EXPECT_THROW(factory_->set_rule(types::config_maps(), {"owner=you", "", {}}), std::logic_error);
  EXPECT_TRUE(factory_->has_rule(types::config_maps()));
  EXPECT_FALSE(factory_->has_rule(kWidgets));
}

TEST(MappingHandlerTest, UpdateAddsEachKeyOnce) {
  auto registry = metrics::make_registry();
  WorkQueue::Options qo;
  qo.registry = registry.get();
  auto queue = std::make_shared<WorkQueue>("mapping", std::move(qo));
  auto handler = mapping_handler(queue, [](const Json& o) {
    std::vector<Request> out{{"ns", o["metadata"]["name"].get<std::string>()}};
    if (o.contains("spec")) out.push_back({"ns", o["spec"]["owner"].get<std::string>()});
    return out;
  });
  auto adds = [&] {
    return registry->counter("workqueue_adds_total", "", {"name"}).with({"mapping"}).value();
  };

  // Old and new state map to the same key: one add, not two.
  auto before = std::make_shared<const Json>(object("ns", "a"));
  auto after = std::make_shared<const Json>(object("ns", "a"));
  handler.on_update(before, after);
  EXPECT_EQ(adds(), 1);
  EXPECT_EQ(queue->len(), 1u);

  // An owner that moved: both the old and the new owner are queued, the object itself once.
  Json moved_from = object("ns", "b");
  moved_from["spec"]["owner"] = "x";
  Json moved_to = object("ns", "b");
  moved_to["spec"]["owner"] = "y";
  handler.on_update(std::make_shared<const Json>(moved_from),
                    std::make_shared<const Json>(moved_to));
  EXPECT_EQ(adds(), 4);
  EXPECT_EQ(queue->len(), 4u);
}

TEST(RequestTest, KeyRoundTrip) {
  EXPECT_EQ((Request{"ns", "n"}).key(), "ns/n");
  EXPECT_EQ(Request::from_key("ns/n"), (Request{"ns", "n"}));
  EXPECT_EQ(Request::from_key("cluster-obj"), (Request{"", "cluster-obj"}));
}

}  // namespace
}  // namespace aim::kube
