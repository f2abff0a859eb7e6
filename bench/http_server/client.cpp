// Load for the HTTP server comparison (docs/architecture.md), one connection at a time:
//   client PORT keepalive N   N GETs of /metrics, reusing the connection while the server allows
//   client PORT fresh N       N GETs, a new connection each
//   client PORT flood MIB     one request head that never ends: how much the server reads
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads one Content-Length framed response; false when the server closed the connection.
static bool read_response(int fd, std::string& buf) {
  std::size_t head_end;
  char chunk[65536];
  while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, n);
  }
  auto p = buf.find("Content-Length: ");
  if (p == std::string::npos) p = buf.find("content-length: ");
  std::size_t len = std::strtoul(buf.c_str() + p + 16, nullptr, 10);
  while (buf.size() < head_end + 4 + len) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, n);
  }
  buf.erase(0, head_end + 4 + len);
  return true;
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  const int port = atoi(argv[1]);
  const std::string mode = argv[2];
  const long n = atol(argv[3]);
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  auto t0 = std::chrono::steady_clock::now();
  if (mode == "keepalive" || mode == "fresh") {
    int fd = -1;
    std::string buf;
    long done = 0;
    while (done < n) {
      if (fd < 0 || mode == "fresh") {
        if (fd >= 0) close(fd);
        fd = dial(port);
        buf.clear();
      }
      send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      if (!read_response(fd, buf)) {  // the server ended keep-alive: reconnect, ask again
        close(fd);
        fd = -1;
        continue;
      }
      ++done;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %ld requests in %.3f s = %.0f req/s, %.1f us/req\n", mode.c_str(), done, s,
                done / s, s * 1e6 / done);
  } else if (mode == "flood") {
    int fd = dial(port);
    std::string start = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    send(fd, start.data(), start.size(), MSG_NOSIGNAL);
    std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
    long sent = 0;
    while (sent < n * 1024 * 1024) {
      ssize_t k = send(fd, line.data(), line.size(), MSG_NOSIGNAL);
      if (k <= 0) break;
      sent += k;
    }
    std::printf("flood: the server took %.2f MiB of request head before closing (of %ld MiB)\n",
                sent / 1048576.0, n);
    close(fd);
  }
}
