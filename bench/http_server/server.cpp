// The HTTP server comparison of docs/architecture.md: serves GET /metrics (a 30 KiB body) with
// our kube::HttpServer, or with cpp-httplib when built with -DUSE_HTTPLIB; prints the port.
#include <unistd.h>

#include <cstdio>
#include <string>
#ifdef USE_HTTPLIB
#include <httplib.h>
#else
#include "kube/http_server.h"
#endif

int main() {
  std::string body;
  for (int i = 0; body.size() < 30 * 1024; ++i)
    body += "metric_" + std::to_string(i) + "{a=\"b\"} 1\n";
#ifdef USE_HTTPLIB
  httplib::Server s;
  s.set_tcp_nodelay(true);  // without it every keep-alive response waits ~40 ms (Nagle)
  s.Get("/metrics",
        [&](const httplib::Request&, httplib::Response& r) { r.set_content(body, "text/plain"); });
  int port = s.bind_to_any_port("127.0.0.1");
  std::printf("%d\n", port);
  std::fflush(stdout);
  s.listen_after_bind();
#else
  aim::kube::HttpServer s;
  s.route("/metrics", [&](const aim::kube::HttpRequest&) {
    return aim::kube::HttpResponse{200, "text/plain", body};
  });
  if (!s.start("127.0.0.1:0").ok()) return 1;
  std::printf("%d\n", s.port());
  std::fflush(stdout);
  pause();
#endif
}
