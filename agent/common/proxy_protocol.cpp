#include "agent/common/proxy_protocol.h"

#include <array>
#include <cstring>
#include <vector>

namespace lb::common {

namespace {

using boost::asio::ip::address;
using boost::asio::ip::address_v4;
using boost::asio::ip::address_v6;
using boost::asio::ip::tcp;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kV1Max = 107;  // "PROXY TCP6 " + two full IPv6 addresses and ports + CRLF
constexpr std::array<unsigned char, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr size_t kV2Fixed = 16;

ProxyParse invalid(std::string error) {
  ProxyParse out;
  out.status = ProxyParse::Status::kInvalid;
  out.error = std::move(error);
  return out;
}

ProxyParse done(ProxyHeader header) {
  ProxyParse out;
  out.status = ProxyParse::Status::kDone;
  out.header = std::move(header);
  return out;
}

// Both of one family: IPv4 stays so when both are; otherwise both as IPv6 (v4-mapped).
std::pair<address, address> oneFamily(const address& a, const address& b) {
  if (a.is_v4() && b.is_v4()) return {a, b};
  auto v6 = [](const address& x) {
    return x.is_v6() ? x : address(address_v6::v4_mapped(x.to_v4()));
  };
  return {v6(a), v6(b)};
}

// "0" to "65535", no sign, no leading zero.
std::optional<uint16_t> port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

ProxyParse parseV1(std::string_view data) {
  size_t end = std::string_view::npos;
  for (size_t i = 0; i < data.size() && i < kV1Max; ++i) {
    if (data[i] == '\r') {
      if (i + 1 == data.size()) return {};  // the '\n' may follow
      if (data[i + 1] != '\n') return invalid("v1 header: CR not followed by LF");
      end = i;
      break;
    }
    if (data[i] == '\n') return invalid("v1 header: LF without CR");
    if (static_cast<unsigned char>(data[i]) < 0x20 || static_cast<unsigned char>(data[i]) > 0x7e) {
      return invalid("v1 header: a byte that is not printable ASCII");
    }
  }
  if (end == std::string_view::npos) {
    if (data.size() >= kV1Max) return invalid("v1 header: no CRLF within 107 bytes");
    return {};
  }
  std::string_view line = data.substr(0, end);
  std::vector<std::string_view> words;
  size_t at = 0;
  while (at <= line.size()) {
    size_t space = line.find(' ', at);
    if (space == std::string_view::npos) space = line.size();
    words.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  ProxyHeader header;
  header.version = ProxyVersion::kV1;
  header.length = end + 2;
  if (words.size() >= 2 && words[1] == "UNKNOWN") return done(header);  // the rest is ignored
  if (words.size() != 6) return invalid("v1 header: expected PROXY TCP4|TCP6 SRC DST SPORT DPORT");
  for (auto w : words) {
    if (w.empty()) return invalid("v1 header: two spaces in a row");
  }
  const bool v6 = words[1] == "TCP6";
  if (!v6 && words[1] != "TCP4") return invalid("v1 header: unknown protocol");
  boost::system::error_code ec1, ec2;
  address src = v6 ? address(boost::asio::ip::make_address_v6(std::string(words[2]), ec1))
                   : address(boost::asio::ip::make_address_v4(std::string(words[2]), ec1));
  address dst = v6 ? address(boost::asio::ip::make_address_v6(std::string(words[3]), ec2))
                   : address(boost::asio::ip::make_address_v4(std::string(words[3]), ec2));
  if (ec1 || ec2) return invalid("v1 header: an address that is not " + std::string(words[1]));
  auto sport = port(words[4]);
  auto dport = port(words[5]);
  if (!sport || !dport) return invalid("v1 header: a port that is not 0 to 65535");
  header.source = tcp::endpoint(src, *sport);
  header.destination = tcp::endpoint(dst, *dport);
  return done(header);
}

uint16_t be16(const unsigned char* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

ProxyParse parseV2(std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  if (data.size() < kV2Fixed) return {};
  if ((p[12] >> 4) != 2) return invalid("v2 header: version is not 2");
  const unsigned command = p[12] & 0x0f;
  if (command > 1) return invalid("v2 header: unknown command");
  const unsigned family = p[13] >> 4;
  const unsigned transport = p[13] & 0x0f;
  if (family > 3 || transport > 2) return invalid("v2 header: unknown address family");
  const size_t length = kV2Fixed + be16(p + 14);
  if (length > kMaxProxyHeader) return invalid("v2 header: longer than 4096 bytes");
  if (data.size() < length) return {};
  ProxyHeader header;
  header.version = ProxyVersion::kV2;
  header.length = length;
  if (command == 0) return done(header);  // LOCAL: the connection is the sender's own
  const unsigned char* a = p + kV2Fixed;
  const size_t room = length - kV2Fixed;
  if (family == 1) {
    if (room < 12) return invalid("v2 header: too short for IPv4 addresses");
    if (transport != 1) return done(header);  // not TCP: the addresses are not ours to use
    address_v4::bytes_type src, dst;
    std::memcpy(src.data(), a, 4);
    std::memcpy(dst.data(), a + 4, 4);
    header.source = tcp::endpoint(address_v4(src), be16(a + 8));
    header.destination = tcp::endpoint(address_v4(dst), be16(a + 10));
  } else if (family == 2) {
    if (room < 36) return invalid("v2 header: too short for IPv6 addresses");
    if (transport != 1) return done(header);
    address_v6::bytes_type src, dst;
    std::memcpy(src.data(), a, 16);
    std::memcpy(dst.data(), a + 16, 16);
    header.source = tcp::endpoint(address_v6(src), be16(a + 32));
    header.destination = tcp::endpoint(address_v6(dst), be16(a + 34));
  } else if (family == 3 && room < 216) {
    return invalid("v2 header: too short for UNIX addresses");
  }
  return done(header);  // UNSPEC, UNIX: the connection's own addresses stand
}

}  // namespace

std::string proxyHeader(ProxyVersion version, const tcp::endpoint& source,
                        const tcp::endpoint& destination) {
  auto [src, dst] = oneFamily(source.address(), destination.address());
  if (version == ProxyVersion::kV1) {
    return std::string("PROXY ") + (src.is_v4() ? "TCP4 " : "TCP6 ") + src.to_string() + " " +
           dst.to_string() + " " + std::to_string(source.port()) + " " +
           std::to_string(destination.port()) + "\r\n";
  }
  if (version != ProxyVersion::kV2) return "";
  std::string out(kV2Signature.begin(), kV2Signature.end());
  out.push_back(static_cast<char>(0x21));  // version 2, PROXY
  auto put16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
  };
  if (src.is_v4()) {
    out.push_back(static_cast<char>(0x11));  // INET, STREAM
    put16(12);
    for (auto b : src.to_v4().to_bytes()) out.push_back(static_cast<char>(b));
    for (auto b : dst.to_v4().to_bytes()) out.push_back(static_cast<char>(b));
  } else {
    out.push_back(static_cast<char>(0x21));  // INET6, STREAM
    put16(36);
    for (auto b : src.to_v6().to_bytes()) out.push_back(static_cast<char>(b));
    for (auto b : dst.to_v6().to_bytes()) out.push_back(static_cast<char>(b));
  }
  put16(source.port());
  put16(destination.port());
  return out;
}

std::string proxyHeaderLocal(ProxyVersion version) {
  if (version == ProxyVersion::kV1) return "PROXY UNKNOWN\r\n";
  if (version != ProxyVersion::kV2) return "";
  std::string out(kV2Signature.begin(), kV2Signature.end());
  out += std::string("\x20\x00\x00\x00", 4);  // version 2, LOCAL; UNSPEC; no address
  return out;
}

ProxyParse parseProxyHeader(std::string_view data) {
  if (data.empty()) return {};
  if (static_cast<unsigned char>(data[0]) == kV2Signature[0]) {
    size_t n = std::min(data.size(), kV2Signature.size());
    if (std::memcmp(data.data(), kV2Signature.data(), n) != 0) {
      return invalid("not a PROXY protocol header");
    }
    return parseV2(data);
  }
  size_t n = std::min(data.size(), kV1Prefix.size());
  if (data.substr(0, n) != kV1Prefix.substr(0, n)) return invalid("not a PROXY protocol header");
  return parseV1(data);
}

}  // namespace lb::common
