#pragma once

#include "lb/v1/event.pb.h"

namespace lb::health {

// Where state changes go. The agent's event log implements it; it stamps the sequence number,
// the time and the agent's name.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(lb::v1::Event event) = 0;
};

}  // namespace lb::health
