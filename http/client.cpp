#include "http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

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

  // Per-request state that must outlive the transfer (curl keeps pointers to it).
  Response resp;
  curl_slist* header_list = nullptr;
  curl_slist* connect_to_list = nullptr;

  Result<Response, Error> run(const Request& req, const StreamHandler* h) {
    prepare(req, h);
    return finish(curl_easy_perform(curl));
  }

  // Sets every option of `req` on the handle; the transfer then runs with curl_easy_perform or
  // inside a multi handle, and finish() turns its result into a Response.
  void prepare(const Request& req, const StreamHandler* h) {
    curl_easy_reset(curl);  // keeps the connection and DNS caches
    resp = Response{};
    response = &resp;
    handler = h;
    headers_delivered = false;
    handler_stopped = false;
    error_buffer[0] = '\0';

    // A TLS server name that differs from the URL's host (kubeconfig tls-server-name): ask for
    // the server name in the URL, so SNI and verification use it, and connect to the real host.
    std::string url = req.url;  // curl copies it, and the connect-to entry
    std::string connect_to;
    connect_to_list = nullptr;
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

    header_list = nullptr;
    for (const auto& [k, v] : req.headers)
      header_list = curl_slist_append(header_list, (k + ": " + v).c_str());
    header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  }

  Result<Response, Error> finish(CURLcode code) {
    curl_slist_free_all(header_list);
    curl_slist_free_all(connect_to_list);
    header_list = connect_to_list = nullptr;
    response = nullptr;

    if (code == CURLE_OK) {
      response = &resp;
      deliver_headers();  // bodiless responses still announce their headers (handler still set)
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
    return std::move(resp);
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

SessionPool::SessionPool(TlsOptions tls, std::string user_agent, std::size_t max_idle,
                         bool multiplex)
    : tls_(std::move(tls)), user_agent_(std::move(user_agent)), max_idle_(max_idle) {
  if (multiplex) mux_ = std::make_unique<Multiplexer>(tls_, user_agent_);
}

Result<Response, Error> SessionPool::perform(const Request& request) {
  if (mux_) return mux_->perform(request);
  return acquire()->perform(request);
}

Result<Response, Error> SessionPool::stream(const Request& request, const StreamHandler& handler) {
  if (mux_) return mux_->stream(request, handler);
  return acquire()->stream(request, handler);
}

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

// ---- Multiplexer ---------------------------------------------------------------------------

namespace {

// One request inside the multiplexer: its own easy handle (a Session), what the I/O thread has
// received for the caller, and how it ended.
struct Transfer {
  Session session;
  StreamHandler queueing;  // what the Session's callbacks call, on the I/O thread
  const std::atomic<bool>* cancel = nullptr;
  std::atomic<bool> consumer_stopped{false};

  std::mutex mu;
  std::condition_variable cv;
  std::string data;  // received, not yet handed to the caller
  bool paused = false;
  bool headers_seen = false;
  long status = 0;
  Headers headers;
  bool done = false;
  CURLcode code = CURLE_OK;

  Transfer(const TlsOptions& tls, const std::string& user_agent) : session(tls, user_agent) {}
};

}  // namespace

struct Multiplexer::State {
  TlsOptions tls;
  std::string user_agent;
  CURLM* multi = nullptr;
  std::thread io;
  std::atomic<std::uint64_t> connections{0};

  std::mutex mu;  // guards the three below
  bool stopping = false;
  std::vector<Transfer*> pending;  // to add to the multi handle
  // Handles to unpause (or to abort, once their caller stopped). A handle, not the Transfer: its
  // transfer may have ended and its caller returned before the I/O thread gets to it.
  std::vector<CURL*> resumes;

  void wake() { curl_multi_wakeup(multi); }

  // Hands `t` back to its caller, who may destroy it as soon as the lock is released: notified
  // under the lock, and not touched afterwards.
  static void end(Transfer* t, CURLcode code) {
    std::lock_guard lock(t->mu);
    t->done = true;
    t->code = code;
    t->cv.notify_all();
  }

  // Adds `t`, or ends it at once when the I/O thread has stopped.
  void submit(Transfer* t) {
    {
      std::lock_guard lock(mu);
      if (!stopping) {
        pending.push_back(t);
        wake();
        return;
      }
    }
    end(t, CURLE_ABORTED_BY_CALLBACK);
  }

  void resume(Transfer* t) {
    std::lock_guard lock(mu);
    resumes.push_back(t->session.impl_->curl);
    wake();
  }

  void loop() {
    std::map<CURL*, Transfer*> active;
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        for (Transfer* t : pending) {
          CURL* e = t->session.impl_->curl;
          active[e] = t;
          curl_multi_add_handle(multi, e);
        }
        pending.clear();
        for (CURL* e : resumes)
          if (active.count(e)) curl_easy_pause(e, CURLPAUSE_CONT);
        resumes.clear();
      }
      int running = 0;
      curl_multi_perform(multi, &running);
      int queued = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL* e = m->easy_handle;
        long opened = 0;
        if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK && opened > 0)
          connections += static_cast<std::uint64_t>(opened);
        const CURLcode code = m->data.result;
        curl_multi_remove_handle(multi, e);
        auto it = active.find(e);
        if (it == active.end()) continue;
        Transfer* t = it->second;
        active.erase(it);
        end(t, code);
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& [e, t] : active) {
      curl_multi_remove_handle(multi, e);
      end(t, CURLE_ABORTED_BY_CALLBACK);
    }
    std::lock_guard lock(mu);
    for (Transfer* t : pending) end(t, CURLE_ABORTED_BY_CALLBACK);
    pending.clear();
  }

  // The write callback of a streamed transfer: queue for the caller, pause beyond kMaxQueued.
  static size_t on_write(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const size_t n = size * count;
    Session::Impl& impl = *t->session.impl_;
    if (!impl.deliver_headers() || t->consumer_stopped) {
      impl.handler_stopped = true;
      return 0;
    }
    {
      std::lock_guard lock(t->mu);
      if (t->data.size() >= kMaxQueued) {
        t->paused = true;
        return CURL_WRITEFUNC_PAUSE;  // delivered again once the caller has drained the queue
      }
      t->data.append(data, n);
    }
    t->cv.notify_all();
    return n;
  }

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(self);
    if (t->consumer_stopped || (t->cancel && t->cancel->load())) {
      t->session.impl_->handler_stopped = true;
      return 1;
    }
    return 0;
  }

  // Prepares the easy handle of `t` for `req` inside the multi handle.
  void prepare(Transfer& t, const Request& req, const StreamHandler* handler) {
    Session::Impl& impl = *t.session.impl_;
    impl.prepare(req, handler);
    t.cancel = req.cancel;
    CURL* e = impl.curl;
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // wait for a connection to multiplex on
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &State::on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    if (handler != nullptr) {
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &State::on_write);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    }
  }
};

