// Gateway API HTTPRoute of an AIMService and its path templating (behavior.md §4.10, api.md §3.9
// routing, spec README §4 fixes).
//
// Settings come from the service's spec.routing over the merged runtime config's routing. A path
// template may use `{...}` expressions evaluated against the AIMService object: label and
// annotation lookups (`{.metadata.labels['team']}`) and a JSONPath subset (dotted fields, `[n]`
// indexes, `['key']` / `["key"]` members, optional leading `$`). Unlike the reference, a bad
// template is an error (`PathTemplateInvalid`, which degrades the service) rather than a silent
// fall back to the default path, and service-level route annotations merge over the runtime
// config's instead of being ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.h"

namespace aim::engine {

// Effective routing settings.
struct RoutingConfig {
  bool enabled = false;
  nlohmann::json gateway_ref;   // Gateway API ParentReference, null when none
  std::string path_template;    // empty: the default path
  std::string request_timeout;  // metav1.Duration text ("120s", "2m"), empty: none
  nlohmann::json annotations = nlohmann::json::object();
};

// Service spec.routing over runtime config spec.routing (both may be null). enabled and
// gatewayRef/pathTemplate/requestTimeout: the service's when set; annotations: key union with the
// service's values winning.
RoutingConfig resolve_routing(const nlohmann::json& runtime_config_routing,
                              const nlohmann::json& service_routing);

struct RouteError {
  std::string reason;  // PathTemplateInvalid, GatewayNotConfigured, InvalidName
  std::string message;
};

// Renders and normalizes a path template against the AIMService object. Normalized means: a
// leading '/', no trailing '/', every segment lowercase RFC-1123 (invalid characters become '-',
// empty segments dropped), at most 200 characters.
Result<std::string, RouteError> render_route_path(const std::string& path_template,
                                                  const nlohmann::json& service);

// "/<namespace>/<uid>", normalized.
std::string default_route_path(const std::string& ns, const std::string& uid);

// A Go duration ("90s", "1h30m", "1.5s") printed the way Go's Duration.String does ("1m30s",
// "1h30m0s", "1.5s"); an error for text that is not a duration.
Result<std::string, std::string> go_duration_string(const std::string& text);

struct RenderedRoute {
  nlohmann::json object;  // the HTTPRoute (gateway.networking.k8s.io/v1)
  std::string path;       // for status.routing.path
};

// The HTTPRoute for `service` (the AIMService object: metadata.name, namespace, uid, labels,
// annotations...). Errors: GatewayNotConfigured (no gatewayRef while enabled; invalid spec),
// PathTemplateInvalid (bad template or timeout; degraded), InvalidName (namespace too long).
// Call only when cfg.enabled.
Result<RenderedRoute, RouteError> render_http_route(const RoutingConfig& cfg,
                                                    const nlohmann::json& service);

}  // namespace aim::engine
