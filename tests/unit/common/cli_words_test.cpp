// The Runtime API's command splitter: HAProxy's CLI rules for ';', spaces and backslashes.
#include "agent/common/cli_words.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lb::common {
namespace {

using Commands = std::vector<std::vector<std::string>>;

TEST(CliWordsTest, SplitsCommandsAndWordsAsHaproxyDoes) {
  EXPECT_EQ(splitCliLine("show stat"), (Commands{{"show", "stat"}}));
  EXPECT_EQ(splitCliLine("get  weight\tbe/s2"), (Commands{{"get", "weight", "be/s2"}}));
  EXPECT_EQ(splitCliLine("show backend;get weight be/s2"),
            (Commands{{"show", "backend"}, {"get", "weight", "be/s2"}}));
  EXPECT_EQ(splitCliLine(" show backend ; quit ;"), (Commands{{"show", "backend"}, {"quit"}}));
  // A backslash makes the next character ordinary: no split at an escaped ';' or space.
  EXPECT_EQ(splitCliLine("show backend\\;get weight"),
            (Commands{{"show", "backend;get", "weight"}}));
  EXPECT_EQ(splitCliLine("set server a\\ b/c state ready"),
            (Commands{{"set", "server", "a b/c", "state", "ready"}}));
  // Quotes mean nothing (as in HAProxy 2.6), a CR before the newline is not part of a word.
  EXPECT_EQ(splitCliLine("get weight 'be/s2'\r"), (Commands{{"get", "weight", "'be/s2'"}}));
  EXPECT_EQ(splitCliLine(std::string("get weight be/s1\0\0\x01x", 20)),
            (Commands{{"get", "weight", "be/s1x"}}));
  EXPECT_EQ(splitCliLine(""), Commands{});
  EXPECT_EQ(splitCliLine("   ;;  "), Commands{});
}

TEST(CliWordsTest, AVeryLongCommandKeepsItsTailInTheLastWord) {
  std::string line;
  for (int i = 0; i < 100; ++i) line += "w" + std::to_string(i) + " ";
  auto commands = splitCliLine(line);
  ASSERT_EQ(commands.size(), 1u);
  ASSERT_EQ(commands[0].size(), kMaxCliWords);
  EXPECT_EQ(commands[0][0], "w0");
  EXPECT_EQ(commands[0].back().substr(0, 4), "w63 ");
  EXPECT_THAT(commands[0].back(), ::testing::EndsWith("w99 "));
}

}  // namespace
}  // namespace lb::common
