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

// What a protocol check's answer parser concluded from the bytes received so far.
struct ExpectVerdict {
  enum class Outcome { kWait, kPass, kFail };
  Outcome outcome = Outcome::kWait;
  // kFail: the server answered in its protocol, with an error (L7STS, "wrong status"), rather
  // than with something else (L7RSP, "invalid response").
  bool wrong_status = false;
  std::string info;  // the check's status text: the server's version, its error message...

  static ExpectVerdict wait() { return {}; }
  static ExpectVerdict pass(std::string info = "") {
    return {Outcome::kPass, false, std::move(info)};
  }
  static ExpectVerdict fail(bool wrong_status, std::string info) {
    return {Outcome::kFail, wrong_status, std::move(info)};
  }
};

// Reads a protocol's answer: `received` holds every byte since the last send, `last_read` says
// no more will come (the server closed, the buffer is full). Must not answer kWait when
// `last_read` is set.
using CustomExpect = ExpectVerdict (*)(std::string_view received, bool last_read);

// One `http-check expect` or `tcp-check expect` rule, ready to match: status lists parsed,
// regular expressions compiled and hex decoded once per apply, not once per check.
struct ExpectRule {
  enum class Match { kStatus, kRstatus, kString, kRstring, kBinary, kCustom };
  Match match = Match::kString;
  bool negate = false;
  std::string pattern;                                  // as written, for messages
  std::vector<std::pair<unsigned, unsigned>> statuses;  // kStatus: "200-299,302"
  std::string bytes;                                    // kString, kBinary (decoded)
  std::shared_ptr<const std::regex> regex;              // kRstatus, kRstring
  CustomExpect custom = nullptr;                        // kCustom: a protocol check's parser
  // `min-recv N`: wait for N bytes; then a mismatch is conclusive (no waiting for more).
  std::optional<size_t> min_recv;
  std::string comment;  // `comment TEXT`, added to the status when the rule fails
  // Statuses of the rule are Layer 6 ones (L6OK, L6RSP, L6TOUT): option ssl-hello-chk.
  bool layer6 = false;

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
  // kConnect: end the check with an RST rather than a FIN (HAProxy's `linger`), so that
  // servers that log clean disconnects only (MySQL, PostgreSQL) do not log every check.
  bool linger = false;
  std::string send;  // kSend (send-binary decoded)
  // kSend: the current time (seconds since 1970, big-endian) goes over these 4 bytes of `send`
  // at each check (the SSLv3 ClientHello's gmt_unix_time).
  std::optional<size_t> unix_time_at;
  ExpectRule expect;
};

// What a backend's active checks do, typed: a TCP connect, an HTTP request whose answer must
// pass the expect rules (none: a 2xx or 3xx status), or the tcp-check steps. Shared by every
// server of the backend and immutable.
struct CheckSpec {
  // kAgent: an agent-check (server `agent-check`): connect, send `agent_send`, read one line.
  enum class Kind { kTcp, kHttp, kTcpCheck, kAgent };
  Kind kind = Kind::kTcp;
  std::string http_request;  // the whole request, built once
  std::vector<ExpectRule> http_expect;
  // `http-check disable-on-404`: a 404 passes conditionally (L7OKC: the server goes NOLB).
  bool http_disable_on_404 = false;
  // `http-check connect`: where the HTTP check connects, if not to the server's check address.
  std::optional<uint16_t> http_port;
  std::optional<boost::asio::ip::address> http_address;
  bool http_send_proxy = false;
  std::string agent_send;  // kAgent
  std::vector<TcpCheckStep> tcp_check;
  bool log_health_checks = false;  // `option log-health-checks`
};

// Builds the spec of a validated HealthCheck. On a problem the validator should have caught
// (an invalid regex), returns null and sets *error and *path (relative to the HealthCheck).
std::shared_ptr<const CheckSpec> makeCheckSpec(const lb::v1::HealthCheck& check,
                                               std::string* error = nullptr,
                                               std::string* path = nullptr);

// The spec of an agent-check that sends `send` (may be empty).
std::shared_ptr<const CheckSpec> makeAgentSpec(const std::string& send);

// Parses an HTTP status list such as "200", "200-299,302"; nullopt when it is not one.
std::optional<std::vector<std::pair<unsigned, unsigned>>> parseStatusList(std::string_view list);

}  // namespace lb::runtime
