// The in-process Prometheus registry: families of labelled series, rendered on demand in the
// text exposition format 0.0.4. Series are created on first use and never removed, so a handle
// returned by Family::with stays valid for the registry's lifetime.
#include "kube/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace aim::kube::metrics {
namespace {

// Lock-free add for doubles: std::atomic<double>::fetch_add only arrives in C++20 for floating
// types in newer library releases, so a compare-exchange loop keeps this portable.
void atomic_add(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Renders {a="x",b="y"}, optionally with one extra label (le for histogram buckets).
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

class CounterImpl final : public Counter {
 public:
  void inc(double v) override {
    if (v < 0) return;  // counters only go up
    atomic_add(v_, v);
  }
  double value() const override { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class GaugeImpl final : public Gauge {
 public:
  void set(double v) override { v_.store(v, std::memory_order_relaxed); }
  void inc(double v) override { atomic_add(v_, v); }
  void dec(double v) override { atomic_add(v_, -v); }
  double value() const override { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class HistogramImpl final : public Histogram {
 public:
  explicit HistogramImpl(const std::vector<double>* bounds)
      : bounds_(bounds), counts_(bounds->size()) {}

  void observe(double v) override {
    std::lock_guard lock(mu_);
    // Buckets are stored non-cumulative; render() accumulates.
    auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
    if (it != bounds_->end()) ++counts_[static_cast<std::size_t>(it - bounds_->begin())];
    ++count_;
    sum_ += v;
  }
  uint64_t count() const override {
    std::lock_guard lock(mu_);
    return count_;
  }
  double sum() const override {
    std::lock_guard lock(mu_);
    return sum_;
  }

  void snapshot(std::vector<uint64_t>& counts, uint64_t& count, double& sum) const {
    std::lock_guard lock(mu_);
    counts = counts_;
    count = count_;
    sum = sum_;
  }

 private:
  const std::vector<double>* bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> labels)
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}
  virtual ~FamilyBase() = default;
  virtual void render(std::string& out) const = 0;
  virtual std::string_view type() const = 0;
  const std::vector<std::string>& label_names() const { return labels_; }

 protected:
  void header(std::string& out) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help_), name_, type());
  }
  void check_arity(const std::vector<std::string>& values) const {
    if (values.size() != labels_.size()) {
      // A programming error (wrong number of label values), not a runtime condition.
      throw std::invalid_argument(fmt::format("metric {}: expected {} label values, got {}", name_,
                                              labels_.size(), values.size()));
    }
  }

  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  mutable std::mutex mu_;
};

template <typename M, typename Impl>
class SimpleFamily final : public FamilyBase, public Family<M> {
 public:
  SimpleFamily(std::string name, std::string help, std::vector<std::string> labels,
               std::string_view type)
      : FamilyBase(std::move(name), std::move(help), std::move(labels)), type_(type) {
    // A family without labels has exactly one series; expose it (as 0) from the start.
    if (labels_.empty()) with({});
  }

  M& with(const std::vector<std::string>& values) override {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto& slot = series_[values];
    if (!slot) slot = std::make_unique<Impl>();
    return *slot;
  }
  std::string_view type() const override { return type_; }

  void render(std::string& out) const override {
    header(out);
    std::lock_guard lock(mu_);
    for (const auto& [values, m] : series_) {
      out += name_;
      out += label_set(labels_, values);
      out += ' ';
      out += format_value(m->value());
      out += '\n';
    }
  }

 private:
  std::string_view type_;
  std::map<std::vector<std::string>, std::unique_ptr<Impl>> series_;
};

class HistogramFamily final : public FamilyBase, public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> buckets)
      : FamilyBase(std::move(name), std::move(help), std::move(labels)),
        bounds_(std::move(buckets)) {
    std::sort(bounds_.begin(), bounds_.end());
    bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
    // +Inf is implicit (it is the total count).
    if (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();
    if (labels_.empty()) with({});
  }

  Histogram& with(const std::vector<std::string>& values) override {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto& slot = series_[values];
    if (!slot) slot = std::make_unique<HistogramImpl>(&bounds_);
    return *slot;
  }
  std::string_view type() const override { return "histogram"; }

  void render(std::string& out) const override {
    header(out);
    std::lock_guard lock(mu_);
    std::vector<uint64_t> counts;
    for (const auto& [values, h] : series_) {
      uint64_t count = 0;
      double sum = 0;
      h->snapshot(counts, count, sum);
      uint64_t cumulative = 0;
      for (std::size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts[i];
        out += fmt::format("{}_bucket{} {}\n", name_,
                           label_set(labels_, values, "le", format_value(bounds_[i])), cumulative);
      }
      out +=
          fmt::format("{}_bucket{} {}\n", name_, label_set(labels_, values, "le", "+Inf"), count);
      out += fmt::format("{}_sum{} {}\n", name_, label_set(labels_, values), format_value(sum));
      out += fmt::format("{}_count{} {}\n", name_, label_set(labels_, values), count);
    }
  }

 private:
  std::vector<double> bounds_;
  std::map<std::vector<std::string>, std::unique_ptr<HistogramImpl>> series_;
};

class RegistryImpl final : public Registry {
 public:
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           const std::vector<std::string>& label_names) override {
    return get_or_add<SimpleFamily<Counter, CounterImpl>>(name, label_names, [&] {
      return std::make_unique<SimpleFamily<Counter, CounterImpl>>(name, help, label_names,
                                                                  "counter");
    });
  }
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       const std::vector<std::string>& label_names) override {
    return get_or_add<SimpleFamily<Gauge, GaugeImpl>>(name, label_names, [&] {
      return std::make_unique<SimpleFamily<Gauge, GaugeImpl>>(name, help, label_names, "gauge");
    });
  }
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               const std::vector<std::string>& label_names,
                               const std::vector<double>& buckets) override {
    return get_or_add<HistogramFamily>(name, label_names, [&] {
      return std::make_unique<HistogramFamily>(name, help, label_names, buckets);
    });
  }

  std::string render() const override {
    {
      // Under collectors_mu_, not mu_: they set metrics.
      std::lock_guard lock(collectors_mu_);
      for (const auto& collect : collectors_) collect();
    }
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& [name, family] : families_) family->render(out);
    return out;
  }

  void add_collector(std::function<void()> collect) override {
    std::lock_guard lock(collectors_mu_);
    collectors_.push_back(std::move(collect));
  }

 private:
  template <typename F, typename Make>
  F& get_or_add(const std::string& name, const std::vector<std::string>& labels, Make make) {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it != families_.end()) {
      auto* existing = dynamic_cast<F*>(it->second.get());
      if (existing == nullptr || existing->label_names() != labels) {
        throw std::invalid_argument("metric " + name + " registered twice with different shapes");
      }
      return *existing;
    }
    auto family = make();
    F& ref = *family;
    families_.emplace(name, std::move(family));
    return ref;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;  // sorted: stable output
  mutable std::mutex collectors_mu_;  // held while collectors run: one at a time
  std::vector<std::function<void()>> collectors_;
};

}  // namespace

Registry& Registry::global() {
  static RegistryImpl* registry =
      new RegistryImpl();  // never destroyed: used from any thread at exit
  return *registry;
}

std::unique_ptr<Registry> make_registry() {
  return std::make_unique<RegistryImpl>();
}

}  // namespace aim::kube::metrics
