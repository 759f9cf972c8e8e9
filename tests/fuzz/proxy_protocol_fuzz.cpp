// libFuzzer target: the PROXY protocol parser takes the first bytes of every connection on an
// `accept-proxy` bind, from anyone who can reach it. It must never crash, never read past what
// it was given, and never claim more bytes than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/common/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = lb::common::parseProxyHeader(input);
  if (parsed.status == lb::common::ProxyParse::Status::kDone) {
    if (parsed.header.length == 0 || parsed.header.length > size) std::abort();
    // A header that parses is the same header with anything after it.
    auto again = lb::common::parseProxyHeader(input.substr(0, parsed.header.length));
    if (again.status != lb::common::ProxyParse::Status::kDone ||
        again.header.length != parsed.header.length ||
        again.header.source != parsed.header.source) {
      std::abort();
    }
  }
  if (parsed.status == lb::common::ProxyParse::Status::kInvalid && parsed.error.empty()) {
    std::abort();
  }
  return 0;
}
