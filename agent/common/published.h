#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace lb::common {

// The current immutable T of a balancer (a schedule, a map, a member list): read by any number
// of threads without a lock, replaced by one writer thread.
//
// Two slots and a reader count per slot ("left-right"): readers count themselves into the
// current slot, check it is still current, and read it; the writer fills the other slot once
// its readers have left, then makes it current. Readers never wait (they retry only if the
// writer switched slots in the few instructions between their two loads); the writer waits for
// the readers of the slot it reuses, which hold it for the length of one pick. Old values are
// destroyed by the writer, never on a reader's thread.
//
// Why not std::atomic<std::shared_ptr<const T>>: libstdc++ 12 implements it with a spin bit and
// releases it with memory_order_relaxed in load(), which ThreadSanitizer reports as a race with
// the next store(); this is race-free by construction and costs readers two atomic increments.
//
// Threads: read() from any thread; publish() from one thread at a time (the control thread).
template <typename T>
class Published {
 public:
  // Keeps the value it read valid until destroyed; hold it only for the length of a pick.
  class Reader {
   public:
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    ~Reader() { readers_->fetch_sub(1, std::memory_order_release); }

    // Null when nothing was published yet.
    const T* get() const { return value_; }
    const T* operator->() const { return value_; }
    const T& operator*() const { return *value_; }
    explicit operator bool() const { return value_ != nullptr; }

   private:
    friend class Published;
    Reader(std::atomic<uint32_t>* readers, const T* value) : readers_(readers), value_(value) {}
    std::atomic<uint32_t>* readers_;
    const T* value_;
  };

  Reader read() const {
    for (;;) {
      const uint32_t slot = current_.load(std::memory_order_seq_cst);
      readers_[slot].fetch_add(1, std::memory_order_seq_cst);
      // seq_cst on both sides: either the writer sees our count before it reuses this slot, or
      // we see that it switched away from it and try again.
      if (current_.load(std::memory_order_seq_cst) == slot) {
        return Reader(&readers_[slot], slots_[slot].get());
      }
      readers_[slot].fetch_sub(1, std::memory_order_release);
    }
  }

  // Makes `value` the current one. The value it replaces stays readable until the next
  // publish(), which first waits for its last readers.
  void publish(std::unique_ptr<const T> value) {
    const uint32_t next = 1 - current_.load(std::memory_order_relaxed);
    while (readers_[next].load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
    slots_[next] = std::move(value);
    current_.store(next, std::memory_order_seq_cst);
  }

 private:
  std::array<std::unique_ptr<const T>, 2> slots_;
  mutable std::array<std::atomic<uint32_t>, 2> readers_{};
  std::atomic<uint32_t> current_{0};
};

}  // namespace lb::common
