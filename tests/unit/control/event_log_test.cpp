// EventLog: sequence numbers, the bounded ring, "events after N" with the lost flag, listeners.
#include "agent/control/event_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace lb::control {
namespace {

lb::v1::Event serverEvent(const std::string& server) {
  lb::v1::Event event;
  event.set_type(lb::v1::Event::SERVER_STATE);
  event.set_backend("be");
  event.set_server(server);
  event.set_old_state("UP");
  event.set_new_state("DOWN");
  event.set_config_version(7);
  return event;
}

std::vector<uint64_t> sequences(const EventLog::Slice& slice) {
  std::vector<uint64_t> out;
  for (const auto& e : slice.events) out.push_back(e.sequence());
  return out;
}

TEST(EventLogTest, StampsSequenceTimeAndAgentAndKeepsTheRest) {
  EventLog log("lb1", 10);
  EXPECT_EQ(log.lastSequence(), 0u);
  auto before = std::chrono::system_clock::now();
  log.publish(serverEvent("s1"));
  log.publish(serverEvent("s2"));
  auto after = std::chrono::system_clock::now();
  EXPECT_EQ(log.lastSequence(), 2u);
  auto slice = log.since(0);
  ASSERT_EQ(slice.events.size(), 2u);
  EXPECT_FALSE(slice.lost);
  const auto& e = slice.events[0];
  EXPECT_EQ(e.sequence(), 1u);
  EXPECT_EQ(slice.events[1].sequence(), 2u);
  EXPECT_EQ(e.agent(), "lb1");
  EXPECT_EQ(e.backend(), "be");
  EXPECT_EQ(e.server(), "s1");
  EXPECT_EQ(e.old_state(), "UP");
  EXPECT_EQ(e.new_state(), "DOWN");
  EXPECT_EQ(e.config_version(), 7u);
  auto at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(e.time().seconds()) + std::chrono::nanoseconds(e.time().nanos())));
  EXPECT_GE(at + std::chrono::microseconds(1), before);
  EXPECT_LE(at, after);
}

TEST(EventLogTest, SequenceIsStrictlyIncreasingWhateverTheCallerSet) {
  EventLog log("lb1", 10);
  auto event = serverEvent("s1");
  event.set_sequence(99);  // not the caller's to choose
  log.publish(event);
  log.publish(event);
  EXPECT_EQ(sequences(log.since(0)), (std::vector<uint64_t>{1, 2}));
}

TEST(EventLogTest, SinceGivesOnlyLaterEvents) {
  EventLog log("lb1", 10);
  for (int i = 0; i < 5; ++i) log.publish(serverEvent("s"));
  EXPECT_EQ(sequences(log.since(3)), (std::vector<uint64_t>{4, 5}));
  EXPECT_FALSE(log.since(3).lost);
  EXPECT_TRUE(log.since(5).events.empty());
  EXPECT_FALSE(log.since(5).lost);
  EXPECT_TRUE(log.since(100).events.empty());
}

TEST(EventLogTest, RingKeepsTheMostRecentAndSaysWhenSomeFellOff) {
  EventLog log("lb1", 3);
  for (int i = 0; i < 5; ++i) log.publish(serverEvent("s" + std::to_string(i + 1)));
  EXPECT_EQ(log.lastSequence(), 5u);
  // 1 and 2 fell off the ring.
  auto all = log.since(0);
  EXPECT_EQ(sequences(all), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(all.lost);
  auto after1 = log.since(1);  // 2 was missed
  EXPECT_EQ(sequences(after1), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(after1.lost);
  auto after2 = log.since(2);  // nothing missed: 3 is the next one
  EXPECT_EQ(sequences(after2), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_FALSE(after2.lost);
  EXPECT_EQ(all.events.front().server(), "s3");
}

TEST(EventLogTest, CapacityZeroStillKeepsTheLastEvent) {
  EventLog log("lb1", 0);
  log.publish(serverEvent("a"));
  log.publish(serverEvent("b"));
  auto slice = log.since(0);
  EXPECT_EQ(sequences(slice), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(slice.lost);
}

TEST(EventLogTest, ListenersGetEveryEventStampedUntilTheyUnsubscribe) {
  EventLog log("lb1", 10);
  std::vector<lb::v1::Event> first, second;
  uint64_t a = log.subscribe([&](const lb::v1::Event& e) { first.push_back(e); });
  uint64_t b = log.subscribe([&](const lb::v1::Event& e) { second.push_back(e); });
  EXPECT_NE(a, b);
  log.publish(serverEvent("s1"));
  log.unsubscribe(a);
  log.publish(serverEvent("s2"));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(first[0].sequence(), 1u);
  EXPECT_EQ(first[0].agent(), "lb1");
  EXPECT_EQ(second[1].sequence(), 2u);
  EXPECT_EQ(second[1].server(), "s2");
  log.unsubscribe(b);
  log.unsubscribe(b);  // twice is harmless
  log.publish(serverEvent("s3"));
  EXPECT_EQ(second.size(), 2u);
}

TEST(EventLogTest, ListenerMayReadTheLogItself) {
  // Listeners run with the lock released: a watcher that replays from the ring while being
  // called does not deadlock, and sees the event it is being told about.
  EventLog log("lb1", 10);
  uint64_t seen_last = 0;
  log.subscribe([&](const lb::v1::Event&) { seen_last = log.lastSequence(); });
  log.publish(serverEvent("s1"));
  EXPECT_EQ(seen_last, 1u);
}

TEST(EventLogTest, ReadersOnOtherThreadsSeeIncreasingSequences) {
  EventLog log("lb1", 64);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto slice = log.since(0);
      for (size_t i = 1; i < slice.events.size(); ++i) {
        if (slice.events[i].sequence() != slice.events[i - 1].sequence() + 1) ++bad;
      }
    }
  });
  for (int i = 0; i < 2000; ++i) log.publish(serverEvent("s"));
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(log.lastSequence(), 2000u);
  EXPECT_EQ(log.since(0).events.size(), 64u);
}

}  // namespace
}  // namespace lb::control
