// Throughput of the digests aim-fetch verifies with, per core, over 1 MiB blocks (the size of
// one curl delivery): what verification costs on each source. bench/fetch/bench.py runs it.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "fetch/digest.h"

namespace {

using aim::fetch::Digest;
using aim::fetch::DigestAlgorithm;

const std::string& block() {
  static const std::string data = [] {
    std::string s(1 << 20, '\0');
    std::mt19937_64 rng(42);
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }();
  return data;
}

void BM_Digest(benchmark::State& state, DigestAlgorithm algorithm) {
  const std::string& data = block();
  for (auto _ : state) {
    Digest d(algorithm);
    for (int i = 0; i < 16; ++i) d.update(data);
    benchmark::DoNotOptimize(d.hex());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 16 *
                          static_cast<int64_t>(data.size()));
}

BENCHMARK_CAPTURE(BM_Digest, sha256, DigestAlgorithm::kSha256);
BENCHMARK_CAPTURE(BM_Digest, sha1, DigestAlgorithm::kSha1);
BENCHMARK_CAPTURE(BM_Digest, md5, DigestAlgorithm::kMd5);
BENCHMARK_CAPTURE(BM_Digest, crc64nvme, DigestAlgorithm::kCrc64Nvme);
BENCHMARK_CAPTURE(BM_Digest, crc32c, DigestAlgorithm::kCrc32c);
BENCHMARK_CAPTURE(BM_Digest, crc32, DigestAlgorithm::kCrc32);

}  // namespace

BENCHMARK_MAIN();
