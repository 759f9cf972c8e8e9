// The ClientHello reader on real hellos from openssl s_client, on every truncation of one, and
// on bytes that are not TLS: what req.ssl_sni, req.ssl_alpn, req.ssl_hello_type and req.ssl_ver
// see before and after the whole record has arrived.
#include "agent/common/client_hello.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/common/client_hello_samples.h"

namespace lb::common {
namespace {

using ::testing::ElementsAre;
using testing::fromHex;
using ::testing::IsEmpty;
using Status = ClientHello::Status;

std::vector<std::string> alpnOf(const ClientHello& hello) {
  return {hello.alpn.begin(), hello.alpn.end()};
}

struct HelloCase {
  std::string name;
  std::string bytes;
  std::string sni;
  std::vector<std::string> alpn;
};

TEST(ClientHelloTest, RealHellosFromOpensslSClient) {
  const std::vector<HelloCase> cases{
      {"sni and alpn", fromHex(testing::kHelloSniAlpnHex), "a.example.com", {"h2", "http/1.1"}},
      {"no sni", fromHex(testing::kHelloNoSniHex), "", {}},
      {"tls 1.2 only", fromHex(testing::kHelloTls12Hex), "db.internal", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto hello = parseClientHello(c.bytes);
    EXPECT_EQ(hello.status, Status::kOk);
    EXPECT_EQ(hello.handshake_type, 1);
    EXPECT_EQ(hello.record_version, 0x30001u);  // OpenSSL writes TLS 1.0 in the record header
    EXPECT_EQ(hello.sni, c.sni);
    EXPECT_EQ(alpnOf(hello), c.alpn);
    // What follows the first record (the client's next records) changes nothing.
    auto longer = parseClientHello(c.bytes + std::string("\x17\x03\x03\x00\x01x", 6));
    EXPECT_EQ(longer.status, Status::kOk);
    EXPECT_EQ(longer.sni, c.sni);
  }
}

TEST(ClientHelloTest, EveryTruncationNeedsMore) {
  const std::string whole = fromHex(testing::kHelloSniAlpnHex);
  for (size_t n = 0; n < whole.size(); ++n) {
    SCOPED_TRACE(n);
    auto hello = parseClientHello(std::string_view(whole).substr(0, n));
    ASSERT_EQ(hello.status, Status::kNeedMore);
    EXPECT_TRUE(hello.sni.empty());
    EXPECT_THAT(hello.alpn, IsEmpty());
    // The record version is known from the 5-byte header on, the handshake type from byte 6.
    EXPECT_EQ(hello.record_version, n >= 5 ? 0x30001u : 0u);
    EXPECT_EQ(hello.handshake_type, n >= 6 ? 1 : 0);
  }
}

TEST(ClientHelloTest, BytesThatAreNotATlsHandshakeAreNotTls) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"http", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"ssh banner", "SSH-2.0-OpenSSH_9.2\r\n"},
      {"one byte", "G"},
      {"application data record", std::string("\x17\x03\x03\x00\x05hello", 10)},
      {"record major version 2", std::string("\x16\x02\x00\x00\x05\x01\x00\x00\x01\x00", 10)},
      {"empty record", std::string("\x16\x03\x01\x00\x00", 5)},
      {"record longer than TLS allows", std::string("\x16\x03\x01\x48\x01\x01", 6)},
      // A handshake message longer than its record: a hello split over records, not read.
      {"hello split over records", std::string("\x16\x03\x01\x00\x04\x01\x00\x01\x00", 9)},
      // A hello too short for its fixed fields.
      {"hello without its random", std::string("\x16\x03\x01\x00\x06\x01\x00\x00\x02\x03\x03", 11)},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    EXPECT_EQ(parseClientHello(bytes).status, Status::kNotTls);
  }
}

TEST(ClientHelloTest, AnotherHandshakeMessageIsReadWithoutSni) {
  // A complete handshake record holding a ServerHello-type message (2): TLS, not a hello.
  auto hello = parseClientHello(std::string("\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9));
  EXPECT_EQ(hello.status, Status::kOk);
  EXPECT_EQ(hello.handshake_type, 2);
  EXPECT_EQ(hello.record_version, 0x30003u);
  EXPECT_TRUE(hello.sni.empty());
}

TEST(ClientHelloTest, AHelloWithoutExtensionsIsOk) {
  // client_version, random, empty session id, one cipher suite, one compression method.
  std::string body = std::string("\x03\x01", 2) + std::string(32, 'r') + std::string("\x00", 1) +
                     std::string("\x00\x02\x00\x2f", 4) + std::string("\x01\x00", 2);
  std::string handshake = std::string("\x01\x00\x00", 3) + static_cast<char>(body.size()) + body;
  std::string record =
      std::string("\x16\x03\x00\x00", 4) + static_cast<char>(handshake.size()) + handshake;
  auto hello = parseClientHello(record);
  EXPECT_EQ(hello.status, Status::kOk);
  EXPECT_EQ(hello.record_version, 0x30000u);  // SSLv3
  EXPECT_TRUE(hello.sni.empty());
  EXPECT_THAT(hello.alpn, IsEmpty());
}

TEST(ClientHelloTest, AlpnKeepsTheClientsOrder) {
  auto hello = parseClientHello(fromHex(testing::kHelloSniAlpnHex));
  EXPECT_THAT(hello.alpn, ElementsAre("h2", "http/1.1"));
}

}  // namespace
}  // namespace lb::common
