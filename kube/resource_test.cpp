#include "kube/resource.h"

#include <gtest/gtest.h>

namespace aim::kube {
namespace {

TEST(ResourceType, CoreGroupPaths) {
  ResourceType pods = types::pods();
  EXPECT_EQ(pods.api_version(), "v1");
  EXPECT_EQ(pods.path("ns1"), "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(pods.path("ns1", "p"), "/api/v1/namespaces/ns1/pods/p");
  EXPECT_EQ(pods.path("ns1", "p", "log"), "/api/v1/namespaces/ns1/pods/p/log");
  EXPECT_EQ(pods.path(""), "/api/v1/pods");  // all namespaces
}

TEST(ResourceType, NamedGroupAndClusterScoped) {
  ResourceType widgets{"test.aim.dev", "v1", "widgets", "Widget", true};
  EXPECT_EQ(widgets.api_version(), "test.aim.dev/v1");
  EXPECT_EQ(widgets.path("a", "w", "status"),
            "/apis/test.aim.dev/v1/namespaces/a/widgets/w/status");
  ResourceType crds = types::custom_resource_definitions();
  EXPECT_EQ(crds.path("ignored", "widgets.test.aim.dev"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.aim.dev");
  EXPECT_EQ(types::namespaces().path({}, "x"), "/api/v1/namespaces/x");
}

TEST(ResourceType, SubresourceNeedsAName) {
  EXPECT_EQ(types::jobs().path("n", {}, "status"), "/apis/batch/v1/namespaces/n/jobs");
}

TEST(ResourceType, EscapesNames) {
  EXPECT_EQ(types::config_maps().path("n", "a b"), "/api/v1/namespaces/n/configmaps/a%20b");
}

TEST(ResourceType, BuiltinsAreWellFormed) {
  EXPECT_EQ(types::leases().api_version(), "coordination.k8s.io/v1");
  EXPECT_EQ(types::events().api_version(), "events.k8s.io/v1");
  EXPECT_FALSE(types::nodes().namespaced);
  EXPECT_TRUE(types::secrets().namespaced);
  EXPECT_EQ(types::persistent_volume_claims().kind, "PersistentVolumeClaim");
}

}  // namespace
}  // namespace aim::kube
