#include "kube/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/strings.h"

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

void HttpServer::route(const std::string& path, Handler handler) {
  routes_[path] = std::move(handler);
}

aim::Result<void, std::string> HttpServer::start(const std::string& bind_address) {
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
      send_all(
          fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
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

HttpResponse HttpServer::dispatch(const std::string& method, const std::string& target) {
  if (method != "GET" && method != "HEAD")
    return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  std::string path = target.substr(0, target.find('?'));
  auto it = routes_.find(path);
  if (it == routes_.end()) return {404, "text/plain; charset=utf-8", "404 page not found\n"};
  return it->second();
}

void HttpServer::serve(int fd) {
  std::string buf;
  char chunk[4096];
  bool keep_alive = true;
  while (keep_alive && !stopping_.load()) {
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxHead) {
        send_all(fd,
                 "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: "
                 "close\r\n\r\n");
        keep_alive = false;
        break;
      }
      pollfd p{fd, POLLIN, 0};
      int rc = ::poll(&p, 1, kIdleMillis);
      if (rc <= 0 || stopping_.load()) {
        keep_alive = false;
        break;
      }
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        keep_alive = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    if (!keep_alive) break;
    std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);

    auto line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
      send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      break;
    }
    std::string method = request_line.substr(0, sp1);
    std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
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
      if (name == "connection") {
        auto v = ascii_lower(value);
        if (v == "close") keep_alive = false;
        if (v == "keep-alive") keep_alive = true;
      } else if (name == "content-length") {
        content_length = static_cast<std::size_t>(std::strtoull(value.c_str(), nullptr, 10));
      }
    }
    // Discard a request body (we serve GET/HEAD only), reading it off the connection.
    while (buf.size() < content_length && content_length <= kMaxHead) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        keep_alive = false;
        break;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
    }
    if (content_length > kMaxHead) keep_alive = false;
    buf.erase(0, std::min(content_length, buf.size()));

    HttpResponse resp = dispatch(method, target);
    std::string out = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        resp.status, reason_phrase(resp.status), resp.content_type, resp.body.size(),
        keep_alive ? "keep-alive" : "close");
    if (method != "HEAD") out += resp.body;
    if (!send_all(fd, out)) break;
  }
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
