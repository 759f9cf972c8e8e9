#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>

#include "agent/control/event_log.h"
#include "lb/v1/agent.pb.h"

namespace lb::control {

// One WatchEvents stream: a StreamStart, the events after `since` the log still holds, then
// live ones, filtered by backend and type. Events wait in a bounded queue of their own: a
// watcher that does not read loses events (one EventsLost message says how many, and the
// stream goes on), while the agent, the data plane and the other watchers never wait for it.
//
// Threads: the event log calls it on the control thread; gRPC calls OnWriteDone, OnCancel and
// OnDone on its own threads. It deletes itself when gRPC is done with it.
class EventWatcher : public grpc::ServerWriteReactor<lb::v1::WatchEventsResponse> {
 public:
  EventWatcher(EventLog& log, const lb::v1::WatchEventsRequest& request, size_t max_queue);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  bool wanted(const lb::v1::Event& event) const;
  // Queues an event (or counts it lost). Control thread, the log's lock held.
  void offer(const lb::v1::Event& event);
  // Writes the next message when none is in flight. Lock held.
  void writeNextLocked();
  // Queues an EventsLost message for the events dropped since the last one. Lock held.
  void queueLostLocked();
  // Ends the stream once no write is in flight (once). Lock held.
  void finishLocked();

  EventLog& log_;
  std::string backend_;
  std::set<int> types_;
  size_t max_queue_;
  uint64_t subscription_ = 0;
  std::mutex mutex_;
  std::deque<lb::v1::WatchEventsResponse> queue_;
  lb::v1::WatchEventsResponse writing_;  // the message in flight (gRPC holds a pointer to it)
  bool in_flight_ = false;
  bool finished_ = false;  // no more writes: cancelled, or the client is gone
  bool finish_called_ = false;
  bool replay_only_ = false;  // the stream ends after the replay
  grpc::Status end_ = grpc::Status::CANCELLED;
  size_t replay_ = 0;  // replayed events still queued: they do not count against the bound
  uint64_t lost_ = 0;
  uint64_t last_lost_ = 0;
};

}  // namespace lb::control
