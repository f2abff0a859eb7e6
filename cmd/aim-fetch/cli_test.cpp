// aim-fetch's command line, run as a process: every usage error exits 2 (invalid_argument, as
// docs/aim-fetch.md documents) with one line on stderr that names what to fix, before any request;
// --help and --version exit 0. No server is needed: the Hugging Face endpoint is a closed local
// port and retries are 1, so a binary that accepted a bad value fails fast with a network error
// (exit 9) instead of hanging. $AIM_FETCH runs another binary (e.g. an older build).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Outcome {
  int code = -1;  // exit code, 128+signal when killed, -1 when it could not start
  std::string out, err;
};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AimFetchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aim-fetch-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dest() const { return (dir_ / "dest").string(); }

  // Runs aim-fetch with `args` in a small environment (plus `env`, which overrides it).
  Outcome run(const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env = {}) {
    std::map<std::string, std::string> e{{"PATH", "/usr/bin:/bin"},
                                         {"HOME", dir_.string()},
                                         {"HF_ENDPOINT", "http://127.0.0.1:1"},
                                         {"AIM_FETCH_RETRIES", "1"},
                                         {"AIM_FETCH_BACKOFF_BASE", "0"}};
    for (const auto& [k, v] : env) e[k] = v;
    const char* bin = std::getenv("AIM_FETCH");  // another build of it, else this build's
    std::vector<std::string> argv{bin && *bin ? bin : AIM_FETCH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : e) env_strings.push_back(k + "=" + v);
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& s : env_strings) cenv.push_back(s.data());
    cenv.push_back(nullptr);
    const auto out_path = dir_ / "stdout", err_path = dir_ / "stderr";
    Outcome r;
    pid_t pid = ::fork();
    if (pid < 0) return r;
    if (pid == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::alarm(60);  // survives execve: a hung binary ends as 128+SIGALRM
      ::execve(cargv[0], cargv.data(), cenv.data());
      ::_exit(127);
    }
    int st = 0;
    if (::waitpid(pid, &st, 0) < 0) return r;
    if (WIFEXITED(st)) r.code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) r.code = 128 + WTERMSIG(st);
    r.out = read_text(out_path);
    r.err = read_text(err_path);
    return r;
  }

  // A usage error: exit 2, nothing on stdout, exactly one line on stderr, containing `needles`.
  void expect_usage_error(const std::vector<std::string>& args,
                          const std::vector<std::string>& needles,
                          const std::map<std::string, std::string>& env = {}) {
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    SCOPED_TRACE("aim-fetch" + shown);
    Outcome r = run(args, env);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_THAT(r.err, StartsWith("aim-fetch: invalid_argument: "));
    for (const auto& n : needles) EXPECT_THAT(r.err, HasSubstr(n));
    EXPECT_FALSE(std::filesystem::exists(dest())) << "DEST touched by a usage error";
  }

  std::filesystem::path dir_;
};

constexpr const char* kUri = "hf://org/model";

TEST_F(AimFetchCli, HelpExitsZeroAndShowsTheBounds) {
  Outcome r = run({"--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Usage:"));
  EXPECT_THAT(r.out, HasSubstr("-j,--jobs INT:1 to 64=8"));
  EXPECT_THAT(r.out, HasSubstr("--chunk-mib INT:1 to 65536=1024"));
  EXPECT_EQ(r.err, "");
}

