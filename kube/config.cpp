#include "kube/config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/chrono.h"

extern char** environ;

namespace aim::kube {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  switch (err) {
    case ENOENT:
      return "no such file";
    case EACCES:
      return "permission denied";
    case EISDIR:
      return "is a directory";
    default:
      return std::strerror(err);
  }
}

// Reads a whole file; on failure returns the errno.
Result<std::string> read_file(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(make_error(ErrorCode::kConfig, fmt::format("{}: {}", what, errno_text(errno))));
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return fail(make_error(ErrorCode::kConfig, fmt::format("{}: {}", what, errno_text(err))));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

std::string scalar(const YAML::Node& node, const char* key) {
  const YAML::Node v = node[key];
  if (!v || v.IsNull()) return {};
  if (!v.IsScalar()) throw YAML::Exception(v.Mark(), std::string(key) + " must be a string");
  return v.as<std::string>();
}

// Finds the entry `name` in a kubeconfig list of {name, <field>} maps.
YAML::Node named(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : list) {
    if (entry.IsMap() && scalar(entry, "name") == name) return entry[field];
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// For a *-data field, decodes the base64 PEM; for a path field, checks that the file is readable.
Result<Ok> pem_or_file(const YAML::Node& node, const char* data_key, const char* file_key,
                       const std::string& base_dir, const std::string& source, std::string& pem_out,
                       std::string& file_out) {
  std::string data = scalar(node, data_key);
  if (!data.empty()) {
    auto decoded = aim::base64_decode(data);
    if (!decoded)
      return fail(make_error(ErrorCode::kConfig,
                             fmt::format("{}: {} is not valid base64", source, data_key)));
    pem_out = std::move(*decoded);
    return Ok{};
  }
  std::string file = scalar(node, file_key);
  if (file.empty()) return Ok{};
  file_out = resolve(base_dir, file);
  if (::access(file_out.c_str(), R_OK) != 0)
    return fail(make_error(ErrorCode::kConfig, fmt::format("{}: {} {}: {}", source, file_key,
                                                           file_out, errno_text(errno))));
  return Ok{};
}

Result<Config> parse_kubeconfig(const std::string& yaml, const std::string& base_dir,
                                const std::string& wanted_context, const std::string& source) {
  auto config_error = [&](const std::string& what) {
    return fail(make_error(ErrorCode::kConfig, fmt::format("{}: {}", source, what)));
  };
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return config_error(fmt::format("malformed YAML at line {}: {}", e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) return config_error("not a kubeconfig (expected a YAML mapping)");

  try {
    Config cfg;
    cfg.source = source;
    std::string context_name =
        wanted_context.empty() ? scalar(root, "current-context") : wanted_context;
    if (context_name.empty()) return config_error("no current-context set and no context given");
    YAML::Node context = named(root["contexts"], context_name, "context");
    if (!context || !context.IsMap())
      return config_error(fmt::format("context \"{}\" not found", context_name));
    cfg.context_name = context_name;
    std::string ns = scalar(context, "namespace");
    if (!ns.empty()) cfg.default_namespace = ns;

    std::string cluster_name = scalar(context, "cluster");
    YAML::Node cluster = named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster.IsMap())
      return config_error(
          fmt::format("context \"{}\" refers to cluster \"{}\", which is not defined", context_name,
                      cluster_name));
    cfg.server = scalar(cluster, "server");
    if (cfg.server.empty())
      return config_error(fmt::format("cluster \"{}\" has no server", cluster_name));
    while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
    if (auto r = pem_or_file(cluster, "certificate-authority-data", "certificate-authority",
                             base_dir, source, cfg.tls.ca_pem, cfg.tls.ca_file);
        !r)
      return fail(r.error());
    if (cluster["insecure-skip-tls-verify"])
      cfg.tls.insecure_skip_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    cfg.tls.server_name = scalar(cluster, "tls-server-name");

    std::string user_name = scalar(context, "user");
    if (user_name.empty()) return cfg;  // anonymous
    YAML::Node user = named(root["users"], user_name, "user");
    if (!user || !user.IsMap()) {
      // An empty `user: {}` entry is legal (anonymous); a missing entry is a mistake.
      if (user && user.IsNull()) return cfg;
      return config_error(fmt::format("context \"{}\" refers to user \"{}\", which is not defined",
                                      context_name, user_name));
    }
    if (auto r = pem_or_file(user, "client-certificate-data", "client-certificate", base_dir,
                             source, cfg.tls.client_cert_pem, cfg.tls.client_cert_file);
        !r)
      return fail(r.error());
    if (auto r = pem_or_file(user, "client-key-data", "client-key", base_dir, source,
                             cfg.tls.client_key_pem, cfg.tls.client_key_file);
        !r)
      return fail(r.error());
    const bool has_cert = !cfg.tls.client_cert_pem.empty() || !cfg.tls.client_cert_file.empty();
    const bool has_key = !cfg.tls.client_key_pem.empty() || !cfg.tls.client_key_file.empty();
    if (has_cert != has_key)
      return config_error(
          fmt::format("user \"{}\" has a client certificate without a key or a key "
                      "without a certificate",
                      user_name));
    cfg.bearer_token = scalar(user, "token");
    std::string token_file = scalar(user, "tokenFile");
    if (!token_file.empty()) {
      cfg.token_file = resolve(base_dir, token_file);
      if (::access(cfg.token_file.c_str(), R_OK) != 0)
        return config_error(fmt::format("tokenFile {}: {}", cfg.token_file, errno_text(errno)));
    }
    cfg.username = scalar(user, "username");
    cfg.password = scalar(user, "password");
    if (YAML::Node ap = user["auth-provider"]; ap && ap.IsMap())
      return config_error(
          fmt::format("user \"{}\" uses auth-provider \"{}\", which is not "
                      "supported; use an exec credential plugin",
                      user_name, scalar(ap, "name")));
    if (YAML::Node exec = user["exec"]; exec && exec.IsMap()) {
      ExecCredentialConfig e;
      e.command = scalar(exec, "command");
      if (e.command.empty())
        return config_error(fmt::format("user \"{}\": exec has no command", user_name));
      // Like kubectl: a command with a slash is a path relative to the kubeconfig's directory;
      // a bare name is looked up in PATH.
      if (e.command.find('/') != std::string::npos) e.command = resolve(base_dir, e.command);
      if (YAML::Node args = exec["args"]; args && args.IsSequence())
        for (const auto& a : args) e.args.push_back(a.as<std::string>());
      if (YAML::Node env = exec["env"]; env && env.IsSequence())
        for (const auto& kv : env) e.env[scalar(kv, "name")] = scalar(kv, "value");
      e.api_version = scalar(exec, "apiVersion");
      if (e.api_version.empty()) e.api_version = "client.authentication.k8s.io/v1";
      cfg.exec = std::move(e);
    }
    return cfg;
  } catch (const YAML::Exception& e) {
    return config_error(fmt::format("invalid at line {}: {}", e.mark.line + 1, e.msg));
  }
}

std::string kubeconfig_source(const std::string& path) {
  return "kubeconfig " + path;
}

}  // namespace

Result<Config> Config::from_kubeconfig(const std::string& path, const std::string& context) {
  auto text = read_file(path, kubeconfig_source(path));
  if (!text) return fail(text.error());
  std::string base_dir = fs::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return parse_kubeconfig(*text, base_dir, context, kubeconfig_source(path));
}

Result<Config> Config::from_kubeconfig_yaml(const std::string& yaml, const std::string& base_dir,
                                            const std::string& context) {
  return parse_kubeconfig(yaml, base_dir, context, "kubeconfig");
}

Result<Config> Config::in_cluster(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return fail(make_error(ErrorCode::kConfig,
                           "in-cluster config: KUBERNETES_SERVICE_HOST and "
                           "KUBERNETES_SERVICE_PORT are not set (not running in a pod?)"));
  Config cfg;
  cfg.source = "in-cluster config";
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  cfg.server = "https://" + h + ":" + port;
  cfg.token_file = sa_dir + "/token";
  if (::access(cfg.token_file.c_str(), R_OK) != 0)
    return fail(make_error(ErrorCode::kConfig, fmt::format("in-cluster config: {}: {}",
                                                           cfg.token_file, errno_text(errno))));
  std::string ca = sa_dir + "/ca.crt";
  if (::access(ca.c_str(), R_OK) == 0) cfg.tls.ca_file = ca;
  if (auto ns = read_file(sa_dir + "/namespace", "namespace"); ns) {
    std::string n = *ns;
    while (!n.empty() && std::isspace(static_cast<unsigned char>(n.back()))) n.pop_back();
    if (!n.empty()) cfg.default_namespace = n;
  }
  return cfg;
}

Result<Config> Config::load(const std::string& explicit_path) {
  if (!explicit_path.empty()) return from_kubeconfig(explicit_path);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    // A list like PATH: the first file that exists wins (we do not merge files).
    std::string list = env, first;
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string p = list.substr(start, end - start);
      if (!p.empty()) {
        if (first.empty()) first = p;
        if (::access(p.c_str(), F_OK) == 0) return from_kubeconfig(p);
      }
      start = end + 1;
    }
    if (!first.empty()) return from_kubeconfig(first);  // reports "no such file"
  }
  if (std::getenv("KUBERNETES_SERVICE_HOST")) return in_cluster();
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string p = std::string(home) + "/.kube/config";
    if (::access(p.c_str(), F_OK) == 0) return from_kubeconfig(p);
  }
  return fail(make_error(ErrorCode::kConfig,
                         "no cluster configuration: pass --kubeconfig, set KUBECONFIG, run in a "
                         "pod, or create ~/.kube/config"));
}

