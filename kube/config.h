// Where the API server is and how to authenticate to it: kubeconfig files (current context,
// client certificates, bearer tokens and token files, CA data and files, exec credential
// plugins) and the in-cluster service-account environment.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/client.h"
#include "kube/error.h"

namespace aim::kube {

struct ExecCredentialConfig {
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
};

// What an exec credential plugin printed (ExecCredential.status). Never logged.
struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expiry;  // none: valid until rejected
};

// Decodes what a plugin printed; the error says what is wrong without quoting the output.
aim::Result<ExecCredential, std::string> parse_exec_credential(std::string_view output);

// Runs the plugin (stdin closed, stderr inherited, KUBERNETES_EXEC_INFO set) and decodes its
// ExecCredential; the plugin is killed when it does not finish within `timeout`.
Result<ExecCredential> run_exec_credential(
    const ExecCredentialConfig& exec, std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct Config {
  std::string server;  // https://127.0.0.1:6443
  http::TlsOptions tls;
  std::string bearer_token;
  std::string token_file;  // re-read when it changes (projected service-account tokens rotate)
  std::optional<ExecCredentialConfig> exec;
  std::string username;  // basic auth, rarely used
  std::string password;
  std::string default_namespace = "default";
  std::string context_name;

  // Client-side rate limit (token bucket). The API server's priority and fairness is the guard
  // of a shared control plane; this bucket only keeps one client from flooding it. At 50/s a
  // thousand new AIMServices (about four writes each) took 80 s on writes alone (issue 25).
  double qps = 200;
  int burst = 400;
  std::string user_agent = "aim-engine/0.1";
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // A watch that receives no byte (event or bookmark) for this long is considered hung and is
  // reconnected; the API server sends bookmarks about once a minute to watches that ask.
  std::chrono::seconds watch_stall_timeout{std::chrono::seconds(150)};
  // Every request and watch of the client shares its connections through one I/O thread
  // (http::Multiplexer): one HTTP/2 connection to an API server that speaks it, as client-go
  // has, instead of a connection per watch and per concurrent request (about 100 KB of TLS and
  // HTTP/2 state each). false: a connection per concurrent caller (--kube-api-multiplex=false).
  bool multiplex = true;
  // Where this configuration came from ("kubeconfig /path", "in-cluster"), for messages.
  std::string source;

  // Reads a kubeconfig file; `context` empty means its current-context.
  static Result<Config> from_kubeconfig(const std::string& path, const std::string& context = {});
  static Result<Config> from_kubeconfig_yaml(const std::string& yaml, const std::string& base_dir,
                                             const std::string& context = {});
  // KUBERNETES_SERVICE_HOST/PORT plus /var/run/secrets/kubernetes.io/serviceaccount/*.
  static Result<Config> in_cluster(
      const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");
  // The usual search order: explicit path, $KUBECONFIG, in-cluster, ~/.kube/config.
  static Result<Config> load(const std::string& explicit_path = {});
};

}  // namespace aim::kube
