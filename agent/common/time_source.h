#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace lb::common {

using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// A one-shot timer made by a TimeSource. Arming again replaces the pending wait. The contract
// tests rely on: once cancel() returns (or the timer is destroyed), its callback never runs,
// even when the deadline had already passed and the expiry was queued.
//
// Threads: the thread that runs its TimeSource's clock (the control thread's io_context).
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void armAt(MonoTime when, std::function<void()> callback) = 0;
  virtual void armAfter(std::chrono::nanoseconds delay, std::function<void()> callback) = 0;
  virtual void cancel() = 0;
  virtual bool armed() const = 0;
  // When an armed timer fires; the past for one that is not armed.
  virtual MonoTime expiry() const = 0;
};

// Time as the control plane sees it: a monotonic clock for deadlines and intervals, the wall
// clock for what users read (event times), and timers. Injected so that health checks, probes
// and the agent's stop logic run on simulated time in unit tests (Envoy's TimeSource).
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual MonoTime now() const = 0;
  virtual WallTime wallNow() const = 0;
  virtual std::unique_ptr<Timer> makeTimer() = 0;
};

// The real clocks, with timers on an Asio io_context.
class AsioTimeSource : public TimeSource {
 public:
  explicit AsioTimeSource(boost::asio::io_context& io) : io_(io) {}
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  std::unique_ptr<Timer> makeTimer() override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace lb::common
