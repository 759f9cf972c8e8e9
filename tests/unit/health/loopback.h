#pragma once

// A socket on 127.0.0.1 for the servers the health tests play.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace lb::health {

// A TCP socket bound to 127.0.0.1 on a port the kernel chose (written to *port), not listening.
inline int bindLoopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t length = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace lb::health
