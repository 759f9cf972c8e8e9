#include "agent/control/event_log.h"

#include <chrono>
#include <random>

#include "agent/common/proto_time.h"

namespace lb::control {

namespace {

std::string randomId() {
  std::random_device device;
  std::mt19937_64 random(static_cast<uint64_t>(device()) << 32 | device());
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(random()));
  return id;
}

}  // namespace

EventLog::EventLog(std::string agent, size_t capacity, const common::TimeSource* time)
    : agent_(std::move(agent)),
      capacity_(std::max<size_t>(1, capacity)),
      time_(time),
      incarnation_(randomId()) {}

void EventLog::startAt(uint64_t first) {
  std::lock_guard lock(mutex_);
  first_sequence_ = std::max<uint64_t>(1, first);
  next_sequence_ = first_sequence_;
}

void EventLog::setReservation(uint64_t reserved, std::function<uint64_t(uint64_t)> extend) {
  reserved_ = reserved;
  extend_ = std::move(extend);
}

void EventLog::publish(lb::v1::Event event) {
  if (extend_) {
    uint64_t next;
    {
      std::lock_guard lock(mutex_);
      next = next_sequence_;
    }
    if (next >= reserved_) reserved_ = extend_(next);
  }
  *event.mutable_time() =
      common::toProto(time_ != nullptr ? time_->wallNow() : std::chrono::system_clock::now());
  event.set_agent(agent_);
  std::lock_guard lock(mutex_);
  event.set_sequence(next_sequence_++);
  ring_.push_back(event);
  if (ring_.size() > capacity_) ring_.pop_front();
  for (const auto& [id, listener] : listeners_) listener(ring_.back());
}

EventLog::Slice EventLog::sliceLocked(uint64_t since) const {
  Slice slice;
  slice.last = next_sequence_ - 1;
  if (!ring_.empty()) slice.oldest = ring_.front().sequence();
  if (since + 1 < first_sequence_) {
    slice.restarted = true;  // what came after `since` in the earlier run is gone with it
  } else if (!ring_.empty() && ring_.front().sequence() > since + 1) {
    slice.lost = true;
  }
  for (const auto& event : ring_) {
    if (event.sequence() > since) slice.events.push_back(event);
  }
  return slice;
}

EventLog::Slice EventLog::since(uint64_t since) const {
  std::lock_guard lock(mutex_);
  return sliceLocked(since);
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

uint64_t EventLog::subscribeSince(std::optional<uint64_t> since, Listener listener,
                                  Slice* backlog) {
  std::lock_guard lock(mutex_);
  if (since) {
    *backlog = sliceLocked(*since);
  } else {
    *backlog = Slice{};
    backlog->last = next_sequence_ - 1;
    if (!ring_.empty()) backlog->oldest = ring_.front().sequence();
  }
  uint64_t id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void EventLog::unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

}  // namespace lb::control
