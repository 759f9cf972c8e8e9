#include "agent/common/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstring>

namespace lb::common {

std::optional<boost::asio::ip::address> SystemResolver::resolve(const std::string& host,
                                                                std::string* error) {
  boost::system::error_code ec;
  auto literal = boost::asio::ip::make_address(host, ec);
  if (!ec) return literal;
  int last = 0;
  for (int family : {AF_INET, AF_INET6}) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    last = getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (last != 0 || result == nullptr) continue;
    boost::asio::ip::tcp::endpoint endpoint;
    std::memcpy(endpoint.data(), result->ai_addr, result->ai_addrlen);
    freeaddrinfo(result);
    return endpoint.address();
  }
  *error = last != 0 ? gai_strerror(last) : "no address";
  return std::nullopt;
}

std::optional<boost::asio::ip::address> CachingResolver::resolve(const std::string& host,
                                                                 std::string* error) {
  auto it = answers_.find(host);
  if (it == answers_.end()) {
    Answer answer;
    answer.address = upstream_.resolve(host, &answer.error);
    it = answers_.emplace(host, std::move(answer)).first;
  }
  if (!it->second.address) *error = it->second.error;
  return it->second.address;
}

}  // namespace lb::common
