#include "fetch/dest_lock.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

namespace aim::fetch {
namespace {

bool cancelled(const std::atomic<bool>* a, const std::atomic<bool>* b) {
  return (a && a->load()) || (b && b->load());
}

// "pid 42 on host x", or what the holder wrote, or a generic text when it wrote nothing yet.
std::string holder_of(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? std::string("another aim-fetch") : text;
}

void write_holder(int fd) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string text = "pid " + std::to_string(::getpid());
  if (host[0] != '\0') text += " on host " + std::string(host);
  text += "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, text.data(), text.size(), 0);
}

}  // namespace

DestLock& DestLock::operator=(DestLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DestLock::~DestLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<DestLock, Failure> DestLock::acquire(const std::filesystem::path& staging,
                                            std::function<void(const std::string&)> on_wait,
                                            const std::atomic<bool>* cancel_a,
                                            const std::atomic<bool>* cancel_b) {
  const std::filesystem::path path = staging / kLockName;
  bool told = false;
  for (;;) {
    if (::mkdir(staging.c_str(), 0755) != 0 && errno != EEXIST)
      return fail(classify_errno(errno, "create " + staging.string()));
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // the holder removed the directory between mkdir and open
      return fail(classify_errno(errno, "open " + path.string()));
    }
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS) {
        // A filesystem without locks (e.g. NFS without a lock manager): downloading unprotected
        // beats not downloading at all, but say so.
        if (on_wait)
          on_wait("cannot lock " + path.string() + " (" + std::strerror(e) +
                  "); continuing without protection against a second aim-fetch on this "
                  "destination");
        return DestLock(fd);
      }
      if (e != EWOULDBLOCK) {
        ::close(fd);
        return fail(classify_errno(e, "lock " + path.string()));
      }
      if (!told && on_wait) {
        on_wait(holder_of(fd) + " is writing to this destination; waiting for it to finish");
        told = true;
      }
      if (cancelled(cancel_a, cancel_b)) {
        ::close(fd);
        return fail(Failure{FailureClass::kCancelled, "cancelled while waiting for the lock"});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // Locked; but the holder before us may have removed the staging directory (and the lock file
    // with it) on its way out. Only a lock on the file that is at the path now counts.
    struct stat mine {
    }, there{};
    if (::fstat(fd, &mine) == 0 && ::stat(path.c_str(), &there) == 0 &&
        mine.st_dev == there.st_dev && mine.st_ino == there.st_ino) {
      write_holder(fd);
      return DestLock(fd);
    }
    ::close(fd);
  }
}

}  // namespace aim::fetch
