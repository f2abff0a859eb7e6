// A small HTTP/1.1 server on POSIX sockets for the operator's own endpoints: /metrics
// (Prometheus text), /healthz and /readyz. GET and HEAD only; keep-alive; one thread per
// connection (bounded); request heads larger than 16 KiB are rejected. Not a general web
// server: it exists so that probes and scrapers can reach the process.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace aim::kube {

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
  using Handler = std::function<HttpResponse()>;
  HttpServer() = default;
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Exact-path routes; register before start().
  void route(const std::string& path, Handler handler);
  // Binds and starts serving. Errors (address in use, bad address) are returned.
  aim::Result<void, std::string> start(const std::string& bind_address);
  void stop();
  // The bound port (useful with port 0), -1 when not started.
  int port() const { return port_; }

 private:
  void accept_loop();
  void serve(int fd);
  HttpResponse dispatch(const std::string& method, const std::string& target);

  std::map<std::string, Handler> routes_;
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
