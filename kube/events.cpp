#include "kube/events.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/json_fields.h"
#include "kube/log.h"

namespace aim::kube {
namespace {

constexpr std::size_t kMaxNote = 1024;  // API validation limit

Json reference_of(const Json& o) {
  Json ref = Json::object();
  // Accept either a full object or an ObjectReference.
  const bool is_ref = !o.contains("metadata");
  auto take = [&](const char* key, const std::string& v) {
    if (!v.empty()) ref[key] = v;
  };
  take("apiVersion", string_member(o, "apiVersion"));
  take("kind", string_member(o, "kind"));
  take("namespace", is_ref ? string_member(o, "namespace") : string_at(o, "metadata", "namespace"));
  take("name", is_ref ? string_member(o, "name") : string_at(o, "metadata", "name"));
  take("uid", is_ref ? string_member(o, "uid") : string_at(o, "metadata", "uid"));
  take("resourceVersion",
       is_ref ? string_member(o, "resourceVersion") : string_at(o, "metadata", "resourceVersion"));
  return ref;
}

std::string truncate_note(const std::string& note) {
  if (note.size() <= kMaxNote) return note;
  std::size_t cut = kMaxNote - 3;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;
  return note.substr(0, cut) + "...";
}

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<Client> client, EventRecorderOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : Clock::real()),
      bucket_(options_.qps, options_.burst, [c = &clock_] { return c->steady(); }) {
  auto& reg = options_.registry != nullptr ? *options_.registry : metrics::Registry::global();
  dropped_metric_ =
      &reg.counter("event_recorder_dropped_total",
                   "Events dropped because the recorder's queue was full", {"controller"})
           .with({options_.reporting_controller});
  thread_ = std::thread([this] { sender(); });
}

EventRecorder::~EventRecorder() {
  flush(std::chrono::seconds(2));
  stop_.store(true);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventRecorder::prune_locked(Clock::SteadyTime now) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (now - it->second.last_seen > options_.fold_window && queued_.count(it->first) == 0) {
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
}

void EventRecorder::record(const Json& regarding, EventType type, const std::string& reason,
                           const std::string& action, const std::string& note) {
  Json ref = reference_of(regarding);
  const std::string trimmed = truncate_note(note);
  const std::string id = ref.value("uid", "") + "|" + ref.value("kind", "") + "|" +
                         ref.value("namespace", "") + "|" + ref.value("name", "");
  const std::string key = fmt::format("{}|{}|{}|{}|{}", id, type == EventType::kWarning ? "W" : "N",
                                      reason, action, trimmed);
  const auto now_steady = clock_.steady();
  const auto now_wall = clock_.wall();

  std::lock_guard lock(mu_);
  if (series_.size() > 4 * options_.queue_capacity) prune_locked(now_steady);
  auto it = series_.find(key);
  if (it != series_.end() && now_steady - it->second.last_seen > options_.fold_window) {
    if (queued_.count(key) == 0) {
      series_.erase(it);  // too old to fold into: a new Event
      it = series_.end();
    }
  }
  if (it == series_.end()) {
    if (queued_.size() >= options_.queue_capacity) {
      ++dropped_;
      dropped_metric_->inc();
      return;
    }
    Series s;
    s.ns = ref.value("namespace", "");
    if (s.ns.empty()) s.ns = "default";  // cluster-scoped objects: events go to default
    s.type = type;
    s.reason = reason;
    s.action = action;
    s.note = trimmed;
    s.first_time = now_wall;
    it = series_.emplace(key, std::move(s)).first;
  }
  Series& s = it->second;
  ++s.count;
  s.last_time = now_wall;
  s.last_seen = now_steady;
  s.reference.clear();  // keep the latest resourceVersion
  Json::to_cbor(ref, s.reference);
  if (queued_.insert(key).second) {
    if (queue_.size() >= options_.queue_capacity) {
      queued_.erase(key);
      ++dropped_;
      dropped_metric_->inc();
      return;
    }
    queue_.push_back(key);
    cv_.notify_one();
  }
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !sending_; });
}

void EventRecorder::sender() {
  while (true) {
    std::string key;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_.load() || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      key = queue_.front();
      queue_.pop_front();
      queued_.erase(key);
      sending_ = true;
    }
    auto delay = bucket_.reserve();
    if (delay > std::chrono::nanoseconds::zero()) clock_.sleep_for(delay, &stop_);
    send(key);
    {
      std::lock_guard lock(mu_);
      sending_ = false;
      if (queue_.empty()) idle_cv_.notify_all();
    }
  }
}

bool EventRecorder::send(const std::string& key) {
  Series s;
  {
    std::lock_guard lock(mu_);
    auto it = series_.find(key);
    if (it == series_.end()) return true;
    s = it->second;
  }
  if (s.count == s.sent_count) return true;
  static const log::Logger log("events");
  const auto& events = types::events();
  Json series;
  if (s.count > 1) {
    series = {{"count", s.count}, {"lastObservedTime", format_micro_time(s.last_time)}};
  }

  if (!s.event_name.empty()) {
    auto patched = client_->merge_patch(events, s.ns, s.event_name, Json{{"series", series}});
    if (patched) {
      std::lock_guard lock(mu_);
      auto it = series_.find(key);
      if (it != series_.end()) it->second.sent_count = s.count;
      return true;
    }
    if (!patched.error().is(ErrorCode::kNotFound)) {
      log.warn("could not update event",
               {{"event", s.ns + "/" + s.event_name}, {"error", patched.error().describe()}});
      return false;
    }
    // The Event expired or was deleted: write a fresh one below.
  }

  // client-go's naming: <object>.<nanoseconds, hex>. Kept strictly increasing per recorder so
  // that two events about one object in the same clock tick do not collide.
  int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall().time_since_epoch())
          .count();
  {
    std::lock_guard lock(mu_);
    nanos = std::max(nanos, last_name_nanos_ + 1);
    last_name_nanos_ = nanos;
  }
  const Json reference = Json::from_cbor(s.reference);
  const auto name = fmt::format("{}.{:x}", reference.value("name", "unknown"), nanos);
  Json event{{"apiVersion", events.api_version()},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", s.ns}}},
             {"eventTime", format_micro_time(s.first_time)},
             {"reportingController", options_.reporting_controller},
             {"reportingInstance", options_.reporting_instance},
             {"action", s.action},
             {"reason", s.reason},
             {"note", s.note},
             {"type", s.type == EventType::kWarning ? "Warning" : "Normal"},
             {"regarding", reference}};
  if (!series.is_null()) event["series"] = series;
  auto created = client_->create(events, event);
  if (!created) {
    log.warn("could not create event",
             {{"reason", s.reason}, {"error", created.error().describe()}});
    return false;
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it != series_.end()) {
    it->second.event_name = name;
    it->second.sent_count = s.count;
  }
  return true;
}

}  // namespace aim::kube
