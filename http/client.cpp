#include "http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "core/strings.h"

namespace aim::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

ErrorKind classify(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return ErrorKind::kResolve;
    case CURLE_COULDNT_CONNECT:
      return ErrorKind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
      return ErrorKind::kTls;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
      return ErrorKind::kAborted;
    default:
      return ErrorKind::kOther;
  }
}

curl_blob blob_of(const std::string& pem) {
  return curl_blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
}

}  // namespace

void Headers::add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::vector<std::string> Headers::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kResolve:
      return "resolve";
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTls:
      return "tls";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kAborted:
      return "aborted";
    case ErrorKind::kWrite:
      return "write";
    case ErrorKind::kOther:
      return "other";
  }
  return "other";
}

struct Session::Impl {
  CURL* curl = nullptr;
  TlsOptions tls;
  std::string user_agent;
  char error_buffer[CURL_ERROR_SIZE] = {};

  // Per-request state used by the C callbacks.
  Response* response = nullptr;
  const StreamHandler* handler = nullptr;
  bool headers_delivered = false;
  bool handler_stopped = false;
  const std::atomic<bool>* cancel = nullptr;

  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    auto* impl = static_cast<Impl*>(self);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response begins (after a redirect or a 100 Continue): forget earlier headers.
      impl->response->headers.clear();
      auto sp = line.find(' ');
      impl->response->status = sp == std::string_view::npos ? 0 : std::atol(line.data() + sp + 1);
      return n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
      impl->response->headers.add(std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1))));
    return n;
  }

  bool deliver_headers() {
    if (headers_delivered) return true;
    headers_delivered = true;
    if (handler && handler->on_headers &&
        !handler->on_headers(response->status, response->headers)) {
      handler_stopped = true;
      return false;
    }
    return true;
  }

  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    auto* impl = static_cast<Impl*>(self);
    const size_t n = size * count;
    if (!impl->deliver_headers()) return 0;
    if (impl->handler) {
      if (impl->handler->on_data && !impl->handler->on_data(std::string_view(data, n))) {
        impl->handler_stopped = true;
        return 0;
      }
      return n;
    }
    impl->response->body.append(data, n);
    return n;
  }

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* impl = static_cast<Impl*>(self);
    if (impl->cancel && impl->cancel->load()) {
      impl->handler_stopped = true;
      return 1;
    }
    return 0;
  }

  void apply_tls() {
    if (!tls.ca_pem.empty()) {
      curl_blob b = blob_of(tls.ca_pem);
      curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &b);
    } else if (!tls.ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
    if (!tls.client_cert_pem.empty()) {
      curl_blob b = blob_of(tls.client_cert_pem);
      curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &b);
      curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!tls.client_cert_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
    }
    if (!tls.client_key_pem.empty()) {
      curl_blob b = blob_of(tls.client_key_pem);
      curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &b);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!tls.client_key_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.client_key_file.c_str());
    }
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }

  Result<Response, Error> run(const Request& req, const StreamHandler* h) {
    curl_easy_reset(curl);  // keeps the connection and DNS caches
    Response resp;
    response = &resp;
    handler = h;
    headers_delivered = false;
    handler_stopped = false;
    error_buffer[0] = '\0';

    // A TLS server name that differs from the URL's host (kubeconfig tls-server-name): ask for
    // the server name in the URL, so SNI and verification use it, and connect to the real host.
    std::string url = req.url;
    std::string connect_to;
    curl_slist* connect_to_list = nullptr;
    if (!tls.server_name.empty()) {
      if (CURLU* u = curl_url()) {
        char* host = nullptr;
        char* port = nullptr;
        if (curl_url_set(u, CURLUPART_URL, req.url.c_str(), 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_HOST, tls.server_name.c_str(), 0) == CURLUE_OK) {
          char* rewritten = nullptr;
          if (curl_url_get(u, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) {
            url = rewritten;
            connect_to = tls.server_name + ":" + port + ":" + host + ":" + port;
            connect_to_list = curl_slist_append(nullptr, connect_to.c_str());
            curl_free(rewritten);
          }
        }
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
      }
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    if (connect_to_list) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to_list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    // Set on every request: the handle is reused, and a download's large buffer must not stay.
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE,
                     req.receive_buffer > 0 ? std::clamp(req.receive_buffer, 1024L, 10L << 20)
                                            : static_cast<long>(CURL_MAX_WRITE_SIZE));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(req.connect_timeout.count()));
    if (req.stall_seconds > 0) {
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, std::max(1L, req.stall_bytes_per_second));
      curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, req.stall_seconds);
    }
    if (req.follow_redirects) {
      curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
      if (req.keep_auth_on_redirect) curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 1L);
    }
    apply_tls();
    cancel = req.cancel;
    if (cancel) {
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Impl::on_progress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }

    if (req.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }

    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers)
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to_list);
    response = nullptr;

    if (code == CURLE_OK) {
      handler = h;
      response = &resp;
      deliver_headers();  // bodiless responses still announce their headers
      response = nullptr;
    }
    handler = nullptr;
    char* effective = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
    if (effective) resp.effective_url = effective;

    if (code != CURLE_OK) {
      Error err;
      err.kind = handler_stopped ? ErrorKind::kAborted : classify(code);
      err.message = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
      long os_errno = 0;
      if (code == CURLE_COULDNT_CONNECT &&
          curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno != 0) {
        // "connection refused" / "no route to host": the cause a user can act on comes first.
        err.message =
            std::string(std::strerror(static_cast<int>(os_errno))) + " (" + err.message + ")";
      }
      return fail(std::move(err));
    }
    return resp;
  }
};

Session::Session(TlsOptions tls, std::string user_agent) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->curl = curl_easy_init();
  impl_->tls = std::move(tls);
  impl_->user_agent = std::move(user_agent);
}

Session::~Session() {
  if (impl_ && impl_->curl) curl_easy_cleanup(impl_->curl);
}

Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

Result<Response, Error> Session::perform(const Request& request) {
  return impl_->run(request, nullptr);
}

Result<Response, Error> Session::stream(const Request& request, const StreamHandler& handler) {
  return impl_->run(request, &handler);
}

SessionPool::SessionPool(TlsOptions tls, std::string user_agent, std::size_t max_idle)
    : tls_(std::move(tls)), user_agent_(std::move(user_agent)), max_idle_(max_idle) {}

SessionPool::Lease::~Lease() {
  if (pool_ && session_) pool_->release(std::move(session_));
}

SessionPool::Lease SessionPool::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto s = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(s));
    }
  }
  return Lease(this, std::make_unique<Session>(tls_, user_agent_));
}

void SessionPool::release(std::unique_ptr<Session> s) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(s));
}

std::string url_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace aim::http
