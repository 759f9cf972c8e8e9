// agent-check answers read as HAProxy 2.6 reads them (tcpcheck_agent_expect_reply) and relative
// weights computed as its server_parse_weight_change_request does.
#include "agent/health/agent_reply.h"

#include <gtest/gtest.h>

namespace lb::health {
namespace {

using runtime::AdminState;

TEST(AgentReplyTest, HealthWords) {
  EXPECT_EQ(parseAgentReply("up\n").up, true);
  EXPECT_EQ(parseAgentReply("DOWN\r\n").up, false);
  EXPECT_EQ(parseAgentReply("fail").up, false);
  EXPECT_EQ(parseAgentReply("stopped").up, false);
  EXPECT_FALSE(parseAgentReply("75%").up.has_value());
  EXPECT_EQ(parseAgentReply("stopped").health_word, "stopped");
}

TEST(AgentReplyTest, AdminWords) {
  EXPECT_EQ(parseAgentReply("ready").admin, AdminState::kReady);
  EXPECT_EQ(parseAgentReply("drain").admin, AdminState::kDrain);
  EXPECT_EQ(parseAgentReply("MAINT").admin, AdminState::kMaint);
  EXPECT_FALSE(parseAgentReply("up").admin.has_value());
}

TEST(AgentReplyTest, EveryKindInAnyOrderTheLastWins) {
  AgentReply r = parseAgentReply("50%,maxconn:30 drain\tup 75% ready # all good\nignored");
  EXPECT_EQ(r.up, true);
  EXPECT_EQ(r.admin, AdminState::kReady);
  EXPECT_EQ(r.weight, "75%");
  EXPECT_EQ(r.maxconn, "30");
  EXPECT_EQ(r.description, "all good");
  EXPECT_EQ(r.error, "");
}

TEST(AgentReplyTest, DescriptionAfterSharp) {
  AgentReply r = parseAgentReply("down #disk full");
  EXPECT_EQ(r.up, false);
  EXPECT_EQ(r.description, "disk full");
  // As in HAProxy, '#' starts a description only at the start of a word.
  EXPECT_EQ(parseAgentReply("down#disk").error, "down#disk");
}

TEST(AgentReplyTest, FirstUnknownWordIsTheError) {
  AgentReply r = parseAgentReply("sleepy up grumpy");
  EXPECT_EQ(r.up, true);
  EXPECT_EQ(r.error, "sleepy");
}

TEST(AgentReplyTest, EmptyLineSaysNothing) {
  AgentReply r = parseAgentReply("");
  EXPECT_FALSE(r.up.has_value());
  EXPECT_FALSE(r.admin.has_value());
  EXPECT_FALSE(r.weight.has_value());
}

TEST(AgentWeightTest, RelativeToTheConfiguredWeight) {
  std::string error;
  EXPECT_EQ(agentWeight("50%", 10, &error), 5u);
  EXPECT_EQ(agentWeight("100%", 10, &error), 10u);
  EXPECT_EQ(agentWeight("0%", 10, &error), 0u);
  EXPECT_EQ(agentWeight("75%", 1, &error), 0u);  // integer arithmetic, as HAProxy
  EXPECT_EQ(agentWeight("1000%", 100, &error), 256u);
  EXPECT_EQ(agentWeight("99999999%", 100, &error), 256u);
}

TEST(AgentWeightTest, Rejects) {
  std::string error;
  EXPECT_FALSE(agentWeight("x%", 10, &error).has_value());
  EXPECT_FALSE(agentWeight("5%x", 10, &error).has_value());
  EXPECT_EQ(error, "Trailing garbage in weight string");
  EXPECT_FALSE(agentWeight("300", 10, &error).has_value());
}

}  // namespace
}  // namespace lb::health
