#include "tests/integration/segments.h"

#include <linux/tcp.h>  // struct tcp_info with tcpi_segs_in (glibc's is older)
#include <netinet/in.h>
#include <sys/socket.h>

namespace lb::testing {

uint32_t segmentsIn(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return 0;
  return info.tcpi_segs_in;
}

}  // namespace lb::testing
