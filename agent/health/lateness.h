#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace lb::health {

// How late checks start compared with when they were due, in 1 ms buckets up to 10 s (later
// ones count in the last bucket). Control thread only.
class Lateness {
 public:
  void add(std::chrono::milliseconds late) {
    long ms = late.count() < 0 ? 0 : late.count();
    ++buckets_[static_cast<size_t>(ms < kBuckets - 1 ? ms : kBuckets - 1)];
    ++count_;
    if (ms > max_) max_ = ms;
  }
  uint64_t count() const { return count_; }
  long max() const { return max_; }
  // The smallest lateness (ms) that `fraction` (0..1) of the checks did not exceed.
  long percentile(double fraction) const {
    if (count_ == 0) return 0;
    auto wanted = static_cast<uint64_t>(fraction * static_cast<double>(count_));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen > wanted || seen == count_) return static_cast<long>(i);
    }
    return max_;
  }

 private:
  static constexpr long kBuckets = 10001;
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  long max_ = 0;
};

}  // namespace lb::health
