#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace lb::proxy {

// HAProxy's global `maxconnrate`: at most `limit` connections accepted per second over the
// whole process. Every listener of every worker takes a token before accept(2); when the second
// is used up, it learns how long to pause (its clients wait in the kernel's backlog, as HAProxy
// pauses its listeners).
//
// A fixed one-second window: simpler than HAProxy's sliding one, and never more than `limit`
// accepts in a window. Thread-safe (atomics); the time is passed in, so tests need no clock.
class AcceptRate {
 public:
  // Takes a token at `now`: zero when the connection may be accepted, otherwise how long to
  // wait before trying again.
  std::chrono::milliseconds admit(std::chrono::milliseconds now, uint32_t limit) {
    int64_t start = window_start_.load(std::memory_order_acquire);
    if (now.count() - start >= 1000 || now.count() < start) {
      if (window_start_.compare_exchange_strong(start, now.count(), std::memory_order_acq_rel)) {
        count_.store(0, std::memory_order_release);
        start = now.count();
      } else {
        start = window_start_.load(std::memory_order_acquire);
      }
    }
    if (count_.fetch_add(1, std::memory_order_acq_rel) < limit) {
      return std::chrono::milliseconds(0);
    }
    count_.fetch_sub(1, std::memory_order_acq_rel);
    return std::chrono::milliseconds(std::max<int64_t>(1, start + 1000 - now.count()));
  }

  // Gives back a token that found no connection to accept.
  void giveBack() { count_.fetch_sub(1, std::memory_order_acq_rel); }

  // The one of the process.
  static AcceptRate& process() {
    static AcceptRate rate;
    return rate;
  }

 private:
  std::atomic<int64_t> window_start_{INT64_MIN / 2};
  std::atomic<uint32_t> count_{0};
};

}  // namespace lb::proxy
