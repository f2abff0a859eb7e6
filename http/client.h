// The one place that talks HTTP: a thin, value-returning wrapper over libcurl used by the
// Kubernetes client, the OCI registry client and the downloader.
//
// A Session owns one curl easy handle, so consecutive requests to the same host reuse the
// connection (keep-alive, HTTP/2 over TLS where the server offers it). A Session is not
// thread-safe; share connections across threads with a SessionPool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace aim::http {

// Response headers, in arrival order. Lookups are case-insensitive (RFC 9110).
class Headers {
 public:
  void add(std::string name, std::string value);
  std::optional<std::string> get(std::string_view name) const;  // first match
  std::vector<std::string> get_all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct TlsOptions {
  // Each of these may be given as a file path or as PEM data; data wins when both are set.
  std::string ca_file;
  std::string ca_pem;
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  bool insecure_skip_verify = false;
  std::string server_name;  // SNI / verification name override, when non-empty
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Whole-request deadline; zero means none (watches and large downloads use stall detection).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Abort when fewer than stall_bytes_per_second arrive for stall_seconds (0 disables).
  long stall_bytes_per_second = 0;
  long stall_seconds = 0;
  bool follow_redirects = false;
  // Keep the Authorization header when a redirect goes to another host (never by default).
  bool keep_auth_on_redirect = false;
  // When set and it becomes true, the transfer is aborted within about a second (kAborted).
  // Long-running watches and downloads use it for prompt shutdown.
  const std::atomic<bool>* cancel = nullptr;
  // libcurl's receive buffer (bytes per read and per StreamHandler::on_data call at most); 0 is
  // libcurl's default (16 KiB). Large downloads use more, so each callback carries more data.
  long receive_buffer = 0;
};

struct Response {
  long status = 0;
  Headers headers;
  std::string body;
  std::string effective_url;  // after redirects
};

enum class ErrorKind {
  kResolve,  // DNS failure
  kConnect,  // connection refused / unreachable
  kTls,      // handshake or certificate verification failed
  kTimeout,  // deadline or stall
  kAborted,  // a callback asked to stop
  kWrite,    // local write failed (e.g. disk full) inside a streaming callback
  kOther,
};

struct Error {
  ErrorKind kind = ErrorKind::kOther;
  std::string message;  // curl's message plus our context; never contains credentials
};

std::string_view to_string(ErrorKind kind);

// Streaming callbacks. on_headers runs once per response (again after a redirect that is
// followed); returning false aborts. on_data receives body bytes; returning false aborts.
struct StreamHandler {
  std::function<bool(long status, const Headers& headers)> on_headers;
  std::function<bool(std::string_view chunk)> on_data;
};

class Session {
 public:
  explicit Session(TlsOptions tls = {}, std::string user_agent = "aim-engine");
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Buffers the whole body.
  Result<Response, Error> perform(const Request& request);
  // Hands the body to the handler as it arrives; the returned Response has an empty body.
  Result<Response, Error> stream(const Request& request, const StreamHandler& handler);

 private:
  friend class Multiplexer;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the requests of many threads over shared connections: one I/O thread drives a curl multi
// handle, so concurrent requests to an HTTPS server that speaks HTTP/2 share one connection, one
// stream each (client-go's model), where Sessions hold a connection per concurrent caller. To an
// HTTP/1.1 server it keeps a few idle connections for reuse. The calls block like a Session's,
// and a StreamHandler runs on the calling thread: the I/O thread only queues what arrives, at most
// kMaxQueued bytes per transfer (beyond that the transfer is paused until its caller catches up,
// so a slow consumer holds back its own stream only).
class Multiplexer {
 public:
  static constexpr std::size_t kMaxQueued = std::size_t{4} << 20;

  explicit Multiplexer(TlsOptions tls = {}, std::string user_agent = "aim-engine");
  // Stops the I/O thread; calls still in flight end with kAborted.
  ~Multiplexer();
  Multiplexer(const Multiplexer&) = delete;
  Multiplexer& operator=(const Multiplexer&) = delete;

  Result<Response, Error> perform(const Request& request);
  Result<Response, Error> stream(const Request& request, const StreamHandler& handler);

  // Connections opened so far (the sum of CURLINFO_NUM_CONNECTS over finished transfers).
  std::uint64_t connections_opened() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// A pool of Sessions sharing one TLS configuration: each caller borrows a Session for one
// request and returns it, so idle connections are reused across threads.
class SessionPool {
 public:
  // With `multiplex`, perform and stream go through one Multiplexer (shared connections)
  // instead of a Session per caller; acquire() still lends a Session of its own.
  explicit SessionPool(TlsOptions tls = {}, std::string user_agent = "aim-engine",
                       std::size_t max_idle = 8, bool multiplex = false);

  class Lease {
   public:
    Lease(SessionPool* pool, std::unique_ptr<Session> s) : pool_(pool), session_(std::move(s)) {}
    ~Lease();
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    Session& operator*() { return *session_; }
    Session* operator->() { return session_.get(); }

   private:
    SessionPool* pool_;
    std::unique_ptr<Session> session_;
  };

  Lease acquire();
  Result<Response, Error> perform(const Request& request);
  Result<Response, Error> stream(const Request& request, const StreamHandler& handler);
  // The multiplexer, when the pool has one (tests and metrics read its connection count).
  const Multiplexer* multiplexer() const { return mux_.get(); }

 private:
  void release(std::unique_ptr<Session> s);
  TlsOptions tls_;
  std::string user_agent_;
  std::size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Session>> idle_;
  std::unique_ptr<Multiplexer> mux_;
};

// Percent-encodes a string for use in a URL (RFC 3986 unreserved characters kept; with
// keep_slash, '/' too, for whole paths). This is also AWS SigV4's URI encoding.
std::string url_encode(std::string_view s, bool keep_slash = false);

}  // namespace aim::http
