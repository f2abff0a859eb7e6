// Requests with retries: jittered exponential backoff, Retry-After honoured (429 and 503), a
// bounded number of attempts, and retry events reported to the progress sink.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <string>

#include "core/result.h"
#include "fetch/failure.h"
#include "http/client.h"

namespace aim::fetch {

class ProgressSink;

struct RetryPolicy {
  int max_attempts = 8;
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30000};
  std::chrono::milliseconds max_retry_after{300000};  // longer server requests fail instead
};

// The wait before attempt `attempt + 1` after `attempt` failed attempts (1-based): the server's
// Retry-After when given (plus up to 10 % jitter), else "equal jitter" exponential backoff.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        const Failure& failure, std::mt19937_64& rng);

class Transport {
 public:
  Transport(http::SessionPool& pool, RetryPolicy policy, ProgressSink* sink,
            const std::atomic<bool>* cancel)
      : pool_(pool), policy_(policy), sink_(sink), cancel_(cancel), rng_(std::random_device{}()) {}

  http::SessionPool& pool() { return pool_; }
  const RetryPolicy& policy() const { return policy_; }
  const std::atomic<bool>* cancel() const { return cancel_; }
  bool cancelled() const { return cancel_ && cancel_->load(); }

  // A buffered request (listings, metadata) retried on retryable failures. `make` is called per
  // attempt, so signatures and dates are fresh. Non-2xx/3xx answers become Failures unless
  // `accept` says otherwise.
  Result<http::Response, Failure> call(const std::function<http::Request()>& make,
                                       const std::string& what,
                                       const std::function<bool(long)>& accept = nullptr);

  // Sleeps for the backoff delay (waking early on cancel) and reports the retry.
  void wait_before_retry(const std::string& what, int attempt, const Failure& failure);

 private:
  http::SessionPool& pool_;
  RetryPolicy policy_;
  ProgressSink* sink_;
  const std::atomic<bool>* cancel_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace aim::fetch
