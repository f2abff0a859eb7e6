// Store (informer cache) benchmarks at 1k / 10k / 50k Pod-shaped objects of ~4 KiB:
// insert, update, delete, get, index lookups (namespace, owner UID, label) and memory per object.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include "bench/kube/objects.h"
#include "kube/store.h"

namespace aim::bench {
namespace {

using kube::Store;

const ObjectShape kShape{};

// Objects are built once per size and copied into stores (the informer copies each event's
// object into the store as well, so the copy is part of the realistic cost of a write).
const std::vector<Json>& pods(int n) {
  static std::map<int, std::vector<Json>> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, make_pods(n, kShape)).first;
  return it->second;
}

void fill(Store& s, int n) {
  for (const auto& o : pods(n)) s.upsert(o);
}

// Inserting n new objects into an empty store (items/s = inserts per second).
void BM_StoreInsert(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto& objs = pods(n);
  for (auto _ : state) {
    state.PauseTiming();
    auto copies = objs;  // moved into the store: measures the store, not the JSON copy
    auto s = std::make_unique<Store>();
    state.ResumeTiming();
    for (auto& o : copies) s->upsert(std::move(o));
    state.PauseTiming();
    s.reset();  // destruction is not part of the insert figure
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["object_bytes"] = static_cast<double>(objs.front().dump().size());
}

// Replacing one existing object with a newer version in a store of n (copy included, as in
// Informer::on_event, which upserts a copy of the event's object).
void BM_StoreUpdate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Store s;
  fill(s, n);
  std::vector<Json> next;
  for (int i = 0; i < 256; ++i) next.push_back(make_pod((i * 7919) % n, kShape, 2 + i));
  std::size_t i = 0;
  for (auto _ : state) {
    auto old = s.upsert(next[i++ % next.size()]);
    benchmark::DoNotOptimize(old);
  }
  state.SetItemsProcessed(state.iterations());
}

// Baseline for BM_StoreUpdate: copying one ~4 KiB object and freeing the copy it replaces,
// which an update through the informer also pays, without any store work.
void BM_JsonCopyBaseline(benchmark::State& state) {
  std::vector<Json> next;
  for (int i = 0; i < 256; ++i) next.push_back(make_pod(i, kShape, 2 + i));
  Json held = next[0];
  std::size_t i = 0;
  for (auto _ : state) {
    held = next[i++ % next.size()];
    benchmark::DoNotOptimize(held);
  }
  state.SetItemsProcessed(state.iterations());
}

// Deleting all n objects by key.
void BM_StoreDelete(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<std::string> keys;
  for (const auto& o : pods(n)) keys.push_back(kube::object_key(o));
  std::mt19937 rng(42);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (auto _ : state) {
    state.PauseTiming();
    auto s = std::make_unique<Store>();
    fill(*s, n);
    std::vector<kube::ObjectPtr> removed;
    removed.reserve(keys.size());
    state.ResumeTiming();
    // The removed objects are kept so that freeing 4 KiB JSON trees is not timed here.
    for (const auto& k : keys) removed.push_back(s->remove(k));
    state.PauseTiming();
    removed.clear();
    s.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// The second argument, when given, is the representation (0 trees, 1 packed): a packed get
// decodes the object (nobody else holds it here), so the figure is the decode's cost.
void BM_StoreGet(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Store s(state.range(1) == 1 ? Store::Representation::kPacked : Store::Representation::kTree);
  fill(s, n);
  std::vector<std::string> keys;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, n - 1);
  for (int i = 0; i < 4096; ++i) keys.push_back(kube::object_key(pods(n)[pick(rng)]));
  std::size_t i = 0;
  for (auto _ : state) {
    auto p = s.get(keys[i++ & 4095]);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}

// One index lookup; "results" is the number of objects each lookup returns.
// warm_up_note: each lookup benchmark makes one untimed call first. In a full run, right after
// an earlier benchmark freed a 50k-object store, a single first call was seen to take seconds
// (glibc malloc consolidating millions of freed chunks on the first larger allocation), which
// the one-iteration estimate of Google Benchmark then reported as the result.
void index_lookup(benchmark::State& state, const char* index,
                  const std::function<std::string(int)>& value_of, int values) {
  const int n = static_cast<int>(state.range(0));
  Store s;
  fill(s, n);
  benchmark::DoNotOptimize(s.by_index(index, value_of(0)));  // warm-up, see warm_up_note
  std::size_t returned = 0;
  int i = 0;
  for (auto _ : state) {
    auto r = s.by_index(index, value_of(i++ % values));
    returned += r.size();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["results"] =
      static_cast<double>(returned) / static_cast<double>(state.iterations());
}

void BM_StoreByNamespace(benchmark::State& state) {
  index_lookup(
      state, kube::index_names::kNamespace, [](int v) { return "ns-" + std::to_string(v); },
      kShape.namespaces);
}

void BM_StoreByOwnerUid(benchmark::State& state) {
  const int owners = static_cast<int>(state.range(0)) / kShape.per_owner;
  index_lookup(
      state, kube::index_names::kOwnerUid, [](int v) { return owner_uid(v); }, owners);
}

void BM_StoreByLabel(benchmark::State& state) {
  index_lookup(
      state, kube::index_names::kLabel, [](int v) { return "app=model-" + std::to_string(v); },
      kShape.apps);
}

// by_labels with a namespace: the store narrows by the first label pair, then filters.
void BM_StoreByLabelsInNamespace(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Store s;
  fill(s, n);
  benchmark::DoNotOptimize(s.by_labels({{"app", "model-0"}}, "ns-0"));  // warm-up
  std::size_t returned = 0;
  int i = 0;
  for (auto _ : state) {
    std::map<std::string, std::string> sel{{"app", "model-" + std::to_string(i % kShape.apps)},
                                           {"app.kubernetes.io/managed-by", "aim-engine"}};
    auto r = s.by_labels(sel, "ns-" + std::to_string(i % kShape.namespaces));
    ++i;
    returned += r.size();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["results"] =
      static_cast<double>(returned) / static_cast<double>(state.iterations());
}

// Listing everything (a full resync or a by-hand scan).
void BM_StoreList(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Store s;
  fill(s, n);
  benchmark::DoNotOptimize(s.list());  // warm-up
  for (auto _ : state) {
    auto r = s.list();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Memory held per cached object: heap (mallinfo2) and RSS (/proc/self/statm) growth while
// filling a store with n objects that are moved in (no other copy is alive). The second argument
// is the representation: 0 trees, 1 packed (Store::Representation).
void BM_StoreMemory(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto representation =
      state.range(1) == 0 ? Store::Representation::kTree : Store::Representation::kPacked;
  const double json_bytes = static_cast<double>(make_pod(0, kShape).dump().size());
  double heap_per = 0, rss_per = 0, index_per = 0, tree_per = 0;
  for (auto _ : state) {
    malloc_trim(0);
    const long heap0 = heap_bytes();
    const long rss0 = rss_bytes();
    auto s = std::make_unique<Store>(representation);
    for (int i = 0; i < n; ++i) s->upsert(make_pod(i, kShape));
    const long heap1 = heap_bytes();
    const long rss1 = rss_bytes();
    heap_per = static_cast<double>(heap1 - heap0) / n;
    rss_per = static_cast<double>(rss1 - rss0) / n;
    // The store's own overhead (keys, index entries, shared_ptr blocks): the growth minus the
    // heap of the same JSON trees held alone (sampled on up to 1000 objects). Negative for a
    // packed store, which holds no trees.
    const int sample = std::min(n, 1000);
    std::vector<Json> alone;
    alone.reserve(static_cast<std::size_t>(sample));
    const long heap2 = heap_bytes();
    for (int i = 0; i < sample; ++i) alone.push_back(make_pod(i, kShape));
    tree_per = static_cast<double>(heap_bytes() - heap2) / sample;
    index_per = heap_per - tree_per;
    state.PauseTiming();
    alone.clear();
    s.reset();
    state.ResumeTiming();
  }
  state.counters["json_text_bytes"] = json_bytes;
  state.counters["heap_per_json_byte"] = heap_per / json_bytes;
  state.counters["heap_bytes_per_obj"] = heap_per;
  state.counters["rss_bytes_per_obj"] = rss_per;
  state.counters["json_tree_bytes_per_obj"] = tree_per;
  state.counters["store_overhead_bytes_per_obj"] = index_per;
}

void sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(10000)->Arg(50000);
}

BENCHMARK(BM_StoreInsert)->Apply(sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreUpdate)->Apply(sizes);
BENCHMARK(BM_JsonCopyBaseline);
BENCHMARK(BM_StoreDelete)->Apply(sizes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreGet)->ArgsProduct({{1000, 10000, 50000}, {0, 1}});
BENCHMARK(BM_StoreByNamespace)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StoreByOwnerUid)->Apply(sizes);
BENCHMARK(BM_StoreByLabel)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StoreByLabelsInNamespace)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StoreList)->Apply(sizes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_StoreMemory)
    ->ArgsProduct({{1000, 10000, 50000}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace aim::bench

BENCHMARK_MAIN();
