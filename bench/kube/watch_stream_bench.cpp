// Watch stream decoding: newline-delimited JSON events of ~4 KiB Pod objects, delivered in
// random chunk sizes (up to the benchmark argument), as libcurl hands a watch body over.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bench/kube/objects.h"
#include "kube/watch_stream.h"

namespace aim::bench {
namespace {

constexpr int kEvents = 2000;

const std::string& stream() {
  static const std::string s = [] {
    std::string out;
    for (int i = 0; i < kEvents; ++i) {
      Json ev{{"type", i % 3 == 0 ? "ADDED" : "MODIFIED"},
              {"object", make_pod(i % 500, {}, 10 + i)}};
      out += ev.dump();
      out += '\n';
    }
    return out;
  }();
  return s;
}

// Chunk boundaries: random sizes in [1, max_chunk], fixed seed.
std::vector<std::string_view> chunks(std::size_t max_chunk) {
  const std::string& s = stream();
  std::mt19937 rng(1234);
  std::uniform_int_distribution<std::size_t> size(1, max_chunk);
  std::vector<std::string_view> out;
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t n = std::min(size(rng), s.size() - pos);
    out.emplace_back(s.data() + pos, n);
    pos += n;
  }
  return out;
}

void BM_WatchStreamDecode(benchmark::State& state) {
  const auto parts = chunks(static_cast<std::size_t>(state.range(0)));
  std::size_t decoded = 0;
  for (auto _ : state) {
    std::size_t seen = 0;
    kube::WatchStreamDecoder dec([&](kube::WatchEvent&& ev) {
      benchmark::DoNotOptimize(ev);
      ++seen;
      return true;
    });
    bool keep_going = true;
    for (auto c : parts) {
      auto r = dec.feed(c, keep_going);
      if (!r) state.SkipWithError("decode failed");
    }
    auto r = dec.finish(keep_going);
    if (!r) state.SkipWithError("finish failed");
    decoded = seen;
  }
  if (decoded != kEvents) state.SkipWithError("wrong event count");
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream().size()));
  state.counters["chunks"] = static_cast<double>(parts.size());
  state.counters["event_bytes"] = static_cast<double>(stream().size()) / kEvents;
}

// Baseline: nlohmann::json parsing of the same lines with no chunking (the floor the decoder
// can reach, since parsing dominates).
void BM_JsonParseLines(benchmark::State& state) {
  const std::string& s = stream();
  for (auto _ : state) {
    std::size_t pos = 0;
    while (pos < s.size()) {
      auto nl = s.find('\n', pos);
      auto j = Json::parse(std::string_view(s).substr(pos, nl - pos));
      benchmark::DoNotOptimize(j);
      pos = nl + 1;
    }
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(s.size()));
}

BENCHMARK(BM_WatchStreamDecode)
    ->ArgName("max_chunk")
    ->Arg(64)
    ->Arg(1024)
    ->Arg(16384)
    ->Arg(262144)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseLines)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace aim::bench

BENCHMARK_MAIN();