Result<ExecCredential> run_exec_credential(const ExecCredentialConfig& exec,
                                           std::chrono::milliseconds timeout) {
  const std::string who = fmt::format("exec credential plugin {}", exec.command);
  auto plugin_error = [&](const std::string& what) {
    return fail(make_error(ErrorCode::kConfig, fmt::format("{}: {}", who, what)));
  };

  // Environment: ours, then the kubeconfig's additions, then KUBERNETES_EXEC_INFO.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string name(kv.substr(0, kv.find('=')));
    if (exec.env.count(name) || name == "KUBERNETES_EXEC_INFO") continue;
    env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : exec.env) env_strings.push_back(k + "=" + v);
  nlohmann::json info = {{"apiVersion", exec.api_version},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", false}}}};
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> arg_strings{exec.command};
  arg_strings.insert(arg_strings.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return plugin_error(fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, exec.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return plugin_error(errno_text(rc));
  }

  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
    if (output.size() > (1u << 20)) break;  // no credential is this large
  }
  ::close(out[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return plugin_error(fmt::format("did not finish within {}s", timeout.count() / 1000.0));
  if (WIFSIGNALED(status))
    return plugin_error(fmt::format("killed by signal {}", WTERMSIG(status)));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    if (WEXITSTATUS(status) == 127) return plugin_error("command not found");
    return plugin_error(fmt::format("exited with status {}", WEXITSTATUS(status)));
  }

  auto cred = parse_exec_credential(output);
  if (!cred) return plugin_error(cred.error());
  return std::move(cred).value();
}

aim::Result<ExecCredential, std::string> parse_exec_credential(std::string_view output) {
  // Never quote the output, it holds the credential.
  auto j = nlohmann::json::parse(output, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(std::string("output is not JSON"));
  // Not j.value("kind", ""): that throws type_error for a kind that is not a string, and the
  // exception left the decoder (found by fuzz/kubeconfig_fuzz.cpp).
  auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string() || kind->get<std::string>() != "ExecCredential")
    return fail(std::string("output is not an ExecCredential"));
  auto st = j.find("status");
  if (st == j.end() || !st->is_object()) return fail(std::string("ExecCredential has no status"));
  ExecCredential cred;
  auto str = [&](const char* k) {
    auto it = st->find(k);
    return it != st->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  cred.token = str("token");
  cred.client_cert_pem = str("clientCertificateData");
  cred.client_key_pem = str("clientKeyData");
  if (cred.client_cert_pem.empty() != cred.client_key_pem.empty())
    return fail(
        std::string("status has clientCertificateData without clientKeyData or vice versa"));
  if (cred.token.empty() && cred.client_cert_pem.empty())
    return fail(std::string("status has neither a token nor a client certificate"));
  if (std::string exp = str("expirationTimestamp"); !exp.empty()) {
    if (auto t = parse_rfc3339(exp)) cred.expiry = std::chrono::system_clock::from_time_t(*t);
    if (!cred.expiry) return fail(std::string("expirationTimestamp is not an RFC 3339 time"));
  }
  return cred;
}

}  // namespace aim::kube
