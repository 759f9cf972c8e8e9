#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/common/host_port.h"

namespace lb::config {

// An address as written on a `bind` or `server` line, split into host and port.
struct HostPort {
  // IP literal (without brackets) or host name. "0.0.0.0" for `*` / empty, "::" for `ipv6@:80`.
  std::string host;
  std::optional<uint32_t> port;
};

// Parses HAProxy address forms: "1.2.3.4:80", "[::1]:80", "::1:80" (the last colon starts the
// port), "host:80", "*:80", ":80", "ipv4@...", "ipv6@...", and a bare host when `port_required`
// is false. Sets *error to a sentence on failure.
std::optional<HostPort> parseHostPort(std::string_view text, bool port_required,
                                      std::string* error);

// Formatting and the literal tests live in lb_common (the data plane uses them too).
using common::formatHostPort;
using common::isIpLiteral;
using common::isIpv6Literal;

}  // namespace lb::config
