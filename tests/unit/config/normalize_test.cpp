#include "agent/config/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

struct NormalizeCase {
  std::string name;
  std::string input;     // lb.v1.Config, text format
  std::string expected;  // the same after normalize()
};

void PrintTo(const NormalizeCase& c, std::ostream* os) {
  *os << c.name;
}

class NormalizeTest : public ::testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizeTest, FillsHaproxyDefaults) {
  const auto& c = GetParam();
  lb::v1::Config config = configFromText(c.input);
  normalize(config);
  EXPECT_TRUE(sameMessage(configFromText(c.expected), config));
}

TEST_P(NormalizeTest, IsIdempotent) {
  const auto& c = GetParam();
  lb::v1::Config once = configFromText(c.input);
  normalize(once);
  lb::v1::Config twice = once;
  normalize(twice);
  EXPECT_TRUE(sameMessage(once, twice));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NormalizeTest,
    ::testing::Values(
        NormalizeCase{"EmptyConfig", "", ""},
        NormalizeCase{"Frontend", R"(frontends { name: "f" })",
                      R"(frontends { name: "f" mode: MODE_TCP })"},
        NormalizeCase{"Backend", R"(backends { name: "b" })",
                      R"(backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                                    retries: 3 health_check { type: TCP } })"},
        NormalizeCase{"Server",
                      R"(backends { name: "b" servers { name: "s" address: "10.0.0.1" } })",
                      R"(backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                           retries: 3 health_check { type: TCP }
                           servers { name: "s" address: "10.0.0.1" weight: 1 inter { seconds: 2 }
                                     rise: 2 fall: 3 error_limit: 10 on_error: FAIL_CHECK } })"},
        NormalizeCase{"SettingsWrittenStay",
                      R"(frontends { name: "f" mode: MODE_HTTP }
                         backends { name: "b" mode: MODE_HTTP balance { algorithm: FIRST } retries: 0
                           health_check { type: TCP_CHECK }
                           servers { name: "s" weight: 0 inter { seconds: 4 } rise: 1 fall: 1
                                     error_limit: 1 on_error: MARK_DOWN } })",
                      R"(frontends { name: "f" mode: MODE_HTTP }
                         backends { name: "b" mode: MODE_HTTP balance { algorithm: FIRST } retries: 0
                           health_check { type: TCP_CHECK }
                           servers { name: "s" weight: 0 inter { seconds: 4 } rise: 1 fall: 1
                                     error_limit: 1 on_error: MARK_DOWN } })"},
        NormalizeCase{"UnsetMeansUnset",
                      // No fastinter/downinter/timeout check: their absence has a meaning.
                      R"(backends { name: "b" servers { name: "s" check: true } })",
                      R"(backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                           retries: 3 health_check { type: TCP }
                           servers { name: "s" check: true weight: 1 inter { seconds: 2 } rise: 2
                                     fall: 3 error_limit: 10 on_error: FAIL_CHECK } })"},
        NormalizeCase{"RandomDraws", R"(backends { name: "b" balance { algorithm: RANDOM } })",
                      R"(backends { name: "b" mode: MODE_TCP
                           balance { algorithm: RANDOM random_draws: 2 } retries: 3
                           health_check { type: TCP } })"},
        NormalizeCase{"RandomDrawsWritten",
                      R"(backends { name: "b" balance { algorithm: RANDOM random_draws: 5 } })",
                      R"(backends { name: "b" mode: MODE_TCP
                           balance { algorithm: RANDOM random_draws: 5 } retries: 3
                           health_check { type: TCP } })"},
        NormalizeCase{
            "HttpCheckRequestLine",
            R"(backends { name: "b" health_check { type: HTTP http { uri: "/health" } } })",
            R"(backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                           retries: 3 health_check { type: HTTP
                             http { method: "OPTIONS" uri: "/health" version: "HTTP/1.0" } } })"},
        NormalizeCase{"EmptyMessagesAreDropped",
                      R"(global { }
                         frontends { name: "f" timeouts { } log { } }
                         backends { name: "b" timeouts { } health_check { http { } } })",
                      R"(frontends { name: "f" mode: MODE_TCP }
                         backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                           retries: 3 health_check { type: TCP } })"},
        NormalizeCase{"ZeroDurationsAreNotEmpty",
                      R"(frontends { name: "f" timeouts { client { } } }
                         backends { name: "b" timeouts { check { } } })",
                      R"(frontends { name: "f" mode: MODE_TCP timeouts { client { } } }
                         backends { name: "b" mode: MODE_TCP balance { algorithm: ROUNDROBIN }
                           retries: 3 timeouts { check { } } health_check { type: TCP } })"}),
    [](const ::testing::TestParamInfo<NormalizeCase>& info) { return info.param.name; });

}  // namespace
}  // namespace lb::config
