#pragma once

#include <chrono>
#include <optional>

#include "agent/common/time_source.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace lb::common {

// google.protobuf.Duration <-> std::chrono, at microsecond precision (HAProxy's finest unit).
google::protobuf::Duration toProto(std::chrono::microseconds value);
std::chrono::microseconds fromProto(const google::protobuf::Duration& value);

// A Duration field that is set, in milliseconds; nullopt when it is not set.
std::optional<std::chrono::milliseconds> millisIfSet(bool present,
                                                     const google::protobuf::Duration& value);

google::protobuf::Timestamp toProto(WallTime time);

}  // namespace lb::common
