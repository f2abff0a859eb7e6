// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a candidate
// takes the lease when it is free (no holder) or when its record has not changed for
// lease_duration as observed by this process's own clock (so clock skew between nodes does not
// matter); the leader renews every retry_period and steps down when it could not renew for
// renew_deadline; on shutdown it releases the lease (clears holderIdentity) so a standby takes
// over at once instead of waiting for expiry.
//
// Defaults match controller-runtime: lease 15 s, renew deadline 10 s, retry period 2 s.
// Metric: leader_election_master_status{name} (1 while leading).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kube/client.h"
#include "kube/clock.h"
#include "kube/log.h"
#include "kube/metrics.h"

namespace aim::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per process: hostname + random suffix
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  bool release_on_cancel = true;
  metrics::Registry* registry = nullptr;  // Registry::global() when null
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Called once leadership ends: lost (renewal failed) or released at shutdown.
  std::function<void()> on_stopped_leading;
  // The observed holder changed (including to ourselves).
  std::function<void(const std::string& identity)> on_new_leader;
};

// The lease record as stored in the Lease spec.
struct LeaseRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  std::string acquire_time;
  std::string renew_time;
  int lease_transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

class LeaderElector {
 public:
  LeaderElector(std::shared_ptr<Client> client, LeaderElectionConfig config,
                Clock& clock = Clock::real());

  // One attempt to acquire or renew. True when we hold the lease afterwards.
  bool try_acquire_or_renew();
  // Clears holderIdentity if we hold the lease. True when released (or not held).
  bool release();

  // Blocks: acquires (retrying every retry_period), runs on_started_leading, renews until
  // renewal fails for renew_deadline or stop becomes true, then releases (if configured) and
  // runs on_stopped_leading. Returns true if it stopped because of `stop`, false if lost.
  bool run(const std::atomic<bool>& stop, const LeaderCallbacks& callbacks);

  bool is_leader() const;
  std::string observed_holder() const;
  const LeaderElectionConfig& config() const { return config_; }

 private:
  void set_leader(bool leading);
  void warn_once(const char* what, const std::string& error);

  std::shared_ptr<Client> client_;
  LeaderElectionConfig config_;
  Clock& clock_;
  log::Logger log_;
  metrics::Gauge* master_status_;

  mutable std::mutex mu_;
  std::optional<LeaseRecord> observed_;
  Clock::SteadyTime observed_at_{};
  std::string observed_rv_;
  bool leader_ = false;
  std::string last_warning_;  // only touched by the thread running the election
};

// A process identity for leader election: "<hostname>_<random hex>".
std::string default_identity();

}  // namespace aim::kube
