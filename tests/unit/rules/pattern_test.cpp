// Every match method on the samples fetches produce: strings (str, beg, end, sub, reg, dom,
// len, bin, with and without -i), integers and ranges, addresses and networks (CIDR, dotted
// masks, IPv4 clients seen as v4-mapped IPv6), found and bool; and the patterns each refuses.
#include "agent/rules/pattern.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/rules/rules_test_util.h"

namespace lb::rules {
namespace {

using ::testing::HasSubstr;

Sample str(std::string_view s) {
  return Sample::text(s);
}
Sample num(int64_t n) {
  return Sample::number(n);
}
Sample ip(const std::string& a) {
  return Sample::address(boost::asio::ip::make_address(a));
}

struct MatchCase {
  std::string method;
  bool ignore_case;
  std::vector<std::string> patterns;
  Sample sample;
  bool matches;
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << "-m " << c.method << (c.ignore_case ? " -i" : "") << " "
      << ::testing::PrintToString(c.patterns) << " on '" << c.sample.toString() << "'";
}

class MatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, Matches) {
  const auto& c = GetParam();
  auto method = matchMethodByName(c.method);
  ASSERT_TRUE(method.has_value());
  std::string error;
  auto matcher = Matcher::compile(*method, c.ignore_case, c.patterns, error);
  ASSERT_TRUE(matcher.has_value()) << error;
  EXPECT_EQ(matcher->match(c.sample), c.matches);
}

INSTANTIATE_TEST_SUITE_P(
    Strings, MatchTest,
    ::testing::Values(
        MatchCase{"str", false, {"abc"}, str("abc"), true},
        MatchCase{"str", false, {"abc"}, str("ABC"), false},
        MatchCase{"str", true, {"abc"}, str("AbC"), true},
        MatchCase{"str", false, {"x", "abc"}, str("abc"), true},  // any pattern
        MatchCase{"str", false, {"abc"}, str("abcd"), false},
        MatchCase{"str", false, {""}, str(""), true},
        MatchCase{"str", false, {"80"}, num(80), true},  // an integer as its decimal text
        MatchCase{"beg", false, {"www."}, str("www.example.com"), true},
        MatchCase{"beg", false, {"www."}, str("WWW.example.com"), false},
        MatchCase{"beg", true, {"www."}, str("WWW.example.com"), true},
        MatchCase{"beg", false, {"www.example.com.au"}, str("www.example.com"), false},
        MatchCase{"end", false, {".example.com"}, str("a.example.com"), true},
        MatchCase{"end", false, {".example.com"}, str("example.com"), false},
        MatchCase{"end", true, {".EXAMPLE.com"}, str("a.example.COM"), true},
        MatchCase{"sub", false, {"ample"}, str("www.example.com"), true},
        MatchCase{"sub", false, {"AMPLE"}, str("www.example.com"), false},
        MatchCase{"sub", true, {"AMPLE"}, str("www.example.com"), true},
        MatchCase{"sub", false, {"longer than it"}, str("short"), false},
        MatchCase{"reg", false, {"^a[0-9]+\\.example\\.com$"}, str("a42.example.com"), true},
        MatchCase{"reg", false, {"^a[0-9]+\\.example\\.com$"}, str("A42.example.com"), false},
        MatchCase{"reg", true, {"^a[0-9]+\\.example\\.com$"}, str("A42.EXAMPLE.com"), true},
        MatchCase{"reg", false, {"mple"}, str("example"), true},  // unanchored: a search
        MatchCase{"reg", false, {"^$"}, str(""), true},
        MatchCase{"dom", false, {"example.com"}, str("www.example.com"), true},
        MatchCase{"dom", false, {"example.com"}, str("example.com"), true},
        MatchCase{"dom", false, {"example.com"}, str("example.com.au"), true},
        MatchCase{"dom", false, {"example.com"}, str("badexample.com"), false},
        MatchCase{"dom", false, {"example.com"}, str("example.community"), false},
        MatchCase{"dom", false, {"example"}, str("host/example/path"), true},
        MatchCase{"dom", true, {"EXAMPLE.com"}, str("www.Example.COM"), true},
        MatchCase{"len", false, {"3"}, str("abc"), true},
        MatchCase{"len", false, {"4:"}, str("abc"), false},
        MatchCase{"len", false, {"ge 4"}, str("abcd"), true},
        MatchCase{"len", false, {"0"}, str(""), true},
        MatchCase{"bin", false, {"160301"}, str(std::string_view("\x16\x03\x01", 3)), true},
        MatchCase{"bin", false, {"16030A"}, str(std::string_view("\x16\x03\x0a", 3)), true},
        MatchCase{"bin", false, {"1603"}, str(std::string_view("\x16\x03\x01", 3)), false},
        MatchCase{"bin", true, {"4142"}, str("ab"), false}));  // bytes never fold

INSTANTIATE_TEST_SUITE_P(
    Integers, MatchTest,
    ::testing::Values(MatchCase{"int", false, {"80"}, num(80), true},
                      MatchCase{"int", false, {"80"}, num(81), false},
                      MatchCase{"int", false, {"443", "80"}, num(80), true},
                      MatchCase{"int", false, {"1024:65535"}, num(1024), true},
                      MatchCase{"int", false, {"1024:65535"}, num(65535), true},
                      MatchCase{"int", false, {"1024:65535"}, num(1023), false},
                      MatchCase{"int", false, {"1024:"}, num(1'000'000), true},
                      MatchCase{"int", false, {":1023"}, num(-5), true},
                      MatchCase{"int", false, {":1023"}, num(1024), false},
                      MatchCase{"int", false, {"-10:-1"}, num(-3), true},
                      MatchCase{"int", false, {"eq 5"}, num(5), true},
                      MatchCase{"int", false, {"eq 5"}, num(6), false},
                      MatchCase{"int", false, {"ge 10"}, num(10), true},
                      MatchCase{"int", false, {"ge 10"}, num(9), false},
                      MatchCase{"int", false, {"gt 10"}, num(10), false},
                      MatchCase{"int", false, {"gt 10"}, num(11), true},
                      MatchCase{"int", false, {"le 10"}, num(10), true},
                      MatchCase{"int", false, {"le 10"}, num(11), false},
                      MatchCase{"int", false, {"lt 10"}, num(9), true},
                      MatchCase{"int", false, {"lt 10"}, num(10), false},
                      MatchCase{"int", false, {"ge 9223372036854775807"}, num(INT64_MAX), true},
                      MatchCase{"int", false, {"le -9223372036854775808"}, num(INT64_MIN), true},
                      MatchCase{
                          "int", false, {"42"}, str("42"), true},  // a string holding a number
                      MatchCase{"int", false, {"42"}, str("42x"), false},
                      MatchCase{"int", false, {"1"}, Sample::boolean(true), true},
                      MatchCase{"int", false, {"0:"}, ip("10.0.0.1"), false}));

INSTANTIATE_TEST_SUITE_P(
    Addresses, MatchTest,
    ::testing::Values(
        MatchCase{"ip", false, {"10.0.0.0/8"}, ip("10.1.2.3"), true},
        MatchCase{"ip", false, {"10.0.0.0/8"}, ip("11.1.2.3"), false},
        MatchCase{"ip", false, {"192.168.1.5"}, ip("192.168.1.5"), true},
        MatchCase{"ip", false, {"192.168.1.5"}, ip("192.168.1.6"), false},
        MatchCase{"ip", false, {"192.168.1.0/24"}, ip("192.168.1.255"), true},
        MatchCase{"ip", false, {"192.168.1.0/25"}, ip("192.168.1.128"), false},
        MatchCase{"ip", false, {"172.16.0.0/12"}, ip("172.31.255.255"), true},
        MatchCase{"ip", false, {"172.16.0.0/12"}, ip("172.32.0.0"), false},
        MatchCase{"ip", false, {"0.0.0.0/0"}, ip("203.0.113.9"), true},
        // Dotted masks, as older configurations write networks.
        MatchCase{"ip", false, {"192.168.1.0/255.255.255.0"}, ip("192.168.1.77"), true},
        MatchCase{"ip", false, {"192.168.1.0/255.255.255.0"}, ip("192.168.2.77"), false},
        MatchCase{"ip", false, {"10.0.0.0/255.0.0.0"}, ip("10.200.0.1"), true},
        // An IPv4 client on a dual-stack listener arrives v4-mapped.
        MatchCase{"ip", false, {"10.0.0.0/8"}, ip("::ffff:10.1.2.3"), true},
        MatchCase{"ip", false, {"10.0.0.0/8"}, ip("::ffff:11.1.2.3"), false},
        MatchCase{"ip", false, {"::ffff:10.0.0.0/104"}, ip("10.9.9.9"), true},
        MatchCase{"ip", false, {"10.0.0.0/8"}, ip("::a01:203"), false},  // v4-compatible: no
        MatchCase{"ip", false, {"::1"}, ip("::1"), true},
        MatchCase{"ip", false, {"::1"}, ip("127.0.0.1"), false},
        MatchCase{"ip", false, {"2001:db8::/32"}, ip("2001:db8:1::5"), true},
        MatchCase{"ip", false, {"2001:db8::/32"}, ip("2001:db9::5"), false},
        MatchCase{"ip", false, {"2001:db8::/33"}, ip("2001:db8:8000::1"), false},
        MatchCase{"ip", false, {"127.0.0.1/8", "::1"}, ip("127.3.4.5"), true},
        MatchCase{"ip", false, {"10.0.0.0/8"}, str("10.4.4.4"), true},  // text of an address
        MatchCase{"ip", false, {"10.0.0.0/8"}, str("not an address"), false},
        MatchCase{"ip", false, {"10.0.0.0/8"}, num(167772161), false}));

INSTANTIATE_TEST_SUITE_P(
    FoundAndBool, MatchTest,
    ::testing::Values(
        MatchCase{"found", false, {}, str(""), true}, MatchCase{"found", false, {}, num(0), true},
        MatchCase{"found", false, {}, Sample::none(), false},
        MatchCase{"found", false, {}, Sample::none(true), false},
        MatchCase{"bool", false, {}, Sample::boolean(true), true},
        MatchCase{"bool", false, {}, Sample::boolean(false), false},
        MatchCase{"bool", false, {}, num(3), true}, MatchCase{"bool", false, {}, num(0), false},
        MatchCase{"bool", false, {}, str("x"), true}, MatchCase{"bool", false, {}, str(""), false},
        MatchCase{"bool", false, {}, Sample::none(), false}));

TEST(MatchTest, NothingFetchedMatchesNoMethod) {
  for (const char* method : {"str", "beg", "end", "sub", "reg", "dom", "bin", "len", "int", "ip"}) {
    SCOPED_TRACE(method);
    std::string error;
    std::vector<std::string> patterns{std::string(method) == "ip" ? "0.0.0.0/0" : "00"};
    if (std::string(method) == "int" || std::string(method) == "len") patterns = {"0:"};
    auto matcher = Matcher::compile(*matchMethodByName(method), false, patterns, error);
    ASSERT_TRUE(matcher) << error;
    EXPECT_FALSE(matcher->match(Sample::none()));
  }
}

TEST(MatchTest, AnyOfSeveralValuesMatches) {
  // req.ssl_alpn: the first protocol in `str`, the others in `more`.
  Sample alpn = Sample::text("h2");
  alpn.more = {"http/1.1"};
  std::string error;
  auto matcher = Matcher::compile(MatchMethod::kStr, false, {"http/1.1"}, error);
  ASSERT_TRUE(matcher);
  EXPECT_TRUE(matcher->match(alpn));
  auto other = Matcher::compile(MatchMethod::kStr, false, {"spdy/3"}, error);
  EXPECT_FALSE(other->match(alpn));
}

struct BadPattern {
  std::string method;
  std::string pattern;
  std::string says;
};

TEST(MatchTest, BadPatternsAreRefusedWithTheReason) {
  const std::vector<BadPattern> cases{
      {"int", "abc", "'abc' is not an integer or a range"},
      {"int", "10:5", "'10:5' is not an integer or a range"},
      {"int", ":", "is not an integer or a range"},
      {"int", "ge", "'ge' is not an integer"},
      {"int", "ge x", "'ge x' is not an integer"},
      {"int", "1.5", "is not an integer"},
      {"int", "gt 9223372036854775807", "'gt 9223372036854775807' matches no integer"},
      {"int", "lt -9223372036854775808", "matches no integer"},
      {"len", "-", "is not an integer"},
      {"ip", "example.com", "host names are not resolved in patterns"},
      {"ip", "10.0.0.0/33", "'10.0.0.0/33' has a bad network mask"},
      {"ip", "10.0.0.0/", "has a bad network mask"},
      {"ip", "10.0.0.0/-1", "has a bad network mask"},
      {"ip", "10.0.0.0/255.0.255.0", "has a bad network mask"},  // not contiguous
      {"ip", "::1/129", "has a bad network mask"},
      {"ip", "::1/ffff::", "has a bad network mask"},  // no dotted masks for IPv6
      {"reg", "(unclosed", "bad regular expression '(unclosed'"},
      {"reg", "a(?=b)", "bad regular expression"},  // lookahead: not in RE2
      {"bin", "123", "not an even number of hexadecimal digits"},
      {"bin", "zz", "not an even number of hexadecimal digits"},
      {"found", "x", "'-m found' takes no pattern, found 'x'"},
      {"bool", "1", "'-m bool' takes no pattern"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.pattern);
    std::string error;
    auto matcher = Matcher::compile(*matchMethodByName(c.method), false, {c.pattern}, error);
    EXPECT_FALSE(matcher.has_value());
    EXPECT_THAT(error, HasSubstr(c.says));
  }
}

TEST(MatchTest, MethodNames) {
  for (const char* name :
       {"bool", "found", "int", "ip", "str", "beg", "end", "sub", "reg", "len", "dom", "bin"}) {
    EXPECT_TRUE(matchMethodByName(name).has_value()) << name;
  }
  EXPECT_FALSE(matchMethodByName("regex").has_value());
  EXPECT_FALSE(matchMethodByName("").has_value());
}

struct IntPatternCase {
  std::string text;
  bool versions;
  int64_t low;
  int64_t high;
};

TEST(MatchTest, IntegerPatternsAndVersions) {
  constexpr int64_t kMin = INT64_MIN;
  constexpr int64_t kMax = INT64_MAX;
  const std::vector<IntPatternCase> cases{
      {"7", false, 7, 7},
      {"-7", false, -7, -7},
      {"1:2", false, 1, 2},
      {"5:", false, 5, kMax},
      {":5", false, kMin, 5},
      {"eq 3", false, 3, 3},
      {"ge 3", false, 3, kMax},
      {"gt 3", false, 4, kMax},
      {"le 3", false, kMin, 3},
      {"lt 3", false, kMin, 2},
      {"3.1", true, 0x30001, 0x30001},
      {"3.0:3.3", true, 0x30000, 0x30003},
      {"ge 3.3", true, 0x30003, kMax},
      {"3", true, 0x30000, 0x30000},  // a major version alone is MAJOR.0
      {"lt 3", true, kMin, 0x2ffff},
      {"3.0-3.1", true, 0x30000, 0x30001},
      {"3-3.3", true, 0x30000, 0x30003},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string error;
    auto range = parseIntPattern(c.text, c.versions, error);
    ASSERT_TRUE(range.has_value()) << error;
    EXPECT_EQ(range->first, c.low);
    EXPECT_EQ(range->second, c.high);
  }
  std::string error;
  EXPECT_FALSE(parseIntPattern("3.1", false, error));
  EXPECT_FALSE(parseIntPattern("3.256", true, error));
  EXPECT_THAT(error, HasSubstr("3.1"));  // the version form is offered
}

}  // namespace
}  // namespace lb::rules
