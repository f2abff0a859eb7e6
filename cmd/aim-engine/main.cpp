// aim-engine: the operator process. It wires the controller runtime (client, caches, leader
// election, metrics and health endpoints) and registers every AIM controller: the catalog
// (models, templates, runtime configs, model sources), services, and caching (template caches,
// artifacts, DynamoModels).
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "controllers/cache/cache.h"
#include "controllers/catalog/catalog.h"
#include "controllers/framework.h"
#include "controllers/service/service.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/log.h"
#include "kube/manager.h"

namespace {

// Set once the manager exists; a signal before that only records the request.
std::mutex g_mu;
aim::kube::Manager* g_manager = nullptr;
bool g_stop_requested = false;

void request_stop() {
  std::lock_guard lock(g_mu);
  g_stop_requested = true;
  if (g_manager != nullptr) g_manager->request_stop();
}

}  // namespace

int main(int argc, char** argv) {
  namespace kube = aim::kube;
  // glibc gives each allocating thread an arena of its own, up to eight per core, and memory freed
  // in one arena is reused only by that arena's threads. The operator runs about 70 threads (a
  // watch per kind, workers, event senders) that mostly wait: at 1000 services one arena took
  // 3.9 MiB off its peak RSS for no measurable time (bench/RESULTS.md); two keep the allocations
  // of two busy cores from queueing on one lock. MALLOC_ARENA_MAX, when set, still decides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  CLI::App app{"aim-engine: the AIM Engine operator"};
  app.set_version_flag("--version", AIM_ENGINE_VERSION);
  std::string kubeconfig;
  kube::ManagerOptions options;
  options.leader_election_namespace = aim::controllers::detect_operator_namespace();
  std::string log_format = "json";
  std::string log_level = "info";
  int lease_duration = 15, renew_deadline = 10, retry_period = 2;
  app.add_option("--kubeconfig", kubeconfig,
                 "Path to a kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  app.add_option("--metrics-bind-address", options.metrics_bind_address,
                 "Address of the metrics endpoint; \"0\" disables it")
      ->capture_default_str();
  app.add_flag("--metrics-secure", options.metrics_secure,
               "Serve metrics over HTTPS, to callers the API server authenticates (TokenReview) "
               "and authorizes for GET /metrics (SubjectAccessReview)")
      ->capture_default_str();
  app.add_option("--metrics-cert-dir", options.metrics_tls.cert_dir,
                 "Directory of the metrics serving certificate (reloaded when it changes); empty: "
                 "a self-signed certificate made at start")
      ->capture_default_str();
  app.add_option("--metrics-cert-name", options.metrics_tls.cert_name,
                 "Certificate file (PEM chain) in --metrics-cert-dir")
      ->capture_default_str();
  app.add_option("--metrics-key-name", options.metrics_tls.key_name,
                 "Private key file (PEM) in --metrics-cert-dir")
      ->capture_default_str();
  app.add_option("--metrics-tls-min-version", options.metrics_tls.min_version,
                 "Lowest TLS version of the secure metrics endpoint: 1.2 or 1.3")
      ->capture_default_str()
      ->check(CLI::IsMember({"1.2", "1.3"}));
  app.add_option("--health-probe-bind-address", options.health_probe_bind_address,
                 "Address of /healthz and /readyz; \"0\" disables it")
      ->capture_default_str();
  app.add_flag(
         "--leader-elect", options.leader_elect,
         "Elect a leader so that only one replica reconciles (--leader-elect=false to disable)")
      ->capture_default_str();
  app.add_option("--leader-election-id", options.leader_election_id, "Name of the leader Lease")
      ->capture_default_str();
  app.add_option("--leader-election-namespace", options.leader_election_namespace,
                 "Namespace of the leader Lease")
      ->capture_default_str();
  app.add_option("--leader-election-lease-duration", lease_duration, "Lease duration, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--leader-election-renew-deadline", renew_deadline, "Renew deadline, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--leader-election-retry-period", retry_period, "Retry period, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--log-format", log_format, "Log format: json or text")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "text"}));
  app.add_option("--log-level", log_level, "Log level: debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error"}));
  double kube_api_qps = kube::Config{}.qps;
  int kube_api_burst = kube::Config{}.burst;
  app.add_option("--kube-api-qps", kube_api_qps,
                 "Requests per second to the API server (client-side token bucket)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 100000.0));
  app.add_option("--kube-api-burst", kube_api_burst,
                 "Requests above --kube-api-qps allowed in a burst")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  bool kube_api_multiplex = kube::Config{}.multiplex;
  app.add_option("--kube-api-multiplex", kube_api_multiplex,
                 "Share connections to the API server among all watches and requests (one "
                 "HTTP/2 connection); false: a connection per watch and concurrent request")
      ->capture_default_str();
  int workers = aim::controllers::Context{}.workers;
  app.add_option("--workers", workers,
                 "Reconciles at once of the AIMService, AIMArtifact and AIMTemplateCache "
                 "controllers (each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);

  kube::log::Format format = kube::log::Format::kJson;
  kube::log::Level level = kube::log::Level::kInfo;
  kube::log::parse_format(log_format, format);
  kube::log::parse_level(log_level, level);
  kube::log::init(format, level);
  kube::log::Logger log("setup");
  if (!(renew_deadline < lease_duration && retry_period < renew_deadline)) {
    log.error(
        "invalid leader election timing: need retry-period < renew-deadline < lease-duration");
    return 1;
  }
  options.lease_duration = std::chrono::seconds(lease_duration);
  options.renew_deadline = std::chrono::seconds(renew_deadline);
  options.retry_period = std::chrono::seconds(retry_period);
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    options.identity = pod;  // unique per replica
  }

  // Before any thread starts, so that every thread inherits the blocked signal mask.
  kube::handle_shutdown_signals(request_stop);

  auto config = kube::Config::load(kubeconfig);
  if (!config) {
    log.error("unable to load kubeconfig", {{"error", config.error().describe()}});
    return 1;
  }
  config->qps = kube_api_qps;
  config->multiplex = kube_api_multiplex;
  config->burst = kube_api_burst;
  auto client = kube::Client::create(*config);
  if (!client) {
    log.error("unable to create client", {{"error", client.error().describe()}});
    return 1;
  }
  // Events get a client (and rate limit) of their own: see ManagerOptions::events_client.
  auto events_client = kube::Client::create(*config);
  if (!events_client) {
    log.error("unable to create client", {{"error", events_client.error().describe()}});
    return 1;
  }
  options.events_client = *events_client;
  auto version = (*client)->server_version();
  if (!version) {
    log.error("unable to reach the API server",
              {{"server", config->server}, {"error", version.error().describe()}});
    return 1;
  }
  log.info("connected to the API server",
           {{"server", config->server}, {"version", version->value("gitVersion", "unknown")}});

  kube::Manager manager(*client, options);
  {
    std::lock_guard lock(g_mu);
    g_manager = &manager;
    if (g_stop_requested) manager.request_stop();
  }
  aim::controllers::Context ctx;
  ctx.client = *client;
  ctx.informers = &manager.informers();
  ctx.manager = &manager;
  ctx.operator_namespace = aim::controllers::detect_operator_namespace();
  ctx.workers = workers;
  aim::controllers::register_catalog_controllers(manager, ctx);
  aim::controllers::register_service_controllers(manager, ctx);
  aim::controllers::register_cache_controllers(manager, ctx);
  log.info("controllers registered", {{"operatorNamespace", ctx.operator_namespace}});
  auto result = manager.run();
  {
    std::lock_guard lock(g_mu);
    g_manager = nullptr;
  }
  if (!result) {
    log.error("manager stopped with an error", {{"error", result.error()}});
    return 1;
  }
  return 0;
}
