// kube/config: kubeconfig files (YAML, with base64 *-data fields) and what an exec credential
// plugin prints (ExecCredential JSON). Mode byte: 0 kubeconfig, 1 ExecCredential. File
// references resolve under a directory that does not exist, so nothing is read from the disk.
#include "fuzz/fuzz_input.h"
#include "kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  auto [mode, text] = fuzz::select(data, size, 2);
  if (mode == 0) {
    auto cfg = kube::Config::from_kubeconfig_yaml(std::string(text), "/nonexistent/aim-fuzz");
    if (cfg && cfg->server.empty()) fuzz::violated("a config without a server", text);
  } else {
    auto cred = kube::parse_exec_credential(text);
    if (cred && cred->token.empty() && cred->client_cert_pem.empty())
      fuzz::violated("a credential with neither token nor certificate", text);
  }
  return 0;
}
