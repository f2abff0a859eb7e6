#include "kube/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/strings.h"
#include "kube/tls_serving.h"

namespace aim::kube {
namespace {

constexpr std::size_t kMaxHead = 16 * 1024;
constexpr int kMaxConnections = 32;
constexpr int kIdleMillis = 10000;

std::string reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// One accepted connection, plain or TLS: reads and writes go through it.
class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() {
    if (ssl_ == nullptr) return;
    // close_notify, best effort (the socket closes right after); not after a fatal error.
    if (clean_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    ERR_clear_error();  // this thread's OpenSSL error queue: nothing reads it
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The TLS handshake; bounded by the socket's receive and send timeouts.
  bool handshake(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return false;
    return clean_ = SSL_accept(ssl_) == 1;
  }
  // Waits up to timeout_ms for data, then reads some: > 0 bytes read, <= 0 closed, error or
  // timeout.
  ssize_t read_some(char* buf, std::size_t size, int timeout_ms) {
    // TLS may already hold decrypted bytes of a record the socket delivered earlier.
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return 0;
    }
    if (ssl_ != nullptr) {
      int n = SSL_read(ssl_, buf, static_cast<int>(size));
      if (n <= 0) clean_ = clean_ && SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
      return n;
    }
    ssize_t n;
    do n = ::recv(fd_, buf, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
  }
  bool write_all(const std::string& data) {
    if (ssl_ == nullptr) return send_all(fd_, data);
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE a successful SSL_write wrote everything.
    if (data.empty()) return true;
    clean_ = clean_ && SSL_write(ssl_, data.data(), static_cast<int>(data.size())) > 0;
    return clean_;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  bool clean_ = false;  // handshake done and no fatal TLS error since
};

}  // namespace

aim::Result<BindAddress, std::string> parse_bind_address(const std::string& text) {
  BindAddress out;
  if (text.empty() || text == "0") return out;  // disabled
  auto colon = text.rfind(':');
  if (colon == std::string::npos)
    return fail(fmt::format("bind address \"{}\": want host:port", text));
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return fail(fmt::format("bind address \"{}\": bad port", text));
  }
  out.port = std::stoi(port);
  if (out.port > 65535) return fail(fmt::format("bind address \"{}\": port out of range", text));
  return out;
}

HttpServer::~HttpServer() {
  stop();
}

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

void HttpServer::route(const std::string& path, Handler handler) {
  routes_[path] = std::move(handler);
}

aim::Result<void, std::string> HttpServer::start(const std::string& bind_address,
                                                 std::shared_ptr<TlsServing> tls) {
  tls_ = std::move(tls);
  auto addr = parse_bind_address(bind_address);
  if (!addr) return fail(addr.error());
  if (addr->port < 0) return fail(std::string("bind address disabled"));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(addr->port);
  int rc =
      ::getaddrinfo(addr->host.empty() ? nullptr : addr->host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return fail(fmt::format("resolve {}: {}", bind_address, gai_strerror(rc)));
  std::string last_error = "no usable address";
  // Prefer IPv4 for the wildcard address: it is what probes use by default.
  std::vector<addrinfo*> candidates;
  for (auto* p = res; p != nullptr; p = p->ai_next) candidates.push_back(p);
  std::stable_sort(candidates.begin(), candidates.end(), [](addrinfo* a, addrinfo* b) {
    return a->ai_family == AF_INET && b->ai_family != AF_INET;
  });
  for (auto* p : candidates) {
    int fd = ::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, p->ai_addr, p->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                       : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    listen_fd_ = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) return fail(fmt::format("listen on {}: {}", bind_address, last_error));
  stopping_.store(false);
  acceptor_ = std::thread([this] { accept_loop(); });
  return Ok{};
}

void HttpServer::stop() {
  stopping_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::unique_lock lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  idle_cv_.wait(lock, [&] { return active_.load() == 0; });
  port_ = -1;
}

void HttpServer::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, 100);
    if (rc <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active_.load() >= kMaxConnections) {
      // A TLS client could not read a plain answer: it only sees the connection close.
      if (!tls_)
        send_all(fd,
                 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: "
                 "close\r\n\r\n");
      ::close(fd);
      continue;
    }
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    ++active_;
    // Detached: a finished connection frees its thread at once; stop() waits for active_ == 0.
    std::thread([this, fd] { serve(fd); }).detach();
  }
}

HttpResponse HttpServer::dispatch(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  auto it = routes_.find(request.path);
  if (it == routes_.end()) return {404, "text/plain; charset=utf-8", "404 page not found\n"};
  return it->second(request);
}

void HttpServer::serve_connection(int fd) {
  Connection conn(fd);
  if (tls_) {
    auto ctx = tls_->context();
    if (!conn.handshake(ctx.get())) return;  // e.g. plain HTTP on the TLS port
  }
  std::string buf;
  char chunk[4096];
  bool keep_alive = true;
  while (keep_alive && !stopping_.load()) {
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos && buf.size() <= kMaxHead) {
      ssize_t n = conn.read_some(chunk, sizeof chunk, kIdleMillis);
      if (n <= 0 || stopping_.load()) {
        keep_alive = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    if (!keep_alive) break;
    // Also when the whole head arrived in the read that crossed the limit.
    if (head_end == std::string::npos || head_end > kMaxHead) {
      conn.write_all(
          "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: "
          "close\r\n\r\n");
      break;
    }
    if (!keep_alive) break;
    std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);

    auto line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      conn.write_all("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      break;
    }
    HttpRequest request;
    request.method = request_line.substr(0, sp1);
    const std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    request.path = target.substr(0, target.find('?'));
    std::string version = request_line.substr(sp2 + 1);
    keep_alive = version == "HTTP/1.1";
    std::size_t content_length = 0;
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      pos = end + 2;
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = ascii_lower(line.substr(0, colon));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      if (name == "connection") {
        auto v = ascii_lower(value);
        if (v == "close") keep_alive = false;
        if (v == "keep-alive") keep_alive = true;
      } else if (name == "content-length") {
        content_length = static_cast<std::size_t>(std::strtoull(value.c_str(), nullptr, 10));
      }
      request.headers.emplace_back(std::move(name), std::move(value));
    }
    // Discard a request body (we serve GET/HEAD only), reading it off the connection.
    while (buf.size() < content_length && content_length <= kMaxHead) {
      ssize_t n = conn.read_some(chunk, sizeof chunk, kIdleMillis);
      if (n <= 0) {
        keep_alive = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    if (content_length > kMaxHead) keep_alive = false;
    buf.erase(0, std::min(content_length, buf.size()));

    HttpResponse resp = dispatch(request);
    std::string out = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        resp.status, reason_phrase(resp.status), resp.content_type, resp.body.size(),
        keep_alive ? "keep-alive" : "close");
    if (request.method != "HEAD") out += resp.body;
    if (!conn.write_all(out)) break;
  }
}

void HttpServer::serve(int fd) {
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a peer that went away must not
  // raise SIGPIPE. Blocked in this thread only, which ends with the connection.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  // A stalled peer cannot hold this thread in a handshake, a TLS record or a send forever.
  timeval timeout{kIdleMillis / 1000, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);

  serve_connection(fd);
  {
    std::lock_guard lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
    --active_;
    // Notify under the lock: once stop() sees active_ == 0 the server may be destroyed.
    idle_cv_.notify_all();
  }
}

}  // namespace aim::kube
