// Leader election against the real API server: two candidates with separate clients (as two
// replicas would have) elect exactly one leader; a released lease is taken over at once; a
// crashed leader's lease is taken over once it expires (15 s) plus at most a retry period.
// Also runs two aim-engine processes and stops the leader with SIGTERM.
#include <gmock/gmock.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "kube/leader_election.h"
#include "test/integration/kube/fixture.h"

namespace aim::kube::integration {
namespace {

std::shared_ptr<Client> second_client() {
  auto cfg = Config::load();
  if (!cfg) return nullptr;
  auto c = Client::create(*cfg);
  return c ? *c : nullptr;
}

class LeaderElectionIT : public KubeIntegration {
 protected:
  LeaderElectionConfig config(const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = ns_;
    c.lease_name = "it-leader";
    c.identity = id;
    c.registry = registry_.get();
    return c;
  }
  std::string holder() {
    auto lease = client_->get(types::leases(), ns_, "it-leader");
    return lease ? lease->value("spec", Json::object()).value("holderIdentity", "") : "";
  }
  std::unique_ptr<metrics::Registry> registry_ = metrics::make_registry();
};

struct Candidate {
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> stop{false};
  std::atomic<bool> leading{false};
  std::atomic<bool> clean_exit{false};
  std::thread thread;

  void start() {
    thread = std::thread([this] {
      LeaderCallbacks cb;
      cb.on_started_leading = [this] { leading = true; };
      cb.on_stopped_leading = [this] { leading = false; };
      clean_exit = elector->run(stop, cb);
    });
  }
  void halt() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  ~Candidate() { halt(); }
};

TEST_F(LeaderElectionIT, ExactlyOneLeaderAndReleaseHandsOverAtOnce) {
  auto other = second_client();
  ASSERT_NE(other, nullptr);
  Candidate a, b;
  a.elector = std::make_unique<LeaderElector>(client_, config("a"));
  b.elector = std::make_unique<LeaderElector>(other, config("b"));
  a.start();
  ASSERT_TRUE(eventually([&] { return a.leading.load(); }, 30s));
  b.start();
  // b has looked at the lease at least once and stands by.
  ASSERT_TRUE(eventually([&] { return b.elector->observed_holder() == "a"; }, 30s));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(a.leading.load() != b.leading.load()) << "exactly one leader";
    std::this_thread::sleep_for(1s);
  }
  EXPECT_EQ(holder(), "a");

