// A small HTTP/1.1 server on POSIX sockets for the operator's own endpoints: /metrics
// (Prometheus text), /healthz and /readyz. GET and HEAD only; keep-alive; one thread per
// connection (bounded); request heads larger than 16 KiB are rejected; optional TLS
// (kube/tls_serving.h) for the secure metrics endpoint. Not a general web server: it exists so
// that probes and scrapers can reach the process. docs/architecture.md says why it is ours and
// not a packaged library (measured against cpp-httplib).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"

namespace aim::kube {

class TlsServing;

struct HttpRequest {
  std::string method;  // "GET" or "HEAD" (others never reach a handler)
  std::string path;    // the target without its query
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case

  // The first header of that name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Parses ":8080", "0.0.0.0:8080", "127.0.0.1:0", "localhost:9000" into host and port.
// "0" (or empty) means "disabled" and yields port -1.
struct BindAddress {
  std::string host;  // "" = all interfaces
  int port = -1;
};
aim::Result<BindAddress, std::string> parse_bind_address(const std::string& text);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  HttpServer() = default;
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Exact-path routes; register before start().
  void route(const std::string& path, Handler handler);
  // Binds and starts serving; with tls, every connection is TLS (a plain HTTP request gets no
  // answer). Errors (address in use, bad address) are returned.
  aim::Result<void, std::string> start(const std::string& bind_address,
                                       std::shared_ptr<TlsServing> tls = nullptr);
  void stop();
  // The bound port (useful with port 0), -1 when not started.
  int port() const { return port_; }

 private:
  void accept_loop();
  void serve(int fd);  // the connection's thread: socket options, then serve_connection
  void serve_connection(int fd);
  HttpResponse dispatch(const HttpRequest& request);

  std::map<std::string, Handler> routes_;
  std::shared_ptr<TlsServing> tls_;
  int listen_fd_ = -1;
  int port_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<int> open_fds_;
  std::atomic<int> active_{0};
};

}  // namespace aim::kube
