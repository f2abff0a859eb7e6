#include "kube/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>

namespace aim::kube::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeries) {
  auto reg = make_registry();
  auto& fam = reg->counter("demo_total", "Demo counter", {"controller", "result"});
  fam.with({"model", "success"}).inc();
  fam.with({"model", "success"}).inc(2);
  fam.with({"model", "error"}).inc();
  EXPECT_EQ(reg->render(),
            "# HELP demo_total Demo counter\n"
            "# TYPE demo_total counter\n"
            "demo_total{controller=\"model\",result=\"error\"} 1\n"
            "demo_total{controller=\"model\",result=\"success\"} 3\n");
}

TEST(MetricsTest, CounterIgnoresNegativeIncrements) {
  auto reg = make_registry();
  auto& c = reg->counter("c_total", "c", {}).with({});
  c.inc(5);
  c.inc(-3);
  EXPECT_EQ(c.value(), 5);
}

TEST(MetricsTest, UnlabelledFamilyIsExposedAsZeroBeforeUse) {
  auto reg = make_registry();
  reg->gauge("up_gauge", "g", {});
  EXPECT_THAT(reg->render(), HasSubstr("\nup_gauge 0\n"));
}

TEST(MetricsTest, GaugeSetIncDec) {
  auto reg = make_registry();
  auto& g = reg->gauge("depth", "d", {"name"}).with({"q"});
  g.set(10);
  g.inc(2.5);
  g.dec(0.5);
  EXPECT_EQ(g.value(), 12);
  EXPECT_THAT(reg->render(), HasSubstr("depth{name=\"q\"} 12\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  auto reg = make_registry();
  auto& h = reg->histogram("lat_seconds", "Latency", {"c"}, {0.1, 1, 0.5}).with({"x"});
  h.observe(0.05);
  h.observe(0.1);  // bucket bounds are inclusive (le)
  h.observe(0.7);
  h.observe(3);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.sum(), 3.85);
  EXPECT_EQ(reg->render(),
            "# HELP lat_seconds Latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{c=\"x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{c=\"x\",le=\"0.5\"} 2\n"
            "lat_seconds_bucket{c=\"x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{c=\"x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{c=\"x\"} 3.85\n"
            "lat_seconds_count{c=\"x\"} 4\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  auto reg = make_registry();
  reg->counter("esc_total", "line1\nback\\slash", {"v"}).with({"a\"b\\c\nd"}).inc();
  auto text = reg->render();
  EXPECT_THAT(text, HasSubstr("# HELP esc_total line1\\nback\\\\slash\n"));
  EXPECT_THAT(text, HasSubstr("esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(MetricsTest, SameNameReturnsSameFamilyAndWrongShapeIsRejected) {
  auto reg = make_registry();
  auto& a = reg->counter("same_total", "h", {"x"});
  auto& b = reg->counter("same_total", "h", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(reg->counter("same_total", "h", {"y"}), std::invalid_argument);
  EXPECT_THROW(reg->gauge("same_total", "h", {"x"}), std::invalid_argument);
  EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);
}

TEST(MetricsTest, FamiliesRenderSortedByName) {
  auto reg = make_registry();
  reg->counter("b_total", "b", {});
  reg->counter("a_total", "a", {});
  auto text = reg->render();
  EXPECT_LT(text.find("a_total"), text.find("b_total"));
  EXPECT_THAT(text, Not(HasSubstr("{}")));
}

// The process figures dashboards expect, read from /proc/self at scrape time.
TEST(MetricsTest, ProcessCollectorReportsWhatProcSelfSays) {
  auto reg = make_registry();
  add_process_collector(*reg);
  add_process_collector(*reg);  // once per registry
  auto value = [&](const std::string& name) {
    const std::string text = reg->render();
    const auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  // Burn a little CPU so the counter has something to show.
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + i * 0.5;
  const double cpu = value("process_cpu_seconds_total");
  EXPECT_GT(cpu, 0.0);
  EXPECT_GE(value("process_cpu_seconds_total"), cpu) << "a counter never goes down";
  EXPECT_GT(value("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(value("process_virtual_memory_bytes"), value("process_resident_memory_bytes"));
  EXPECT_GE(value("process_open_fds"), 3);  // at least stdin, stdout, stderr
  EXPECT_GE(value("process_max_fds"), value("process_open_fds"));
  const double start = value("process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600) << "this test process started within the hour";
  const std::string text = reg->render();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
}

}  // namespace
}  // namespace aim::kube::metrics
