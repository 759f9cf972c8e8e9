#include "agent/proxy/accept_rate.h"

#include <gtest/gtest.h>

namespace lb::proxy {
namespace {

using std::chrono::milliseconds;

struct Step {
  int64_t at_ms;
  int64_t wait_ms;  // 0: admitted
};

struct RateCase {
  std::string name;
  uint32_t limit;
  std::vector<Step> steps;
};

class AcceptRateTest : public ::testing::TestWithParam<RateCase> {};

// `maxconnrate`: tokens per one-second window; past them the listener learns how long to wait.
TEST_P(AcceptRateTest, AdmitsUpToTheLimitPerSecond) {
  const auto& c = GetParam();
  AcceptRate rate;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    EXPECT_EQ(rate.admit(milliseconds(c.steps[i].at_ms), c.limit).count(), c.steps[i].wait_ms)
        << "step " << i << " at " << c.steps[i].at_ms << " ms";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rates, AcceptRateTest,
    ::testing::Values(
        RateCase{"ThreeThenWait", 3, {{1000, 0}, {1001, 0}, {1002, 0}, {1003, 997}, {1500, 500}}},
        RateCase{"NextSecondAdmitsAgain",
                 2,
                 {{0, 0}, {10, 0}, {20, 980}, {1000, 0}, {1001, 0}, {1002, 998}}},
        RateCase{"OnePerSecond", 1, {{5000, 0}, {5999, 1}, {6000, 0}, {6001, 999}}},
        RateCase{"AnIdleGapStartsAFreshWindow",
                 2,
                 {{0, 0}, {0, 0}, {0, 1000}, {7000, 0}, {7000, 0}, {7000, 1000}}}),
    [](const ::testing::TestParamInfo<RateCase>& info) { return info.param.name; });

TEST(AcceptRateTest, AGivenBackTokenIsAdmittedAgain) {
  AcceptRate rate;
  EXPECT_EQ(rate.admit(milliseconds(0), 1).count(), 0);
  rate.giveBack();  // accept(2) found nobody
  EXPECT_EQ(rate.admit(milliseconds(1), 1).count(), 0);
  EXPECT_EQ(rate.admit(milliseconds(2), 1).count(), 998);
}

}  // namespace
}  // namespace lb::proxy
