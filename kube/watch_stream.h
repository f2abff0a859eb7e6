// Decoding of a watch response: newline-delimited JSON events that arrive in arbitrary chunks
// (an event may be split across chunks, a chunk may hold several events). Private to the kube
// layer; Client::watch feeds it and tests drive it directly.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kube/client.h"

namespace aim::kube {

class WatchStreamDecoder {
 public:
  // Called once per complete event. Returning false stops decoding (the handler is done).
  using EventFn = std::function<bool(WatchEvent&&)>;

  explicit WatchStreamDecoder(EventFn on_event) : on_event_(std::move(on_event)) {}

  // Feeds one chunk. Returns an error for a line that is not a watch event, or the Status of
  // an ERROR event (e.g. 410 Gone); returns false in `keep_going` when the handler stopped.
  Result<void> feed(std::string_view chunk, bool& keep_going);
  // At the end of the stream: bytes of an incomplete event mean the stream was cut mid-event.
  Result<void> finish(bool& keep_going);

  std::size_t events_decoded() const { return events_; }

 private:
  Result<void> decode_line(std::string_view line, bool& keep_going);

  EventFn on_event_;
  std::string pending_;
  std::size_t events_ = 0;
};

// Decodes one event line: {"type": "ADDED", "object": {...}}.
Result<WatchEvent> parse_watch_event(std::string_view line);

}  // namespace aim::kube
