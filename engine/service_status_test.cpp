#include "engine/service_status.h"

#include <gtest/gtest.h>

#include <functional>

namespace aim::engine {
namespace {

// A service whose every component is healthy: Running.
ServiceObservation healthy() {
  ServiceObservation o;
  o.model = {ModelObservation::Kind::Found, "AIMModel", "llama", "Ready", "", {}};
  o.template_.kind = TemplateObservation::Kind::Found;
  o.template_.kind_name = "AIMServiceTemplate";
  o.template_.name = "llama-mi300x";
  o.template_.status = "Ready";
  o.isvc.kind = IsvcObservation::Kind::Present;
  o.isvc.ready = true;
  ComponentHealth pods;
  pods.state = ComponentState::Ready;
  pods.reason = "PodsReady";
  pods.message = "Pods are ready";
  o.pods = pods;
  CachingInput ci;
  ci.mode = CachingMode::Shared;
  ci.template_ready = ci.model_ready = ci.template_has_sources = true;
  ci.cache = CachingInput::Cache::Ready;
  ci.isvc_exists = ci.isvc_mounts_template_cache = true;
  o.cache = decide_caching(ci).cache_health;
  return o;
}

const Condition* find(const DerivedStatus& d, const std::string& type) {
  for (const auto& c : d.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

DerivedStatus derive(const ServiceObservation& o, const std::vector<Condition>& old = {}) {
  return derive_service_status(service_components(o), old);
}

TEST(ServiceStatus, HealthyIsRunning) {
  auto d = derive(healthy());
  EXPECT_EQ(d.status, "Running");
  EXPECT_TRUE(d.should_apply);
  ASSERT_NE(find(d, "Ready"), nullptr);
  EXPECT_EQ(find(d, "Ready")->status, "True");
  EXPECT_EQ(find(d, "Ready")->reason, "AllComponentsReady");
  std::vector<std::string> types;
  for (const auto& c : d.conditions) types.push_back(c.type);
  // Routing off and no autoscaling: no HTTPRouteReady / HPAReady, no empty "Ready" component.
  EXPECT_EQ(types, (std::vector<std::string>{"ModelReady", "TemplateReady", "InferenceServiceReady",
                                             "InferenceServicePodsReady", "CacheReady", "Ready"}));
}

TEST(ServiceStatus, RootStatusTable) {
  struct Case {
    std::string label;
    std::function<void(ServiceObservation&)> mutate;
    std::string status, ready_reason;
  };
  std::vector<Case> cases = {
      {"model pending upstream -> Pending", [](auto& o) { o.model.status = "Progressing"; },
       "Pending", "Progressing"},
      {"model failed -> Failed", [](auto& o) { o.model.status = "Failed"; }, "Failed",
       "ModelNotReady"},
      {"model will be created -> Pending",
       [](auto& o) {
         o.model = {ModelObservation::Kind::WillCreate,  "", "", "",
                    "Model will be created for image x", {}};
       },
       "Pending", "Progressing"},
      {"model not found (missing upstream) -> Failed, applies blocked",
       [](auto& o) {
         o.model.kind = ModelObservation::Kind::Error;
         o.model.error = {ErrorCategory::kMissingUpstream, "ModelNotFound",
                          "model \"x\" not found"};
       },
       "Failed", "ReferenceNotFound"},
      {"template NotAvailable -> NotAvailable",
       [](auto& o) { o.template_.status = "NotAvailable"; }, "NotAvailable", "TemplateNotReady"},
      {"isvc not ready -> Starting", [](auto& o) { o.isvc.ready = false; }, "Starting",
       "Progressing"},
      {"isvc missing -> Starting",
       [](auto& o) {
         o.isvc.kind = IsvcObservation::Kind::NotFound;
         o.pods.reset();
       },
       "Starting", "Progressing"},
      {"serverless rejected -> Failed", [](auto& o) { o.isvc.serverless_rejected = true; },
       "Failed", "ServerlessModeRejected"},
      {"conflict-like internal error ignored",
       [](auto& o) { o.isvc.internal_error_event = "Operation cannot be fulfilled on x"; },
       "Running", "AllComponentsReady"},
      {"internal error event -> Failed",
       [](auto& o) { o.isvc.internal_error_event = "admission webhook denied"; }, "Failed",
       "InternalError"},
      {"isvc read infra error -> Degraded",
       [](auto& o) {
         o.isvc.kind = IsvcObservation::Kind::Error;
         o.isvc.error = {ErrorCategory::kInfrastructure, "Timeout", "timeout"};
         o.pods.reset();
       },
       "Degraded", "FetchError"},
      {"unknown error in model with ready rest -> Degraded",
       [](auto& o) {
         o.model.kind = ModelObservation::Kind::Error;
         o.model.error = {ErrorCategory::kUnknown, "UnknownError", "multiple models found"};
       },
       "Degraded", "UnknownError"},
  };
  for (const auto& c : cases) {
    auto o = healthy();
    c.mutate(o);
    auto d = derive(o);
    EXPECT_EQ(d.status, c.status) << c.label;
    ASSERT_NE(find(d, "Ready"), nullptr) << c.label;
    EXPECT_EQ(find(d, "Ready")->reason, c.ready_reason) << c.label;
  }
}

TEST(ServiceStatus, TheTemplatesOwnReasonIsAppendedAndPullSecretsBlockTheApply) {
  auto o = healthy();
  o.template_.status = "NotAvailable";
  o.template_.detail =
      "Requires 20 amd.com/gpu in one pod, but the largest MI300X node can "
      "allocate 8";
  auto d = derive(o);
  ASSERT_NE(find(d, "Ready"), nullptr);
  EXPECT_EQ(find(d, "Ready")->message,
            "Component Template is not ready: " + o.template_.kind_name + " " + o.template_.name +
                " is not available (no matching GPUs): " + o.template_.detail);

  o = healthy();
  o.isvc.kind = IsvcObservation::Kind::NotFound;
  o.pods.reset();
  ComponentHealth pull;
  pull.component = "ImagePullSecret";
  pull.state = ComponentState::Failed;
  pull.reason = "SecretNotFound";
  pull.message = "imagePullSecret \"regcred\" not found in namespace \"ns\"";
  pull.dependency = Dependency::Upstream;
  pull.error = ErrorCategory::kMissingUpstream;
  o.pull_secrets = pull;
  d = derive(o);
  EXPECT_EQ(d.status, "Failed");
  EXPECT_FALSE(d.should_apply);
  ASSERT_NE(find(d, "ImagePullSecretReady"), nullptr);
  EXPECT_EQ(find(d, "ImagePullSecretReady")->reason, "SecretNotFound");
  EXPECT_EQ(find(d, "ConfigValid")->message,
            "Referenced resource not found: ImagePullSecret: " + pull.message);
}

TEST(ServiceStatus, InfraErrorDegradesNonReadyService) {
  auto o = healthy();
  o.isvc.ready = false;
  o.runtime_config = RuntimeConfigObservation{
      false, ObservedError{ErrorCategory::kInfrastructure, "Timeout", "etcd timeout"}};
  // The runtime config component is Failed (explicit state); an infrastructure error turns any
  // non-ready root into Degraded.
  auto d = derive(o);
  EXPECT_EQ(d.status, "Degraded");
  EXPECT_TRUE(d.infrastructure_error);
  EXPECT_FALSE(d.should_apply);
  ASSERT_NE(find(d, "DependenciesReachable"), nullptr);
  EXPECT_EQ(find(d, "DependenciesReachable")->status, "False");

  // A Progressing component plus an infrastructure error elsewhere gives Degraded.
  std::vector<ComponentHealth> comps = {
      {"A", ComponentState::Progressing, "X", "", Dependency::Downstream, std::nullopt, true},
      {"B", ComponentState::Progressing, "Y", "", Dependency::Downstream, ErrorCategory::kUnknown,
       true}};
  auto d2 = derive_service_status(comps, {});
  EXPECT_EQ(d2.status, "Degraded");
  EXPECT_EQ(find(d2, "Ready")->reason, "InfrastructureError");
}

TEST(ServiceStatus, TemplateSelectionOutcomes) {
  struct Case {
    SelectionOutcome outcome;
    std::string reason, status;
  } cases[] = {
      {SelectionOutcome::Ambiguous, "TemplateSelectionAmbiguous", "Failed"},
      {SelectionOutcome::NoneReady, "TemplateNotReady", "Pending"},
      {SelectionOutcome::NoMatch, "TemplateNotFound", "Pending"},
      {SelectionOutcome::NoCandidates, "TemplateNotFound", "Pending"},
  };
  for (const auto& c : cases) {
    auto o = healthy();
    o.isvc.kind = IsvcObservation::Kind::NotFound;
    o.pods.reset();
    TemplateSelection s;
    s.outcome = c.outcome;
    s.reason = c.reason;
    s.message = "selection says so";
    o.template_ = {};
    o.template_.kind = TemplateObservation::Kind::Selection;
    o.template_.selection = s;
    auto d = derive(o);
    EXPECT_EQ(d.status, c.status) << c.reason;
    ASSERT_NE(find(d, "TemplateReady"), nullptr);
    EXPECT_EQ(find(d, "TemplateReady")->reason, c.reason);
    EXPECT_EQ(find(d, "TemplateReady")->message, "selection says so");
  }
}

TEST(ServiceStatus, RoutingAndHpaComponents) {
  auto o = healthy();
  o.routing.enabled = true;
  o.routing.render_error = RouteError{"PathTemplateInvalid", "expression {.x}: .x not found"};
  auto d = derive(o);
  EXPECT_EQ(d.status, "Degraded");
  EXPECT_EQ(find(d, "HTTPRouteReady")->reason, "PathTemplateInvalid");
  EXPECT_TRUE(d.should_apply);  // the rest of the service keeps being applied

  o.routing.render_error = RouteError{"GatewayNotConfigured", "no gateway"};
  d = derive(o);
  EXPECT_EQ(d.status, "Failed");
  EXPECT_FALSE(d.should_apply);
  EXPECT_EQ(find(d, "ConfigValid")->reason, "InvalidSpec");

  o = healthy();
  o.routing.enabled = true;
  o.routing.route = RoutingObservation::Route::Present;
  o.routing.health = ComponentHealth{"",  ComponentState::Ready,  "HTTPRouteAccepted",
                                     "",  Dependency::Downstream, std::nullopt,
                                     true};
  o.hpa.configured = true;
  o.hpa.kind = HpaObservation::Kind::Present;
  o.hpa.scaling_active = true;
  d = derive(o);
  EXPECT_EQ(d.status, "Running");
  EXPECT_EQ(find(d, "HTTPRouteReady")->status, "True");
  EXPECT_EQ(find(d, "HPAReady")->reason, "HPAOperational");

  o.hpa.scaling_active = false;
  o.hpa.scaling_active_message = "no metrics";
  d = derive(o);
  EXPECT_EQ(find(d, "HPAReady")->reason, "MetricsFailed");
  o.isvc.ready = false;
  d = derive(o);
  EXPECT_EQ(find(d, "HPAReady")->reason, "WaitingForMetrics");
}

TEST(ServiceStatus, FrameworkConditionsFlipBackOnlyIfTheyExisted) {
  auto d = derive(healthy());
  EXPECT_EQ(find(d, "DependenciesReachable"), nullptr);
  EXPECT_EQ(find(d, "ConfigValid"), nullptr);
  std::vector<Condition> old = {{"ConfigValid", "False", "InvalidSpec", "x", "t0", std::nullopt}};
  d = derive(healthy(), old);
  ASSERT_NE(find(d, "ConfigValid"), nullptr);
  EXPECT_EQ(find(d, "ConfigValid")->status, "True");
  EXPECT_EQ(find(d, "ConfigValid")->reason, "ConfigurationValid");
}

TEST(MergeConditions, KeepsTimesAndDropsStale) {
  std::vector<Condition> old = {
      {"ModelReady", "True", "ModelResolved", "old message", "t0", std::nullopt},
      {"TemplateReady", "False", "TemplateNotReady", "", "t0", std::nullopt},
      {"HTTPRouteReady", "False", "HTTPRouteCreating", "", "t0",
       std::nullopt},  // routing turned off
  };
  std::vector<Condition> desired = {
      {"ModelReady", "True", "ModelResolved", "new message", "", std::nullopt},  // message only
      {"TemplateReady", "True", "Resolved", "", "", std::nullopt},               // transition
      {"Ready", "False", "Progressing", "", "", std::nullopt},                   // new
  };
  auto merged = merge_conditions(old, desired, "t1");
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].last_transition_time, "t0");
  EXPECT_EQ(merged[0].message, "new message");
  EXPECT_EQ(merged[1].last_transition_time, "t1");
  EXPECT_EQ(merged[2].last_transition_time, "t1");
  for (const auto& c : merged) EXPECT_NE(c.type, "HTTPRouteReady");
}

TEST(MergeConditions, SteadyStateIsAFixedPoint) {
  auto d = derive(healthy());
  auto first = merge_conditions({}, d.conditions, "t0");
  auto second = merge_conditions(first, derive(healthy(), first).conditions, "t1");
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(to_json(first[i]), to_json(second[i]));
}

TEST(ConditionJson, RoundTrip) {
  Condition c{"Ready", "True", "AllComponentsReady", "ok", "2026-01-01T00:00:00Z", 3};
  auto back = condition_from_json(to_json(c));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(to_json(*back), to_json(c));
  EXPECT_FALSE(condition_from_json(nlohmann::json{{"status", "True"}}).has_value());
}

TEST(CachingMode, Parse) {
  EXPECT_EQ(parse_caching_mode(""), CachingMode::Auto);
  EXPECT_EQ(parse_caching_mode("Always"), CachingMode::Always);
  EXPECT_EQ(parse_caching_mode("Never"), CachingMode::Never);
  EXPECT_EQ(parse_caching_mode("Shared"), CachingMode::Shared);
  EXPECT_EQ(parse_caching_mode("Dedicated"), CachingMode::Dedicated);
}

TEST(DecideCaching, Table) {
  using K = ModelStorage::Kind;
  using C = CachingInput::Cache;
  struct Case {
    std::string label;
    CachingMode mode;
    C cache;
    bool isvc_exists, mounts_cache;
    bool create_cache, create_pvc, apply;
    K storage;
    std::string cache_reason;
    bool affects;
  } cases[] = {
      {"Always waits for the cache", CachingMode::Always, C::Absent, false, false, true, false,
       false, K::None, "CacheCreating", true},
      {"Always deploys on a Ready cache", CachingMode::Always, C::Ready, false, false, false, false,
       true, K::TemplateCache, "CacheReady", true},
      {"Shared keeps live volumes", CachingMode::Shared, C::Ready, true, true, false, false, true,
       K::Live, "CacheReady", true},
      {"Shared cache lost", CachingMode::Shared, C::Absent, true, true, true, false, true, K::Live,
       "CacheLost", true},
      {"Dedicated recreated", CachingMode::Dedicated, C::Absent, true, true, true, false, true,
       K::Live, "CacheCreating", true},
      {"Auto deploys at once from a PVC", CachingMode::Auto, C::Absent, false, false, true, true,
       true, K::ServicePvc, "CacheCreating", false},
      {"Auto keeps the PVC while warming", CachingMode::Auto, C::Progressing, true, false, false,
       true, true, K::ServicePvc, "CacheNotReady", false},
      {"Auto switches once the cache is Ready", CachingMode::Auto, C::Ready, true, false, false,
       false, true, K::TemplateCache, "CacheReady", true},
      {"Auto stays on the cache once switched", CachingMode::Auto, C::Progressing, true, true,
       false, false, true, K::Live, "CacheNotReady", true},
      {"Auto with a failed cache runs degraded", CachingMode::Auto, C::Failed, true, false, false,
       true, true, K::ServicePvc, "CacheFailed", true},
      {"Never uses only the service PVC", CachingMode::Never, C::Absent, false, false, false, true,
       true, K::ServicePvc, "CachingDisabled", true},
  };
  for (const auto& c : cases) {
    CachingInput in;
    in.mode = c.mode;
    in.template_ready = in.model_ready = in.template_has_sources = true;
    in.cache = c.cache;
    in.isvc_exists = c.isvc_exists;
    in.isvc_mounts_template_cache = c.mounts_cache;
    auto d = decide_caching(in);
    EXPECT_EQ(d.create_template_cache, c.create_cache) << c.label;
    EXPECT_EQ(d.create_service_pvc, c.create_pvc) << c.label;
    EXPECT_EQ(d.apply_isvc, c.apply) << c.label;
    if (c.apply) {
      EXPECT_EQ(d.storage, c.storage) << c.label;
    }
    EXPECT_EQ(d.waiting.empty(), c.apply) << c.label;
    EXPECT_EQ(d.cache_health.reason, c.cache_reason) << c.label;
    EXPECT_EQ(d.cache_health.affects_readiness, c.affects) << c.label;
  }
}

TEST(DecideCaching, ModesAndUpstreamGate) {
  CachingInput in;
  in.mode = CachingMode::Dedicated;
  in.template_ready = in.template_has_sources = true;
  auto d = decide_caching(in);
  EXPECT_EQ(d.template_cache_mode, "Dedicated");
  EXPECT_FALSE(d.apply_isvc);  // the model is not Ready yet
  EXPECT_NE(d.waiting.find("model"), std::string::npos);

  in.mode = CachingMode::Always;
  in.template_has_sources = false;
  d = decide_caching(in);
  EXPECT_EQ(d.template_cache_mode, "Shared");
  EXPECT_FALSE(d.create_template_cache);  // nothing to cache yet
  EXPECT_NE(d.cache_health.message.find("model sources"), std::string::npos);
}

TEST(DecideCaching, UnknownModelSizeMeansNoServicePvc) {
  CachingInput in;
  in.template_ready = in.model_ready = in.template_has_sources = true;
  in.model_size_known = false;
  for (auto mode : {CachingMode::Auto, CachingMode::Never}) {
    in.mode = mode;
    auto d = decide_caching(in);
    EXPECT_TRUE(d.apply_isvc) << to_string(mode);
    EXPECT_FALSE(d.create_service_pvc) << to_string(mode);
    EXPECT_EQ(d.storage, ModelStorage::Kind::None) << to_string(mode);
    EXPECT_NE(d.cache_health.message.find("ephemeral storage"), std::string::npos)
        << to_string(mode);
  }
  in.mode = CachingMode::Always;  // waits for the cache as always; the size does not matter
  EXPECT_FALSE(decide_caching(in).apply_isvc);
}

TEST(ServiceStatus, AutoCacheWarmingDoesNotHoldBackRunning) {
  auto o = healthy();
  CachingInput ci;
  ci.mode = CachingMode::Auto;
  ci.template_ready = ci.model_ready = ci.template_has_sources = true;
  ci.cache = CachingInput::Cache::Progressing;
  ci.isvc_exists = true;
  o.cache = decide_caching(ci).cache_health;
  auto d = derive(o);
  EXPECT_EQ(d.status, "Running");
  EXPECT_EQ(find(d, "CacheReady")->status, "False");  // still visible
  EXPECT_EQ(find(d, "Ready")->status, "True");
}

// With no model (or no Ready template) nothing is served, so the Cache message does not claim
// to be "serving without a cache".
TEST(ServiceStatus, AutoCacheMessageClaimsServingOnlyWhenThereIsSomethingToServe) {
  CachingInput ci;
  ci.mode = CachingMode::Auto;
  ci.model_size_known = false;
  ci.model_ready = false;
  ci.template_ready = false;
  auto none = decide_caching(ci).cache_health;
  EXPECT_EQ(none.message.find("Serving"), std::string::npos) << none.message;
  ci.model_ready = ci.template_ready = ci.template_has_sources = true;
  auto served = decide_caching(ci).cache_health;
  EXPECT_EQ(served.message.rfind("Serving ", 0), 0u) << served.message;
}

TEST(ServicePvcBytes, Table) {
  constexpr int64_t GiB = int64_t{1} << 30;
  EXPECT_EQ(service_pvc_bytes({10 * GiB}, 10), 11 * GiB);
  EXPECT_EQ(service_pvc_bytes({GiB / 2, GiB / 2}, 0), GiB);
  EXPECT_EQ(service_pvc_bytes({GiB + 1}, 0), 2 * GiB);
  EXPECT_EQ(service_pvc_bytes({GiB, std::nullopt}, 10), std::nullopt);
  EXPECT_EQ(service_pvc_bytes({}, 10), std::nullopt);
}

TEST(RuntimeStatus, Table) {
  auto fixed = runtime_status(std::nullopt, std::nullopt, 3);
  EXPECT_EQ(fixed, (nlohmann::json{{"currentReplicas", 3},
                                   {"desiredReplicas", 3},
                                   {"minReplicas", 3},
                                   {"maxReplicas", 3},
                                   {"replicas", "3"}}));
  EXPECT_EQ(runtime_status(std::nullopt, 2, 5)["replicas"], "2");  // minReplicas wins over replicas
  EXPECT_EQ(runtime_status(std::nullopt, std::nullopt, std::nullopt)["currentReplicas"], 1);
  HpaReplicas hpa{1, 4, 2, 3};
  EXPECT_EQ(runtime_status(hpa, 1, 1)["replicas"], "2/3 (1-4)");
  HpaReplicas nil_min{std::nullopt, 2, 2, 2};
  EXPECT_EQ(runtime_status(nil_min, 1, 1)["replicas"], "2/2 (0-2)");
}

}  // namespace
}  // namespace aim::engine
