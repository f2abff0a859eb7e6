// EventRecorder: writes events.k8s.io/v1 Events about objects without ever blocking the
// caller. record() only updates an in-memory table and a bounded queue; a background thread
// sends to the API server through a token bucket.
//
// Repeats fold: the same regarding object + type + reason + action + note observed again
// within fold_window (10 minutes) of its previous occurrence does not create a new Event; the
// existing one gets series {count, lastObservedTime} instead (one patch carries any number of
// repeats that arrived while it waited). When the queue is full, new events are dropped and
// counted in event_recorder_dropped_total.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "kube/client.h"
#include "kube/clock.h"
#include "kube/metrics.h"
#include "kube/rate_limiter.h"

namespace aim::kube {

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string reporting_controller;  // e.g. "aim-model-controller"
  std::string reporting_instance;    // e.g. the pod name
  std::size_t queue_capacity = 1000;
  std::chrono::seconds fold_window{600};
  double qps = 50;  // API writes per second (each reporting controller its own bucket)
  int burst = 100;
  Clock* clock = nullptr;                 // Clock::real() when null
  metrics::Registry* registry = nullptr;  // Registry::global() when null
};

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<Client> client, EventRecorderOptions options);
  ~EventRecorder();  // sends what is queued (up to 2 s), then stops
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `regarding` is the object (or an object reference) the event is about; apiVersion, kind,
  // metadata.name/namespace/uid/resourceVersion are taken from it. Never blocks on I/O.
  void record(const Json& regarding, EventType type, const std::string& reason,
              const std::string& action, const std::string& note);
  void normal(const Json& regarding, const std::string& reason, const std::string& action,
              const std::string& note) {
    record(regarding, EventType::kNormal, reason, action, note);
  }
  void warning(const Json& regarding, const std::string& reason, const std::string& action,
               const std::string& note) {
    record(regarding, EventType::kWarning, reason, action, note);
  }

  // Waits until everything recorded so far has been sent (or given up). False on timeout.
  bool flush(std::chrono::milliseconds timeout);
  uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Series {
    std::string reference;  // ObjectReference of the regarding object, packed (CBOR): a series
                            // is kept for the fold window, and a tree would be most of its size
    std::string ns;         // where the Event lives
    EventType type;
    std::string reason, action, note;
    int count = 0;           // occurrences
    int sent_count = 0;      // occurrences reflected in the API
    std::string event_name;  // empty until created
    Clock::WallTime first_time;
    Clock::WallTime last_time;
    Clock::SteadyTime last_seen;
  };

  void sender();
  bool send(const std::string& key);
  void prune_locked(Clock::SteadyTime now);

  std::shared_ptr<Client> client_;
  EventRecorderOptions options_;
  Clock& clock_;
  TokenBucket bucket_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::map<std::string, Series> series_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  bool sending_ = false;
  int64_t last_name_nanos_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> dropped_{0};
  metrics::Counter* dropped_metric_;
  std::thread thread_;
};

}  // namespace aim::kube
