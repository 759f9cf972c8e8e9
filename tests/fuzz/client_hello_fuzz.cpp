// libFuzzer target: the ClientHello reader sees the first bytes of every connection whose
// rules use req.ssl_sni, req.ssl_alpn, req.ssl_hello_type or req.ssl_ver, from anyone who can
// connect. It must never crash, never point outside what it was given, and agree with itself
// on prefixes: while the first record is incomplete, it needs more.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/common/client_hello.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using lb::common::ClientHello;
  using lb::common::parseClientHello;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ClientHello hello = parseClientHello(input);
  if (!inside(hello.sni, input)) std::abort();
  for (auto protocol : hello.alpn) {
    if (!inside(protocol, input) || protocol.empty()) std::abort();
  }
  if (hello.status != ClientHello::Status::kOk && (!hello.sni.empty() || !hello.alpn.empty())) {
    std::abort();
  }
  if (hello.status == ClientHello::Status::kNeedMore) return 0;
  if (size < 5 || hello.status == ClientHello::Status::kNotTls) {
    // Not a handshake record at all: any non-empty prefix says the same as soon as it shows.
    if (size > 0 && static_cast<uint8_t>(data[0]) != 0x16 &&
        parseClientHello(input.substr(0, 1)).status != ClientHello::Status::kNotTls) {
      std::abort();
    }
    return 0;
  }
  // A complete first record: every shorter prefix past its first byte needs more, and the
  // same bytes followed by anything else read the same.
  size_t record = 5 + ((static_cast<size_t>(data[3]) << 8) | data[4]);
  if (record > size) std::abort();
  for (size_t cut : {size_t{1}, size_t{5}, record / 2, record - 1}) {
    if (cut == 0 || cut >= record) continue;
    if (parseClientHello(input.substr(0, cut)).status != ClientHello::Status::kNeedMore) {
      std::abort();
    }
  }
  ClientHello again = parseClientHello(input.substr(0, record));
  if (again.status != hello.status || again.sni != hello.sni ||
      again.alpn.size() != hello.alpn.size() || again.record_version != hello.record_version ||
      again.handshake_type != hello.handshake_type) {
    std::abort();
  }
  return 0;
}
