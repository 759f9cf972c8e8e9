#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/common/proto_time.h"

namespace lb::config {

// A time value as written in HAProxy syntax.
struct ParsedTime {
  std::chrono::microseconds value{0};
  // True when no unit was written: HAProxy then reads milliseconds, which is rarely intended
  // for small numbers ("inter 4" is 4 ms).
  bool unitless = false;
};

// Parses "<number>[us|ms|s|m|h|d]"; no unit means milliseconds. On failure returns nullopt and
// sets *error to a sentence saying what is wrong.
std::optional<ParsedTime> parseTime(std::string_view text, std::string* error);

// proto <-> chrono lives in lb_common (the data plane uses it too).
using common::fromProto;
using common::toProto;

// The shortest exact HAProxy spelling: 4000000us -> "4s", 1500000us -> "1500ms".
std::string formatTime(std::chrono::microseconds value);

// Parses a non-negative decimal integer that fits in uint32_t, and is at most `max`.
std::optional<uint32_t> parseUint(std::string_view text, uint32_t max = UINT32_MAX);

}  // namespace lb::config
