// Controller: turns watch events into level-triggered reconciles of a primary kind.
//
//   auto& c = manager.controller("model")                 // or ControllerBuilder(factory, "model")
//       .for_type(aim_models)                             // primary: its own changes enqueue it
//       .owns(types::jobs())                              // child -> its controller owner
//       .watches(types::config_maps(), map_config_to_models)  // any kind -> keys you choose
//       .watches(types::pods(), {.label_selector = "app=x"}, map_pods)  // only what matches
//       .max_concurrent_reconciles(2)
//       .complete([&](const Request& req) -> ReconcileResult {
//         ...                                             // read, compute, converge
//         return Action::requeue_after(std::chrono::seconds(30));
//       });
//
// Keys go through a WorkQueue (de-duplicated; one worker per key at a time). A reconcile
// returns an Action: done (forget the backoff), requeue (rate-limited), requeue_after(d), or
// an error (logged, counted, retried with per-key exponential backoff).
// "Owns" follows controller-runtime: a child's ownerReference with controller=true whose
// apiVersion group and kind match the primary enqueues that owner (in the child's namespace,
// or cluster-wide when the primary is cluster-scoped). Both the old and the new state of an
// updated object are mapped, so moving an owner reference re-queues both owners.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "kube/error.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/log.h"
#include "kube/metrics.h"
#include "kube/workqueue.h"

namespace aim::kube {

struct Request {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;
  std::string key() const { return object_key(ns, name); }
  static Request from_key(std::string_view key);
  bool operator==(const Request&) const = default;
};

class Action {
 public:
  enum class Kind { kDone, kRequeue, kRequeueAfter };
  static Action done() { return Action(Kind::kDone, {}); }
  // Again soon, through the rate limiter (backs off if repeated).
  static Action requeue() { return Action(Kind::kRequeue, {}); }
  // Again after d (the backoff is reset: this is a schedule, not a failure).
  static Action requeue_after(Duration d) { return Action(Kind::kRequeueAfter, d); }
  Kind kind() const { return kind_; }
  Duration after() const { return after_; }

 private:
  Action(Kind k, Duration d) : kind_(k), after_(d) {}
  Kind kind_;
  Duration after_;
};

// A failed reconcile. Converts from a kube::Error so `return fail(err)` works for client calls.
struct ReconcileError {
  std::string message;
  ReconcileError() = default;
  explicit ReconcileError(std::string m) : message(std::move(m)) {}
  explicit ReconcileError(const Error& e) : message(e.describe()) {}
};

using ReconcileResult = aim::Result<Action, ReconcileError>;
using Reconciler = std::function<ReconcileResult(const Request&)>;
// Maps a watched object to the primary objects to reconcile.
using MapFunc = std::function<std::vector<Request>(const Json& object)>;

// The event handler that feeds a watched kind into a controller's queue through `map`: adds,
// deletes, and updates (old and new state, each resulting key added once).
EventHandler mapping_handler(std::shared_ptr<WorkQueue> queue, MapFunc map);

// A watched kind and how its objects map to primaries. With selectors the controller shares the
// informer of that (type, selector) pair: only matching objects are cached and mapped, which
// keeps a watch on a busy kind (Pods) small.
struct WatchSpec {
  ResourceType type;
  MapFunc map;
  ListOptions selectors;  // label_selector / field_selector; empty: every object
};

struct ControllerOptions {
  std::string name;
  ResourceType primary;
  std::vector<ResourceType> owns;
  std::vector<WatchSpec> watches;
  int max_concurrent_reconciles = 1;
  // Builds the queue's rate limiter; default_controller_rate_limiter() when empty.
  std::function<std::unique_ptr<RateLimiter>()> rate_limiter;
  metrics::Registry* registry = nullptr;  // Registry::global() when null
  // When set, every failed reconcile is also a Warning event `ReconcileError` on the primary
  // object (read from the cache), so an error reaches the object and not only the log. The
  // recorder folds repeats into one series (a count), so a retry loop stays one event.
  EventRecorder* error_events = nullptr;
};

class Controller {
 public:
  // Registers event handlers on the factory's shared informers at once; keys queue up until
  // start() launches the workers.
  Controller(ControllerOptions options, InformerFactory& informers, Reconciler reconciler);
  ~Controller();  // stops
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return options_.name; }
  // Starts the workers; each waits until the controller's informers have synced.
  void start();
  // Shuts the queue down and waits for in-flight reconciles to finish.
  void stop();
  // The primary kind's cache (reads for the reconciler).
  Store& cache() { return primary_->store(); }
  WorkQueue& queue() { return *queue_; }
  void enqueue(const Request& r) { queue_->add(r.key()); }

 private:
  void worker();
  void process(const std::string& key);
  bool caches_synced(const std::atomic<bool>& stop);

  ControllerOptions options_;
  Reconciler reconciler_;
  std::shared_ptr<WorkQueue> queue_;  // shared with informer handlers, which may outlive us
  std::shared_ptr<Informer> primary_;
  std::vector<std::shared_ptr<Informer>> informers_;
  log::Logger log_;

  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;

  metrics::Counter* result_success_;
  metrics::Counter* result_error_;
  metrics::Counter* result_requeue_;
  metrics::Counter* result_requeue_after_;
  metrics::Counter* errors_;
  metrics::Counter* panics_;
  metrics::Histogram* reconcile_time_;
  metrics::Gauge* active_workers_;
  metrics::Gauge* max_concurrent_;
};

class ControllerBuilder {
 public:
  // sink receives the built controller (the Manager's add). complete() needs a sink;
  // build() returns the controller to the caller instead.
  using Sink = std::function<Controller&(std::unique_ptr<Controller>)>;
  ControllerBuilder(InformerFactory& informers, std::string name, Sink sink = {});

  ControllerBuilder& for_type(ResourceType primary);
  ControllerBuilder& owns(ResourceType child);
  ControllerBuilder& watches(ResourceType other, MapFunc map);
  // Only objects matching `selectors` (label and/or field selector) are watched and mapped. Read
  // them through InformerFactory::informer(type, "", selectors), the same shared cache.
  ControllerBuilder& watches(ResourceType other, ListOptions selectors, MapFunc map);
  ControllerBuilder& max_concurrent_reconciles(int n);
  ControllerBuilder& rate_limiter(std::function<std::unique_ptr<RateLimiter>()> make);
  ControllerBuilder& registry(metrics::Registry* registry);
  ControllerBuilder& error_events(EventRecorder* recorder);

  // Builds the controller. With a sink, returns the registered controller.
  Controller& complete(Reconciler reconciler);
  // Builds without a sink: the caller owns the controller.
  std::unique_ptr<Controller> build(Reconciler reconciler);

 private:
  InformerFactory& informers_;
  ControllerOptions options_;
  Sink sink_;
};

// The Requests an object's controller owner reference points at, for a primary type
// (helper behind owns(); exposed for tests and custom mappings).
std::vector<Request> controller_owner_requests(const Json& object, const ResourceType& owner_type);

}  // namespace aim::kube
