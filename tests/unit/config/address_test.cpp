#include "agent/config/address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lb::config {
namespace {

using ::testing::HasSubstr;

struct AddressCase {
  std::string text;
  bool port_required;
  std::string host;
  std::optional<uint32_t> port;
};

void PrintTo(const AddressCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class ParseHostPortTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ParseHostPortTest, SplitsHostAndPort) {
  const auto& c = GetParam();
  std::string error;
  auto parsed = parseHostPort(c.text, c.port_required, &error);
  ASSERT_TRUE(parsed.has_value()) << c.text << ": " << error;
  EXPECT_EQ(parsed->host, c.host);
  EXPECT_EQ(parsed->port, c.port);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseHostPortTest,
    ::testing::Values(
        // Wildcards
        AddressCase{"*:80", true, "0.0.0.0", 80u}, AddressCase{":80", true, "0.0.0.0", 80u},
        AddressCase{"0.0.0.0:80", true, "0.0.0.0", 80u}, AddressCase{"[::]:80", true, "::", 80u},
        AddressCase{"ipv6@:80", true, "::", 80u}, AddressCase{"ipv6@*:80", true, "::", 80u},
        AddressCase{"ipv4@:80", true, "0.0.0.0", 80u},
        AddressCase{"ipv4@", false, "0.0.0.0", std::nullopt},
        // Literals and names
        AddressCase{"ipv4@10.0.0.1:80", true, "10.0.0.1", 80u},
        AddressCase{"ipv6@[::1]:80", true, "::1", 80u},
        AddressCase{"127.0.0.1:8080", true, "127.0.0.1", 8080u},
        AddressCase{"::1:80", true, "::1", 80u}, AddressCase{"fe80::1:443", true, "fe80::1", 443u},
        AddressCase{"[::1]:443", true, "::1", 443u},
        AddressCase{"[2001:db8::7]:8443", true, "2001:db8::7", 8443u},
        AddressCase{"web.example.com:8080", true, "web.example.com", 8080u},
        // Ports at the edges
        AddressCase{"127.0.0.1:0", true, "127.0.0.1", 0u},
        AddressCase{"*:65535", true, "0.0.0.0", 65535u},
        // No port where none is needed (a server line without a port)
        AddressCase{"10.0.0.11", false, "10.0.0.11", std::nullopt},
        AddressCase{"[::1]", false, "::1", std::nullopt},
        AddressCase{"db.internal", false, "db.internal", std::nullopt}));

struct BadAddressCase {
  std::string name;
  std::string text;
  bool port_required;
  std::string error;
};

void PrintTo(const BadAddressCase& c, std::ostream* os) {
  *os << c.name << ": '" << c.text << "'";
}

class ParseHostPortErrorTest : public ::testing::TestWithParam<BadAddressCase> {};

TEST_P(ParseHostPortErrorTest, SaysWhatIsWrong) {
  const auto& c = GetParam();
  std::string error;
  EXPECT_FALSE(parseHostPort(c.text, c.port_required, &error).has_value());
  EXPECT_THAT(error, HasSubstr(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParseHostPortErrorTest,
    ::testing::Values(
        BadAddressCase{"MissingPort", "10.0.0.11", true, "missing port in '10.0.0.11'"},
        BadAddressCase{"MissingPortOfName", "web.example.com", true, "missing port"},
        BadAddressCase{"MissingPortAfterFamily", "ipv4@", true, "missing port"},
        BadAddressCase{"MissingPortInBrackets", "[::1]", true, "missing port"},
        BadAddressCase{"EmptyPort", "10.0.0.1:", true, "invalid port ''"},
        BadAddressCase{"PortNotANumber", "10.0.0.1:http", true, "invalid port 'http'"},
        BadAddressCase{"PortTooLarge", "10.0.0.1:65536", true, "expected a number from 0 to 65535"},
        BadAddressCase{"NegativePort", "10.0.0.1:-1", true, "port ranges"},
        BadAddressCase{"PortRange", "*:8000-8010", true, "port ranges and offsets ('8000-8010')"},
        BadAddressCase{"PortOffset", "10.0.0.1:+1", true, "port ranges and offsets"},
        BadAddressCase{"UnclosedBracket", "[::1:80", true, "missing ']'"},
        BadAddressCase{"GarbageAfterBracket", "[::1]80", true, "expected ':port' after ']'"},
        BadAddressCase{"Ipv4InBrackets", "[10.0.0.1]:80", true, "is not an IPv6 address"},
        BadAddressCase{"UnixSocket", "unix@/run/lb.sock", true, "address family 'unix@'"},
        BadAddressCase{"Ipv6UnderIpv4Family", "ipv4@[::1]:80", true, "says ipv4@"},
        BadAddressCase{"Ipv4UnderIpv6Family", "ipv6@10.0.0.1:80", true, "says ipv6@"}),
    [](const ::testing::TestParamInfo<BadAddressCase>& info) { return info.param.name; });

struct LiteralCase {
  std::string text;
  bool ip;
  bool ipv6;
};

void PrintTo(const LiteralCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class IpLiteralTest : public ::testing::TestWithParam<LiteralCase> {};

TEST_P(IpLiteralTest, RecognizesLiterals) {
  const auto& c = GetParam();
  EXPECT_EQ(isIpLiteral(c.text), c.ip) << c.text;
  EXPECT_EQ(isIpv6Literal(c.text), c.ipv6) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Literals, IpLiteralTest,
    ::testing::Values(LiteralCase{"10.0.0.1", true, false}, LiteralCase{"0.0.0.0", true, false},
                      LiteralCase{"::", true, true}, LiteralCase{"::1", true, true},
                      LiteralCase{"2001:db8::7", true, true}, LiteralCase{"[::1]", false, false},
                      LiteralCase{"10.0.0", false, false}, LiteralCase{"256.0.0.1", false, false},
                      LiteralCase{"localhost", false, false}, LiteralCase{"", false, false}));

struct FormatCase {
  std::string host;
  uint32_t port;
  std::string text;
};

void PrintTo(const FormatCase& c, std::ostream* os) {
  *os << c.host << " " << c.port;
}

class FormatHostPortTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatHostPortTest, WritesWhatParseHostPortReadsBack) {
  const auto& c = GetParam();
  EXPECT_EQ(formatHostPort(c.host, c.port), c.text);
  std::string error;
  auto parsed = parseHostPort(c.text, true, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_EQ(parsed->host, c.host);
  EXPECT_EQ(parsed->port, c.port);
}

INSTANTIATE_TEST_SUITE_P(Forms, FormatHostPortTest,
                         ::testing::Values(FormatCase{"10.0.0.1", 80, "10.0.0.1:80"},
                                           FormatCase{"::1", 443, "[::1]:443"},
                                           FormatCase{"::", 80, "[::]:80"},
                                           FormatCase{"db.internal", 5432, "db.internal:5432"},
                                           FormatCase{"0.0.0.0", 0, "0.0.0.0:0"}));

}  // namespace
}  // namespace lb::config
