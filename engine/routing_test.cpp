#include "engine/routing.h"

#include <gtest/gtest.h>

#include "engine/service_golden.h"

namespace aim::engine {
namespace {

using nlohmann::json;
using testing::expect_golden;

json service() {
  return json{{"apiVersion", "aim.eai.amd.com/v1alpha1"},
              {"kind", "AIMService"},
              {"metadata",
               {{"name", "qwen-chat"},
                {"namespace", "ml-team"},
                {"uid", "5f0c2a9e-1111-2222-3333-444455556666"},
                {"labels", {{"team", "Research_NLP"}, {"tier", ""}}},
                {"annotations", {{"route.example/prefix", "Public/V1"}}}}},
              {"spec", {{"model", {{"name", "qwen3-32b"}}}, {"replicas", 2}}}};
}

TEST(RenderRoutePath, Valid) {
  struct Case {
    std::string tmpl, want;
  } cases[] = {
      {"/{.metadata.namespace}/{.metadata.name}", "/ml-team/qwen-chat"},
      {"/{.metadata.labels['team']}/chat", "/research-nlp/chat"},
      {"/{.metadata.labels[\"team\"]}/chat", "/research-nlp/chat"},
      {"/{ .metadata.name }/", "/qwen-chat"},
      {"{$.spec.model.name}", "/qwen3-32b"},
      {"/r/{.spec.replicas}", "/r/2"},
      // Annotation values are not normalized as a whole; their '/' makes two segments.
      {"/{.metadata.annotations['route.example/prefix']}/x", "/public/v1/x"},
      {"  //A B//c_d/  ", "/a-b/c-d"},
  };
  for (const auto& c : cases) {
    auto r = render_route_path(c.tmpl, service());
    ASSERT_TRUE(r.ok()) << c.tmpl << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.tmpl;
  }
}

TEST(RenderRoutePath, Invalid) {
  struct Case {
    std::string tmpl, message_part;
  } cases[] = {
      {"/{.metadata.labels['missing']}", "label \"missing\" is not set on the service"},
      {"/{.metadata.annotations['nope']}", "annotation \"nope\" is not set"},
      {"/{.spec.nothing}", ".spec.nothing not found"},
      {"/{.metadata}", "not a single value"},
      {"/{.metadata.labels['tier']}", "renders an empty value"},
      {"/{.metadata.name", "unmatched '{'"},
      {"/a}/b", "unmatched '}'"},
      {"/{.items[?(@.x)]}", "unsupported"},
      {"/{}", "empty expression"},
      {"   ", "path is empty"},
      {"/" + std::string(201, 'a'), "at most 200"},
      {"/!!!/???", "no valid segment"},
  };
  for (const auto& c : cases) {
    auto r = render_route_path(c.tmpl, service());
    ASSERT_FALSE(r.ok()) << c.tmpl << " rendered " << *r;
    EXPECT_EQ(r.error().reason, "PathTemplateInvalid");
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos)
        << c.tmpl << ": " << r.error().message;
  }
}

TEST(DefaultRoutePath, NamespaceAndUid) {
  EXPECT_EQ(default_route_path("ml-team", "5F0C-AB"), "/ml-team/5f0c-ab");
}

TEST(GoDuration, Table) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"120s", "2m0s"},   {"2m", "2m0s"},     {"1h30m", "1h30m0s"}, {"1.5s", "1.5s"},
      {"500ms", "500ms"}, {"90m", "1h30m0s"}, {"0", "0s"},          {"45s", "45s"},
  };
  for (const auto& c : cases) {
    auto r = go_duration_string(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(*r, c.want) << c.in;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", "10x", "1..2s", ".s", std::string(40, '9') + "s"}) {
    EXPECT_FALSE(go_duration_string(bad).ok()) << bad;
  }
}

TEST(ResolveRouting, ServiceOverRuntimeConfig) {
  json rc = {{"enabled", true},
             {"gatewayRef", {{"name", "gw"}, {"namespace", "infra"}}},
             {"pathTemplate", "/{.metadata.namespace}"},
             {"requestTimeout", "60s"},
             {"annotations", {{"a", "rc"}, {"b", "rc"}}}};
  json svc = {
      {"enabled", false}, {"pathTemplate", "/x"}, {"annotations", {{"b", "svc"}, {"c", "svc"}}}};
  auto cfg = resolve_routing(rc, svc);
  EXPECT_FALSE(cfg.enabled);  // an explicit service false beats the runtime config's true
  EXPECT_EQ(cfg.gateway_ref, rc["gatewayRef"]);
  EXPECT_EQ(cfg.path_template, "/x");
  EXPECT_EQ(cfg.request_timeout, "60s");
  EXPECT_EQ(cfg.annotations, (json{{"a", "rc"}, {"b", "svc"}, {"c", "svc"}}));

  auto none = resolve_routing(nullptr, nullptr);
  EXPECT_FALSE(none.enabled);
  EXPECT_TRUE(none.gateway_ref.is_null());
  EXPECT_TRUE(none.annotations.empty());
  EXPECT_TRUE(resolve_routing(rc, nullptr).enabled);
}

TEST(RenderHttpRoute, GoldenWithTemplateTimeoutAndAnnotations) {
  RoutingConfig cfg;
  cfg.enabled = true;
  cfg.gateway_ref = {{"group", "gateway.networking.k8s.io"},
                     {"kind", "Gateway"},
                     {"name", "aim-gw"},
                     {"namespace", "gateway-system"}};
  cfg.path_template = "/{.metadata.labels['team']}/{.metadata.name}";
  cfg.request_timeout = "120s";
  cfg.annotations = {{"gateway.example/tier", "gold"}};
  auto r = render_http_route(cfg, service());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path, "/research-nlp/qwen-chat");
  expect_golden(r->object, "httproute_template.json");
}

TEST(RenderHttpRoute, DefaultPathAndKeyFacts) {
  RoutingConfig cfg;
  cfg.enabled = true;
  cfg.gateway_ref = {{"name", "gw"}};
  auto r = render_http_route(cfg, service());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->path, "/ml-team/5f0c2a9e-1111-2222-3333-444455556666");
  const json& rule = r->object["spec"]["rules"][0];
  EXPECT_EQ(rule["backendRefs"][0]["name"], "qwen-chat-a04542d9-predictor");
  EXPECT_EQ(rule["backendRefs"][0]["port"], 80);
  EXPECT_FALSE(rule.contains("timeouts"));
  EXPECT_FALSE(r->object["metadata"].contains("annotations"));
  EXPECT_EQ(r->object["metadata"]["labels"]["app.kubernetes.io/component"], "routing");
}

TEST(RenderHttpRoute, Errors) {
  RoutingConfig cfg;
  cfg.enabled = true;
  auto no_gw = render_http_route(cfg, service());
  ASSERT_FALSE(no_gw.ok());
  EXPECT_EQ(no_gw.error().reason, "GatewayNotConfigured");

  cfg.gateway_ref = {{"name", "gw"}};
  cfg.path_template = "/{.metadata.labels['nope']}";
  auto bad_path = render_http_route(cfg, service());
  ASSERT_FALSE(bad_path.ok());
  EXPECT_EQ(bad_path.error().reason, "PathTemplateInvalid");

  cfg.path_template.clear();
  cfg.request_timeout = "soon";
  auto bad_timeout = render_http_route(cfg, service());
  ASSERT_FALSE(bad_timeout.ok());
  EXPECT_EQ(bad_timeout.error().reason, "PathTemplateInvalid");
  EXPECT_NE(bad_timeout.error().message.find("requestTimeout"), std::string::npos);
}

}  // namespace
}  // namespace aim::engine
