// TLS for the operator's own endpoints (the secure metrics endpoint, kube/manager.h). The
// serving certificate comes from a directory (tls.crt and tls.key, as a cert-manager Certificate
// or any kubernetes.io/tls Secret mounts them) and is reloaded when those files change, so a
// rotated certificate is served without a restart; without a directory a self-signed
// certificate is made in memory at start, as controller-runtime's secure metrics serving does.
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header

namespace aim::kube {

struct TlsServingOptions {
  std::string cert_dir;  // empty: self-signed
  std::string cert_name = "tls.crt";
  std::string key_name = "tls.key";
  std::string min_version = "1.2";  // "1.2" or "1.3"
  // Subject alternative names of the self-signed certificate (DNS names or IP addresses).
  std::vector<std::string> self_signed_hosts = {"localhost", "127.0.0.1"};
};

class TlsServing {
 public:
  // Loads (or makes) the certificate; errors name the file or the OpenSSL failure.
  static aim::Result<std::shared_ptr<TlsServing>, std::string> create(TlsServingOptions options);
  ~TlsServing();
  TlsServing(const TlsServing&) = delete;
  TlsServing& operator=(const TlsServing&) = delete;

  // The context for a new connection. When the certificate files changed since they were
  // loaded they are read again; if they no longer load, the previous context stays in use.
  std::shared_ptr<ssl_ctx_st> context();
  bool self_signed() const { return options_.cert_dir.empty(); }

 private:
  explicit TlsServing(TlsServingOptions options) : options_(std::move(options)) {}
  aim::Result<void, std::string> load();  // from cert_dir, or self-signed

  TlsServingOptions options_;
  std::mutex mu_;
  std::shared_ptr<ssl_ctx_st> ctx_;
  std::string loaded_stamp_;  // mtime and size of both files when loaded
  std::string failed_stamp_;  // the same of the last change that did not load
};

}  // namespace aim::kube
