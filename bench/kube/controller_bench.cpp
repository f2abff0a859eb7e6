// Controller end to end over the in-memory FakeClient: FakeClient watch -> Watcher ->
// Informer (Store + handlers) -> WorkQueue -> reconcile workers.
//  * BM_ControllerChangesToReconciles: N objects change once each; time until N reconciles.
//  * BM_ControllerIdle: nothing changes for a window; reconciles, API calls and CPU time in it
//    (the "idle means idle" figures: the first two should be zero).
#include <benchmark/benchmark.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/kube/objects.h"
#include "kube/controller.h"
#include "kube/informer.h"
#include "kube/log.h"
#include "kube/metrics.h"
#include "kube/testing/fake_client.h"

namespace aim::bench {
namespace {

using namespace std::chrono_literals;
using kube::testing::FakeClient;

kube::ResourceType templates_type() {
  return {"aim.eai.amd.com", "v1alpha1", "aimservicetemplates", "AIMServiceTemplate", true};
}

// An AIMServiceTemplate-shaped object of ~4 KiB (the Pod generator's metadata and bulk, with
// a spec the benchmark changes).
Json make_template(int i, int revision) {
  Json o = make_pod(i);
  o["apiVersion"] = "aim.eai.amd.com/v1alpha1";
  o["kind"] = "AIMServiceTemplate";
  o["metadata"].erase("resourceVersion");
  o["metadata"].erase("uid");
  o["metadata"].erase("ownerReferences");
  o["spec"]["modelName"] = "meta-llama/Llama-3.1-8B-Instruct";
  o["spec"]["metric"] = "latency";
  o["spec"]["precision"] = "fp16";
  o["spec"]["revision"] = revision;
  return o;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One controller over a FakeClient preloaded with n templates, started and synced, with every
// initial reconcile done.
struct Rig {
  std::shared_ptr<FakeClient> client = std::make_shared<FakeClient>();
  std::unique_ptr<kube::metrics::Registry> registry = kube::metrics::make_registry();
  std::unique_ptr<kube::InformerFactory> factory;
  std::unique_ptr<kube::Controller> controller;
  std::mutex mu;
  std::condition_variable cv;
  long reconciles = 0;
  std::atomic<long> updates{0};  // watch updates the informer delivered to handlers

  Rig(int n, int workers) {
    for (int i = 0; i < n; ++i)
      client->inject(templates_type(), kube::WatchEvent::Type::kAdded, make_template(i, 0));
    factory = std::make_unique<kube::InformerFactory>(client);
    controller = kube::ControllerBuilder(*factory, "bench")
                     .for_type(templates_type())
                     .max_concurrent_reconciles(workers)
                     .registry(registry.get())
                     .build([this](const kube::Request&) -> kube::ReconcileResult {
                       {
                         std::lock_guard lock(mu);
                         ++reconciles;
                       }
                       cv.notify_all();
                       return kube::Action::done();
                     });
    kube::EventHandler counter;
    counter.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr&) { ++updates; };
    factory->informer(templates_type())->add_handler(std::move(counter));
    factory->start();
    controller->start();
  }
  ~Rig() {
    controller->stop();
    factory->stop();
  }
  // Waits until at least `target` reconciles happened; false on timeout.
  bool wait_for(long target, std::chrono::seconds timeout = 120s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return reconciles >= target; });
  }
  long count() {
    std::lock_guard lock(mu);
    return reconciles;
  }
};

void quiet_logs() {
  static bool once = [] {
    kube::log::init(kube::log::Format::kText, kube::log::Level::kError);
    return true;
  }();
  (void)once;
}

void BM_ControllerChangesToReconciles(benchmark::State& state) {
  quiet_logs();
  const int n = static_cast<int>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  Rig rig(n, workers);
  if (!rig.wait_for(n)) {
    state.SkipWithError("initial reconciles did not happen");
    return;
  }
  // Settle: the initial list may be followed by a few duplicate adds; start from a quiet point.
  std::this_thread::sleep_for(200ms);
  int revision = 0;
  long extra = 0;
  double cpu = 0;
  const long updates0 = rig.updates.load();
  for (auto _ : state) {
    state.PauseTiming();
    ++revision;
    std::vector<Json> changed;
    changed.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) changed.push_back(make_template(i, revision));
    const long base = rig.count();
    const double c0 = process_cpu_seconds();
    state.ResumeTiming();
    for (auto& o : changed) {
      rig.client->inject(templates_type(), kube::WatchEvent::Type::kModified, std::move(o));
    }
    if (!rig.wait_for(base + n)) {
      state.SkipWithError("reconciles did not arrive");
      break;
    }
    state.PauseTiming();
    cpu += process_cpu_seconds() - c0;
    std::this_thread::sleep_for(50ms);
    extra += rig.count() - (base + n);
    state.ResumeTiming();
  }
  const double changes = static_cast<double>(state.iterations()) * n;
  state.SetItemsProcessed(state.iterations() * n);
  // Reconciles beyond one per changed object (one watch event per object per round, so the
  // ideal is 0), watch updates per change (1 expected) and CPU of the whole process (fake API
  // server, watcher, informer, queue, workers) per change.
  state.counters["extra_reconciles_per_change"] = static_cast<double>(extra) / changes;
  state.counters["updates_per_change"] =
      static_cast<double>(rig.updates.load() - updates0) / changes;
  state.counters["cpu_us_per_change"] = cpu * 1e6 / changes;
}

void BM_ControllerIdle(benchmark::State& state) {
  quiet_logs();
  const int n = static_cast<int>(state.range(0));
  Rig rig(n, 2);
  if (!rig.wait_for(n)) {
    state.SkipWithError("initial reconciles did not happen");
    return;
  }
  std::this_thread::sleep_for(500ms);
  const auto window = std::chrono::milliseconds(state.range(1));
  long reconciles = 0;
  std::size_t api_calls = 0;
  double cpu = 0;
  for (auto _ : state) {
    const long r0 = rig.count();
    const std::size_t a0 = rig.client->actions().size();
    const double c0 = process_cpu_seconds();
    std::this_thread::sleep_for(window);
    cpu += process_cpu_seconds() - c0;
    reconciles += rig.count() - r0;
    api_calls += rig.client->actions().size() - a0;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["idle_reconciles"] = static_cast<double>(reconciles) / iters;
  state.counters["idle_api_calls"] = static_cast<double>(api_calls) / iters;
  state.counters["idle_cpu_ms_per_s"] =
      cpu * 1000.0 / (iters * std::chrono::duration<double>(window).count());
  state.counters["initial_reconciles_per_obj"] = static_cast<double>(rig.count() - reconciles) / n;
}

BENCHMARK(BM_ControllerChangesToReconciles)
    ->ArgNames({"objects", "workers"})
    ->Args({1000, 1})
    ->Args({1000, 4})
    ->Args({5000, 1})
    ->Args({5000, 4})
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ControllerIdle)
    ->ArgNames({"objects", "window_ms"})
    ->Args({1000, 3000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace aim::bench

BENCHMARK_MAIN();
