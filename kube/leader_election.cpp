#include "kube/leader_election.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <random>

namespace aim::kube {
namespace {

LeaseRecord record_from(const Json& lease) {
  LeaseRecord r;
  auto spec = lease.value("spec", Json::object());
  r.holder_identity = spec.value("holderIdentity", "");
  r.lease_duration_seconds = spec.value("leaseDurationSeconds", 0);
  r.acquire_time = spec.value("acquireTime", "");
  r.renew_time = spec.value("renewTime", "");
  r.lease_transitions = spec.value("leaseTransitions", 0);
  return r;
}

Json spec_from(const LeaseRecord& r) {
  Json spec = Json::object();
  if (!r.holder_identity.empty()) spec["holderIdentity"] = r.holder_identity;
  spec["leaseDurationSeconds"] = r.lease_duration_seconds;
  if (!r.acquire_time.empty()) spec["acquireTime"] = r.acquire_time;
  if (!r.renew_time.empty()) spec["renewTime"] = r.renew_time;
  spec["leaseTransitions"] = r.lease_transitions;
  return spec;
}

}  // namespace

std::string default_identity() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  return fmt::format("{}_{:08x}{:08x}", host, rd(), rd());
}

LeaderElector::LeaderElector(std::shared_ptr<Client> client, LeaderElectionConfig config,
                             Clock& clock)
    : client_(std::move(client)),
      config_(std::move(config)),
      clock_(clock),
      log_(log::Logger("leader-election")
               .with({{"lease", config_.lease_namespace + "/" + config_.lease_name},
                      {"identity", config_.identity}})) {
  auto& reg = config_.registry != nullptr ? *config_.registry : metrics::Registry::global();
  master_status_ = &reg.gauge("leader_election_master_status",
                              "Gauge of if the reporting system is master of the relevant lease, "
                              "0 indicates backup, 1 indicates master.",
                              {"name"})
                        .with({config_.lease_name});
}

bool LeaderElector::is_leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

std::string LeaderElector::observed_holder() const {
  std::lock_guard lock(mu_);
  return observed_ ? observed_->holder_identity : std::string();
}

void LeaderElector::set_leader(bool leading) {
  std::lock_guard lock(mu_);
  leader_ = leading;
  master_status_->set(leading ? 1 : 0);
}

void LeaderElector::warn_once(const char* what, const std::string& error) {
  // Retries every 2 s would repeat the same line; log a failure when it first appears.
  if (error == last_warning_) return;
  last_warning_ = error;
  log_.warn(what, {{"error", error}});
}

bool LeaderElector::try_acquire_or_renew() {
  const auto wall_now = format_micro_time(clock_.wall());
  const auto steady_now = clock_.steady();
  LeaseRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds = static_cast<int>(config_.lease_duration.count());
  desired.acquire_time = wall_now;
  desired.renew_time = wall_now;

  auto current = client_->get(types::leases(), config_.lease_namespace, config_.lease_name);
  if (!current) {
    if (!current.error().is(ErrorCode::kNotFound)) {
      warn_once("error retrieving lease", current.error().describe());
      return false;
    }
    Json lease{{"apiVersion", types::leases().api_version()},
               {"kind", "Lease"},
               {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
               {"spec", spec_from(desired)}};
    auto created = client_->create(types::leases(), lease);
    if (!created) {
      // AlreadyExists is a lost race; anything else (say, a missing namespace) needs a human.
      if (created.error().is(ErrorCode::kAlreadyExists)) {
        log_.debug("error creating lease", {{"error", created.error().describe()}});
      } else {
        warn_once("error creating lease", created.error().describe());
      }
      return false;
    }
    last_warning_.clear();
    {
      std::lock_guard lock(mu_);
      observed_ = desired;
      observed_at_ = steady_now;
      observed_rv_ = (*created)["metadata"].value("resourceVersion", "");
    }
    return true;
  }

  LeaseRecord old = record_from(*current);
  {
    std::lock_guard lock(mu_);
    if (!observed_ || !(*observed_ == old)) {
      observed_ = old;
      observed_at_ = steady_now;
    }
    const bool held_by_other =
        !old.holder_identity.empty() && old.holder_identity != config_.identity;
    if (held_by_other &&
        observed_at_ + std::chrono::seconds(old.lease_duration_seconds) > steady_now) {
      return false;  // a live leader
    }
  }
  if (old.holder_identity == config_.identity) {
    desired.acquire_time = old.acquire_time;
    desired.lease_transitions = old.lease_transitions;
  } else {
    desired.lease_transitions = old.lease_transitions + 1;
  }
  Json next = *current;
  next["spec"] = spec_from(desired);
  auto updated = client_->update(types::leases(), next);
  if (!updated) {
    if (updated.error().is(ErrorCode::kConflict)) {
      log_.debug("error updating lease", {{"error", updated.error().describe()}});
    } else {
      warn_once("error updating lease", updated.error().describe());
    }
    return false;
  }
  last_warning_.clear();
  std::lock_guard lock(mu_);
  observed_ = desired;
  observed_at_ = steady_now;
  return true;
}

bool LeaderElector::release() {
  auto current = client_->get(types::leases(), config_.lease_namespace, config_.lease_name);
  if (!current) return current.error().is(ErrorCode::kNotFound);
  LeaseRecord old = record_from(*current);
  if (old.holder_identity != config_.identity) return true;
  const auto now = format_micro_time(clock_.wall());
  LeaseRecord cleared;
  cleared.lease_duration_seconds = 1;
  cleared.acquire_time = now;
  cleared.renew_time = now;
  cleared.lease_transitions = old.lease_transitions;
  Json next = *current;
  next["spec"] = spec_from(cleared);
  auto updated = client_->update(types::leases(), next);
  if (!updated) {
    log_.warn("failed to release lease", {{"error", updated.error().describe()}});
    return false;
  }
  std::lock_guard lock(mu_);
  observed_ = cleared;
  observed_at_ = clock_.steady();
  return true;
}

bool LeaderElector::run(const std::atomic<bool>& stop, const LeaderCallbacks& callbacks) {
  std::string last_holder;
  auto report_holder = [&] {
    auto holder = observed_holder();
    if (holder != last_holder) {
      last_holder = holder;
      if (!holder.empty()) {
        if (holder != config_.identity) log_.info("new leader elected", {{"leader", holder}});
        if (callbacks.on_new_leader) callbacks.on_new_leader(holder);
      }
    }
  };

  log_.info("attempting to acquire leader lease");
  while (!stop.load()) {
    if (try_acquire_or_renew()) break;
    report_holder();
    if (!clock_.sleep_for(config_.retry_period, &stop)) break;
  }
  if (stop.load()) return true;

  set_leader(true);
  log_.info("successfully acquired lease");
  report_holder();
  if (callbacks.on_started_leading) callbacks.on_started_leading();

  bool lost = false;
  auto last_renew = clock_.steady();
  while (!stop.load()) {
    if (!clock_.sleep_for(config_.retry_period, &stop)) break;
    if (try_acquire_or_renew()) {
      last_renew = clock_.steady();
      continue;
    }
    if (clock_.steady() - last_renew >= config_.renew_deadline) {
      lost = true;
      break;
    }
  }

  if (lost) {
    log_.error("failed to renew lease: leadership lost",
               {{"renew_deadline_seconds", config_.renew_deadline.count()}});
  } else if (config_.release_on_cancel) {
    if (release()) log_.info("released leader lease");
  }
  set_leader(false);
  if (callbacks.on_stopped_leading) callbacks.on_stopped_leading();
  return !lost;
}

}  // namespace aim::kube