TEST_F(AimFetchCli, VersionExitsZero) {
  Outcome r = run({"--version"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(AIM_ENGINE_VERSION) + "\n");
}

TEST_F(AimFetchCli, UnknownOptionIsUsageError) {
  expect_usage_error({"--bogus", kUri, dest()}, {"--bogus", "aim-fetch --help"});
}

TEST_F(AimFetchCli, MissingUriIsUsageError) {
  expect_usage_error({}, {"URI is required"});
}

TEST_F(AimFetchCli, MissingDestIsUsageError) {
  expect_usage_error({kUri}, {"DEST is required"});
}

TEST_F(AimFetchCli, ExtraPositionalIsUsageError) {
  expect_usage_error({kUri, dest(), "surplus"}, {"not expected", "surplus"});
}

TEST_F(AimFetchCli, MissingValueIsUsageError) {
  expect_usage_error({kUri, dest(), "-j"}, {"--jobs"});
}

TEST_F(AimFetchCli, UnsupportedSchemeIsUsageError) {
  expect_usage_error({"ftp://host/model", dest()}, {"unsupported scheme 'ftp'"});
}

TEST_F(AimFetchCli, JobsZeroIsUsageError) {
  expect_usage_error({"-j", "0", kUri, dest()}, {"--jobs", "from 1 to 64", "'0'"});
}

TEST_F(AimFetchCli, JobsNegativeIsUsageError) {
  expect_usage_error({"-j", "-5", kUri, dest()}, {"--jobs", "from 1 to 64", "'-5'"});
}

TEST_F(AimFetchCli, JobsTooLargeIsUsageError) {
  expect_usage_error({"-j", "100000", kUri, dest()}, {"--jobs", "from 1 to 64", "'100000'"});
  expect_usage_error({"--jobs=65", kUri, dest()}, {"--jobs", "from 1 to 64", "'65'"});
}

TEST_F(AimFetchCli, JobsNotANumberIsUsageError) {
  expect_usage_error({"--jobs", "many", kUri, dest()}, {"--jobs", "from 1 to 64", "'many'"});
}

TEST_F(AimFetchCli, ChunkMibOutOfRangeIsUsageError) {
  for (const char* v : {"0", "-5", "65537"})
    expect_usage_error({"--chunk-mib", v, kUri, dest()}, {"--chunk-mib", "from 1 to 65536"});
}

TEST_F(AimFetchCli, StallTimeoutOutOfRangeIsUsageError) {
  for (const char* v : {"0", "-1", "3601"})
    expect_usage_error({"--stall-timeout", v, kUri, dest()}, {"--stall-timeout", "from 1 to 3600"});
}

TEST_F(AimFetchCli, RetriesOutOfRangeIsUsageError) {
  for (const char* v : {"0", "-3", "101"})
    expect_usage_error({"--retries", v, kUri, dest()}, {"--retries", "from 1 to 100"});
  expect_usage_error({kUri, dest()}, {"--retries", "from 1 to 100", "$AIM_FETCH_RETRIES"},
                     {{"AIM_FETCH_RETRIES", "0"}});
}

TEST_F(AimFetchCli, BackoffBaseOutOfRangeIsUsageError) {
  for (const char* v : {"-0.5", "31", "nan", "inf"})
    expect_usage_error({"--backoff-base", v, kUri, dest()}, {"--backoff-base", "from 0 to 30"});
  expect_usage_error({kUri, dest()}, {"--backoff-base", "$AIM_FETCH_BACKOFF_BASE"},
                     {{"AIM_FETCH_BACKOFF_BASE", "soon"}});
}

TEST_F(AimFetchCli, StatusIntervalOutOfRangeIsUsageError) {
  for (const char* v : {"-1", "3601", "nan"})
    expect_usage_error({"--status-interval", v, kUri, dest()},
                       {"--status-interval", "from 0 to 3600"});
}

TEST_F(AimFetchCli, DirectIoTakesAutoOnOrOff) {
  Outcome r = run({"--help"});
  EXPECT_THAT(r.out, HasSubstr("--direct-io TEXT:{auto,on,off}"));
  expect_usage_error({"--direct-io", "sometimes", kUri, dest()}, {"--direct-io", "sometimes"});
  expect_usage_error({kUri, dest()}, {"--direct-io", "yes"}, {{"AIM_FETCH_DIRECT_IO", "yes"}});
}

TEST_F(AimFetchCli, NegativeProgressFdIsUsageError) {
  expect_usage_error({"--progress-fd", "-3", kUri, dest()}, {"--progress-fd", "0 or more"});
}

}  // namespace
