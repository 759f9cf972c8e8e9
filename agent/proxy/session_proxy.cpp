// What a session of an `accept-proxy` bind does first: read the PROXY protocol header that says
// whose connection it is.
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "agent/common/host_port.h"
#include "agent/common/proxy_protocol.h"
#include "agent/proxy/session.h"

namespace lb::proxy {

void Session::readProxyHeader() {
  // Peeked, not read: the bytes after the header stay in the socket for the server.
  char buffer[common::kMaxProxyHeader];
  ssize_t n;
  do {
    n = ::recv(client_.fd, buffer, sizeof buffer, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    client_.readable = false;
    return;  // the next segment is a new event
  }
  common::ProxyParse parsed;
  if (n > 0) parsed = common::parseProxyHeader({buffer, static_cast<size_t>(n)});
  if (n > 0 && parsed.status == common::ProxyParse::Status::kNeedMore) {
    client_.readable = false;
    return;
  }
  if (n <= 0 || parsed.status == common::ProxyParse::Status::kInvalid) {
    // Not from the tier in front (or gone before saying whose it is): closed and counted.
    frontend_.state->bad_proxy_headers.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("frontend {}: {} from {}", frontend_.name,
                  n <= 0 ? "connection closed before its PROXY header"
                         : "bad PROXY header (" + parsed.error + ")",
                  common::formatEndpoint(client_endpoint_));
    finish('P', 'R');
    return;
  }
  ssize_t consumed;
  do {
    consumed = ::recv(client_.fd, buffer, parsed.header.length, 0);
  } while (consumed < 0 && errno == EINTR);
  if (consumed != static_cast<ssize_t>(parsed.header.length)) {
    finish('C', 'R');
    return;
  }
  if (parsed.header.source) {
    client_endpoint_ = *parsed.header.source;
    frontend_.state->setLastProxiedClient(client_endpoint_);
    proxied_destination_ =
        std::make_unique<boost::asio::ip::tcp::endpoint>(*parsed.header.destination);
  }
  client_.readable = true;  // what followed the header may be there already
  proceed();
}

}  // namespace lb::proxy
