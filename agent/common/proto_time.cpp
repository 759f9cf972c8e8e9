#include "agent/common/proto_time.h"

namespace lb::common {

using std::chrono::microseconds;

google::protobuf::Duration toProto(microseconds value) {
  google::protobuf::Duration out;
  out.set_seconds(value.count() / 1000000);
  out.set_nanos(static_cast<int32_t>((value.count() % 1000000) * 1000));
  return out;
}

microseconds fromProto(const google::protobuf::Duration& value) {
  return microseconds(value.seconds() * 1000000 + value.nanos() / 1000);
}

std::optional<std::chrono::milliseconds> millisIfSet(bool present,
                                                     const google::protobuf::Duration& value) {
  if (!present) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(fromProto(value));
}

google::protobuf::Timestamp toProto(WallTime time) {
  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  google::protobuf::Timestamp out;
  out.set_seconds(nanos / 1000000000);
  out.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return out;
}

}  // namespace lb::common
