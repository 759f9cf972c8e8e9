#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace lb::common {

// True for an IPv4 or IPv6 literal (no brackets).
bool isIpLiteral(std::string_view host);
bool isIpv6Literal(std::string_view host);

// "1.2.3.4:80", "[::1]:80": HAProxy's spelling, which lb's address parser reads back.
std::string formatHostPort(std::string_view host, uint32_t port);
std::string formatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace lb::common
