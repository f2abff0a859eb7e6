#include "kube/tls_serving.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "kube/log.h"

namespace aim::kube {
namespace {

std::string openssl_error(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

aim::Result<std::shared_ptr<SSL_CTX>, std::string> new_context(const std::string& min_version) {
  int version = 0;
  if (min_version == "1.2") version = TLS1_2_VERSION;
  if (min_version == "1.3") version = TLS1_3_VERSION;
  if (version == 0)
    return fail(fmt::format("TLS min version \"{}\": want 1.2 or 1.3", min_version));
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return fail(openssl_error("SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  // No renegotiation (a client could make the server redo handshakes), no session tickets
  // (nothing to gain for a scraper every 30 s, and no ticket key to rotate).
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return ctx;
}

// A self-signed P-256 certificate for the hosts, valid one year.
aim::Result<void, std::string> use_self_signed(SSL_CTX* ctx,
                                               const std::vector<std::string>& hosts) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return fail(openssl_error("generate key"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return fail(openssl_error("X509_new"));
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) return fail(openssl_error("RAND_bytes"));
  serial_bytes[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
      BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr), BN_free);
  X509_set_version(cert.get(), 2);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -5 * 60);  // tolerate clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("aim-engine-metrics"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& host : hosts) {
    unsigned char buf[sizeof(in6_addr)];
    bool ip =
        inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + host;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {{NID_basic_constraints, "critical,CA:FALSE"},
                                                    {NID_key_usage, "critical,digitalSignature"},
                                                    {NID_ext_key_usage, "serverAuth"},
                                                    {NID_subject_alt_name, san}};
  for (const auto& [nid, value] : extensions) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) return fail(openssl_error("certificate extension " + value));
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return fail(openssl_error("sign"));
  if (SSL_CTX_use_certificate(ctx, cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
    return fail(openssl_error("use self-signed certificate"));
  return Ok{};
}

// mtime and size of each file: a change means "load again" (Secret volumes swap a symlink).
std::string stamp(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return "missing " + p;
    out += fmt::format("{}.{}:{};", st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size);
  }
  return out;
}

}  // namespace

aim::Result<std::shared_ptr<TlsServing>, std::string> TlsServing::create(
    TlsServingOptions options) {
  std::shared_ptr<TlsServing> tls(new TlsServing(std::move(options)));
  std::lock_guard lock(tls->mu_);
  auto loaded = tls->load();
  if (!loaded) return fail(loaded.error());
  return tls;
}

TlsServing::~TlsServing() = default;

aim::Result<void, std::string> TlsServing::load() {
  auto ctx = new_context(options_.min_version);
  if (!ctx) return fail(ctx.error());
  if (self_signed()) {
    auto r = use_self_signed(ctx->get(), options_.self_signed_hosts);
    if (!r) return fail("self-signed certificate: " + r.error());
    ctx_ = *ctx;
    return Ok{};
  }
  const std::string cert = options_.cert_dir + "/" + options_.cert_name;
  const std::string key = options_.cert_dir + "/" + options_.key_name;
  const std::string before = stamp({cert, key});
  if (SSL_CTX_use_certificate_chain_file(ctx->get(), cert.c_str()) != 1)
    return fail(openssl_error("load certificate " + cert));
  if (SSL_CTX_use_PrivateKey_file(ctx->get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail(openssl_error("load private key " + key));
  if (SSL_CTX_check_private_key(ctx->get()) != 1)
    return fail(openssl_error(fmt::format("{} does not match {}", key, cert)));
  ctx_ = *ctx;
  loaded_stamp_ = before;
  return Ok{};
}

std::shared_ptr<ssl_ctx_st> TlsServing::context() {
  std::lock_guard lock(mu_);
  if (!self_signed()) {
    const std::string now = stamp({options_.cert_dir + "/" + options_.cert_name,
                                   options_.cert_dir + "/" + options_.key_name});
    if (now != loaded_stamp_ && now != failed_stamp_) {
      auto r = load();
      log::Logger log("metrics");
      if (r) {
        log.info("serving certificate reloaded", {{"dir", options_.cert_dir}});
      } else {
        failed_stamp_ = now;  // try again once the files change again; log once per change
        log.warn("serving certificate not reloaded; keeping the previous one",
                 {{"error", r.error()}});
      }
    }
  }
  return ctx_;
}

}  // namespace aim::kube
