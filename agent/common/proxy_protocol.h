#pragma once
// The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 (text) and 2 (binary): a
// header a proxy sends first on a connection to say whose connection it relays, so that the
// next tier logs and balances on the real client's address.

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lb::common {

enum class ProxyVersion : uint8_t { kNone, kV1, kV2 };

// The header for a connection from `source` to `destination` (what the client connected to).
// Both must be of one family; v1 says "PROXY UNKNOWN" otherwise, v2 LOCAL.
std::string proxyHeader(ProxyVersion version, const boost::asio::ip::tcp::endpoint& source,
                        const boost::asio::ip::tcp::endpoint& destination);

// A header that carries no addresses: v1 "PROXY UNKNOWN", v2 LOCAL. Health checks send it, so
// that a tier that accepts the PROXY protocol takes their connection for what it is.
std::string proxyHeaderLocal(ProxyVersion version);

// What a parse found.
struct ProxyHeader {
  ProxyVersion version = ProxyVersion::kNone;
  size_t length = 0;  // bytes the header takes, to be consumed from the connection
  // The client's connection as the previous tier saw it; unset for v1 UNKNOWN, v2 LOCAL and v2
  // families other than TCP over IPv4/IPv6: then the connection's own addresses stand.
  std::optional<boost::asio::ip::tcp::endpoint> source;
  std::optional<boost::asio::ip::tcp::endpoint> destination;
};

struct ProxyParse {
  enum class Status { kNeedMore, kDone, kInvalid };
  Status status = Status::kNeedMore;
  ProxyHeader header;  // kDone
  std::string error;   // kInvalid: what was wrong
};

// The most a header may take: v1's 107 bytes, or v2's 16 plus addresses and TLVs, bounded here.
constexpr size_t kMaxProxyHeader = 4096;

// Parses the start of a connection's bytes (v1 or v2, told apart by the first bytes). Strict:
// anything that is not a well-formed header is kInvalid, never skipped. kNeedMore while the
// bytes seen could still become a valid header.
ProxyParse parseProxyHeader(std::string_view data);

}  // namespace lb::common
