#pragma once
// The first TLS record of a connection, read without terminating TLS: what layer-4 routing
// needs from a ClientHello (HAProxy's req.ssl_sni, req.ssl_alpn, req_ssl_hello_type,
// req.ssl_ver). Only bytes are inspected; nothing is decrypted or answered.

#include <cstdint>
#include <string_view>
#include <vector>

namespace lb::common {

struct ClientHello {
  enum class Status : uint8_t {
    kNeedMore,  // a TLS handshake record so far, but not all of it is here yet
    kNotTls,    // not a TLS handshake record (or malformed): no TLS facts to fetch
    kOk,
  };
  Status status = Status::kNeedMore;
  // The record header's protocol version, major * 65536 + minor (SSLv3: 0x30000, TLS 1.0:
  // 0x30001 ...); set once the 5-byte record header is here.
  uint32_t record_version = 0;
  // The handshake message type (1 for a ClientHello), once its first byte is here; 0 otherwise.
  uint8_t handshake_type = 0;
  // With kOk and a ClientHello: the server_name extension's host name (empty without one) and
  // the ALPN protocol names, as views into the parsed bytes.
  std::string_view sni;
  std::vector<std::string_view> alpn;
};

// Parses the first record of `bytes` (what the client has sent so far). A ClientHello split
// over several records is reported as kNotTls for the SNI and ALPN, as in HAProxy.
ClientHello parseClientHello(std::string_view bytes);

}  // namespace lb::common
