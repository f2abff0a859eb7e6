// aim-fetch URI DEST: download a model (hf://, s3://, ngc://, https://) into DEST, verified,
// resumable, with progress on the terminal and as JSON lines. See fetch/downloader.h.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <type_traits>

#include "fetch/credentials.h"
#include "fetch/downloader.h"
#include "fetch/hf.h"
#include "fetch/https_source.h"
#include "fetch/kube_status_sink.h"
#include "fetch/ngc.h"
#include "fetch/progress.h"
#include "fetch/s3.h"
#include "fetch/uri.h"
#include "kube/client.h"
#include "kube/config.h"

namespace {

std::atomic<bool> g_cancel{false};
void on_signal(int) {
  g_cancel = true;
}

std::string scheme_name(aim::fetch::Scheme s) {
  switch (s) {
    case aim::fetch::Scheme::kHuggingFace:
      return "hf";
    case aim::fetch::Scheme::kS3:
      return "s3";
    case aim::fetch::Scheme::kNgc:
      return "ngc";
    case aim::fetch::Scheme::kHttps:
      break;
  }
  return "https";
}

// With --quiet there is no terminal progress, but a run that is blocked still says so on stderr
// (a download Job's log is where a user looks when it seems to hang).
class QuietNotices final : public aim::fetch::ProgressSink {
 public:
  void started(const aim::fetch::StartInfo&) override {}
  void progress(const aim::fetch::ProgressSnapshot&) override {}
  void file_done(const aim::fetch::FileDone&) override {}
  void retrying(const aim::fetch::RetryInfo&) override {}
  void finished(const aim::fetch::Summary&) override {}
  void failed(const aim::fetch::Failure&) override {}
  void waiting(const std::string& message) override {
    std::fprintf(stderr, "aim-fetch: %s\n", message.c_str());
  }
};

// Bounds of the numeric options (docs/aim-fetch.md, "Options"). Each worker is a thread with its
// own connection and a 1 MiB write buffer, so 64 transfers are far past what one source serves
// usefully while staying cheap; the others keep values meaningful and arithmetic in range.
constexpr int kMaxJobs = 64;
constexpr int kMaxChunkMib = 65536;      // 64 GiB: larger files are still ranged
constexpr long kMaxStallSeconds = 3600;  // stall detection cannot be disabled
constexpr int kMaxRetries = 100;         // attempts per request, the first included
constexpr double kMaxBackoffBase = 30;   // the backoff is capped at 30 s anyway
constexpr double kMaxStatusInterval = 3600;

template <typename T>
std::string number_text(T v) {
  if constexpr (std::is_integral_v<T>) {
    return std::to_string(v);
  } else {
    std::ostringstream out;
    out << v;
    return out.str();
  }
}

// A CLI11 check that the value converts to T (as CLI11 will convert it) and lies in [lo, hi].
// The message names the allowed range, and the environment variable when there is one; the
// comparison is written so that NaN fails it.
template <typename T>
CLI::Validator bounded(T lo, T hi, const std::string& env = {}) {
  const std::string range = number_text(lo) + " to " + number_text(hi);
  const std::string what =
      std::string(std::is_integral_v<T> ? "an integer" : "a number") + " from " + range;
  return CLI::Validator(
      [lo, hi, what, env](std::string& input) -> std::string {
        T value{};
        if (CLI::detail::lexical_cast(input, value) && value >= lo && value <= hi) return {};
        return "must be " + what + ", got '" + input + "'" +
               (env.empty() ? "" : " (from the option or $" + env + ")");
      },
      range);
}

// --progress-fd: a descriptor number; whether it is open for writing is checked after parsing.
CLI::Validator descriptor() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        int fd = -1;
        if (CLI::detail::lexical_cast(input, fd) && fd >= 0) return {};
        return "must be a file descriptor number (0 or more), got '" + input + "'";
      },
      "FD");
}

