#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace lb::proxy {

// Relay buffers of one worker. A session holds a buffer only while it has bytes in flight, so
// an idle connection costs no buffer (HAProxy's rule too), and a busy worker reuses a few warm
// buffers instead of allocating and zeroing two per connection.
//
// Threads: one worker's thread only.
class BufferPool {
 public:
  // A buffer of `size` bytes, uninitialised.
  std::unique_ptr<char[]> acquire(size_t size) {
    if (size != size_) {
      // tune.bufsize changed with an apply: the kept buffers have the old size.
      free_.clear();
      size_ = size;
    }
    if (free_.empty()) return std::unique_ptr<char[]>(new char[size]);
    auto buffer = std::move(free_.back());
    free_.pop_back();
    return buffer;
  }

  // Gives back a buffer of `size` bytes; kept for reuse up to a bound, freed beyond it.
  void release(std::unique_ptr<char[]> buffer, size_t size) {
    if (buffer == nullptr || size != size_ || free_.size() >= kMaxFree) return;
    free_.push_back(std::move(buffer));
  }

 private:
  // Enough for a burst of busy sessions; at 16 KiB, 4 MiB per worker at most.
  static constexpr size_t kMaxFree = 256;

  size_t size_ = 0;
  std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace lb::proxy
