#include "agent/config/duration.h"

#include <array>
#include <charconv>
#include <utility>

namespace lb::config {

namespace {
using std::chrono::microseconds;

struct Unit {
  std::string_view suffix;
  int64_t micros;
};
// Longest suffix first where one is a prefix of another ("ms" before "m").
constexpr std::array<Unit, 6> kUnits{{{"us", 1},
                                      {"ms", 1000},
                                      {"s", 1000000},
                                      {"m", 60LL * 1000000},
                                      {"h", 3600LL * 1000000},
                                      {"d", 86400LL * 1000000}}};
constexpr int64_t kMaxMicros = 49LL * 86400 * 1000000;  // HAProxy's ~49.7 days timer limit
}  // namespace

std::optional<ParsedTime> parseTime(std::string_view text, std::string* error) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) {
    *error = "'" + std::string(text) + "' is not a time; expected a number with an optional " +
             "unit (us, ms, s, m, h, d), such as '4s'";
    return std::nullopt;
  }
  int64_t number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || number > kMaxMicros) {
    *error = "time '" + std::string(text) + "' is too large";
    return std::nullopt;
  }
  std::string_view suffix = text.substr(digits);
  // No unit means milliseconds, with the same 49-day limit as "ms".
  bool unitless = suffix.empty();
  if (unitless) suffix = "ms";
  for (const auto& unit : kUnits) {
    if (suffix == unit.suffix) {
      if (number > kMaxMicros / unit.micros) {
        *error = "time '" + std::string(text) + "' is too large (at most 49 days)";
        return std::nullopt;
      }
      return ParsedTime{microseconds(number * unit.micros), unitless};
    }
  }
  *error = "unknown time unit '" + std::string(suffix) + "' in '" + std::string(text) +
           "'; use us, ms, s, m, h or d";
  return std::nullopt;
}

std::string formatTime(microseconds value) {
  int64_t us = value.count();
  if (us == 0) return "0";
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    if (us % it->micros == 0) return std::to_string(us / it->micros) + std::string(it->suffix);
  }
  return std::to_string(us) + "us";
}

std::optional<uint32_t> parseUint(std::string_view text, uint32_t max) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<uint32_t>(value);
}

}  // namespace lb::config
