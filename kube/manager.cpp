#include "kube/manager.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace aim::kube {

Manager::Manager(std::shared_ptr<Client> client, ManagerOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      registry_(options_.registry != nullptr ? *options_.registry : metrics::Registry::global()),
      informers_(client_),
      log_("manager") {
  if (options_.identity.empty()) options_.identity = default_identity();
}

Manager::~Manager() {
  request_stop();
  stop_controllers();
  informers_.stop();
}

ControllerBuilder Manager::controller(const std::string& name) {
  ControllerBuilder b(informers_, name, [this](std::unique_ptr<Controller> c) -> Controller& {
    return add(std::move(c));
  });
  b.registry(&registry_);
  b.error_events(&event_recorder("aim-" + name + "-controller"));
  return b;
}

Controller& Manager::add(std::unique_ptr<Controller> controller) {
  std::lock_guard lock(mu_);
  controllers_.push_back(std::move(controller));
  Controller& c = *controllers_.back();
  if (controllers_running_) c.start();
  return c;
}

EventRecorder& Manager::event_recorder(const std::string& reporting_controller) {
  std::lock_guard lock(mu_);
  auto& slot = recorders_[reporting_controller];
  if (!slot) {
    EventRecorderOptions o;
    o.reporting_controller = reporting_controller;
    o.reporting_instance = options_.identity.substr(0, 128);
    o.registry = &registry_;
    slot = std::make_unique<EventRecorder>(
        options_.events_client ? options_.events_client : client_, o);
  }
  return *slot;
}

void Manager::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

bool Manager::wait_serving(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return serving_ || stop_requested_; }) && serving_;
}

void Manager::start_controllers() {
  std::lock_guard lock(mu_);
  if (controllers_running_) return;
  controllers_running_ = true;
  for (auto& c : controllers_) c->start();
}

void Manager::stop_controllers() {
  std::vector<Controller*> running;
  {
    std::lock_guard lock(mu_);
    if (!controllers_running_) return;
    controllers_running_ = false;
    for (auto& c : controllers_) running.push_back(c.get());
  }
  for (auto* c : running) c->stop();
}

aim::Result<void, std::string> Manager::serve_endpoints() {
  metrics::add_process_collector(registry_);
  auto metrics_handler = [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", registry_.render()};
  };
  auto healthz = [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; charset=utf-8", "ok"};
  };
  auto readyz = [this](const HttpRequest&) {
    if (ready()) return HttpResponse{200, "text/plain; charset=utf-8", "ok"};
    return HttpResponse{500, "text/plain; charset=utf-8", "informers not synced"};
  };
  auto metrics_addr = parse_bind_address(options_.metrics_bind_address);
  if (!metrics_addr) return fail(metrics_addr.error());
  auto health_addr = parse_bind_address(options_.health_probe_bind_address);
  if (!health_addr) return fail(health_addr.error());
  // One server for both; port 0 asks for two ports, whatever the host.
  const bool same_address = options_.metrics_bind_address == options_.health_probe_bind_address &&
                            metrics_addr->port != 0;
  const bool secure = options_.metrics_secure && metrics_addr->port >= 0;
  if (secure && same_address && health_addr->port >= 0)
    return fail(std::string(
        "secure metrics need a health probe address of their own: probes do not authenticate"));
  if (metrics_addr->port >= 0) {
    std::shared_ptr<TlsServing> tls;
    if (secure) {
      auto created = TlsServing::create(options_.metrics_tls);
      if (!created) return fail("metrics TLS: " + created.error());
      tls = *created;
      metrics_auth_ = std::make_unique<DelegatedAuth>(options_.metrics_reviewer
                                                          ? options_.metrics_reviewer
                                                          : make_api_server_reviewer(client_));
      metrics_server_.route("/metrics", metrics_auth_->protect(metrics_handler));
    } else {
      metrics_server_.route("/metrics", metrics_handler);
    }
    if (same_address) {
      metrics_server_.route("/healthz", healthz);
      metrics_server_.route("/readyz", readyz);
    }
    auto started = metrics_server_.start(options_.metrics_bind_address, tls);
    if (!started) return fail("metrics server: " + started.error());
    metrics_port_.store(metrics_server_.port());
    log_.info("serving metrics",
              {{"address", options_.metrics_bind_address},
               {"port", metrics_server_.port()},
               {"secure", secure},
               {"certificate", !secure              ? "none"
                               : tls->self_signed() ? "self-signed"
                                                    : options_.metrics_tls.cert_dir}});
  }
  if (health_addr->port >= 0 && !(same_address && metrics_addr->port >= 0)) {
    health_server_.route("/healthz", healthz);
    health_server_.route("/readyz", readyz);
    auto started = health_server_.start(options_.health_probe_bind_address);
    if (!started) {
      metrics_server_.stop();
      return fail("health probe server: " + started.error());
    }
    health_port_.store(health_server_.port());
    log_.info("serving health probes",
              {{"address", options_.health_probe_bind_address}, {"port", health_server_.port()}});
  } else if (same_address) {
    health_port_.store(metrics_port_.load());
  }
  return Ok{};
}

