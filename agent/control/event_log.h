#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/time_source.h"
#include "agent/health/event_sink.h"
#include "lb/v1/event.pb.h"

namespace lb::control {

// The agent's events, in order: each gets the next sequence number, the wall time and the
// agent's name. A bounded ring keeps the most recent ones for readers that ask "what happened
// after N?"; listeners get every event as it is published.
//
// Sequence numbers never repeat within an incarnation (a run of the agent, named by a random
// id). With a state directory they continue across restarts: the control plane reserves them
// in blocks ahead (reserve()) and a restarted agent starts above the last reservation.
//
// Threads: publish() from the control thread; reads and subscriptions from any thread (the
// gRPC service's). Listeners are called with the lock held, in sequence order, and must not
// block (a watcher only queues).
class EventLog : public health::EventSink {
 public:
  // Events are stamped with `time`'s wall clock (the system clock when null).
  EventLog(std::string agent, size_t capacity, const common::TimeSource* time = nullptr);

  // Before the first event: sequences start at `first` (a restarted agent's).
  void startAt(uint64_t first);
  // Called when a sequence at or above `reserved` is about to be handed out; returns the new
  // reservation (control thread). Without it sequences are not reserved.
  void setReservation(uint64_t reserved, std::function<uint64_t(uint64_t next)> extend);

  void publish(lb::v1::Event event) override;

  struct Slice {
    std::vector<lb::v1::Event> events;
    // Events after `since` of this incarnation have already left the ring: the reader missed
    // some and should re-read the full state.
    bool lost = false;
    // `since` is below this incarnation's first sequence: the agent restarted since.
    bool restarted = false;
    uint64_t oldest = 0;  // the oldest sequence held, 0 when none
    uint64_t last = 0;    // the last sequence handed out, 0 when none
  };
  // The events with a sequence number greater than `since`.
  Slice since(uint64_t since) const;
  uint64_t lastSequence() const;
  uint64_t firstSequence() const { return first_sequence_; }
  const std::string& incarnation() const { return incarnation_; }
  const std::string& agent() const { return agent_; }

  using Listener = std::function<void(const lb::v1::Event&)>;
  uint64_t subscribe(Listener listener);
  // Atomically: the events after `since` still held, and `listener` for every later one (none
  // missed, none twice). `since` nullopt: live events only (the slice is empty).
  uint64_t subscribeSince(std::optional<uint64_t> since, Listener listener, Slice* backlog);
  void unsubscribe(uint64_t id);

 private:
  Slice sliceLocked(uint64_t since) const;

  std::string agent_;
  size_t capacity_;
  const common::TimeSource* time_;
  std::string incarnation_;
  uint64_t first_sequence_ = 1;
  uint64_t reserved_ = 0;
  std::function<uint64_t(uint64_t)> extend_;
  // Recursive: a listener (called with it held) may read the log itself.
  mutable std::recursive_mutex mutex_;
  std::deque<lb::v1::Event> ring_;
  uint64_t next_sequence_ = 1;
  std::map<uint64_t, Listener> listeners_;
  uint64_t next_listener_ = 1;
};

}  // namespace lb::control
