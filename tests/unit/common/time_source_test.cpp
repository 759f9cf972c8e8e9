// Time as an injected interface: the Asio timers keep Timer's contract (a cancelled or
// destroyed timer never calls back, even when its expiry was already queued), and the
// simulated source runs timers in order of expiry with the clock at each one's expiry.
#include "agent/common/time_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "agent/common/simulated_time.h"

namespace lb::common {
namespace {

using namespace std::chrono_literals;

TEST(AsioTimeSourceTest, ATimerFiresOnceAtItsExpiry) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  auto timer = time.makeTimer();
  int fired = 0;
  auto start = time.now();
  timer->armAfter(20ms, [&] { ++fired; });
  EXPECT_TRUE(timer->armed());
  EXPECT_GE(timer->expiry(), start + 20ms);
  io.run_for(2s);  // returns once nothing is pending
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer->armed());
  EXPECT_GE(time.now() - start, 20ms);
}

TEST(AsioTimeSourceTest, ACancelledTimerNeverCallsBackEvenWhenItsExpiryWasQueued) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  auto victim = time.makeTimer();
  auto killer = time.makeTimer();
  int fired = 0;
  auto now = time.now();
  // Both are due when the io_context runs, so Asio queues both completions (the killer's
  // first: it expires earlier); the killer then cancels a timer whose completion is queued
  // with success already.
  victim->armAt(now, [&] { ++fired; });
  killer->armAt(now - 1ms, [&] { victim->cancel(); });
  io.run_for(1s);
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(victim->armed());
  // Cancelled before running: nothing either.
  victim->armAfter(0ms, [&] { ++fired; });
  victim->cancel();
  io.restart();
  io.run_for(100ms);
  EXPECT_EQ(fired, 0);
}

TEST(AsioTimeSourceTest, ADestroyedTimerNeverCallsBack) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  int fired = 0;
  {
    auto timer = time.makeTimer();
    timer->armAfter(0ms, [&] { ++fired; });
  }
  io.run_for(100ms);
  EXPECT_EQ(fired, 0);
}

TEST(AsioTimeSourceTest, ACallbackMayDestroyOrReArmItsTimer) {
  boost::asio::io_context io;
  AsioTimeSource time(io);
  auto timer = time.makeTimer();
  int fired = 0;
  std::function<void()> again = [&] {
    if (++fired < 3) timer->armAfter(1ms, again);
  };
  timer->armAfter(1ms, again);
  io.run_for(1s);
  EXPECT_EQ(fired, 3);
  auto doomed = time.makeTimer();
  doomed->armAfter(1ms, [&] { doomed.reset(); });
  io.restart();
  io.run_for(1s);
  EXPECT_EQ(doomed, nullptr);
}

TEST(SimulatedTimeSourceTest, TimersRunInOrderWithTheClockAtTheirExpiry) {
  SimulatedTimeSource time;
  auto start = time.now();
  auto wall = time.wallNow();
  std::vector<std::pair<int, std::chrono::nanoseconds>> ran;
  auto a = time.makeTimer(), b = time.makeTimer(), c = time.makeTimer();
  a->armAfter(30ms, [&] { ran.push_back({1, time.now() - start}); });
  b->armAfter(10ms, [&] { ran.push_back({2, time.now() - start}); });
  c->armAfter(10ms, [&] { ran.push_back({3, time.now() - start}); });  // same time: arming order
  EXPECT_EQ(time.advance(20ms), 2u);
  EXPECT_EQ(time.now() - start, 20ms);
  EXPECT_EQ(time.advance(20ms), 1u);
  EXPECT_EQ(ran, (std::vector<std::pair<int, std::chrono::nanoseconds>>{
                     {2, 10ms}, {3, 10ms}, {1, 30ms}}));
  EXPECT_EQ(time.wallNow() - wall, 40ms);  // the wall clock moves with it
}

TEST(SimulatedTimeSourceTest, CallbacksThatArmTimersWithinTheAdvanceRunToo) {
  SimulatedTimeSource time;
  auto timer = time.makeTimer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    timer->armAfter(100ms, tick);
  };
  timer->armAfter(100ms, tick);
  time.advance(1s);
  EXPECT_EQ(ticks, 10);
  EXPECT_TRUE(timer->armed());
  EXPECT_EQ(*time.nextExpiry() - time.now(), 100ms);
}

TEST(SimulatedTimeSourceTest, CancelAndDestroyRemoveATimer) {
  SimulatedTimeSource time;
  int fired = 0;
  auto a = time.makeTimer();
  a->armAfter(1ms, [&] { ++fired; });
  a->cancel();
  {
    auto b = time.makeTimer();
    b->armAfter(1ms, [&] { ++fired; });
  }
  EXPECT_EQ(time.armedTimers(), 0u);
  time.advance(1s);
  EXPECT_EQ(fired, 0);
}

TEST(SimulatedTimeSourceTest, AdvanceUntilStopsAtTheCondition) {
  SimulatedTimeSource time;
  auto start = time.now();
  auto timer = time.makeTimer();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    timer->armAfter(250ms, tick);
  };
  timer->armAfter(250ms, tick);
  EXPECT_TRUE(time.advanceUntil([&] { return ticks == 3; }, 10s));
  EXPECT_EQ(time.now() - start, 750ms);
  EXPECT_FALSE(time.advanceUntil([] { return false; }, 1s));
  EXPECT_EQ(time.now() - start, 1750ms);
}

TEST(SimulatedTimeSourceTest, ATimerOutlivingItsSourceIsInert) {
  auto time = std::make_unique<SimulatedTimeSource>();
  auto timer = time->makeTimer();
  timer->armAfter(1ms, [] {});
  time.reset();
  timer->cancel();
  timer->armAfter(1ms, [] {});
  EXPECT_FALSE(timer->armed());
}

}  // namespace
}  // namespace lb::common
