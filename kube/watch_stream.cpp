#include "kube/watch_stream.h"

#include <fmt/format.h>

namespace aim::kube {

Result<WatchEvent> parse_watch_event(std::string_view line) {
  auto j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(make_error(ErrorCode::kDecode, "watch stream: an event is not valid JSON"));
  auto type = j.find("type");
  auto object = j.find("object");
  if (type == j.end() || !type->is_string() || object == j.end())
    return fail(make_error(ErrorCode::kDecode, "watch stream: an event lacks type or object"));
  WatchEvent ev;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    ev.type = WatchEvent::Type::kAdded;
  } else if (t == "MODIFIED") {
    ev.type = WatchEvent::Type::kModified;
  } else if (t == "DELETED") {
    ev.type = WatchEvent::Type::kDeleted;
  } else if (t == "BOOKMARK") {
    ev.type = WatchEvent::Type::kBookmark;
  } else if (t == "ERROR") {
    ev.type = WatchEvent::Type::kError;
  } else {
    return fail(
        make_error(ErrorCode::kDecode, fmt::format("watch stream: unknown event type {}", t)));
  }
  ev.object = std::move(*object);
  return ev;
}

Result<void> WatchStreamDecoder::decode_line(std::string_view line, bool& keep_going) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return Ok{};
  auto ev = parse_watch_event(line);
  if (!ev) return fail(ev.error());
  ++events_;
  if (ev->type == WatchEvent::Type::kError) return fail(error_from_status_json(ev->object.dump()));
  if (!on_event_(std::move(*ev))) keep_going = false;
  return Ok{};
}

Result<void> WatchStreamDecoder::feed(std::string_view chunk, bool& keep_going) {
  keep_going = true;
  // Complete lines are decoded straight from the chunk; only a trailing partial line is kept.
  for (;;) {
    auto nl = chunk.find('\n');
    if (nl == std::string_view::npos) break;
    Result<void> r;
    if (pending_.empty()) {
      r = decode_line(chunk.substr(0, nl), keep_going);
    } else {
      pending_.append(chunk.substr(0, nl));
      std::string line = std::move(pending_);
      pending_.clear();
      r = decode_line(line, keep_going);
    }
    chunk.remove_prefix(nl + 1);
    if (!r) return r;
    if (!keep_going) return Ok{};
  }
  pending_.append(chunk);
  return Ok{};
}

Result<void> WatchStreamDecoder::finish(bool& keep_going) {
  keep_going = true;
  if (pending_.find_first_not_of(" \r\n\t") == std::string::npos) return Ok{};
  // The server ends every event with a newline; a complete JSON value without one is still
  // accepted, anything else means the connection was cut mid-event.
  std::string line = std::move(pending_);
  pending_.clear();
  if (Json::accept(line)) return decode_line(line, keep_going);
  return fail(make_error(ErrorCode::kNetwork, "watch stream ended in the middle of an event"));
}

}  // namespace aim::kube
