// WorkQueue benchmarks: add/get/done throughput with 1 and 4 workers, and de-duplication
// under bursts of the same keys.
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "kube/metrics.h"
#include "kube/workqueue.h"

namespace aim::bench {
namespace {

using kube::WorkQueue;

std::vector<std::string> make_keys(int n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    keys.push_back("ns-" + std::to_string(i % 10) + "/model-" + std::to_string(i));
  return keys;
}

WorkQueue::Options options(kube::metrics::Registry& reg) {
  WorkQueue::Options o;
  o.registry = &reg;
  return o;
}

// Single thread, no contention: add then get+done, one key at a time (the per-call cost).
void BM_WorkQueueAddGetDoneSerial(benchmark::State& state) {
  auto reg = kube::metrics::make_registry();
  WorkQueue q("bench", options(*reg));
  const auto keys = make_keys(1024);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& k = keys[i++ & 1023];
    q.add(k);
    auto got = q.get();
    q.done(*got);
  }
  state.SetItemsProcessed(state.iterations());
}

// n distinct keys added by one producer while `workers` threads get/done them; one iteration
// ends when every key was processed. items/s = keys through the queue per second.
void BM_WorkQueueThroughput(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const auto keys = make_keys(n);
  auto reg = kube::metrics::make_registry();
  for (auto _ : state) {
    WorkQueue q("bench", options(*reg));
    std::atomic<int> processed{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        while (auto k = q.get()) {
          processed.fetch_add(1, std::memory_order_relaxed);
          q.done(*k);
        }
      });
    }
    for (const auto& k : keys) q.add(k);
    while (processed.load() < n) std::this_thread::yield();
    q.shut_down();
    for (auto& t : pool) t.join();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Bursts: `keys` distinct keys, each added `repeat` times in a row by the producer, while
// workers process. "gets_per_key" is how many times a worker received each key (1 would be
// perfect de-duplication; at most repeat), "dedup_ratio" = adds / gets.
void BM_WorkQueueBurstDedup(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int nkeys = 1000;
  const int repeat = static_cast<int>(state.range(1));
  const auto keys = make_keys(nkeys);
  auto reg = kube::metrics::make_registry();
  long total_gets = 0;
  for (auto _ : state) {
    WorkQueue q("bench", options(*reg));
    std::atomic<long> gets{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        while (auto k = q.get()) {
          gets.fetch_add(1, std::memory_order_relaxed);
          q.done(*k);
        }
      });
    }
    for (int r = 0; r < repeat; ++r) {
      for (const auto& k : keys) q.add(k);
    }
    // After shut_down, get() still hands out every queued key (including keys that done()
    // re-queues), so joining the workers drains the queue completely.
    q.shut_down();
    for (auto& t : pool) t.join();
    total_gets += gets.load();
  }
  const double iters = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * nkeys * repeat);  // adds per second
  state.counters["gets_per_key"] = static_cast<double>(total_gets) / iters / nkeys;
  state.counters["dedup_ratio"] =
      static_cast<double>(nkeys) * repeat * iters / static_cast<double>(total_gets);
}

// The same burst with no worker running (keys pile up first, as during informer sync):
// every repeat is absorbed, "queued" must equal the distinct key count.
void BM_WorkQueueBurstNoWorkers(benchmark::State& state) {
  const int repeat = static_cast<int>(state.range(0));
  const auto keys = make_keys(1000);
  auto reg = kube::metrics::make_registry();
  std::size_t queued = 0;
  for (auto _ : state) {
    WorkQueue q("bench", options(*reg));
    for (int r = 0; r < repeat; ++r) {
      for (const auto& k : keys) q.add(k);
    }
    queued = q.len();
  }
  state.SetItemsProcessed(state.iterations() * 1000 * repeat);
  state.counters["queued"] = static_cast<double>(queued);
}

// add_after with distinct delays (requeue_after schedules): cost of the delayed-add heap.
void BM_WorkQueueAddAfter(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto keys = make_keys(n);
  auto reg = kube::metrics::make_registry();
  for (auto _ : state) {
    WorkQueue q("bench", options(*reg));
    for (int i = 0; i < n; ++i)
      q.add_after(keys[static_cast<std::size_t>(i)], std::chrono::seconds(60 + i));
    benchmark::DoNotOptimize(q.delayed());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_WorkQueueAddGetDoneSerial);
BENCHMARK(BM_WorkQueueThroughput)
    ->ArgNames({"workers", "keys"})
    ->Args({1, 10000})
    ->Args({4, 10000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WorkQueueBurstDedup)
    ->ArgNames({"workers", "repeat"})
    ->Args({1, 100})
    ->Args({4, 100})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WorkQueueBurstNoWorkers)
    ->ArgNames({"repeat"})
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WorkQueueAddAfter)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace aim::bench

BENCHMARK_MAIN();
