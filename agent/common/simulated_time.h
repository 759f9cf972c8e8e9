#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "agent/common/time_source.h"

namespace lb::common {

// A TimeSource whose clock moves only when told (Envoy's SimulatedTimeSystem): tests advance it
// and the timers that come due run, in order of expiry, with the clock standing at each one's
// expiry while its callback runs. Nothing sleeps, so a test of minutes of checks runs in
// milliseconds, and the same inputs give the same order every time.
//
// Threads: one thread (the test's).
class SimulatedTimeSource : public TimeSource {
 public:
  SimulatedTimeSource();
  ~SimulatedTimeSource() override;

  MonoTime now() const override { return now_; }
  WallTime wallNow() const override { return wall_start_ + (now_ - start_); }
  std::unique_ptr<Timer> makeTimer() override;

  // Moves the clock forward by `delay`, running every timer due by then (including ones their
  // callbacks arm). Returns how many callbacks ran.
  size_t advance(std::chrono::nanoseconds delay);
  // Runs the timers that are due now (armed with no delay) without moving the clock.
  size_t runDue() { return advance(std::chrono::nanoseconds(0)); }
  // Moves to the next expiry (if it is no later than `limit` from now) and runs what is due
  // then. False when no timer is armed within the limit.
  bool step(std::chrono::nanoseconds limit = std::chrono::hours(24));
  // Steps until `done` holds or the clock has moved by `limit`; returns done().
  bool advanceUntil(const std::function<bool()>& done, std::chrono::nanoseconds limit);

  // Called after each timer callback: tests hook an io_context's poll() here, so work posted
  // by a callback (cross-thread reports) runs at the same simulated instant.
  void setAfterEach(std::function<void()> hook) { after_each_ = std::move(hook); }

  std::optional<MonoTime> nextExpiry() const;
  size_t armedTimers() const { return queue_.size(); }

 private:
  class SimTimer;
  using Key = std::pair<MonoTime, uint64_t>;  // expiry, then arming order

  Key add(SimTimer* timer, MonoTime when);
  void remove(const Key& key);

  MonoTime start_;
  MonoTime now_;
  WallTime wall_start_;
  uint64_t next_order_ = 0;
  std::map<Key, SimTimer*> queue_;
  std::function<void()> after_each_;
  // Timers hold it weakly: one that outlives its source (a test's teardown order) is inert.
  std::shared_ptr<SimulatedTimeSource*> self_;
};

}  // namespace lb::common
