// kube/watch_stream and kube/error: the API server's watch response (newline-delimited JSON
// events arriving in chunks of any size) and its Status error bodies. The first byte sets the
// chunk size. Property: the events decoded do not depend on how the stream was chunked.
#include <vector>

#include "fuzz/fuzz_input.h"
#include "http/client.h"
#include "kube/error.h"
#include "kube/watch_stream.h"

namespace {

struct Decoded {
  std::vector<std::string> events;
  bool error = false;
};

Decoded decode(std::string_view stream, std::size_t chunk) {
  Decoded out;
  aim::kube::WatchStreamDecoder decoder([&](aim::kube::WatchEvent&& e) {
    out.events.push_back(std::to_string(static_cast<int>(e.type)) + e.object.dump());
    return out.events.size() < 1000;
  });
  bool keep_going = true;
  for (std::size_t pos = 0; pos < stream.size() && keep_going; pos += chunk) {
    if (!decoder.feed(stream.substr(pos, chunk), keep_going).ok()) {
      out.error = true;
      return out;
    }
  }
  if (keep_going && !decoder.finish(keep_going).ok()) out.error = true;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aim;
  if (size == 0) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  std::string_view stream = fuzz::as_text(data + 1, size - 1);
  Decoded chunked = decode(stream, chunk);
  Decoded whole = decode(stream, stream.size() + 1);
  if (chunked.events != whole.events || chunked.error != whole.error)
    fuzz::violated("events depend on chunking", stream);

  (void)kube::error_from_status_json(stream, 500).describe();
  http::Headers headers;
  headers.add("Retry-After", std::string(stream.substr(0, 16)));
  (void)kube::error_from_response(429, stream, headers).describe();
  return 0;
}
