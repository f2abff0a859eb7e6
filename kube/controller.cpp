#include "kube/controller.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>

namespace aim::kube {
namespace {

std::string group_of(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string()
                                         : std::string(api_version.substr(0, slash));
}

// controller-runtime's reconcile time buckets.
const std::vector<double>& reconcile_buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,  0.35,
                                     0.4,   0.45, 0.5,   0.6,  0.7, 0.8,  0.9, 1.0,  1.25, 1.5,
                                     1.75,  2.0,  2.5,   3.0,  3.5, 4.0,  4.5, 5,    6,    7,
                                     8,     9,    10,    15,   20,  25,   30,  40,   50,   60};
  return b;
}

void add_all(WorkQueue& q, const std::vector<Request>& reqs) {
  for (const auto& r : reqs) {
    if (!r.name.empty()) q.add(r.key());
  }
}

}  // namespace

// An update maps both the old and the new state (so moving an owner reference re-queues both
// owners), but each key is added once: adding the same key twice lets an idle worker take it
// between the adds and reconcile the same change twice.
EventHandler mapping_handler(std::shared_ptr<WorkQueue> queue, MapFunc map) {
  EventHandler h;
  h.on_add = [queue, map](const ObjectPtr& o) { add_all(*queue, map(*o)); };
  h.on_update = [queue, map](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
    std::vector<Request> reqs = map(*old_obj);
    for (auto& r : map(*new_obj)) {
      if (std::find(reqs.begin(), reqs.end(), r) == reqs.end()) reqs.push_back(std::move(r));
    }
    add_all(*queue, reqs);
  };
  h.on_delete = [queue, map](const ObjectPtr& o) { add_all(*queue, map(*o)); };
  return h;
}

Request Request::from_key(std::string_view key) {
  auto [ns, name] = split_key(key);
  return {std::move(ns), std::move(name)};
}

std::vector<Request> controller_owner_requests(const Json& object, const ResourceType& owner_type) {
  std::vector<Request> out;
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return out;
  auto refs = md->find("ownerReferences");
  if (refs == md->end() || !refs->is_array()) return out;
  for (const auto& ref : *refs) {
    if (!ref.is_object() || !ref.value("controller", false)) continue;
    if (ref.value("kind", "") != owner_type.kind) continue;
    if (group_of(ref.value("apiVersion", "")) != owner_type.group) continue;
    std::string ns = owner_type.namespaced ? md->value("namespace", "") : std::string();
    out.push_back({std::move(ns), ref.value("name", "")});
  }
  return out;
}

Controller::Controller(ControllerOptions options, InformerFactory& informers, Reconciler reconciler)
    : options_(std::move(options)),
      reconciler_(std::move(reconciler)),
      log_(log::Logger("controller").named(options_.name)) {
  if (options_.max_concurrent_reconciles < 1) options_.max_concurrent_reconciles = 1;
  WorkQueue::Options qo;
  if (options_.rate_limiter) qo.rate_limiter = options_.rate_limiter();
  qo.registry = options_.registry;
  queue_ = std::make_shared<WorkQueue>(options_.name, std::move(qo));

  auto& reg = options_.registry != nullptr ? *options_.registry : metrics::Registry::global();
  const std::string& n = options_.name;
  auto& total =
      reg.counter("controller_runtime_reconcile_total",
                  "Total number of reconciliations per controller", {"controller", "result"});
  result_success_ = &total.with({n, "success"});
  result_error_ = &total.with({n, "error"});
  result_requeue_ = &total.with({n, "requeue"});
  result_requeue_after_ = &total.with({n, "requeue_after"});
  errors_ = &reg.counter("controller_runtime_reconcile_errors_total",
                         "Total number of reconciliation errors per controller", {"controller"})
                 .with({n});
  panics_ = &reg.counter("controller_runtime_reconcile_panics_total",
                         "Total number of reconciliation panics per controller", {"controller"})
                 .with({n});
  reconcile_time_ = &reg.histogram("controller_runtime_reconcile_time_seconds",
                                   "Length of time per reconciliation per controller",
                                   {"controller"}, reconcile_buckets())
                         .with({n});
  active_workers_ = &reg.gauge("controller_runtime_active_workers",
                               "Number of currently used workers per controller", {"controller"})
                         .with({n});
  max_concurrent_ =
      &reg.gauge("controller_runtime_max_concurrent_reconciles",
                 "Maximum number of concurrent reconciles per controller", {"controller"})
           .with({n});
  max_concurrent_->set(options_.max_concurrent_reconciles);

  primary_ = informers.informer(options_.primary);
  informers_.push_back(primary_);
  primary_->add_handler(mapping_handler(queue_, [](const Json& o) {
    return std::vector<Request>{Request::from_key(object_key(o))};
  }));
  for (const auto& child : options_.owns) {
    auto inf = informers.informer(child);
    informers_.push_back(inf);
    inf->add_handler(mapping_handler(queue_, [owner = options_.primary](const Json& o) {
      return controller_owner_requests(o, owner);
    }));
  }
  for (const auto& w : options_.watches) {
    auto inf = informers.informer(w.type, {}, w.selectors);
    informers_.push_back(inf);
    inf->add_handler(mapping_handler(queue_, w.map));
  }
}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  if (!workers_.empty()) return;
  stop_.store(false);
  log_.info("Starting workers", {{"worker count", options_.max_concurrent_reconciles}});
  for (int i = 0; i < options_.max_concurrent_reconciles; ++i) {
    workers_.emplace_back([this] { worker(); });
  }
}

