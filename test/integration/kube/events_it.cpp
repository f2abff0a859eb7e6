// The events recorder against the real API server: the Event it writes passes the server's
// validation, and a repeat folds into the same Event's series.
#include <gmock/gmock.h>

#include "kube/events.h"
#include "test/integration/kube/fixture.h"

namespace aim::kube::integration {
namespace {

class EventsIT : public KubeIntegration {};

TEST_F(EventsIT, RecordsAnEventAndFoldsARepeatIntoItsSeries) {
  auto cm = client_->create(types::config_maps(),
                            {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", "subject"}, {"namespace", ns_}}},
                             {"data", {{"k", "v"}}}});
  ASSERT_TRUE(cm.ok()) << cm.error().describe();
  auto registry = metrics::make_registry();
  EventRecorderOptions o;
  o.reporting_controller = "aim-test-controller";
  o.reporting_instance = "it-instance";
  o.registry = registry.get();
  EventRecorder rec(client_, o);

  rec.warning(*cm, "SomethingFailed", "Reconcile", "the thing failed");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto list = client_->list(types::events(), ns_);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  ASSERT_EQ(list->items.size(), 1u) << "the API server rejected the event? see the test log";
  auto e = list->items[0];
  EXPECT_EQ(e["reason"], "SomethingFailed");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["note"], "the thing failed");
  EXPECT_EQ(e["reportingController"], "aim-test-controller");
  EXPECT_EQ(e["regarding"]["kind"], "ConfigMap");
  EXPECT_EQ(e["regarding"]["uid"], (*cm)["metadata"]["uid"]);
  EXPECT_FALSE(e.contains("series"));

  rec.warning(*cm, "SomethingFailed", "Reconcile", "the thing failed");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  list = client_->list(types::events(), ns_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["metadata"]["name"], e["metadata"]["name"]);
  EXPECT_EQ(list->items[0]["series"]["count"], 2);
  EXPECT_TRUE(list->items[0]["series"].contains("lastObservedTime"));

  // The core/v1 view of the same event shows the count too (what kubectl describe prints).
  auto core = client_->list({"", "v1", "events", "Event", true}, ns_);
  ASSERT_TRUE(core.ok());
  ASSERT_EQ(core->items.size(), 1u);
  EXPECT_EQ(core->items[0]["involvedObject"]["name"], "subject");
}

TEST_F(EventsIT, ADifferentNoteIsASeparateEvent) {
  auto registry = metrics::make_registry();
  EventRecorderOptions o;
  o.reporting_controller = "aim-test-controller";
  o.reporting_instance = "it-instance";
  o.registry = registry.get();
  EventRecorder rec(client_, o);
  Json ref{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"namespace", ns_}, {"name", "x"}};
  rec.normal(ref, "Progressing", "Reconcile", "step 1");
  rec.normal(ref, "Progressing", "Reconcile", "step 2");
  ASSERT_TRUE(rec.flush(std::chrono::seconds(30)));
  auto list = client_->list(types::events(), ns_);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), 2u);
}

}  // namespace
}  // namespace aim::kube::integration
