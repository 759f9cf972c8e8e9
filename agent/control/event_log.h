#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/common/time_source.h"
#include "agent/health/event_sink.h"
#include "lb/v1/event.pb.h"

namespace lb::control {

// The agent's events, in order: each gets the next sequence number (from 1), the wall time
// and the agent's name. A bounded ring keeps the most recent ones for readers that ask
// "what happened after N?"; listeners get every event as it is published.
//
// Threads: publish() from the control thread; reads and subscriptions from any thread (the
// gRPC service's). Listeners are called with the lock released and must not block.
class EventLog : public health::EventSink {
 public:
  // Events are stamped with `time`'s wall clock (the system clock when null).
  EventLog(std::string agent, size_t capacity, const common::TimeSource* time = nullptr);

  void publish(lb::v1::Event event) override;

  struct Slice {
    std::vector<lb::v1::Event> events;
    // True when events after `since` have already left the ring: the reader missed some and
    // should re-read the full state.
    bool lost = false;
  };
  // The events with a sequence number greater than `since`.
  Slice since(uint64_t since) const;
  uint64_t lastSequence() const;

  using Listener = std::function<void(const lb::v1::Event&)>;
  uint64_t subscribe(Listener listener);
  void unsubscribe(uint64_t id);

 private:
  std::string agent_;
  size_t capacity_;
  const common::TimeSource* time_;
  mutable std::mutex mutex_;
  std::deque<lb::v1::Event> ring_;
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, Listener> listeners_;
  uint64_t next_listener_ = 1;
};

}  // namespace lb::control
