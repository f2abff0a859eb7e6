// A bounded pool of page-aligned buffers shared by one download's transfers and its hashers.
//
// A transfer fills a buffer from the network, writes it (with O_DIRECT where the filesystem
// allows, which needs aligned memory) and, when the bytes extend its file's written prefix,
// hands the buffer to the file's hasher instead of taking it back. The pool's bound is the
// memory bound of the whole pipeline: should the hashers hold every buffer, acquire() blocks the
// transfers (TCP then slows the senders) until a hasher returns one.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace aim::fetch {

inline constexpr std::size_t kIoAlign = 4096;  // O_DIRECT: buffer address, file offset and length

constexpr std::size_t align_up(std::size_t n, std::size_t a = kIoAlign) {
  return (n + a - 1) / a * a;
}

struct FreeDeleter {
  void operator()(char* p) const;
};
using AlignedBuffer = std::unique_ptr<char, FreeDeleter>;
// `size` bytes at a kIoAlign-aligned address (std::bad_alloc when there is no memory).
AlignedBuffer aligned_buffer(std::size_t size);

class BufferPool;

// A buffer on loan: it goes back to its pool when destroyed or reset.
class PooledBuffer {
 public:
  PooledBuffer() = default;
  PooledBuffer(BufferPool* pool, char* data) : pool_(pool), data_(data) {}
  PooledBuffer(PooledBuffer&& o) noexcept : pool_(o.pool_), data_(o.data_) { o.data_ = nullptr; }
  PooledBuffer& operator=(PooledBuffer&& o) noexcept;
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;
  ~PooledBuffer() { reset(); }

  char* data() const { return data_; }
  explicit operator bool() const { return data_ != nullptr; }
  void reset();

 private:
  BufferPool* pool_ = nullptr;
  char* data_ = nullptr;
};

class BufferPool {
 public:
  // Buffers of `buffer_size` rounded up to kIoAlign; at most `max_buffers` exist at once, each
  // allocated the first time it is needed.
  BufferPool(std::size_t buffer_size, std::size_t max_buffers);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Blocks until a buffer is free; an empty PooledBuffer once cancel() was called.
  PooledBuffer acquire();
  // Wakes every acquire() for good (the download is stopping).
  void cancel();

  std::size_t buffer_size() const { return size_; }
  std::size_t max_buffers() const { return max_; }
  std::size_t allocated() const;  // buffers that exist (at most max_buffers)

 private:
  friend class PooledBuffer;
  void release(char* data);

  const std::size_t size_, max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AlignedBuffer> all_;
  std::vector<char*> free_;
  bool cancelled_ = false;
};

}  // namespace aim::fetch