  auto released_at = std::chrono::steady_clock::now();
  a.halt();
  EXPECT_TRUE(a.clean_exit.load());
  ASSERT_TRUE(eventually([&] { return b.leading.load(); }, 30s));
  auto handover = std::chrono::steady_clock::now() - released_at;
  // A released lease does not have to expire: b takes it on its next retry.
  EXPECT_LT(handover, 15s) << "took " << std::chrono::duration<double>(handover).count() << " s";
  EXPECT_EQ(holder(), "b");
  auto lease = client_->get(types::leases(), ns_, "it-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
}

TEST_F(LeaderElectionIT, CrashedLeaderIsReplacedAfterTheLeaseExpires) {
  auto other = second_client();
  ASSERT_NE(other, nullptr);
  // "a" acquires once and then vanishes without renewing or releasing (a crash).
  LeaderElector a(client_, config("a"));
  ASSERT_TRUE(a.try_acquire_or_renew());
  auto crashed_at = std::chrono::steady_clock::now();
  Candidate b;
  b.elector = std::make_unique<LeaderElector>(other, config("b"));
  b.start();
  ASSERT_TRUE(eventually([&] { return b.leading.load(); }, 40s));
  auto took = std::chrono::steady_clock::now() - crashed_at;
  std::cout << "takeover after crash: " << std::chrono::duration<double>(took).count() << " s\n";
  // Not before the lease could have expired, and within lease duration + one retry (+ slack).
  EXPECT_GE(took, 14s);
  EXPECT_LE(took, 15s + 2s + 5s);
  EXPECT_EQ(holder(), "b");
}

// --- two aim-engine processes ---

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Process {
  pid_t pid = -1;
  std::string log_path;
  int wait_exit() {
    int status = 0;
    for (int i = 0; i < 300; ++i) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(100ms);
    }
    return -1;  // still running after 30 s
  }
  ~Process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

void spawn(Process& p, const std::string& ns, const std::string& name) {
  p.log_path = "/tmp/aim-engine-it-" + ns + "-" + name + ".log";
  p.pid = ::fork();
  if (p.pid == 0) {
    FILE* f = std::freopen(p.log_path.c_str(), "w", stderr);
    (void)f;
    std::string ns_flag = "--leader-election-namespace=" + ns;
    ::execl(AIM_ENGINE_BINARY, AIM_ENGINE_BINARY, ns_flag.c_str(),
            "--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
            "--log-format=json", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
}

TEST_F(LeaderElectionIT, TwoOperatorProcessesOneLeaderSigtermHandsOver) {
  Process first, second;
  spawn(first, ns_, "first");
  ASSERT_GT(first.pid, 0);
  ASSERT_TRUE(eventually(
      [&] { return read_file(first.log_path).find("became leader") != std::string::npos; }, 60s))
      << read_file(first.log_path);
  spawn(second, ns_, "second");
  ASSERT_TRUE(eventually(
      [&] {
        return read_file(second.log_path).find("connected to the API server") != std::string::npos;
      },
      60s))
      << read_file(second.log_path);
  std::this_thread::sleep_for(5s);  // more than two retry periods of the standby
  EXPECT_EQ(read_file(second.log_path).find("became leader"), std::string::npos) << "two leaders";

  ::kill(first.pid, SIGTERM);
  EXPECT_EQ(first.wait_exit(), 0) << read_file(first.log_path);
  ASSERT_TRUE(eventually(
      [&] { return read_file(second.log_path).find("became leader") != std::string::npos; }, 14s))
      << "standby did not take over a released lease before it would have expired\n"
      << read_file(second.log_path);
  ::kill(second.pid, SIGTERM);
  EXPECT_EQ(second.wait_exit(), 0) << read_file(second.log_path);
  auto lease = client_->get(types::leases(), ns_, "aim-engine-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE((*lease)["spec"].contains("holderIdentity")) << "released on SIGTERM";
}

TEST(AimEngineProcess, UnreadableKubeconfigIsOneErrorLineAndExitCode1) {
  std::string log = "/tmp/aim-engine-it-badkc.log";
  std::string cmd =
      std::string(AIM_ENGINE_BINARY) + " --kubeconfig=/nonexistent/kubeconfig 2>" + log;
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  auto text = read_file(log);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_THAT(text, ::testing::HasSubstr("unable to load kubeconfig"));
}

TEST(AimEngineProcess, UnreachableServerIsOneErrorLineAndExitCode1) {
  // A kubeconfig pointing at a closed local port.
  std::string kc = "/tmp/aim-engine-it-unreachable.kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                       "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:1', "
                       "insecure-skip-tls-verify: true}}]\n"
                       "users: [{name: x, user: {token: abc}}]\n"
                       "contexts: [{name: x, context: {cluster: x, user: x}}]\n";
  std::string log = "/tmp/aim-engine-it-unreachable.log";
  std::string cmd = std::string(AIM_ENGINE_BINARY) + " --kubeconfig=" + kc + " 2>" + log;
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  auto text = read_file(log);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_THAT(text, ::testing::HasSubstr("unable to reach the API server"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("abc")));  // never log the token
}

TEST(AimEngineProcess, TlsMismatchIsOneErrorLineAndExitCode1) {
  const char* real = std::getenv("KUBECONFIG");
  if (real == nullptr || *real == '\0') GTEST_SKIP() << "KUBECONFIG is not set";
  auto cfg = Config::load();
  ASSERT_TRUE(cfg.ok());
  // The real server, but trusting a CA that did not sign its certificate.
  std::string ca = "/tmp/aim-engine-it-wrong-ca.pem";
  std::ofstream(ca) << kWrongCa;
  std::string kc = "/tmp/aim-engine-it-tls.kubeconfig";
  std::ofstream(kc) << "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
                       "clusters: [{name: x, cluster: {server: '"
                    << cfg->server << "', certificate-authority: " << ca
                    << "}}]\n"
                       "users: [{name: x, user: {token: abc}}]\n"
                       "contexts: [{name: x, context: {cluster: x, user: x}}]\n";
  std::string log = "/tmp/aim-engine-it-tls.log";
  std::string cmd = std::string(AIM_ENGINE_BINARY) + " --kubeconfig=" + kc + " 2>" + log;
  int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  auto text = read_file(log);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
}

}  // namespace
}  // namespace aim::kube::integration
