// Test-side stand-ins for what the cluster cannot do with simulated pods (KWOK has no
// containers): DownloadRunner plays the container of every pod labelled
// sim.aim.eai.amd.com/runner=external (KWOK's aim-external-runner-hold Stage keeps those pods
// Running) by running the real aim-fetch binary on this machine with the pod's args and env
// (Secrets resolved, /cache mapped to a directory per PVC), and then writes the pod's final status
// the way a kubelet would: phase, the container's exit code and termination message.
// TestServer starts a test server (test/servers) and reads its "READY <port> ..." line.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "kube/client.h"
#include "kube/resource.h"

namespace aim::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs argv with the given environment (replacing the parent's), stdout/stderr to files.
// Returns the exit code (128+signal when killed), or -1 when it could not start.
inline int run_process(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& out_file,
                       const std::string& err_file) {
  std::vector<std::string> env_strings;
  for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (auto& e : env_strings) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) ::dup2(out, 1);
    if (err >= 0) ::dup2(err, 2);
    ::execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  int st = 0;
  if (::waitpid(pid, &st, 0) < 0) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// The aim-fetch binary of this build: $AIM_FETCH, else <build>/cmd/aim-fetch/aim-fetch relative
// to this test binary (<build>/test/integration/controllers/...).
inline std::string find_aim_fetch() {
  if (const char* p = std::getenv("AIM_FETCH"); p && *p) return p;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  for (auto dir = self.parent_path(); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    auto candidate = dir / "cmd" / "aim-fetch" / "aim-fetch";
    if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return {};
}

class DownloadRunner {
 public:
  struct Run {
    std::string pod;
    std::string container;
    int exit_code = 0;
    std::string termination_message;
    std::string stderr_text;
    std::string dest;  // the directory standing in for /cache
  };

  DownloadRunner(std::shared_ptr<kube::Client> client, std::string ns, std::string aim_fetch,
                 std::string work_dir, std::map<std::string, std::string> extra_env = {})
      : client_(std::move(client)),
        ns_(std::move(ns)),
        bin_(std::move(aim_fetch)),
        work_(std::move(work_dir)),
        extra_env_(std::move(extra_env)) {
    std::filesystem::create_directories(work_);
    thread_ = std::thread([this] { loop(); });
  }
  ~DownloadRunner() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  DownloadRunner(const DownloadRunner&) = delete;
  DownloadRunner& operator=(const DownloadRunner&) = delete;

  std::vector<Run> runs() const {
    std::lock_guard lock(mu_);
    return runs_;
  }
  // The directory that stands in for a PVC.
  std::string volume_dir(const std::string& claim) const { return work_ + "/pvc-" + claim; }

 private:
  using Json = nlohmann::json;

  void loop() {
    while (!stop_) {
      kube::ListOptions opts;
      opts.label_selector = "sim.aim.eai.amd.com/runner=external";
      auto pods = client_->list(kube::types::pods(), ns_, opts);
      if (pods.ok()) {
        for (auto& pod : pods.value().items) {
          std::string name = pod["metadata"].value("name", "");
          if (done_.count(name)) continue;
          if (pod.value("status", Json::object()).value("phase", "") != "Running") continue;
          if (pod["metadata"].contains("deletionTimestamp")) continue;
          done_.insert(name);
          handle(pod);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  std::map<std::string, std::string> secret_data(const std::string& name) {
    std::map<std::string, std::string> out;
    auto s = client_->get(kube::types::secrets(), ns_, name);
    if (!s.ok()) return out;
    const Json data = s.value().value("data", Json::object());
    for (auto& [k, v] : data.items())
      if (v.is_string())
        if (auto d = aim::base64_decode(v.get<std::string>())) out[k] = *d;
    return out;
  }

  void handle(const Json& pod) {
    const Json& c = pod["spec"]["containers"][0];
    const std::string name = pod["metadata"].value("name", "");
    std::string claim;
    for (auto& v : pod["spec"].value("volumes", Json::array()))
      if (v.contains("persistentVolumeClaim"))
        claim = v["persistentVolumeClaim"].value("claimName", "");
    std::string dest = claim.empty() ? work_ + "/tmp-" + name : volume_dir(claim);
    std::filesystem::create_directories(dest);
    std::string term = work_ + "/" + name + ".termination";
    std::map<std::string, std::string> env;
    env["PATH"] = "/usr/bin:/bin";
    env["HOME"] = work_;
    if (const char* kc = std::getenv("KUBECONFIG")) env["KUBECONFIG"] = kc;
    for (auto& ef : c.value("envFrom", Json::array()))
      if (ef.contains("secretRef"))
        for (auto& [k, v] : secret_data(ef["secretRef"].value("name", ""))) env[k] = v;
    for (auto& e : c.value("env", Json::array())) {
      std::string k = e.value("name", "");
      if (e.contains("value")) {
        env[k] = e["value"].get<std::string>();
      } else if (e.contains("valueFrom") && e["valueFrom"].contains("secretKeyRef")) {
        auto ref = e["valueFrom"]["secretKeyRef"];
        auto data = secret_data(ref.value("name", ""));
        if (data.count(ref.value("key", ""))) env[k] = data[ref.value("key", "")];
      }
    }
    env["HF_HOME"] = work_ + "/hf-home";  // never a real token of this machine
    for (auto& [k, v] : extra_env_) env[k] = v;
    std::vector<std::string> argv{bin_};
    for (auto& a : c.value("args", Json::array())) {
      std::string s = a.get<std::string>();
      if (s == "/cache") s = dest;
      if (s == "/dev/termination-log") s = term;
      argv.push_back(s);
    }
    auto started = now_rfc3339();
    std::string out = work_ + "/" + name + ".out", err = work_ + "/" + name + ".err";
    int code = run_process(argv, env, out, err);
    std::string message = read_text(term);
    if (message.empty()) message = read_text(out);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    Json terminated{{"exitCode", code},
                    {"reason", code == 0 ? "Completed" : "Error"},
                    {"startedAt", started},
                    {"finishedAt", now_rfc3339()}};
    if (!message.empty()) terminated["message"] = message;
    Json patch{{"status",
                {{"phase", code == 0 ? "Succeeded" : "Failed"},
                 {"conditions",
                  {{{"type", "Ready"},
                    {"status", "False"},
                    {"reason", code == 0 ? "PodCompleted" : "PodFailed"},
                    {"lastTransitionTime", now_rfc3339()}},
                   {{"type", "ContainersReady"},
                    {"status", "False"},
                    {"reason", code == 0 ? "PodCompleted" : "PodFailed"},
                    {"lastTransitionTime", now_rfc3339()}}}},
                 {"containerStatuses",
                  {{{"name", c.value("name", "")},
                    {"image", c.value("image", "")},
                    {"imageID", ""},
                    {"ready", false},
                    {"started", false},
                    {"restartCount", 0},
                    {"state", {{"terminated", terminated}}}}}}}}};
    for (int i = 0; i < 5; ++i) {
      if (client_->merge_patch(kube::types::pods(), ns_, name, patch, "status").ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::lock_guard lock(mu_);
    runs_.push_back(Run{name, c.value("name", ""), code, message, read_text(err), dest});
  }

  static std::string now_rfc3339() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  std::shared_ptr<kube::Client> client_;
  std::string ns_, bin_, work_;
  std::map<std::string, std::string> extra_env_;
  std::atomic<bool> stop_{false};
  std::set<std::string> done_;
  mutable std::mutex mu_;
  std::vector<Run> runs_;
  std::thread thread_;
};

// A test server process: started with argv, ready once it printed "READY <port> [<port2>]".
class TestServer {
 public:
  TestServer(const std::vector<std::string>& argv, const std::string& work_dir) {
    std::string out = work_dir + "/server-" + std::to_string(counter()++) + ".out";
    out_ = out;
    // Everything the child needs is built before fork: the test process runs an operator's threads,
    // and an allocation between fork and exec can wait forever on a lock a vanished thread held
    // (under load a Hub server twice never said READY, with nothing on its stderr).
    const std::string err_path = out + ".err";
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) ::dup2(fd, 1);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, 2);
      ::setpgid(0, 0);
      ::execvp(cargv[0], cargv.data());
      _exit(127);
    }
    for (int i = 0; i < 600 && pid_ > 0; ++i) {
      std::istringstream in(read_text(out));
      std::string word;
      if (in >> word && word == "READY") {
        in >> port_;
        in >> port2_;
        return;
      }
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~TestServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  bool ok() const { return port_ > 0; }
  // Why a server that is not ok() did not start: whether it exited or never said READY within
  // 60 s, and the end of what it wrote to stderr.
  std::string failure() const {
    std::string err = read_text(out_ + ".err");
    if (err.size() > 2000) err = "..." + err.substr(err.size() - 2000);
    return std::string(pid_ < 0 ? "it exited" : "no READY line within 60 s") +
           "; stderr: " + (err.empty() ? "(empty)" : err);
  }
  int port() const { return port_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  pid_t pid_ = -1;
  int port_ = 0, port2_ = 0;
  std::string out_;
};

}  // namespace aim::testing
