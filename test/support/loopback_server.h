// A small HTTP/1.1 server on 127.0.0.1 for unit tests of HTTP clients. Each request is handed
// to a handler that returns the response; connections are kept alive, so tests can observe
// connection reuse. Not for production use: one thread per connection, no TLS.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aim::testing {

struct ServerRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the server sends only this many body bytes (while announcing the full length)
  // and then drops the connection: a transfer interrupted mid-body.
  long truncate_body_at = -1;
  bool close_connection = false;
};

class LoopbackServer {
 public:
  using Handler = std::function<ServerResponse(const ServerRequest&)>;
  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections_accepted() const { return accepted_.load(); }
  int requests_served() const { return served_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> served_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> client_fds_;
};

}  // namespace aim::testing
