// One aim-fetch per destination: a second waits, says who holds the destination, and takes the
// lock over once the first is gone, also when the first removed the staging directory.
#include "fetch/dest_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

namespace aim::fetch {
namespace {
namespace fs = std::filesystem;

class DestLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aim-lock-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    staging_ = dir_ / ".aim-fetch";
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_, staging_;
};

TEST_F(DestLockTest, CreatesTheStagingDirectoryAndNamesTheHolder) {
  auto lock = DestLock::acquire(staging_, nullptr, nullptr);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  EXPECT_TRUE(lock->held());
  EXPECT_TRUE(fs::is_regular_file(staging_ / kLockName));
}

TEST_F(DestLockTest, SecondWaitsUntilTheFirstIsGoneAndHearsWhoHoldsIt) {
  auto first = DestLock::acquire(staging_, nullptr, nullptr);
  ASSERT_TRUE(first.ok());
  std::atomic<bool> waiting{false};
  std::string message;
  auto second = std::async(std::launch::async, [&] {
    return DestLock::acquire(
        staging_,
        [&](const std::string& m) {
          message = m;
          waiting = true;
        },
        nullptr);
  });
  for (int i = 0; i < 200 && !waiting; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(waiting.load()) << "the second never reported that it waits";
  EXPECT_NE(second.wait_for(std::chrono::milliseconds(300)), std::future_status::ready);
  EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
  // The first finishes the way a successful run does: staging (lock file included) removed first.
  fs::remove_all(staging_);
  *first = DestLock();
  auto got = second.get();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(fs::is_regular_file(staging_ / kLockName))
      << "the second must hold a lock on a file that is at the path, not the removed one";
  // And that lock excludes a third.
  std::atomic<bool> cancel{false};
  auto third = std::async(std::launch::async, [&] {
    return DestLock::acquire(
        staging_, [&](const std::string&) { cancel = true; }, &cancel);
  });
  auto r = third.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, FailureClass::kCancelled);
}

TEST_F(DestLockTest, ReleasedWhenTheHolderGoesAway) {
  {
    auto first = DestLock::acquire(staging_, nullptr, nullptr);
    ASSERT_TRUE(first.ok());
  }
  bool waited = false;
  auto again = DestLock::acquire(
      staging_, [&](const std::string&) { waited = true; }, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(waited);
}

}  // namespace
}  // namespace aim::fetch
