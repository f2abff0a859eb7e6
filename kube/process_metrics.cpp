// The process collector of kube/metrics.h: what /proc/self says at scrape time, under the names
// the Prometheus client libraries use (so the usual dashboards and alerts work unchanged).
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "kube/metrics.h"

namespace aim::kube::metrics {
namespace {

struct ProcStat {
  double cpu_seconds = 0;     // utime + stime
  double start_seconds = 0;   // since boot
  double virtual_bytes = 0;   // vsize
  double resident_bytes = 0;  // rss pages * page size
  bool ok = false;
};

// /proc/self/stat: the fields after the command name (which may hold spaces and parentheses,
// so parsing starts after the last ')').
ProcStat read_stat() {
  ProcStat st;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return st;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return st;
  std::istringstream fields(line.substr(close + 2));
  // Field 3 (state) is the first here; utime is 14, stime 15, starttime 22, vsize 23, rss 24.
  std::string f;
  double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
  for (int i = 3; i <= 24 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
    if (i == 22) start = std::stod(f);
    if (i == 23) vsize = std::stod(f);
    if (i == 24) rss = std::stod(f);
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (ticks <= 0 || page <= 0) return st;
  st.cpu_seconds = (utime + stime) / ticks;
  st.start_seconds = start / ticks;
  st.virtual_bytes = vsize;
  st.resident_bytes = rss * page;
  st.ok = true;
  return st;
}

double boot_time() {  // btime of /proc/stat, Unix seconds
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

void add_process_collector(Registry& registry) {
  static std::mutex mu;
  static std::set<Registry*> added;  // registries live for the process (global) or a test
  std::lock_guard lock(mu);
  if (!added.insert(&registry).second) return;
  auto& cpu = registry
                  .counter("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.", {})
                  .with({});
  auto& resident =
      registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {})
          .with({});
  auto& virt =
      registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}).with({});
  auto& fds = registry.gauge("process_open_fds", "Number of open file descriptors.", {}).with({});
  auto& max_fds =
      registry.gauge("process_max_fds", "Maximum number of open file descriptors.", {}).with({});
  auto& start = registry
                    .gauge("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.", {})
                    .with({});
  const double boot = boot_time();
  registry.add_collector([&cpu, &resident, &virt, &fds, &max_fds, &start, boot] {
    const ProcStat st = read_stat();
    if (!st.ok) return;
    // A counter only goes up: add what the process used since the last scrape.
    if (st.cpu_seconds > cpu.value()) cpu.inc(st.cpu_seconds - cpu.value());
    resident.set(st.resident_bytes);
    virt.set(st.virtual_bytes);
    start.set(boot + st.start_seconds);
    fds.set(open_fds());
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
      max_fds.set(static_cast<double>(lim.rlim_cur));
  });
}

}  // namespace aim::kube::metrics
