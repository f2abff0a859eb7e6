#include "fetch/progress.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace aim::fetch {

int percent_of(std::uint64_t done, std::uint64_t total, bool finished) {
  if (finished) return 100;
  if (total == 0) return 0;
  auto p = static_cast<int>((static_cast<long double>(done) * 100) / total);
  return std::min(p, 99);
}

std::string human_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

JsonLinesSink::~JsonLinesSink() {
  if (owns_ && out_) std::fclose(out_);
}

void JsonLinesSink::write(const std::string& line) {
  std::lock_guard lock(mu_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void JsonLinesSink::started(const StartInfo& i) {
  nlohmann::json j{{"event", "start"},
                   {"uri", i.uri},
                   {"revision", i.revision},
                   {"filesTotal", i.files_total},
                   {"totalBytes", i.total_bytes},
                   {"resumedBytes", i.resumed_bytes}};
  if (!i.selection.empty()) j["selection"] = i.selection;
  write(j.dump());
}

void JsonLinesSink::progress(const ProgressSnapshot& p) {
  int pct = percent_of(p.downloaded_bytes, p.total_bytes, false);
  nlohmann::json j{{"event", "progress"},
                   {"downloadedBytes", p.downloaded_bytes},
                   {"totalBytes", p.total_bytes},
                   {"percentage", pct},
                   {"displayPercentage", std::to_string(pct) + " %"},
                   {"bytesPerSecond", static_cast<std::uint64_t>(p.bytes_per_second)},
                   {"filesDone", p.files_done},
                   {"filesTotal", p.files_total}};
  if (p.eta_seconds >= 0) j["etaSeconds"] = static_cast<std::uint64_t>(std::ceil(p.eta_seconds));
  write(j.dump());
}

void JsonLinesSink::file_done(const FileDone& f) {
  write(nlohmann::json{{"event", "file"}, {"path", f.path}, {"size", f.size}, {"sha256", f.sha256}}
            .dump());
}

void JsonLinesSink::retrying(const RetryInfo& r) {
  write(nlohmann::json{{"event", "retry"},
                       {"path", r.path},
                       {"attempt", r.attempt},
                       {"delayMs", r.delay.count()},
                       {"class", to_string(r.failure.cls)},
                       {"message", r.failure.message}}
            .dump());
}

void JsonLinesSink::waiting(const std::string& message) {
  write(nlohmann::json{{"event", "wait"}, {"message", message}}.dump());
}

void JsonLinesSink::finished(const Summary& s) {
  write(nlohmann::json{
      {"event", "done"},
      {"uri", s.uri},
      {"revision", s.revision},
      {"digest", s.digest},
      {"files", s.files},
      {"totalBytes", s.total_bytes},
      {"transferredBytes", s.transferred_bytes},
      {"percentage", 100},
      {"displayPercentage", "100 %"},
      {"seconds", s.seconds},
      {"bytesPerSecond",
       s.seconds > 0 ? static_cast<std::uint64_t>(s.transferred_bytes / s.seconds) : 0}}
            .dump());
}

void JsonLinesSink::failed(const Failure& f) {
  nlohmann::json j{{"event", "error"},
                   {"class", to_string(f.cls)},
                   {"exitCode", exit_code(f.cls)},
                   {"message", f.message}};
  if (f.http_status) j["httpStatus"] = f.http_status;
  write(j.dump());
}

void TerminalSink::started(const StartInfo& i) {
  std::lock_guard lock(mu_);
  std::fprintf(
      out_, "aim-fetch: %s%s%s: %llu files%s, %s%s\n", i.uri.c_str(),
      i.revision.empty() ? "" : " @ ", i.revision.c_str(),
      static_cast<unsigned long long>(i.files_total),
      i.selection.empty() ? "" : (" (" + i.selection + ")").c_str(),
      human_bytes(static_cast<double>(i.total_bytes)).c_str(),
      i.resumed_bytes
          ? (", " + human_bytes(static_cast<double>(i.resumed_bytes)) + " already on disk").c_str()
          : "");
  std::fflush(out_);
}

void TerminalSink::progress(const ProgressSnapshot& p) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!tty_ && now - last_line_ < std::chrono::seconds(5)) return;
  last_line_ = now;
  int pct = percent_of(p.downloaded_bytes, p.total_bytes, false);
  std::string eta =
      p.eta_seconds >= 0 ? std::to_string(static_cast<long>(p.eta_seconds)) + "s" : "?";
  std::string text = std::to_string(pct) + "% " +
                     human_bytes(static_cast<double>(p.downloaded_bytes)) + "/" +
                     human_bytes(static_cast<double>(p.total_bytes)) + " " +
                     human_bytes(p.bytes_per_second) + "/s eta " + eta + " files " +
                     std::to_string(p.files_done) + "/" + std::to_string(p.files_total);
  if (tty_) {
    constexpr int kWidth = 30;
    int fill = pct * kWidth / 100;
    std::string bar(1, '[');
    bar.append(static_cast<size_t>(fill), '#');
    bar.append(static_cast<size_t>(kWidth - fill), '.');
    bar.append("] ");
    std::fprintf(out_, "\r\033[K%s%s", bar.c_str(), text.c_str());
    bar_drawn_ = true;
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

void TerminalSink::retrying(const RetryInfo& r) {
  std::lock_guard lock(mu_);
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "retry %d for %s in %lld ms: %s\n", r.attempt, r.path.c_str(),
               static_cast<long long>(r.delay.count()), r.failure.message.c_str());
  std::fflush(out_);
}

void TerminalSink::waiting(const std::string& message) {
  std::lock_guard lock(mu_);
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", message.c_str());
  std::fflush(out_);
}

void TerminalSink::finished(const Summary& s) {
  std::lock_guard lock(mu_);
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  double rate = s.seconds > 0 ? static_cast<double>(s.transferred_bytes) / s.seconds : 0;
  std::fprintf(out_, "done: %llu files, %s in %.1fs (%s/s), revision %s, digest %s\n",
               static_cast<unsigned long long>(s.files),
               human_bytes(static_cast<double>(s.total_bytes)).c_str(), s.seconds,
               human_bytes(rate).c_str(), s.revision.empty() ? "-" : s.revision.c_str(),
               s.digest.c_str());
  std::fflush(out_);
}

void TerminalSink::failed(const Failure& f) {
  std::lock_guard lock(mu_);
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "aim-fetch: %s: %s\n", std::string(to_string(f.cls)).c_str(),
               f.message.c_str());
  std::fflush(out_);
}

}  // namespace aim::fetch
