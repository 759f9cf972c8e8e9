#include "agent/config/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace lb::config {
namespace {

using std::chrono::microseconds;
using ::testing::HasSubstr;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kDay = 86400 * kSecond;

struct TimeCase {
  std::string text;
  int64_t micros;
  bool unitless;
};

void PrintTo(const TimeCase& c, std::ostream* os) {
  *os << "'" << c.text << "'";
}

class ParseTimeTest : public ::testing::TestWithParam<TimeCase> {};

TEST_P(ParseTimeTest, ReadsValueAndUnit) {
  const auto& c = GetParam();
  std::string error;
  auto parsed = parseTime(c.text, &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_EQ(parsed->value.count(), c.micros);
  EXPECT_EQ(parsed->unitless, c.unitless);
}

INSTANTIATE_TEST_SUITE_P(
    Units, ParseTimeTest,
    ::testing::Values(TimeCase{"10us", 10, false}, TimeCase{"4ms", 4000, false},
                      TimeCase{"4s", 4 * kSecond, false}, TimeCase{"2m", 120 * kSecond, false},
                      TimeCase{"1h", 3600 * kSecond, false}, TimeCase{"1d", kDay, false},
                      TimeCase{"0s", 0, false}, TimeCase{"007s", 7 * kSecond, false},
                      TimeCase{"49d", 49 * kDay, false},
                      // No unit: milliseconds, flagged.
                      TimeCase{"4", 4000, true}, TimeCase{"0", 0, true},
                      TimeCase{"50000", 50 * kSecond, true},
                      TimeCase{"4233600000", 49 * kDay, true}));

struct BadTimeCase {
  std::string name;
  std::string text;
  std::string error;
};

void PrintTo(const BadTimeCase& c, std::ostream* os) {
  *os << c.name << ": '" << c.text << "'";
}

class ParseTimeErrorTest : public ::testing::TestWithParam<BadTimeCase> {};

TEST_P(ParseTimeErrorTest, SaysWhatIsWrong) {
  const auto& c = GetParam();
  std::string error;
  EXPECT_FALSE(parseTime(c.text, &error).has_value());
  EXPECT_THAT(error, HasSubstr(c.error));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParseTimeErrorTest,
    ::testing::Values(BadTimeCase{"Empty", "", "is not a time"},
                      BadTimeCase{"UnitOnly", "s", "is not a time"},
                      BadTimeCase{"Negative", "-1s", "is not a time"},
                      BadTimeCase{"LeadingBlank", " 4s", "is not a time"},
                      BadTimeCase{"BadUnit", "4x", "unknown time unit 'x'"},
                      BadTimeCase{"LongUnitName", "4sec", "unknown time unit 'sec'"},
                      BadTimeCase{"UpperCaseUnit", "4S", "unknown time unit 'S'"},
                      BadTimeCase{"Fraction", "1.5s", "unknown time unit '.5s'"},
                      BadTimeCase{"TrailingBlank", "4s ", "unknown time unit"},
                      BadTimeCase{"OverLimitInDays", "50d", "too large"},
                      BadTimeCase{"OverLimitInHours", "1177h", "too large"},
                      BadTimeCase{"OverLimitUnitless", "4233600001", "too large"},
                      BadTimeCase{"FarOverLimitUnitless", "5000000000", "too large"},
                      BadTimeCase{"OverflowsInt64", "99999999999999999999s", "too large"},
                      BadTimeCase{"OverflowsInt64Unitless", "99999999999999999999", "too large"}),
    [](const ::testing::TestParamInfo<BadTimeCase>& info) { return info.param.name; });

struct FormatCase {
  int64_t micros;
  std::string text;
};

void PrintTo(const FormatCase& c, std::ostream* os) {
  *os << c.micros << "us";
}

class FormatTimeTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatTimeTest, WritesTheShortestExactForm) {
  const auto& c = GetParam();
  EXPECT_EQ(formatTime(microseconds(c.micros)), c.text);
}

TEST_P(FormatTimeTest, ParsesBackToTheSameValue) {
  const auto& c = GetParam();
  std::string error;
  auto parsed = parseTime(formatTime(microseconds(c.micros)), &error);
  ASSERT_TRUE(parsed.has_value()) << error;
  EXPECT_EQ(parsed->value.count(), c.micros);
}

INSTANTIATE_TEST_SUITE_P(
    Values, FormatTimeTest,
    ::testing::Values(FormatCase{0, "0"}, FormatCase{1, "1us"}, FormatCase{1500, "1500us"},
                      FormatCase{1000, "1ms"}, FormatCase{500000, "500ms"},
                      FormatCase{1500000, "1500ms"}, FormatCase{4 * kSecond, "4s"},
                      FormatCase{90 * kSecond, "90s"}, FormatCase{120 * kSecond, "2m"},
                      FormatCase{3600 * kSecond, "1h"}, FormatCase{36 * 3600 * kSecond, "36h"},
                      FormatCase{kDay, "1d"}, FormatCase{kDay + kSecond, "86401s"},
                      FormatCase{49 * kDay, "49d"}));

struct ProtoCase {
  int64_t micros;
  int64_t seconds;
  int32_t nanos;
};

void PrintTo(const ProtoCase& c, std::ostream* os) {
  *os << c.micros << "us";
}

class DurationProtoTest : public ::testing::TestWithParam<ProtoCase> {};

TEST_P(DurationProtoTest, RoundTrips) {
  const auto& c = GetParam();
  google::protobuf::Duration proto = toProto(microseconds(c.micros));
  EXPECT_EQ(proto.seconds(), c.seconds);
  EXPECT_EQ(proto.nanos(), c.nanos);
  EXPECT_EQ(fromProto(proto).count(), c.micros);
}

INSTANTIATE_TEST_SUITE_P(Values, DurationProtoTest,
                         ::testing::Values(ProtoCase{0, 0, 0}, ProtoCase{1, 0, 1000},
                                           ProtoCase{1500000, 1, 500000000},
                                           ProtoCase{4 * kSecond, 4, 0},
                                           ProtoCase{49 * kDay, 49 * 86400, 0}));

TEST(FromProtoTest, DropsSubMicrosecondNanos) {
  google::protobuf::Duration proto;
  proto.set_seconds(2);
  proto.set_nanos(1999);
  EXPECT_EQ(fromProto(proto).count(), 2 * kSecond + 1);
}

struct UintCase {
  std::string text;
  uint32_t max;
  std::optional<uint32_t> value;
};

void PrintTo(const UintCase& c, std::ostream* os) {
  *os << "'" << c.text << "' (max " << c.max << ")";
}

class ParseUintTest : public ::testing::TestWithParam<UintCase> {};

TEST_P(ParseUintTest, AcceptsOnlyPlainDecimalsInRange) {
  const auto& c = GetParam();
  EXPECT_EQ(parseUint(c.text, c.max), c.value) << "'" << c.text << "'";
}

constexpr uint32_t kMax = std::numeric_limits<uint32_t>::max();

INSTANTIATE_TEST_SUITE_P(
    Values, ParseUintTest,
    ::testing::Values(UintCase{"0", kMax, 0u}, UintCase{"42", kMax, 42u}, UintCase{"007", kMax, 7u},
                      UintCase{"4294967295", kMax, kMax},
                      UintCase{"4294967296", kMax, std::nullopt},
                      UintCase{"99999999999999999999999", kMax, std::nullopt},
                      UintCase{"256", 256, 256u}, UintCase{"257", 256, std::nullopt},
                      UintCase{"", kMax, std::nullopt}, UintCase{"-1", kMax, std::nullopt},
                      UintCase{"+1", kMax, std::nullopt}, UintCase{" 1", kMax, std::nullopt},
                      UintCase{"1 ", kMax, std::nullopt}, UintCase{"0x10", kMax, std::nullopt},
                      UintCase{"12a", kMax, std::nullopt}, UintCase{"1.0", kMax, std::nullopt}));

}  // namespace
}  // namespace lb::config
