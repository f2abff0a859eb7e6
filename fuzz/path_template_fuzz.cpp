// engine/routing: AIMService route path templates (`{.metadata.labels['team']}`, a JSONPath
// subset) rendered against the service object, and the HTTPRoute built from the runtime config's
// and the service's routing settings. Mode byte 0: the first line is the template, the rest (when
// it is a JSON object) the service, else a fixed service. Mode 1: two JSON documents separated by
// "\n--\n", the runtime config's and the service's spec.routing, rendered for the fixed service
// (the controller renders the object the API server sent: an object with metadata).
#include <nlohmann/json.hpp>

#include "engine/routing.h"
#include "fuzz/fuzz_input.h"

namespace {

const nlohmann::json& fixed_service() {
  static const nlohmann::json service = nlohmann::json::parse(R"({
    "apiVersion": "aim.eai.amd.com/v1alpha1", "kind": "AIMService",
    "metadata": {"name": "qwen-chat", "namespace": "ml-team",
                 "uid": "5f0c2a9e-1111-2222-3333-444455556666",
                 "labels": {"team": "Research_NLP", "tier": ""},
                 "annotations": {"route.example/prefix": "Public/V1"}},
    "spec": {"model": {"name": "qwen3-32b"}, "replicas": 2, "items": [{"a": "b"}, "c"]}})");
  return service;
}

nlohmann::json json_or_null(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 2);
  if (mode == 0) {
    auto parts = fuzz::split(text, "\n", 2);
    nlohmann::json service = parts.size() > 1 ? json_or_null(parts[1]) : nlohmann::json();
    if (!service.is_object()) service = fixed_service();
    auto path = engine::render_route_path(std::string(parts[0]), service);
    if (path && (path->empty() || path->front() != '/' || path->size() > 200))
      fuzz::violated("rendered path is not normalized", *path);
    return 0;
  }
  auto parts = fuzz::split(text, "\n--\n", 2);
  nlohmann::json rc = json_or_null(parts[0]);
  nlohmann::json svc_routing = parts.size() > 1 ? json_or_null(parts[1]) : nlohmann::json();
  auto cfg = engine::resolve_routing(rc, svc_routing);
  if (cfg.enabled) {
    auto route = engine::render_http_route(cfg, fixed_service());
    if (route) (void)route->object.dump();
  }
  return 0;
}
