// The PROXY protocol codec: what lb sends, what it accepts, and that it refuses anything else.
#include "agent/common/proxy_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lb::common {
namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::tcp;
using Status = ProxyParse::Status;

tcp::endpoint at(const std::string& address, uint16_t port) {
  return {make_address(address), port};
}

TEST(ProxyProtocolTest, VersionOneIsTheSpecsText) {
  EXPECT_EQ(proxyHeader(ProxyVersion::kV1, at("192.0.2.10", 56324), at("198.51.100.1", 443)),
            "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");
  EXPECT_EQ(proxyHeader(ProxyVersion::kV1, at("2001:db8::1", 1), at("::1", 80)),
            "PROXY TCP6 2001:db8::1 ::1 1 80\r\n");
  // Mixed families: both as IPv6.
  EXPECT_EQ(proxyHeader(ProxyVersion::kV1, at("192.0.2.10", 1), at("::1", 2)),
            "PROXY TCP6 ::ffff:192.0.2.10 ::1 1 2\r\n");
  EXPECT_EQ(proxyHeaderLocal(ProxyVersion::kV1), "PROXY UNKNOWN\r\n");
}

TEST(ProxyProtocolTest, VersionTwoIsTheSpecsBinary) {
  std::string h = proxyHeader(ProxyVersion::kV2, at("192.0.2.10", 0x1234), at("198.51.100.1", 443));
  ASSERT_EQ(h.size(), 28u);
  EXPECT_EQ(h.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
  EXPECT_EQ(static_cast<unsigned char>(h[12]), 0x21);  // v2, PROXY
  EXPECT_EQ(static_cast<unsigned char>(h[13]), 0x11);  // INET, STREAM
  EXPECT_EQ(h.substr(14, 2), std::string("\0\x0c", 2));
  EXPECT_EQ(h.substr(16, 4), std::string("\xc0\x00\x02\x0a", 4));
  EXPECT_EQ(h.substr(24, 4), "\x12\x34\x01\xbb");
  EXPECT_EQ(proxyHeader(ProxyVersion::kV2, at("::1", 1), at("::2", 2)).size(), 52u);
  EXPECT_EQ(proxyHeaderLocal(ProxyVersion::kV2), std::string("\r\n\r\n\0\r\nQUIT\n\x20\0\0\0", 16));
}

TEST(ProxyProtocolTest, WhatItSendsItReadsBackWithTheBytesThatFollowLeftAlone) {
  for (auto version : {ProxyVersion::kV1, ProxyVersion::kV2}) {
    for (const auto& [src, dst] : std::vector<std::pair<tcp::endpoint, tcp::endpoint>>{
             {at("192.0.2.10", 56324), at("198.51.100.1", 443)},
             {at("2001:db8::1", 65535), at("2001:db8::2", 0)}}) {
      std::string header = proxyHeader(version, src, dst);
      auto parsed = parseProxyHeader(header + "GET / HTTP/1.0\r\n");
      ASSERT_EQ(parsed.status, Status::kDone) << parsed.error;
      EXPECT_EQ(parsed.header.version, version);
      EXPECT_EQ(parsed.header.length, header.size());
      EXPECT_EQ(parsed.header.source, src);
      EXPECT_EQ(parsed.header.destination, dst);
      // Every strict prefix asks for more.
      for (size_t n = 0; n < header.size(); ++n) {
        EXPECT_EQ(parseProxyHeader(header.substr(0, n)).status, Status::kNeedMore) << n;
      }
    }
    auto local = parseProxyHeader(proxyHeaderLocal(version));
    ASSERT_EQ(local.status, Status::kDone);
    EXPECT_FALSE(local.header.source);
  }
}

TEST(ProxyProtocolTest, TlvsAreSkippedAndOtherFamiliesKeepTheConnectionsAddresses) {
  std::string h = proxyHeader(ProxyVersion::kV2, at("192.0.2.10", 1), at("192.0.2.11", 2));
  h[15] = 12 + 7;  // 7 bytes of TLVs follow the addresses
  h += std::string(
      "\x04\x00\x04"
      "abcd",
      7);
  auto parsed = parseProxyHeader(h + "data");
  ASSERT_EQ(parsed.status, Status::kDone) << parsed.error;
  EXPECT_EQ(parsed.header.length, 35u);
  EXPECT_EQ(parsed.header.source, at("192.0.2.10", 1));
  std::string udp = proxyHeader(ProxyVersion::kV2, at("192.0.2.10", 1), at("192.0.2.11", 2));
  udp[13] = 0x12;  // INET, DGRAM
  parsed = parseProxyHeader(udp);
  ASSERT_EQ(parsed.status, Status::kDone);
  EXPECT_FALSE(parsed.header.source);
  parsed = parseProxyHeader("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n");
  ASSERT_EQ(parsed.status, Status::kDone);
  EXPECT_FALSE(parsed.header.source);
}

TEST(ProxyProtocolTest, AnythingElseIsRefusedNotSkipped) {
  for (const std::string& bad : std::vector<std::string>{
           "GET / HTTP/1.1\r\n",
           "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n",                 // LF alone
           "PROXY TCP4 192.0.2.1  192.0.2.2 1 2\r\n",              // two spaces
           "PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n",                 // a port missing
           "PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n",              // a leading zero
           "PROXY TCP4 192.0.2.1 192.0.2.2 1 65536\r\n",           // out of range
           "PROXY TCP4 ::1 192.0.2.2 1 2\r\n",                     // not IPv4
           "PROXY TCP6 192.0.2.1 ::2 1 2\r\n",                     // not IPv6
           "PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\n",               // not TCP
           "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\rX",                // CR without LF
           "PROXY TCP4 192.0.2.1 192.0.2.2 1 2 3\r\n",             // a word too many
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x01\r\n",               // not printable
           std::string("PROXY ") + std::string(120, 'A'),          // no CRLF within 107 bytes
           std::string("\r\n\r\n\0\r\nQUIX\n\x21\x11\0\x0c", 16),  // signature
           std::string("\r\n\r\n\0\r\nQUIT\n\x31\x11\0\x0c", 16),  // version 3
           std::string("\r\n\r\n\0\r\nQUIT\n\x22\x11\0\x0c", 16),  // command 2
           std::string("\r\n\r\n\0\r\nQUIT\n\x21\x41\0\x0c", 16),  // family 4
           std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x04", 16) + "abcd",  // short for IPv4
           std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x10\x00", 16),         // 4096 + 16
       }) {
    auto parsed = parseProxyHeader(bad);
    EXPECT_EQ(parsed.status, Status::kInvalid) << ::testing::PrintToString(bad);
    EXPECT_FALSE(parsed.error.empty());
  }
}

}  // namespace
}  // namespace lb::common
