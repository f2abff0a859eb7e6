// The accessors of kube/object.h read objects of any kind as the API server sends them and never
// throw on a field of an unexpected type (an informer can hold anything a user wrote).
#include "kube/object.h"

#include <gtest/gtest.h>

namespace aim::kube {
namespace {

const Json kPod = Json::parse(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "9",
               "generation": 3, "labels": {"a": "1"}, "annotations": {"n": "x"},
               "finalizers": ["f1", "f2"],
               "ownerReferences": [{"uid": "o0", "kind": "Other"},
                                   {"uid": "o1", "controller": true, "kind": "Job"}]},
  "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
})");

TEST(Object, ReadsTheMetadataEveryKindShares) {
  EXPECT_EQ(name_of(kPod), "p");
  EXPECT_EQ(namespace_of(kPod), "ns");
  EXPECT_EQ(uid_of(kPod), "u1");
  EXPECT_EQ(resource_version_view(kPod), "9");
  EXPECT_EQ(api_version_of(kPod), "v1");
  EXPECT_EQ(kind_of(kPod), "Pod");
  EXPECT_EQ(generation_of(kPod), 3);
  EXPECT_EQ(label_of(kPod, "a"), "1");
  EXPECT_EQ(label_of(kPod, "b"), "");
  EXPECT_EQ(annotation_of(kPod, "n"), "x");
  EXPECT_TRUE(has_finalizer(kPod, "f2"));
  EXPECT_FALSE(has_finalizer(kPod, "f3"));
  EXPECT_FALSE(is_being_deleted(kPod));
  EXPECT_EQ(controller_uid(kPod), "o1");
  EXPECT_TRUE(is_controlled_by(kPod, "o1"));
  EXPECT_FALSE(is_controlled_by(kPod, "o0"));  // an owner, not the controller
  EXPECT_FALSE(is_controlled_by(kPod, ""));
  EXPECT_EQ(phase_of(kPod), "Running");
  EXPECT_EQ(conditions_in(status_of(kPod)).size(), 1u);
}

TEST(Object, AFieldOfAnotherTypeReadsAsEmpty) {
  for (const Json& odd : {Json(), Json(7), Json::array(), Json::parse(R"({"metadata": 1})"),
                          Json::parse(R"({"metadata": {"name": 1, "labels": [], "generation": "3",
                                          "finalizers": {}, "ownerReferences": {},
                                          "annotations": {"n": 2}}, "status": []})")}) {
    EXPECT_EQ(name_of(odd), "") << odd;
    EXPECT_TRUE(labels_of(odd).empty()) << odd;
    EXPECT_EQ(annotation_of(odd, "n"), "") << odd;
    EXPECT_FALSE(generation_of(odd)) << odd;
    EXPECT_FALSE(has_finalizer(odd, "f1")) << odd;
    EXPECT_EQ(controller_uid(odd), "") << odd;
    EXPECT_TRUE(status_of(odd).empty()) << odd;
    EXPECT_TRUE(conditions_in(status_of(odd)).empty()) << odd;
  }
}

TEST(Object, FinalizersAreAddedOnceAndAnEmptiedListGoes) {
  Json o = kPod;
  EXPECT_FALSE(set_finalizer(o, "f1", true));  // already there
  EXPECT_TRUE(set_finalizer(o, "f3", true));
  EXPECT_EQ(o["metadata"]["finalizers"], Json::array({"f1", "f2", "f3"}));
  EXPECT_FALSE(set_finalizer(o, "f9", false));
  for (const char* f : {"f1", "f2", "f3"}) EXPECT_TRUE(set_finalizer(o, f, false));
  EXPECT_FALSE(o["metadata"].contains("finalizers"));
}

TEST(Object, OneControllerOwnerReplacesTheLastAndKeepsOtherOwners) {
  Json child = kPod;
  const Json owner = Json::parse(
      R"({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "uid": "o2"}})");
  set_controller_owner(child, owner);
  const Json& refs = child["metadata"]["ownerReferences"];
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0]["uid"], "o0");
  EXPECT_EQ(refs[1], Json::parse(R"({"apiVersion": "batch/v1", "kind": "Job", "name": "j",
      "uid": "o2", "controller": true, "blockOwnerDeletion": true})"));
  EXPECT_EQ(controller_uid(child), "o2");
}

TEST(Object, PodTemplateLabelsOnlyForJobs) {
  Json job = Json::parse(R"({"kind": "Job", "spec": {"backoffLimit": 0}})");
  Json* labels = pod_template_labels(job);
  ASSERT_NE(labels, nullptr);
  (*labels)["x"] = "y";
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(job["spec"]["backoffLimit"], 0);
  Json claim = Json::parse(R"({"kind": "PersistentVolumeClaim"})");
  EXPECT_EQ(pod_template_labels(claim), nullptr);
}

TEST(Object, AStatusUpdateCarriesIdentityVersionAndStatusOnly) {
  ResourceType pods{"", "v1", "pods", "Pod", true};
  Json body = status_update_body(pods, kPod, Json{{"phase", "Failed"}});
  EXPECT_EQ(body, Json::parse(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "p", "namespace": "ns", "resourceVersion": "9"},
      "status": {"phase": "Failed"}})"));
  // The type names the kind when the object does not.
  ResourceType nodes{"", "v1", "nodes", "Node", false};
  Json bare = status_update_body(nodes, Json::parse(R"({"metadata": {"name": "n"}})"), Json());
  EXPECT_EQ(bare["kind"], "Node");
  EXPECT_FALSE(bare["metadata"].contains("namespace"));
}

TEST(Object, AppliedFieldsAreMetadataTheOperatorSetsAndNoStatus) {
  Json desired = kPod;
  desired["spec"] = {{"x", 1}};
  Json applied = applied_fields(desired);
  EXPECT_FALSE(applied.contains("status"));
  EXPECT_EQ(applied["spec"], desired["spec"]);
  Json meta = applied["metadata"];
  EXPECT_TRUE(meta.contains("labels") && meta.contains("annotations") &&
              meta.contains("ownerReferences") && meta.contains("finalizers"));
  EXPECT_FALSE(meta.contains("name") || meta.contains("uid") || meta.contains("resourceVersion"));
  clear_resource_version(desired);
  EXPECT_FALSE(desired["metadata"].contains("resourceVersion"));
  drop_status(desired);
  EXPECT_FALSE(desired.contains("status"));
}

TEST(Object, CacheTransformsKeepWhatTheyName) {
  Json event = Json::parse(R"({"apiVersion": "v1", "kind": "Event",
      "metadata": {"name": "e", "namespace": "ns", "managedFields": [{}]},
      "involvedObject": {"kind": "InferenceService"}, "reason": "R", "message": "M",
      "type": "Warning", "source": {"component": "c"}, "count": 4})");
  keep_event_summary(event);
  EXPECT_EQ(event, Json::parse(R"({"apiVersion": "v1", "kind": "Event",
      "metadata": {"name": "e", "namespace": "ns"},
      "involvedObject": {"kind": "InferenceService"}, "reason": "R", "message": "M",
      "type": "Warning"})"));
  Json not_an_object = 5;
  keep_node_capacity(not_an_object);
  EXPECT_TRUE(not_an_object.is_object() && not_an_object.empty());
}

}  // namespace
}  // namespace aim::kube
