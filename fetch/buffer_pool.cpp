#include "fetch/buffer_pool.h"

#include <cstdlib>
#include <new>

namespace aim::fetch {

void FreeDeleter::operator()(char* p) const {
  std::free(p);
}

AlignedBuffer aligned_buffer(std::size_t size) {
  void* p = nullptr;
  if (::posix_memalign(&p, kIoAlign, align_up(size == 0 ? 1 : size)) != 0) throw std::bad_alloc();
  return AlignedBuffer(static_cast<char*>(p));
}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = o.pool_;
    data_ = o.data_;
    o.data_ = nullptr;
  }
  return *this;
}

void PooledBuffer::reset() {
  if (data_) pool_->release(data_);
  data_ = nullptr;
}

BufferPool::BufferPool(std::size_t buffer_size, std::size_t max_buffers)
    : size_(align_up(buffer_size == 0 ? 1 : buffer_size)),
      max_(max_buffers == 0 ? 1 : max_buffers) {
  all_.reserve(max_);
  free_.reserve(max_);
}

PooledBuffer BufferPool::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return cancelled_ || !free_.empty() || all_.size() < max_; });
  if (cancelled_) return {};
  if (free_.empty()) {
    all_.push_back(aligned_buffer(size_));
    return PooledBuffer(this, all_.back().get());
  }
  char* p = free_.back();
  free_.pop_back();
  return PooledBuffer(this, p);
}

void BufferPool::release(char* data) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(data);
  }
  cv_.notify_one();
}

void BufferPool::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

std::size_t BufferPool::allocated() const {
  std::lock_guard lock(mu_);
  return all_.size();
}

}  // namespace aim::fetch
