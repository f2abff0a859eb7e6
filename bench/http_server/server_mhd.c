// The same with libmicrohttpd (thread per connection, at most 32, 10 s idle timeout).
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static char body[40000];
static size_t body_len;
static enum MHD_Result handler(void* cls, struct MHD_Connection* c, const char* url,
                               const char* method, const char* version, const char* upload,
                               size_t* upload_size, void** ptr) {
  (void)cls;
  (void)url;
  (void)version;
  (void)upload;
  (void)upload_size;
  static int marker;
  if (*ptr != &marker) {
    *ptr = &marker;
    return MHD_YES;
  }
  if (strcmp(method, "GET") != 0) return MHD_NO;
  struct MHD_Response* r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "Content-Type", "text/plain");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}
int main(void) {
  for (int i = 0; body_len < 30 * 1024; ++i)
    body_len += sprintf(body + body_len, "metric_%d{a=\"b\"} 1\n", i);
  struct MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
      NULL, &handler, NULL, MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
      MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
  if (!d) return 1;
  const union MHD_DaemonInfo* info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("%u\n", info->port);
  fflush(stdout);
  pause();
}
