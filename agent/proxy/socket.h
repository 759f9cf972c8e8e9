#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>

namespace lb::proxy {

// The local address of a socket descriptor (getsockname); an empty endpoint when it has none.
inline boost::asio::ip::tcp::endpoint localEndpoint(int fd) {
  boost::asio::ip::tcp::endpoint endpoint;
  socklen_t length = static_cast<socklen_t>(endpoint.capacity());
  if (fd < 0 || ::getsockname(fd, endpoint.data(), &length) != 0) return {};
  endpoint.resize(length);
  return endpoint;
}

}  // namespace lb::proxy
