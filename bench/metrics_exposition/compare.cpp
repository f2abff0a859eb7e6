// The metrics exposition comparison of docs/architecture.md: fills a registry with the families
// the operator exposes (names, help, labels and buckets of kube/controller.cpp, kube/workqueue.cpp,
// kube/client.cpp, kube/leader_election.cpp, kube/events.cpp and the process figures) for 11
// controllers, then renders /metrics, with our kube::metrics or, built with -DUSE_PROMETHEUS_CPP,
// with prometheus-cpp (Debian prometheus-cpp-dev). Prints the render time and the allocations
// of one render; writes the last render to FILE.
//
//   compare FILE [tricky|help]   tricky: label values and values that need escaping or spelling
//                                out; help: a help text that needs escaping
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>
#ifdef USE_PROMETHEUS_CPP
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#else
#include "kube/metrics.h"
#endif

// Allocations, counted for one render.
static std::size_t g_allocs = 0, g_bytes = 0;
void* operator new(std::size_t n) {
  ++g_allocs;
  g_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

#ifdef USE_PROMETHEUS_CPP
// The same few calls over prometheus-cpp.
struct Impl {
  prometheus::Registry reg;
  std::map<std::string, void*> families;
  template <typename B>
  auto& family(B builder, const std::string& name, const std::string& help) {
    using F = std::remove_reference_t<decltype(builder.Name(name).Help(help).Register(reg))>;
    auto& slot = families[name];
    if (slot == nullptr) slot = &builder.Name(name).Help(help).Register(reg);
    return *static_cast<F*>(slot);
  }
  static std::map<std::string, std::string> map(const Labels& l) { return {l.begin(), l.end()}; }
  void counter(const std::string& n, const std::string& h, const Labels& l, double v) {
    family(prometheus::BuildCounter(), n, h).Add(map(l)).Increment(v);
  }
  void gauge(const std::string& n, const std::string& h, const Labels& l, double v) {
    family(prometheus::BuildGauge(), n, h).Add(map(l)).Set(v);
  }
  void observe(const std::string& n, const std::string& h, const Labels& l,
               const std::vector<double>& buckets, double v) {
    family(prometheus::BuildHistogram(), n, h).Add(map(l), buckets).Observe(v);
  }
  std::string render() { return prometheus::TextSerializer().Serialize(reg.Collect()); }
};
#else
struct Impl {
  std::unique_ptr<aim::kube::metrics::Registry> reg = aim::kube::metrics::make_registry();
  static std::vector<std::string> names(const Labels& l) {
    std::vector<std::string> out;
    for (const auto& [k, v] : l) out.push_back(k);
    return out;
  }
  static std::vector<std::string> values(const Labels& l) {
    std::vector<std::string> out;
    for (const auto& [k, v] : l) out.push_back(v);
    return out;
  }
  void counter(const std::string& n, const std::string& h, const Labels& l, double v) {
    reg->counter(n, h, names(l)).with(values(l)).inc(v);
  }
  void gauge(const std::string& n, const std::string& h, const Labels& l, double v) {
    reg->gauge(n, h, names(l)).with(values(l)).set(v);
  }
  void observe(const std::string& n, const std::string& h, const Labels& l,
               const std::vector<double>& buckets, double v) {
    reg->histogram(n, h, names(l), buckets).with(values(l)).observe(v);
  }
  std::string render() { return reg->render(); }
};
#endif

double next(unsigned& seed) {  // deterministic values in [0, 1)
  seed = seed * 1103515245u + 12345u;
  return static_cast<double>((seed >> 8) & 0xFFFFFF) / 16777216.0;
}

void operator_metrics(Impl& m) {
  const std::vector<double> reconcile{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,  0.35,
                                      0.4,   0.45, 0.5,   0.6,  0.7, 0.8,  0.9, 1.0,  1.25, 1.5,
                                      1.75,  2.0,  2.5,   3.0,  3.5, 4.0,  4.5, 5,    6,    7,
                                      8,     9,    10,    15,   20,  25,   30,  40,   50,   60};
  std::vector<double> queue;
  for (double b = 1e-8; queue.size() < 10; b *= 10) queue.push_back(b);
  unsigned seed = 1;
  for (const char* c :
       {"aimservice", "aimmodel", "aimclustermodel", "aimservicetemplate",
        "aimclusterservicetemplate", "aimtemplatecache", "aimartifact", "aimclustermodelsource",
        "aimruntimeconfig", "aimclusterruntimeconfig", "aimclusterartifactdownloader"}) {
    const Labels ctl{{"controller", c}}, q{{"name", c}};
    for (const char* r : {"success", "error", "requeue", "requeue_after"}) {
      m.counter("controller_runtime_reconcile_total",
                "Total number of reconciliations per controller",
                {{"controller", c}, {"result", r}}, std::floor(next(seed) * 1000));
    }
    m.counter("controller_runtime_reconcile_errors_total",
              "Total number of reconciliation errors per controller", ctl, 3);
    m.counter("controller_runtime_reconcile_panics_total",
              "Total number of reconciliation panics per controller", ctl, 0);
    m.gauge("controller_runtime_active_workers", "Number of currently used workers per controller",
            ctl, 1);
    m.gauge("controller_runtime_max_concurrent_reconciles",
            "Maximum number of concurrent reconciles per controller", ctl, 4);
    m.gauge("workqueue_depth", "Current depth of workqueue", q, 2);
    m.counter("workqueue_adds_total", "Total number of adds handled by workqueue", q, 1200);
    m.counter("workqueue_retries_total", "Total number of retries handled by workqueue", q, 17);
    m.gauge("workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed "
            "by work_duration. Large values indicate stuck threads.",
            q, 0.25);
    m.gauge("workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.", q,
            0.125);
    for (int i = 0; i < 200; ++i) {
      m.observe("controller_runtime_reconcile_time_seconds",
                "Length of time per reconciliation per controller", ctl, reconcile,
                next(seed) * next(seed) * 5);
      m.observe("workqueue_queue_duration_seconds",
                "How long in seconds an item stays in workqueue before being requested", q, queue,
                next(seed) * 1e-3);
      m.observe("workqueue_work_duration_seconds",
                "How long in seconds processing an item from workqueue takes", q, queue,
                next(seed) * 0.1);
    }
  }
  for (const char* code : {"200", "201", "404", "409", "422", "500"}) {
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      m.counter("rest_client_requests_total",
                "Number of HTTP requests, partitioned by status code, method, and host.",
                {{"code", code}, {"method", method}, {"host", "10.96.0.1:443"}},
                std::floor(next(seed) * 5000));
    }
  }
  m.gauge("leader_election_master_status",
          "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, "
          "1 indicates master. 'name' is the string used to identify the lease. Please make sure "
          "to group by name.",
          {{"name", "aim-engine-leader"}}, 1);
  m.counter("event_recorder_dropped_total", "Events dropped because the recorder's queue was full.",
            {}, 0);
  m.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
            12.34);
  m.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {}, 48562176);
  m.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, 1257635840);
  m.gauge("process_open_fds", "Number of open file descriptors.", {}, 23);
  m.gauge("process_max_fds", "Maximum number of open file descriptors.", {}, 1048576);
  m.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          {}, 1796630400.25);
}

