#include "agent/control/event_watcher.h"

namespace lb::control {

EventWatcher::EventWatcher(EventLog& log, const lb::v1::WatchEventsRequest& request,
                           size_t max_queue)
    : log_(log),
      backend_(request.backend()),
      max_queue_(std::max<size_t>(1, max_queue)),
      replay_only_(request.replay_only()) {
  for (int type : request.types()) types_.insert(type);
  std::optional<uint64_t> since;
  if (request.has_since()) since = request.since();
  std::lock_guard lock(mutex_);
  EventLog::Slice backlog;
  // The listener may run as soon as this returns (on the control thread): it takes mutex_,
  // which this constructor holds until the backlog is queued, so live events come after it.
  subscription_ = log_.subscribeSince(
      since,
      [this](const lb::v1::Event& event) {
        std::lock_guard inner(mutex_);
        offer(event);
      },
      &backlog);
  lb::v1::WatchEventsResponse start;
  auto* s = start.mutable_start();
  s->set_agent(log_.agent());
  s->set_incarnation(log_.incarnation());
  s->set_oldest_sequence(backlog.oldest);
  s->set_last_sequence(backlog.last);
  s->set_first_sequence(log_.firstSequence());
  s->set_lost(backlog.lost);
  s->set_restarted(backlog.restarted);
  queue_.push_back(std::move(start));
  // The replay is queued whole (the ring bounds it); the queue's bound is for live events.
  for (const auto& event : backlog.events) {
    if (!wanted(event)) continue;
    lb::v1::WatchEventsResponse message;
    *message.mutable_event() = event;
    queue_.push_back(std::move(message));
    ++replay_;
  }
  writeNextLocked();
}

bool EventWatcher::wanted(const lb::v1::Event& event) const {
  if (!backend_.empty() && event.backend() != backend_) return false;
  return types_.empty() || types_.count(event.type()) > 0;
}

void EventWatcher::offer(const lb::v1::Event& event) {
  if (finished_ || replay_only_ || !wanted(event)) return;
  if (queue_.size() >= max_queue_ + replay_) {
    ++lost_;
    last_lost_ = event.sequence();
    return;
  }
  queueLostLocked();  // room again: say what was lost before the events that follow
  lb::v1::WatchEventsResponse message;
  *message.mutable_event() = event;
  queue_.push_back(std::move(message));
  writeNextLocked();
}

void EventWatcher::queueLostLocked() {
  if (lost_ == 0) return;
  lb::v1::WatchEventsResponse lost;
  lost.mutable_lost()->set_count(lost_);
  lost.mutable_lost()->set_last_dropped(last_lost_);
  queue_.push_back(std::move(lost));
  lost_ = 0;
}

void EventWatcher::writeNextLocked() {
  if (in_flight_ || finished_) return;
  // The queue drained after events were dropped: say so now, not only with the next event.
  if (queue_.empty()) queueLostLocked();
  if (queue_.empty()) {
    if (replay_only_) {
      // Everything held has been sent.
      finished_ = true;
      end_ = grpc::Status::OK;
      finishLocked();
    }
    return;
  }
  writing_ = std::move(queue_.front());
  queue_.pop_front();
  if (replay_ > 0 && writing_.has_event()) --replay_;
  in_flight_ = true;
  StartWrite(&writing_);
}

void EventWatcher::OnWriteDone(bool ok) {
  std::lock_guard lock(mutex_);
  in_flight_ = false;
  if (!ok) finished_ = true;  // the client is gone: nothing more goes out
  if (finished_) {
    finishLocked();
    return;
  }
  writeNextLocked();
}

void EventWatcher::OnCancel() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  finishLocked();  // with a write in flight, after its OnWriteDone
}

void EventWatcher::finishLocked() {
  if (in_flight_ || finish_called_) return;
  finish_called_ = true;
  Finish(end_);
}

void EventWatcher::OnDone() {
  log_.unsubscribe(subscription_);  // waits for a listener call in progress
  delete this;
}

}  // namespace lb::control
