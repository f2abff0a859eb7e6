#include "test/support/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace aim::testing {
namespace {

bool send_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 206:
      return "Partial Content";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

LoopbackServer::LoopbackServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("loopback server: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void LoopbackServer::accept_loop() {
  while (!stopping_) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    // Headers and body go out in two sends: without this, Nagle's algorithm holds the body until
    // the client's delayed ACK, 40 ms per response (the registry fuzz harness ran at 58 exec/s).
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++accepted_;
    std::lock_guard lock(mu_);
    client_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void LoopbackServer::serve(int fd) {
  std::string buf;
  char chunk[65536];
  for (;;) {
    // Read the request head.
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t r = ::recv(fd, chunk, sizeof chunk, 0);
      if (r <= 0) {
        ::close(fd);
        return;
      }
      buf.append(chunk, static_cast<size_t>(r));
    }
    ServerRequest req;
    std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    auto sp1 = request_line.find(' ');
    auto sp2 = request_line.find(' ', sp1 + 1);
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        req.headers[name] = value;
      }
      pos = e + 2;
    }
    size_t content_length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end())
      content_length = std::stoul(it->second);
    while (buf.size() < content_length) {
      ssize_t r = ::recv(fd, chunk, sizeof chunk, 0);
      if (r <= 0) {
        ::close(fd);
        return;
      }
      buf.append(chunk, static_cast<size_t>(r));
    }
    req.body = buf.substr(0, content_length);
    buf.erase(0, content_length);

    ServerResponse resp = handler_(req);
    ++served_;
    std::string out =
        "HTTP/1.1 " + std::to_string(resp.status) + " " + reason(resp.status) + "\r\n";
    bool has_length = false;
    for (const auto& [k, v] : resp.headers) {
      out += k + ": " + v + "\r\n";
      if (strcasecmp(k.c_str(), "content-length") == 0) has_length = true;
    }
    if (!has_length) out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
    if (resp.close_connection) out += "Connection: close\r\n";
    out += "\r\n";
    bool head_only = req.method == "HEAD";
    size_t body_bytes = head_only ? 0 : resp.body.size();
    if (resp.truncate_body_at >= 0)
      body_bytes = std::min(body_bytes, static_cast<size_t>(resp.truncate_body_at));
    bool ok = send_all(fd, out.data(), out.size()) && send_all(fd, resp.body.data(), body_bytes);
    if (!ok || resp.close_connection || resp.truncate_body_at >= 0) {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
      return;
    }
  }
}

}  // namespace aim::testing
