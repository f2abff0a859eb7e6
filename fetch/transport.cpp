#include "fetch/transport.h"

#include <algorithm>
#include <thread>

#include "fetch/progress.h"

namespace aim::fetch {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        const Failure& failure, std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  if (failure.retry_after) {
    auto ra = std::min(*failure.retry_after, policy.max_retry_after);
    std::uniform_int_distribution<long long> jitter(0, std::max<long long>(ra.count() / 10, 50));
    return ra + milliseconds(jitter(rng));
  }
  long long d = policy.base.count();
  for (int i = 1; i < attempt && d < policy.cap.count(); ++i) d *= 2;
  d = std::min<long long>(d, policy.cap.count());
  std::uniform_int_distribution<long long> half(0, d / 2);
  return milliseconds(d / 2 + half(rng));
}

void Transport::wait_before_retry(const std::string& what, int attempt, const Failure& failure) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(rng_mu_);
    delay = backoff_delay(policy_, attempt, failure, rng_);
  }
  if (sink_) sink_->retrying(RetryInfo{what, attempt, delay, failure});
  auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until && !cancelled())
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(
                                            until - std::chrono::steady_clock::now()) +
                                            std::chrono::milliseconds(1)));
}

Result<http::Response, Failure> Transport::call(const std::function<http::Request()>& make,
                                                const std::string& what,
                                                const std::function<bool(long)>& accept) {
  for (int attempt = 1;; ++attempt) {
    if (cancelled()) return fail(Failure{FailureClass::kCancelled, "cancelled"});
    http::Request req = make();
    req.cancel = cancel_;
    auto r = pool_.perform(req);
    Failure f;
    if (!r.ok()) {
      f = classify_transport(r.error(), what);
      if (f.cls == FailureClass::kCancelled && !cancelled()) f.cls = FailureClass::kNetwork;
    } else {
      long st = r->status;
      bool good = accept ? accept(st) : (st >= 200 && st < 400);
      if (good) return std::move(r).value();
      f = classify_http(st, r->headers, what);
      if (st == 503 && r->body.find("<Code>SlowDown</Code>") != std::string::npos)
        f.cls = FailureClass::kRateLimited;
    }
    if (!f.retryable() || attempt >= policy_.max_attempts) return fail(std::move(f));
    wait_before_retry(what, attempt, f);
  }
}

}  // namespace aim::fetch