void Controller::stop() {
  stop_.store(true);
  queue_->shut_down();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

bool Controller::caches_synced(const std::atomic<bool>& stop) {
  for (const auto& inf : informers_) {
    while (!inf->wait_for_sync(std::chrono::seconds(1), &stop)) {
      if (stop.load()) return false;
    }
  }
  return true;
}

void Controller::worker() {
  if (!caches_synced(stop_)) return;
  // Not `while (get())`: the queue hands out what it holds even after shut_down, so a stopping
  // controller would drain its whole backlog at the client's rate limit (minutes for a rollout of
  // hundreds of services) before the manager releases the Lease. The keys left are not lost: the
  // next leader lists every object.
  while (!stop_.load()) {
    auto key = queue_->get();
    if (!key) break;
    process(*key);
    queue_->done(*key);
  }
}

void Controller::process(const std::string& key) {
  active_workers_->inc();
  auto started = std::chrono::steady_clock::now();
  std::optional<ReconcileResult> result;
  try {
    result.emplace(reconciler_(Request::from_key(key)));
  } catch (const std::exception& e) {
    panics_->inc();
    result.emplace(fail(ReconcileError(std::string("reconcile threw: ") + e.what())));
  } catch (...) {
    panics_->inc();
    result.emplace(fail(ReconcileError("reconcile threw a non-standard exception")));
  }
  reconcile_time_->observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  active_workers_->dec();

  if (!result->ok()) {
    result_error_->inc();
    errors_->inc();
    log_.error("Reconciler error", {{"key", key}, {"error", result->error().message}});
    if (options_.error_events != nullptr) {
      const Request req = Request::from_key(key);
      if (auto obj = primary_->store().get(req.ns, req.name)) {
        std::string note = result->error().message;
        if (note.size() > 1000) note = note.substr(0, 1000) + "...";
        options_.error_events->warning(*obj, "ReconcileError", "Reconcile",
                                       "Reconcile failed, retrying with backoff: " + note);
      }
    }
    queue_->add_rate_limited(key);
    return;
  }
  const Action& action = result->value();
  switch (action.kind()) {
    case Action::Kind::kDone:
      result_success_->inc();
      queue_->forget(key);
      break;
    case Action::Kind::kRequeue:
      result_requeue_->inc();
      queue_->add_rate_limited(key);
      break;
    case Action::Kind::kRequeueAfter:
      result_requeue_after_->inc();
      queue_->forget(key);
      queue_->add_after(key, action.after());
      break;
  }
}

ControllerBuilder::ControllerBuilder(InformerFactory& informers, std::string name, Sink sink)
    : informers_(informers), sink_(std::move(sink)) {
  options_.name = std::move(name);
}

ControllerBuilder& ControllerBuilder::for_type(ResourceType primary) {
  options_.primary = std::move(primary);
  return *this;
}

ControllerBuilder& ControllerBuilder::owns(ResourceType child) {
  options_.owns.push_back(std::move(child));
  return *this;
}

ControllerBuilder& ControllerBuilder::watches(ResourceType other, MapFunc map) {
  return watches(std::move(other), ListOptions{}, std::move(map));
}

ControllerBuilder& ControllerBuilder::watches(ResourceType other, ListOptions selectors,
                                              MapFunc map) {
  options_.watches.push_back(WatchSpec{std::move(other), std::move(map), std::move(selectors)});
  return *this;
}

ControllerBuilder& ControllerBuilder::max_concurrent_reconciles(int n) {
  options_.max_concurrent_reconciles = n;
  return *this;
}

ControllerBuilder& ControllerBuilder::rate_limiter(
    std::function<std::unique_ptr<RateLimiter>()> make) {
  options_.rate_limiter = std::move(make);
  return *this;
}

ControllerBuilder& ControllerBuilder::registry(metrics::Registry* registry) {
  options_.registry = registry;
  return *this;
}

ControllerBuilder& ControllerBuilder::error_events(EventRecorder* recorder) {
  options_.error_events = recorder;
  return *this;
}

std::unique_ptr<Controller> ControllerBuilder::build(Reconciler reconciler) {
  return std::make_unique<Controller>(options_, informers_, std::move(reconciler));
}

Controller& ControllerBuilder::complete(Reconciler reconciler) {
  auto c = build(std::move(reconciler));
  if (!sink_) throw std::logic_error("ControllerBuilder::complete needs a sink; use build()");
  return sink_(std::move(c));
}

}  // namespace aim::kube