// --include / --exclude: a usable glob (fetch/file_filter.h).
CLI::Validator file_pattern() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        auto r = aim::fetch::check_pattern(input);
        return r.ok() ? std::string() : r.error();
      },
      "GLOB");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aim::fetch;
  CLI::App app{"aim-fetch: download a model into a directory, verified and resumable"};
  app.set_version_flag("--version", AIM_ENGINE_VERSION);
  std::string uri_text, dest;
  std::string revision;
  DownloadOptions opts;
  int chunk_mib = 1024;
  int progress_fd = -1;
  std::string progress_file, sha256_file, ca_file, expected_sha256;
  bool quiet = false, insecure = false, check_size = false;
  int max_attempts = 8;
  std::string artifact, kubeconfig, termination_log;
  double status_interval = 5;
  double backoff_base = 0.5;
  std::string direct_io = "auto";
  app.add_option(
         "URI", uri_text,
         "hf://org/model[@rev], s3://bucket/prefix, ngc://org/[team/]model[:ver], https://…")
      ->required();
  app.add_option("DEST", dest, "destination directory");
  app.add_option("--revision", revision, "Hugging Face revision (overrides @rev in the URI)");
  app.add_option("--include", opts.filter.include,
                 "fetch only files matching this glob (repeatable; `*` also matches `/`, a "
                 "trailing `/` selects a directory)")
      ->check(file_pattern());
  app.add_option("--exclude", opts.filter.exclude,
                 "skip files matching this glob (repeatable; wins over --include)")
      ->check(file_pattern());
  app.add_option("-j,--jobs", opts.jobs, "concurrent transfers")
      ->capture_default_str()
      ->check(bounded(1, kMaxJobs));
  app.add_option("--chunk-mib", chunk_mib, "byte-range size for large files, MiB")
      ->capture_default_str()
      ->check(bounded(1, kMaxChunkMib));
  app.add_option("--stall-timeout", opts.stall_seconds,
                 "seconds without progress before a transfer is retried")
      ->capture_default_str()
      ->check(bounded(1L, kMaxStallSeconds));
  app.add_option("--retries", max_attempts, "attempts per request")
      ->capture_default_str()
      ->envname("AIM_FETCH_RETRIES")
      ->check(bounded(1, kMaxRetries, "AIM_FETCH_RETRIES"));
  app.add_option("--backoff-base", backoff_base,
                 "first retry delay, seconds (doubles, with jitter)")
      ->capture_default_str()
      ->envname("AIM_FETCH_BACKOFF_BASE")
      ->check(bounded(0.0, kMaxBackoffBase, "AIM_FETCH_BACKOFF_BASE"));
  app.add_option("--direct-io", direct_io,
                 "write large files with O_DIRECT, bypassing the page cache: auto (where the "
                 "filesystem allows it), on (fail where it does not), off")
      ->capture_default_str()
      ->envname("AIM_FETCH_DIRECT_IO")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--progress-fd", progress_fd,
                 "write JSON-lines progress to this open file descriptor")
      ->check(descriptor());
  app.add_option("--progress-file", progress_file, "write JSON-lines progress to this file");
  app.add_option("--sha256-file", sha256_file,
                 "sha256sum-format list to verify https downloads against");
  app.add_option("--sha256", expected_sha256, "expected sha256 of a single https file");
  app.add_option("--ca-file", ca_file, "CA bundle for TLS verification");
  app.add_flag("--insecure", insecure, "skip TLS verification (test servers only)");
  app.add_flag("-q,--quiet", quiet, "no terminal progress");
  app.add_flag(
      "--check-size", check_size,
      "print {\"url\":…,\"sizeBytes\":N} for the source and exit (the check-size Job's contract)");
  app.add_option("--artifact", artifact,
                 "namespace/name of the AIMArtifact whose status receives progress (default: "
                 "$ARTIFACT_NAMESPACE/$ARTIFACT_NAME when both are set)");
  app.add_option("--status-interval", status_interval, "minimum seconds between two status patches")
      ->capture_default_str()
      ->check(bounded(0.0, kMaxStatusInterval));
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig for the status patches (default: $KUBECONFIG, else in-cluster)");
  app.add_option("--termination-log", termination_log,
                 "file that receives the final one-line result (the check-size JSON, or the "
                 "failure), e.g. /dev/termination-log");
  // Every usage error is exit 2 (invalid_argument, as documented) with one line saying what to
  // fix; --help and --version print and exit 0.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::fprintf(stderr, "aim-fetch: %s: %s (see aim-fetch --help)\n",
                 std::string(to_string(FailureClass::kInvalidArgument)).c_str(), e.what());
    return exit_code(FailureClass::kInvalidArgument);
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit then surfaces as EFBIG: disk_full
  std::signal(SIGPIPE, SIG_IGN);

  FanoutSink sink;
  if (!quiet) sink.add(std::make_unique<TerminalSink>(stderr, ::isatty(STDERR_FILENO) == 1));
  if (quiet) sink.add(std::make_unique<QuietNotices>());
  if (progress_fd >= 0) {
    std::FILE* f = ::fdopen(progress_fd, "w");
    if (!f) {
      std::fprintf(stderr, "aim-fetch: --progress-fd %d is not open for writing\n", progress_fd);
      return exit_code(FailureClass::kInvalidArgument);
    }
    sink.add(std::make_unique<JsonLinesSink>(f, true));
  }
  if (!progress_file.empty()) {
    std::FILE* f = std::fopen(progress_file.c_str(), "a");
    if (!f) {
      std::fprintf(stderr, "aim-fetch: cannot open --progress-file %s\n", progress_file.c_str());
      return exit_code(FailureClass::kInvalidArgument);
    }
    sink.add(std::make_unique<JsonLinesSink>(f, true));
  }
  auto write_termination = [&](const std::string& line) {
    if (termination_log.empty()) return;
    if (std::FILE* f = std::fopen(termination_log.c_str(), "w")) {
      std::fputs(line.c_str(), f);
      std::fputs("\n", f);
      std::fclose(f);
    }
  };
  auto die = [&](Failure f) {
    sink.failed(f);
    write_termination(std::string(to_string(f.cls)) + ": " + f.message);
    if (quiet)
      std::fprintf(stderr, "aim-fetch: %s: %s\n", std::string(to_string(f.cls)).c_str(),
                   f.message.c_str());
    return exit_code(f.cls);
  };

  auto parsed = parse_source_uri(uri_text);
  if (!parsed.ok()) return die(Failure{FailureClass::kInvalidArgument, parsed.error()});
  SourceUri uri = std::move(parsed).value();
  if (!revision.empty()) uri.revision = revision;
  if (!uri.path.empty()) {
    // hf://org/model/<path>: that file, or everything under that directory, of the repository.
    if (!opts.filter.include.empty())
      return die(Failure{FailureClass::kInvalidArgument,
                         "the URI names a path inside the repository (" + uri.path +
                             "); give either that or --include, not both"});
    opts.filter.include = {uri.path, uri.path + "/"};
  }
  if (dest.empty() && !check_size)
    return die(Failure{FailureClass::kInvalidArgument, "DEST is required"});

  auto env = process_env();
  if (artifact.empty()) {
    auto ans = env("ARTIFACT_NAMESPACE"), an = env("ARTIFACT_NAME");
    if (ans && an && !ans->empty() && !an->empty()) artifact = *ans + "/" + *an;
  }
  if (!artifact.empty() && !check_size) {
    auto slash = artifact.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == artifact.size())
      return die(Failure{FailureClass::kInvalidArgument, "--artifact must be namespace/name"});
    // Without a usable configuration the download still runs; only the status stays behind.
    auto config = aim::kube::Config::load(kubeconfig);
    auto client =
        config.ok()
            ? aim::kube::Client::create(std::move(config).value())
            : aim::kube::Result<std::shared_ptr<aim::kube::Client>>(aim::fail(config.error()));
    if (!client.ok()) {
      std::fprintf(stderr, "aim-fetch: no status updates for %s: %s\n", artifact.c_str(),
                   client.error().describe().c_str());
    } else {
      auto ms = std::chrono::milliseconds(static_cast<long>(std::max(0.0, status_interval) * 1000));
      sink.add(std::make_unique<KubeStatusSink>(
          std::move(client).value(), artifact_resource_type(), artifact.substr(0, slash),
          artifact.substr(slash + 1), scheme_name(uri.scheme), ms));
    }
  }

  std::unique_ptr<Source> source;
  switch (uri.scheme) {
    case Scheme::kHuggingFace:
      source = std::make_unique<HfSource>(uri, hf_endpoint(env), hf_token(env));
      break;
    case Scheme::kS3:
      source = std::make_unique<S3Source>(uri, s3_config(env));
      break;
    case Scheme::kNgc: {
      std::string ep = env("NGC_ENDPOINT").value_or("https://api.ngc.nvidia.com");
      std::string auth = env("NGC_AUTH_ENDPOINT").value_or("https://authn.nvidia.com");
      source = std::make_unique<NgcSource>(uri, ep, auth, ngc_api_key(env));
      break;
    }
    case Scheme::kHttps: {
      std::map<std::string, std::string> sums;
      if (!sha256_file.empty()) {
        std::ifstream in(sha256_file);
        std::stringstream ss;
        ss << in.rdbuf();
        if (!in) return die(Failure{FailureClass::kInvalidArgument, "cannot read " + sha256_file});
        auto p = parse_sha256_list(ss.str());
        if (!p.ok())
          return die(Failure{FailureClass::kInvalidArgument, sha256_file + ": " + p.error()});
        sums = std::move(p).value();
      }
      if (!expected_sha256.empty()) sums[HttpsSource::file_name_of(uri.url)] = expected_sha256;
      // Credentials from the environment (the operator's credentials Secret), never the URI.
      const auto creds = https_credentials(env);
      auto fetch_url = https_fetch_url(uri.url, creds);
      if (!fetch_url.ok()) return die(Failure{FailureClass::kInvalidArgument, fetch_url.error()});
      SourceUri signed_uri = uri;
      signed_uri.url = std::move(fetch_url).value();
      source =
          std::make_unique<HttpsSource>(std::move(signed_uri), std::move(sums), creds.bearer_token);
      break;
    }
  }

  aim::http::TlsOptions tls;
  tls.ca_file = ca_file;
  tls.insecure_skip_verify = insecure;
  aim::http::SessionPool pool(tls, "aim-fetch/0.1",
                              static_cast<std::size_t>(std::max(8, opts.jobs * 2)));
  opts.chunk_size = static_cast<std::uint64_t>(chunk_mib) << 20;
  opts.retry.max_attempts = max_attempts;
  opts.direct_io = direct_io == "on"    ? DirectIo::kOn
                   : direct_io == "off" ? DirectIo::kOff
                                        : DirectIo::kAuto;
  opts.retry.base = std::chrono::milliseconds(static_cast<long>(backoff_base * 1000));
  const std::string display = redact_url(uri_text);

  if (check_size) {
    Transport transport(pool, opts.retry, &sink, &g_cancel);
    auto l = source->list(transport);
    if (!l.ok()) return die(l.error());
    if (auto selected = apply_filter(*l, opts.filter, display); !selected.ok())
      return die(selected.error());
    std::uint64_t total = 0;
    for (auto& f : l->files) {
      if (!f.size_known) {
        auto p = source->prepare(transport, f);
        if (!p.ok()) return die(p.error());
      }
      total += f.size;
    }
    std::string line =
        nlohmann::json{{"url", display}, {"sizeBytes", total}, {"revision", l->revision}}.dump();
    std::cout << line << "\n";
    write_termination(line);
    return 0;
  }

  Downloader downloader(*source, pool, sink, opts, &g_cancel);
  auto r = downloader.run(display, dest);
  if (!r.ok()) return die(r.error());
  sink.finished(r.value());
  write_termination(nlohmann::json{
      {"revision", r->revision},
      {"digest", r->digest},
      {"files", r->files},
      {"totalBytes",
       r->total_bytes}}.dump());
  return 0;
}
