// The download's buffer pool: aligned buffers, at most max_buffers at once, acquire() waiting for a
// release (the back-pressure that bounds memory when hashing falls behind) and cancel() waking it.
#include "fetch/buffer_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace aim::fetch {
namespace {

TEST(BufferPool, HandsOutAlignedBuffersRoundedToTheBlockSize) {
  BufferPool pool(5000, 2);
  EXPECT_EQ(pool.buffer_size(), 8192u);
  PooledBuffer a = pool.acquire();
  ASSERT_TRUE(a);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % kIoAlign, 0u);
  a.data()[pool.buffer_size() - 1] = 'x';  // the whole size is usable
  EXPECT_EQ(pool.allocated(), 1u);
}

TEST(BufferPool, ReusesReleasedBuffersInsteadOfAllocating) {
  BufferPool pool(4096, 4);
  char* first;
  {
    PooledBuffer a = pool.acquire();
    first = a.data();
  }
  PooledBuffer b = pool.acquire();
  EXPECT_EQ(b.data(), first);
  EXPECT_EQ(pool.allocated(), 1u);
}

TEST(BufferPool, AcquireWaitsForARelease) {
  BufferPool pool(4096, 2);
  PooledBuffer a = pool.acquire(), b = pool.acquire();
  std::atomic<bool> got{false};
  std::thread t([&] {
    PooledBuffer c = pool.acquire();
    got = static_cast<bool>(c);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got.load());  // both buffers are out
  PooledBuffer moved = std::move(a);
  moved.reset();
  t.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool.allocated(), 2u);  // never more than the bound
}

TEST(BufferPool, CancelWakesWaitersWithNoBuffer) {
  BufferPool pool(4096, 1);
  PooledBuffer a = pool.acquire();
  std::atomic<int> result{-1};
  std::thread t([&] { result = pool.acquire() ? 1 : 0; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pool.cancel();
  t.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_FALSE(pool.acquire());
}

}  // namespace
}  // namespace aim::fetch