Multiplexer::Multiplexer(TlsOptions tls, std::string user_agent)
    : state_(std::make_shared<State>()) {
  global_init();
  state_->tls = std::move(tls);
  state_->user_agent = std::move(user_agent);
  state_->multi = curl_multi_init();
  curl_multi_setopt(state_->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(state_->multi, CURLMOPT_MAXCONNECTS, 8L);
  curl_multi_setopt(state_->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 250L);
  state_->io = std::thread([s = state_.get()] { s->loop(); });
}

Multiplexer::~Multiplexer() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->wake();
  }
  state_->io.join();
  curl_multi_cleanup(state_->multi);
  state_->multi = nullptr;
}

std::uint64_t Multiplexer::connections_opened() const {
  return state_->connections.load();
}

Result<Response, Error> Multiplexer::perform(const Request& request) {
  std::shared_ptr<State> state = state_;
  Transfer t(state->tls, state->user_agent);
  state->prepare(t, request, nullptr);
  state->submit(&t);
  {
    std::unique_lock lock(t.mu);
    t.cv.wait(lock, [&] { return t.done; });
  }
  return t.session.impl_->finish(t.code);
}

Result<Response, Error> Multiplexer::stream(const Request& request, const StreamHandler& handler) {
  std::shared_ptr<State> state = state_;
  Transfer t(state->tls, state->user_agent);
  t.queueing.on_headers = [&t](long status, const Headers& headers) {
    {
      std::lock_guard lock(t.mu);
      t.status = status;
      t.headers = headers;
      t.headers_seen = true;
    }
    t.cv.notify_all();
    return !t.consumer_stopped;
  };
  state->prepare(t, request, &t.queueing);
  state->submit(&t);
  bool headers_delivered = false;
  auto stop = [&] {
    t.consumer_stopped = true;
    state->resume(&t);  // a paused transfer must run to see it
  };
  std::unique_lock lock(t.mu);
  for (;;) {
    t.cv.wait(lock,
              [&] { return (t.headers_seen && !headers_delivered) || !t.data.empty() || t.done; });
    if (t.headers_seen && !headers_delivered) {
      headers_delivered = true;
      const long status = t.status;
      const Headers headers = t.headers;
      lock.unlock();
      if (!t.consumer_stopped && handler.on_headers && !handler.on_headers(status, headers)) stop();
      lock.lock();
      continue;
    }
    if (!t.data.empty()) {
      std::string chunk;
      chunk.swap(t.data);
      const bool was_paused = t.paused;
      t.paused = false;
      lock.unlock();
      if (!t.consumer_stopped && handler.on_data && !handler.on_data(chunk)) stop();
      if (was_paused && !t.consumer_stopped) state->resume(&t);
      lock.lock();
      continue;
    }
    break;  // done, everything delivered
  }
  lock.unlock();
  auto result = t.session.impl_->finish(t.code);  // a bodiless response announces its headers
  if (!headers_delivered && t.headers_seen && handler.on_headers && !t.consumer_stopped)
    handler.on_headers(t.status, t.headers);
  return result;
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
