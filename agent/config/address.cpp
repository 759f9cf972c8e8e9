#include "agent/config/address.h"

#include "agent/config/duration.h"

namespace lb::config {

std::optional<HostPort> parseHostPort(std::string_view text, bool port_required,
                                      std::string* error) {
  std::string_view family;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    family = text.substr(0, at);
    text = text.substr(at + 1);
    if (family != "ipv4" && family != "ipv6") {
      *error = "address family '" + std::string(family) + "@' is not supported; use ipv4@ or ipv6@";
      return std::nullopt;
    }
  }
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      *error = "missing ']' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *error = "expected ':port' after ']' in '" + std::string(text) + "'";
        return std::nullopt;
      }
      port_text = rest.substr(1);
      has_port = true;
    }
    if (!isIpv6Literal(out.host)) {
      *error = "'" + out.host + "' inside [] is not an IPv6 address";
      return std::nullopt;
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    has_port = true;
  } else {
    out.host = std::string(text);
  }
  if (out.host == "*") out.host.clear();
  if (out.host.empty()) out.host = family == "ipv6" ? "::" : "0.0.0.0";
  if (family == "ipv4" && isIpv6Literal(out.host)) {
    *error = "'" + out.host + "' is an IPv6 address but the address says ipv4@";
    return std::nullopt;
  }
  if (family == "ipv6" && isIpLiteral(out.host) && !isIpv6Literal(out.host)) {
    *error = "'" + out.host + "' is an IPv4 address but the address says ipv6@";
    return std::nullopt;
  }
  if (has_port) {
    if (port_text.find('-') != std::string_view::npos || port_text.find('+') == 0) {
      *error = "port ranges and offsets ('" + std::string(port_text) + "') are not supported";
      return std::nullopt;
    }
    auto port = parseUint(port_text, 65535);
    if (!port) {
      *error = "invalid port '" + std::string(port_text) + "' in '" + std::string(text) +
               "'; expected a number from 0 to 65535";
      return std::nullopt;
    }
    out.port = *port;
  } else if (port_required) {
    *error = "missing port in '" + std::string(text) + "'; write it as ADDRESS:PORT, e.g. '*:80'";
    return std::nullopt;
  }
  return out;
}

}  // namespace lb::config