// What has to be escaped or spelled out: a label value with a backslash, a quote, a newline and
// UTF-8; NaN, infinities, tiny, huge and negative values.
void tricky_metrics(Impl& m) {
  m.gauge("tricky_label_values", "Label values.",
          {{"v", "back\\slash \"quoted\"\nnext line \xC3\xA9\xF0\x9F\x98\x80 {a=\"b\"}"}}, 1);
  m.gauge("tricky_values", "Values.", {{"v", "nan"}}, std::nan(""));
  m.gauge("tricky_values", "Values.", {{"v", "+inf"}}, HUGE_VAL);
  m.gauge("tricky_values", "Values.", {{"v", "-inf"}}, -HUGE_VAL);
  m.gauge("tricky_values", "Values.", {{"v", "tiny"}}, 5e-324);
  m.gauge("tricky_values", "Values.", {{"v", "huge"}}, 1.7976931348623157e308);
  m.gauge("tricky_values", "Values.", {{"v", "negative"}}, -0.1);
  m.gauge("tricky_values", "Values.", {{"v", "big integer"}}, 9007199254740993.0);
  m.gauge("tricky_values", "Values.", {{"v", "third"}}, 1.0 / 3);
  m.observe("tricky_histogram", "Observations of NaN and infinity.", {}, {1, 2}, HUGE_VAL);
  m.observe("tricky_histogram", "Observations of NaN and infinity.", {}, {1, 2}, 1.5);
}

// Help text with a backslash and a newline.
void help_metrics(Impl& m) {
  m.gauge("tricky_help", "Help: backslash \\ and\nnewline.", {}, 1);
  m.gauge("after_tricky_help", "The family after it.", {}, 2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string mode = argc > 2 ? argv[2] : "";
  const bool tricky = !mode.empty();
  Impl m;
  if (mode == "tricky") {
    tricky_metrics(m);
  } else if (mode == "help") {
    help_metrics(m);
  } else {
    operator_metrics(m);
  }
  std::string text;
  const int rounds = tricky ? 1 : 2000;
  double best = 1e18;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) text = m.render();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count() / rounds);
  }
  g_allocs = g_bytes = 0;
  text = m.render();
  const std::size_t allocs = g_allocs, bytes = g_bytes;
  std::ofstream(argv[1], std::ios::binary) << text;
  std::printf(
      "%zu bytes, %zu lines; render %.0f us (best of 5 x %d); one render: %zu allocations, "
      "%zu bytes allocated\n",
      text.size(), static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), best,
      rounds, allocs, bytes);
}
