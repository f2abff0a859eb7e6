// One aim-fetch per destination at a time.
//
// Two downloaders writing one destination corrupt each other's bookkeeping: both resume from the
// same range records, and the one that renames a finished file first leaves the other failing on
// a partial file that is gone. That happens in practice: a Job pod replaced while the old one is
// still terminating, two Jobs on one RWX volume, a wrapper killed while aim-fetch keeps running.
//
// The lock is an flock(2) on DEST/.aim-fetch/lock, taken before anything in DEST changes and held
// until the run ends (the kernel drops it when the process dies, however it dies). A successful
// run removes the staging directory with the lock file in it while still holding it; a process
// that was waiting then finds its lock is on a file no longer at that path and takes a new one.
// On a filesystem that has no locks at all (ENOLCK, EOPNOTSUPP) the run goes on unprotected and
// says so through `on_wait`.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>

#include "core/result.h"
#include "fetch/failure.h"

namespace aim::fetch {

class DestLock {
 public:
  // Creates `staging` if needed and takes its lock, waiting while another process holds it.
  // `on_wait` is called once, with who holds the lock, when it has to wait. Waiting ends with
  // kCancelled as soon as any of the cancel flags is set.
  static Result<DestLock, Failure> acquire(const std::filesystem::path& staging,
                                           std::function<void(const std::string&)> on_wait,
                                           const std::atomic<bool>* cancel_a,
                                           const std::atomic<bool>* cancel_b = nullptr);

  DestLock() = default;
  DestLock(DestLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DestLock& operator=(DestLock&& other) noexcept;
  DestLock(const DestLock&) = delete;
  DestLock& operator=(const DestLock&) = delete;
  ~DestLock();

  bool held() const { return fd_ >= 0; }

 private:
  explicit DestLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The lock file's name inside the staging directory.
inline constexpr const char* kLockName = "lock";

}  // namespace aim::fetch
