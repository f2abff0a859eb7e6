#include "engine/pod_issue.h"

#include <gtest/gtest.h>

namespace aim::engine {
namespace {

using nlohmann::json;

// A pod as the API server shows it: metadata, the spec's containers, and `status`.
json pod(const std::string& name, json status, const std::string& created = "2026-01-01T00:00:00Z",
         const std::string& image = "aim-engine:0.1.0") {
  return json{{"metadata", {{"name", name}, {"creationTimestamp", created}}},
              {"spec", {{"containers", {{{"name", "model-download"}, {"image", image}}}}}},
              {"status", std::move(status)}};
}

json waiting(const std::string& reason, const std::string& message,
             const char* key = "containerStatuses",
             const std::string& container = "model-download") {
  json w{{"reason", reason}};
  if (!message.empty()) w["message"] = message;
  return json{{"phase", "Pending"},
              {key, {{{"name", container}, {"restartCount", 0}, {"state", {{"waiting", w}}}}}}};
}

json unschedulable(const std::string& since) {
  return json{{"phase", "Pending"},
              {"conditions",
               {{{"type", "PodScheduled"},
                 {"status", "False"},
                 {"reason", "Unschedulable"},
                 {"lastTransitionTime", since},
                 {"message",
                  "0/2 nodes are available: 2 node(s) didn't match Pod's node "
                  "affinity/selector."}}}}};
}

struct Row {
  const char* what;
  json status;
  const char* reason;  // nullptr: no issue
  ComponentState state;
  const char* in_message;  // a piece of the message
};

TEST(ClassifyPod, Table) {
  const std::string img = "aim-engine:0.1.0";
  const std::vector<Row> rows = {
      {"running", {{"phase", "Running"}}, nullptr, ComponentState::Ready, ""},
      {"pending, no status yet", {{"phase", "Pending"}}, nullptr, ComponentState::Ready, ""},
      {"succeeded", {{"phase", "Succeeded"}}, nullptr, ComponentState::Ready, ""},
      {"failed with an exit code (the Job's to judge)",
       {{"phase", "Failed"},
        {"containerStatuses",
         {{{"name", "model-download"},
           {"state", {{"terminated", {{"exitCode", 3}, {"reason", "Error"}}}}}}}}},
       nullptr,
       ComponentState::Ready,
       ""},
      {"unschedulable", unschedulable("2026-01-01T00:00:00Z"), kReasonUnschedulable,
       ComponentState::Degraded, "didn't match Pod's node affinity/selector"},
      {"scheduling gated, not unschedulable",
       {{"phase", "Pending"},
        {"conditions",
         {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "SchedulingGated"}}}}},
       nullptr,
       ComponentState::Ready,
       ""},
      {"ImagePullBackOff", waiting("ImagePullBackOff", "Back-off pulling image \"" + img + "\""),
       kReasonImagePullFailed, ComponentState::Failed,
       "Back-off pulling image \"aim-engine:0.1.0\""},
      {"ErrImagePull",
       waiting("ErrImagePull",
               "failed to pull and unpack image \"docker.io/library/" + img + "\": not found"),
       kReasonImagePullFailed, ComponentState::Failed, "not found"},
      {"InvalidImageName without a message names the image", waiting("InvalidImageName", ""),
       kReasonImagePullFailed, ComponentState::Failed, "(image \"aim-engine:0.1.0\")"},
      {"ErrImageNeverPull", waiting("ErrImageNeverPull", "Container image is not present"),
       kReasonImagePullFailed, ComponentState::Failed, "is not present"},
      {"init container pull error",
       waiting("ErrImagePull", "pull access denied", "initContainerStatuses", "init"),
       kReasonImagePullFailed, ComponentState::Failed, "Container init: pull access denied"},
      {"missing Secret", waiting("CreateContainerConfigError", "secret \"hf-token\" not found"),
       kReasonPodConfigError, ComponentState::Failed, "secret \"hf-token\" not found"},
      {"CreateContainerError",
       waiting("CreateContainerError", "exec: \"aim-fetch\": executable file not found"),
       kReasonPodConfigError, ComponentState::Failed, "(CreateContainerError)"},
      {"CrashLoopBackOff",
       {{"phase", "Running"},
        {"containerStatuses",
         {{{"name", "model-download"},
           {"restartCount", 4},
           {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
           {"lastState",
            {{"terminated", {{"exitCode", 1}, {"message", "boom"}, {"reason", "Error"}}}}}}}}},
       kReasonCrashLoopBackOff,
       ComponentState::Failed,
       "4 restarts; last exit code 1: boom"},
      {"terminated after repeated restarts",
       {{"phase", "Running"},
        {"containerStatuses",
         {{{"name", "model-download"},
           {"restartCount", 3},
           {"state", {{"terminated", {{"exitCode", 2}, {"reason", "Error"}}}}}}}}},
       kReasonCrashLoopBackOff,
       ComponentState::Failed,
       "last exit code 2: Error"},
      {"terminated after one restart is not a loop",
       {{"phase", "Running"},
        {"containerStatuses",
         {{{"name", "model-download"},
           {"restartCount", 1},
           {"state", {{"terminated", {{"exitCode", 2}}}}}}}}},
       nullptr,
       ComponentState::Ready,
       ""},
      {"evicted",
       {{"phase", "Failed"},
        {"reason", "Evicted"},
        {"message", "The node was low on resource: ephemeral-storage."}},
       kReasonEvicted,
       ComponentState::Degraded,
       "was evicted: The node was low on resource"},
  };
  for (const auto& r : rows) {
    auto issue = classify_pod(pod("p", r.status));
    if (r.reason == nullptr) {
      EXPECT_FALSE(issue.has_value()) << r.what << ": " << issue->reason;
      continue;
    }
    ASSERT_TRUE(issue.has_value()) << r.what;
    EXPECT_EQ(issue->reason, r.reason) << r.what;
    EXPECT_EQ(issue->state, r.state) << r.what;
    EXPECT_NE(issue->message.find(r.in_message), std::string::npos)
        << r.what << ": " << issue->message;
    EXPECT_EQ(issue->pod, "p") << r.what;
  }
}

TEST(ClassifyPod, LongMessagesAreClipped) {
  auto issue = classify_pod(pod("p", waiting("ErrImagePull", std::string(2000, 'x'))));
  ASSERT_TRUE(issue);
  EXPECT_LE(issue->message.size(), 520u);
}

TEST(JobPodsIssue, UnschedulableWaitsForTheGracePeriod) {
  const int64_t t0 = 1767225600;  // 2026-01-01T00:00:00Z
  std::vector<json> pods = {pod("p", unschedulable("2026-01-01T00:00:00Z"))};
  PodIssueOptions o;
  o.unschedulable_grace = std::chrono::seconds(30);
  auto early = job_pods_issue(pods, t0 + 10, o);
  EXPECT_FALSE(early.issue);
  ASSERT_TRUE(early.recheck_after);
  EXPECT_EQ(early.recheck_after->count(), 20);
  auto late = job_pods_issue(pods, t0 + 30, o);
  ASSERT_TRUE(late.issue);
  EXPECT_EQ(late.issue->reason, kReasonUnschedulable);
  EXPECT_FALSE(late.recheck_after);
  // No transition time: the pod's creation counts.
  json no_time = unschedulable("");
  no_time["conditions"][0].erase("lastTransitionTime");
  EXPECT_FALSE(job_pods_issue({pod("p", no_time)}, t0 + 29, o).issue);
  EXPECT_TRUE(job_pods_issue({pod("p", no_time)}, t0 + 31, o).issue);
  // Zero grace reports at once.
  o.unschedulable_grace = std::chrono::seconds(0);
  EXPECT_TRUE(job_pods_issue(pods, t0, o).issue);
}

TEST(JobPodsIssue, ImagePullIsReportedAtOnce) {
  auto r = job_pods_issue({pod("p", waiting("ErrImagePull", "not found"))}, 0);
  ASSERT_TRUE(r.issue);
  EXPECT_EQ(r.issue->reason, kReasonImagePullFailed);
}

TEST(JobPodsIssue, TheNewestPodDecides) {
  json evicted{{"phase", "Failed"}, {"reason", "Evicted"}};
  json running{{"phase", "Running"}};
  // Evicted, then replaced by a running pod: nothing to report.
  EXPECT_FALSE(
      job_pods_issue(
          {pod("a", evicted, "2026-01-01T00:00:00Z"), pod("b", running, "2026-01-01T00:01:00Z")}, 0)
          .issue);
  // Evicted and not replaced yet (or the Job gave up): reported.
  auto r = job_pods_issue(
      {pod("b", running, "2026-01-01T00:00:00Z"), pod("a", evicted, "2026-01-01T00:01:00Z")}, 0);
  ASSERT_TRUE(r.issue);
  EXPECT_EQ(r.issue->reason, kReasonEvicted);
  EXPECT_EQ(r.issue->pod, "a");
  // A pod being deleted is not the newest one.
  json deleting = pod("c", waiting("ErrImagePull", "x"), "2026-01-01T00:02:00Z");
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:03:00Z";
  EXPECT_FALSE(job_pods_issue({pod("b", running), deleting}, 0).issue);
  EXPECT_FALSE(job_pods_issue({}, 0).issue);
}

}  // namespace
}  // namespace aim::engine
