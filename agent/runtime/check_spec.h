#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lb/v1/config.pb.h"

namespace lb::runtime {

// One `http-check expect` or `tcp-check expect` rule, ready to match: status lists parsed,
// regular expressions compiled and hex decoded once per apply, not once per check.
struct ExpectRule {
  enum class Match { kStatus, kRstatus, kString, kRstring, kBinary };
  Match match = Match::kString;
  bool negate = false;
  std::string pattern;                                  // as written, for messages
  std::vector<std::pair<unsigned, unsigned>> statuses;  // kStatus: "200-299,302"
  std::string bytes;                                    // kString, kBinary (decoded)
  std::shared_ptr<const std::regex> regex;              // kRstatus, kRstring

  bool onStatus() const { return match == Match::kStatus || match == Match::kRstatus; }
  // Whether the rule's pattern is found (before negation) in an HTTP answer.
  bool matchesHttp(unsigned status, std::string_view body) const;
  // Whether the pattern is found in the bytes a tcp-check received.
  bool matchesBytes(std::string_view received) const;
};

// One step of `option tcp-check`.
struct TcpCheckStep {
  enum class Kind { kConnect, kSend, kExpect, kComment };
  Kind kind = Kind::kComment;
  // kConnect: where, if not the server's check address.
  std::optional<uint16_t> port;
  std::optional<boost::asio::ip::address> address;
  bool send_proxy = false;  // kConnect: a PROXY protocol header first (`send-proxy`)
  std::string send;         // kSend (send-binary decoded)
  ExpectRule expect;
};

// What a backend's active checks do, typed: a TCP connect, an HTTP request whose answer must
// pass the expect rules (none: a 2xx or 3xx status), or the tcp-check steps. Shared by every
// server of the backend and immutable.
struct CheckSpec {
  enum class Kind { kTcp, kHttp, kTcpCheck };
  Kind kind = Kind::kTcp;
  std::string http_request;  // the whole request, built once
  std::vector<ExpectRule> http_expect;
  std::vector<TcpCheckStep> tcp_check;
  bool log_health_checks = false;  // `option log-health-checks`
};

// Builds the spec of a validated HealthCheck. On a problem the validator should have caught
// (an invalid regex), returns null and sets *error and *path (relative to the HealthCheck).
std::shared_ptr<const CheckSpec> makeCheckSpec(const lb::v1::HealthCheck& check,
                                               std::string* error = nullptr,
                                               std::string* path = nullptr);

// Parses an HTTP status list such as "200", "200-299,302"; nullopt when it is not one.
std::optional<std::vector<std::pair<unsigned, unsigned>>> parseStatusList(std::string_view list);

}  // namespace lb::runtime
