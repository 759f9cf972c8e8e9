#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lb::health {

// HAProxy's health-check status codes (the `%[check_status]` names of its stats page).
enum class CheckStatus : uint8_t {
  kL4Ok,     // L4OK: connection accepted (TCP check passed)
  kL4Tout,   // L4TOUT: connection timed out
  kL4Con,    // L4CON: connection refused or other layer-4 error
  kL6Ok,     // L6OK
  kL6Tout,   // L6TOUT
  kL6Rsp,    // L6RSP
  kL7Ok,     // L7OK: the application answered as expected
  kL7Okc,    // L7OKC: conditionally passed
  kL7Tout,   // L7TOUT: no complete answer in time
  kL7Rsp,    // L7RSP: invalid or unexpected answer
  kL7Sts,    // L7STS: wrong HTTP status
  kHana,     // HANA: passive checks found too many errors on live traffic
  kSockErr,  // SOCKERR: the check could not even create its socket
};

// "L4CON"
const char* statusName(CheckStatus status);
// HAProxy's reason text: "Layer4 connection problem", "Layer7 wrong status", ...
const char* statusDescription(CheckStatus status);

// The outcome of one check (active probe) or of a passive-check action.
struct CheckResult {
  CheckStatus status = CheckStatus::kL4Ok;
  bool passed = false;
  std::string info;  // details: "Connection refused", "HTTP status check returned code <503>"
  std::chrono::milliseconds duration{0};
  // The check could not run for a reason of this host, not of the server (out of descriptors,
  // buffers or source ports): it says nothing about the server and does not count.
  bool local = false;
  // Agent checks: the agent's line (without its CR/LF), when a whole line came.
  std::string reply{};
};

}  // namespace lb::health
