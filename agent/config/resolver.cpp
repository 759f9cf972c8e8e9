#include "agent/config/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include "agent/config/address.h"

namespace lb::config {

bool SystemResolver::resolves(const std::string& host, std::string* error) {
  if (isIpLiteral(host)) return true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    *error = gai_strerror(rc);
    return false;
  }
  freeaddrinfo(result);
  return true;
}

}  // namespace lb::config