aim::Result<void, std::string> Manager::run() {
  auto served = serve_endpoints();
  {
    std::lock_guard lock(mu_);
    serving_ = served.ok();
    // A failed start ends run() at once: wait_serving() must not wait for it.
    if (!served) stop_requested_ = true;
  }
  cv_.notify_all();
  if (!served) return served;

  // --- caches, then leadership, then controllers ---
  informers_.start();
  std::atomic<bool> elector_stop{false};
  std::thread elector_thread;
  std::unique_ptr<LeaderElector> elector;
  if (options_.leader_elect) {
    LeaderElectionConfig lc;
    lc.lease_namespace = options_.leader_election_namespace;
    lc.lease_name = options_.leader_election_id;
    lc.identity = options_.identity;
    lc.lease_duration = options_.lease_duration;
    lc.renew_deadline = options_.renew_deadline;
    lc.retry_period = options_.retry_period;
    lc.registry = &registry_;
    elector = std::make_unique<LeaderElector>(client_, lc);
    elector_thread = std::thread([&, this] {
      LeaderCallbacks cb;
      cb.on_started_leading = [this] {
        leading_.store(true);
        log_.info("became leader", {{"identity", options_.identity},
                                    {"lease", options_.leader_election_namespace + "/" +
                                                  options_.leader_election_id}});
        start_controllers();
      };
      cb.on_stopped_leading = [this] { leading_.store(false); };
      bool clean = elector->run(elector_stop, cb);
      if (!clean) {
        std::lock_guard lock(mu_);
        lost_ = true;
        stop_requested_ = true;
        cv_.notify_all();
      }
    });
  } else {
    leading_.store(true);
    start_controllers();
  }

  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_requested_; });
  }
  log_.info("stopping");
  // Controllers first, so that no reconcile runs after the lease is released.
  stop_controllers();
  elector_stop.store(true);
  if (elector_thread.joinable()) elector_thread.join();
  informers_.stop();
  {
    std::lock_guard lock(mu_);
    for (auto& [name, rec] : recorders_) rec->flush(std::chrono::seconds(2));
  }
  metrics_server_.stop();
  health_server_.stop();
  {
    std::lock_guard lock(mu_);
    serving_ = false;
    if (lost_) return fail(std::string("leader election lost"));
  }
  log_.info("stopped");
  return Ok{};
}

void handle_shutdown_signals(std::function<void()> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal)] {
    int count = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (++count == 1) {
        log::Logger("manager").info("shutdown signal received",
                                    {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        if (on_signal) on_signal();
      } else {
        _exit(1);  // second signal: the operator asked twice, stop now
      }
    }
  }).detach();
}

}  // namespace aim::kube
