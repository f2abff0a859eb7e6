// Manager: the process around the controllers. It owns the shared client, the informer
// factory (one cache per watched type), the controllers, leader election, event recorders
// and the HTTP endpoints (/metrics; /healthz and /readyz, ready once the caches have synced).
// With metrics_secure, /metrics is served over TLS and only to callers the API server
// authenticates and authorizes (kube/delegated_auth.h), as controller-runtime's secure serving;
// the health probes stay plain HTTP on their own address.
//
// Caches start at once (a standby is warm when it takes over); controllers start only while
// this process holds the leader lease. Shutdown (request_stop, e.g. from SIGTERM): controllers
// finish their current reconcile, then the lease is released so a standby takes over at once,
// then caches and servers stop. Losing the lease ends run() with an error: the process exits
// and restarts as a candidate, which is the only safe way to drop in-flight work.
//
//   Manager mgr(client, options);
//   mgr.controller("model").for_type(models).owns(types::jobs()).complete(reconcile);
//   handle_shutdown_signals([&] { mgr.request_stop(); });
//   auto r = mgr.run();
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "kube/client.h"
#include "kube/controller.h"
#include "kube/delegated_auth.h"
#include "kube/events.h"
#include "kube/http_server.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/log.h"
#include "kube/metrics.h"
#include "kube/tls_serving.h"

namespace aim::kube {

struct ManagerOptions {
  std::string metrics_bind_address = ":8080";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  // Secure metrics: TLS with metrics_tls's certificate (self-signed in memory when its cert_dir
  // is empty), and a TokenReview and SubjectAccessReview per caller (cached). Needs a health
  // probe address of its own.
  bool metrics_secure = false;
  TlsServingOptions metrics_tls;
  // Who answers the reviews: the API server through the manager's client when null.
  std::shared_ptr<Reviewer> metrics_reviewer;
  bool leader_elect = true;
  std::string leader_election_id = "aim-engine-leader";
  std::string leader_election_namespace = "aim-system";
  std::string identity;  // default_identity() when empty
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  metrics::Registry* registry = nullptr;  // Registry::global() when null
  // The client events are written with: a client of its own, so that events (with their own
  // per-controller token bucket) never take the reconciles' share of the API rate limit, as
  // controller-runtime's event broadcaster has its own clientset. The manager's client when null.
  std::shared_ptr<Client> events_client;
};

class Manager {
 public:
  Manager(std::shared_ptr<Client> client, ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  const std::shared_ptr<Client>& client() const { return client_; }
  InformerFactory& informers() { return informers_; }
  const ManagerOptions& options() const { return options_; }
  const std::string& identity() const { return options_.identity; }

  // Register controllers before run().
  ControllerBuilder controller(const std::string& name);
  Controller& add(std::unique_ptr<Controller> controller);
  // One recorder per reporting controller name, shared; reportingInstance is the identity.
  EventRecorder& event_recorder(const std::string& reporting_controller);

  // Serves, elects, runs controllers; blocks until request_stop() or leadership is lost.
  aim::Result<void, std::string> run();
  void request_stop();
  bool is_leader() const { return leading_.load(); }
  bool ready() const { return informers_.synced(); }
  // Bound ports once run() has started the servers (-1 when disabled).
  int metrics_port() const { return metrics_port_.load(); }
  int health_port() const { return health_port_.load(); }
  // Blocks until the servers are listening (or run() failed / stopped).
  bool wait_serving(std::chrono::milliseconds timeout);

 private:
  aim::Result<void, std::string> serve_endpoints();  // /metrics, /healthz, /readyz
  void start_controllers();
  void stop_controllers();

  std::shared_ptr<Client> client_;
  ManagerOptions options_;
  metrics::Registry& registry_;
  InformerFactory informers_;
  log::Logger log_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  bool lost_ = false;
  bool serving_ = false;
  std::vector<std::unique_ptr<Controller>> controllers_;
  bool controllers_running_ = false;
  std::map<std::string, std::unique_ptr<EventRecorder>> recorders_;

  std::atomic<bool> leading_{false};
  std::atomic<int> metrics_port_{-1};
  std::atomic<int> health_port_{-1};
  std::unique_ptr<DelegatedAuth> metrics_auth_;  // before the server: it outlives the handlers
  HttpServer metrics_server_;
  HttpServer health_server_;
};

// Call first in main(), before any thread starts: blocks SIGINT and SIGTERM in every thread and
// starts one thread that waits for them. The first signal calls on_signal; a second one ends
// the process at once with exit code 1.
void handle_shutdown_signals(std::function<void()> on_signal);

}  // namespace aim::kube
