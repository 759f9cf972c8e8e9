#include "agent/common/host_port.h"

#include <arpa/inet.h>

namespace lb::common {

bool isIpv6Literal(std::string_view host) {
  in6_addr v6;
  return inet_pton(AF_INET6, std::string(host).c_str(), &v6) == 1;
}

bool isIpLiteral(std::string_view host) {
  in_addr v4;
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 || isIpv6Literal(host);
}

std::string formatHostPort(std::string_view host, uint32_t port) {
  if (isIpv6Literal(host)) return "[" + std::string(host) + "]:" + std::to_string(port);
  return std::string(host) + ":" + std::to_string(port);
}

std::string formatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint) {
  return formatHostPort(endpoint.address().to_string(), endpoint.port());
}

}  // namespace lb::common
