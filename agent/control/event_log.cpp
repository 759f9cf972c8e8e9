#include "agent/control/event_log.h"

#include <chrono>

#include "agent/common/proto_time.h"

namespace lb::control {

EventLog::EventLog(std::string agent, size_t capacity, const common::TimeSource* time)
    : agent_(std::move(agent)), capacity_(std::max<size_t>(1, capacity)), time_(time) {}

void EventLog::publish(lb::v1::Event event) {
  *event.mutable_time() =
      common::toProto(time_ != nullptr ? time_->wallNow() : std::chrono::system_clock::now());
  event.set_agent(agent_);
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mutex_);
    event.set_sequence(next_sequence_++);
    ring_.push_back(event);
    if (ring_.size() > capacity_) ring_.pop_front();
    for (const auto& [id, listener] : listeners_) listeners.push_back(listener);
  }
  for (const auto& listener : listeners) listener(event);
}

EventLog::Slice EventLog::since(uint64_t since) const {
  std::lock_guard lock(mutex_);
  Slice slice;
  if (!ring_.empty() && ring_.front().sequence() > since + 1) slice.lost = true;
  for (const auto& event : ring_) {
    if (event.sequence() > since) slice.events.push_back(event);
  }
  return slice;
}

uint64_t EventLog::lastSequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - 1;
}

uint64_t EventLog::subscribe(Listener listener) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void EventLog::unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

}  // namespace lb::control
