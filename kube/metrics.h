// Prometheus metrics: counters, gauges and histograms in labelled families, rendered in the
// text exposition format. Names follow controller-runtime (controller_runtime_reconcile_total,
// workqueue_depth, rest_client_requests_total, ...) so that existing dashboards work.
// All operations are thread-safe; a metric handle stays valid for the registry's lifetime.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace aim::kube::metrics {

class Counter {
 public:
  virtual ~Counter() = default;
  virtual void inc(double v = 1) = 0;
  virtual double value() const = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void set(double v) = 0;
  virtual void inc(double v = 1) = 0;
  virtual void dec(double v = 1) = 0;
  virtual double value() const = 0;
};

class Histogram {
 public:
  virtual ~Histogram() = default;
  virtual void observe(double v) = 0;
  virtual uint64_t count() const = 0;
  virtual double sum() const = 0;
};

template <typename M>
class Family {
 public:
  virtual ~Family() = default;
  // Values in the order of the family's label names; creates the series on first use.
  virtual M& with(const std::vector<std::string>& label_values) = 0;
};

class Registry {
 public:
  static Registry& global();
  virtual ~Registry() = default;
  // Registering the same name twice returns the same family.
  virtual Family<Counter>& counter(const std::string& name, const std::string& help,
                                   const std::vector<std::string>& label_names) = 0;
  virtual Family<Gauge>& gauge(const std::string& name, const std::string& help,
                               const std::vector<std::string>& label_names) = 0;
  virtual Family<Histogram>& histogram(const std::string& name, const std::string& help,
                                       const std::vector<std::string>& label_names,
                                       const std::vector<double>& buckets) = 0;
  // Prometheus text format 0.0.4. Runs the collectors first.
  virtual std::string render() const = 0;

  // A collector sets metrics whose value is read when scraped (process figures, the age of the
  // work in progress); render() runs the collectors one at a time, in the order they were added,
  // before it renders. A collector lives as long as the registry: one that reads an object which
  // may go first must reach it through a link it can find cut (see WorkQueue).
  virtual void add_collector(std::function<void()> collect) = 0;
};

// The process figures dashboards expect, as the Prometheus client libraries name them:
// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds and process_start_time_seconds (read from /proc/self at
// scrape time). Adds them to `registry` as a collector once; later calls do nothing.
void add_process_collector(Registry& registry);

std::unique_ptr<Registry> make_registry();

}  // namespace aim::kube::metrics
