// lbctl's pure parts: durations, the contexts file, tables and the words events are shown in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctl/agents.h"
#include "ctl/contexts.h"
#include "ctl/output.h"

namespace lb::ctl {
namespace {

using ::testing::HasSubstr;

TEST(DurationTest, FlagsNeedAUnitAndReadBackForPeople) {
  std::string error;
  EXPECT_EQ(parseDuration("5s", &error), Millis(5000));
  EXPECT_EQ(parseDuration("250ms", &error), Millis(250));
  EXPECT_EQ(parseDuration("2m", &error), Millis(120000));
  EXPECT_FALSE(parseDuration("5", &error));
  EXPECT_THAT(error, HasSubstr("'5' has no unit; write e.g. 5s or 5ms"));
  EXPECT_FALSE(parseDuration("soon", &error));
  for (const auto& [ms, text] : std::vector<std::pair<long, std::string>>{{250, "250ms"},
                                                                          {1500, "1.5s"},
                                                                          {45000, "45s"},
                                                                          {245000, "4m5s"},
                                                                          {11520000, "3h12m"},
                                                                          {90000000, "1d1h"}}) {
    EXPECT_EQ(formatDuration(Millis(ms)), text);
  }
}

class ContextsTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ = (std::filesystem::temp_directory_path() /
                       ("lbctl_contexts_" + std::to_string(::getpid()) + ".yaml"))
                          .string();
};

TEST_F(ContextsTest, AgentsAreAddressesOrNamedAndShareTheContextsCredentials) {
  std::string error;
  auto file =
      loadContexts(write("current-context: prod\ncontexts:\n"
                         "  - name: prod\n"
                         "    agents: [10.0.0.1:9901, {name: lb2, address: 'unix:/run/lb.sock'}]\n"
                         "    tls: {ca: /etc/ca.crt, cert: /etc/ops.crt, key: /etc/ops.key}\n"
                         "    token-file: /etc/lbctl.token\n"),
                   &error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->current, "prod");
  const Context* prod = file->find("prod");
  ASSERT_NE(prod, nullptr);
  ASSERT_EQ(prod->agents.size(), 2u);
  EXPECT_EQ(prod->agents[0].name, "10.0.0.1:9901");
  EXPECT_EQ(prod->agents[1].name, "lb2");
  EXPECT_EQ(prod->agents[1].address, "unix:/run/lb.sock");
  EXPECT_EQ(prod->agents[1].credentials.ca, "/etc/ca.crt");
  EXPECT_EQ(prod->agents[1].credentials.token_file, "/etc/lbctl.token");
  EXPECT_EQ(file->didYouMean("prdo"), "; did you mean 'prod'?");
}

TEST_F(ContextsTest, AMissingFileIsEmptyAndABadOneIsNamedWithItsLine) {
  std::string error;
  auto none = loadContexts("/nonexistent/lbctl.yaml", &error);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->contexts.empty());
  EXPECT_FALSE(
      loadContexts(write("contexts:\n  - name: x\n    agents:\n      - {name: a}\n"), &error));
  EXPECT_EQ(error, path_ +
                       ":4: an agent is an address (host:port or unix:PATH), or 'name' and "
                       "'address'");
  EXPECT_FALSE(loadContexts(write("contexts: [\n"), &error));
  EXPECT_THAT(error, HasSubstr(path_ + ":"));
}

TEST_F(ContextsTest, UseContextRewritesOneLine) {
  std::string error;
  write("# mine\ncontexts:\n  - name: a   # first\n    agents: [x:1]\n");
  ASSERT_TRUE(setCurrentContext(path_, "a", &error)) << error;
  ASSERT_TRUE(setCurrentContext(path_, "a", &error)) << error;
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "current-context: a\n# mine\ncontexts:\n  - name: a   # first\n"
            "    agents: [x:1]\n");
}

TEST(TableTest, ColumnsAlignOnTheTextNotTheColours) {
  Table table({"NAME", "STATE"});
  table.add({{"be/s1"}, {"UP", Color::kGreen}});
  table.add({{"be/server2"}, {"DOWN", Color::kRed}});
  std::ostringstream plain, colored;
  table.print(plain, Style(false), "  ");
  EXPECT_EQ(plain.str(), "  NAME        STATE\n  be/s1       UP\n  be/server2  DOWN\n");
  table.print(colored, Style(true));
  EXPECT_THAT(colored.str(), HasSubstr("be/s1       \033[32mUP\033[0m"));
}

lb::v1::Event event(lb::v1::Event::Type type, const std::string& from, const std::string& to) {
  lb::v1::Event e;
  e.set_type(type);
  e.set_backend("web_test");
  e.set_server("server2");
  e.set_old_state(from);
  e.set_new_state(to);
  return e;
}

TEST(DescribeEventTest, InTheWordsOfHaproxysLog) {
  auto down = event(lb::v1::Event::SERVER_STATE, "UP", "DOWN");
  down.mutable_cause()->set_status("L4CON");
  down.mutable_cause()->set_description("Layer4 connection problem");
  down.mutable_cause()->set_info("Connection refused");
  EXPECT_EQ(describeEvent(down),
            "web_test/server2 UP -> DOWN  Layer4 connection problem: Connection refused");
  down.mutable_cause()->set_passive(true);
  EXPECT_THAT(describeEvent(down), HasSubstr("(passive check: live traffic)"));
  // A first failure of a server at full health (rise 2, fall 3: health 4 -> 3): 2 of 3 left.
  auto check = event(lb::v1::Event::CHECK, "UP", "UP");
  check.mutable_cause()->set_status("L4TOUT");
  check.mutable_cause()->set_description("Layer4 timeout");
  check.mutable_cause()->set_health(3);
  check.mutable_cause()->set_rise(2);
  check.mutable_cause()->set_fall(3);
  EXPECT_EQ(describeEvent(check),
            "web_test/server2 UP, check failed  Layer4 timeout (status 2/3 UP)");
  auto back = event(lb::v1::Event::CHECK, "DOWN", "DOWN");
  back.mutable_cause()->set_status("L4OK");
  back.mutable_cause()->set_description("Layer4 check passed");
  back.mutable_cause()->set_health(1);
  back.mutable_cause()->set_rise(2);
  back.mutable_cause()->set_fall(3);
  EXPECT_EQ(describeEvent(back),
            "web_test/server2 DOWN, check passed  Layer4 check passed (status 1/2 DOWN)");
  EXPECT_EQ(describeEvent(event(lb::v1::Event::ADMIN_STATE, "READY", "DRAIN")),
            "web_test/server2 READY -> DRAIN");
  EXPECT_EQ(describeEvent(event(lb::v1::Event::SERVER_WEIGHT, "1", "5")),
            "web_test/server2 weight 1 -> 5");
  auto applied = event(lb::v1::Event::CONFIG_APPLIED, "", "");
  applied.set_config_version(8);
  applied.set_origin("ops");
  applied.set_diff_summary("+1 server");
  EXPECT_EQ(describeEvent(applied), "configuration version 8 applied by ops: +1 server");
}

TEST(JsonTest, QuotesAndEscapes) {
  EXPECT_EQ(jsonQuote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

}  // namespace
}  // namespace lb::ctl
