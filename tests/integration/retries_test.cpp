// Retries, redispatch, queues and limits, read from what the agent reports: the tcplog line
// (termination code, retry count, server) and what clients see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string config(const std::string& backend, const std::string& extra_frontends = "",
                   const std::string& global = "") {
  return "global\n" + global +
         "defaults\n    mode tcp\n    timeout client 30s\n    timeout server 30s\n"
         "frontend fe\n    bind 127.0.0.1:0\n    option tcplog\n    default_backend be\n" +
         extra_frontends + "backend be\n" + backend;
}

std::string deadServer(const std::string& name = "dead") {
  return "    server " + name + " 127.0.0.1:" + std::to_string(refusedPort()) + "\n";
}

// Waits for the tcplog line of the next connection to end, from output offset `from`.
std::string nextLogLine(Agent& agent, size_t from) {
  auto line = agent.process().waitFor(std::regex(R"([^\n]* fe be/[^\n]*\n)"), 10s, from);
  return line ? line->str() : "";
}

TEST(RetriesTest, EveryRetryIsMadeAndCountedOnceThenSC) {
  Agent agent(config("    timeout connect 100ms\n    retries 2\n" + deadServer()));
  size_t from = agent.process().outputSize();
  Client client("127.0.0.1", agent.port("fe"));
  Stopwatch clock;
  EXPECT_TRUE(client.closedByPeer(5s));
  // Two retries, each after min(1 s, timeout connect) = 100 ms: 200 ms at least.
  EXPECT_GE(clock.elapsed(), 200ms);
  std::string line = nextLogLine(agent, from);
  // %Tw/%Tc/%Tt: no connection; termination SC; %rc: 2 retries, no redispatch.
  EXPECT_THAT(line, HasSubstr(" be/dead 0/-1/")) << line;
  EXPECT_THAT(line, HasSubstr(" SC ")) << line;
  EXPECT_TRUE(std::regex_search(line, std::regex(R"( \d+/\d+/\d+/\d+/2 )"))) << line;
}

TEST(RetriesTest, RedispatchComesOnTheLastRetryNotTheFirst) {
  Backend live("live");
  // Round robin starts with the dead server; with three retries, the first two stay on it and
  // only the last one may go elsewhere.
  Agent agent(
      config("    balance roundrobin\n    timeout connect 100ms\n    retries 3\n"
             "    option redispatch\n" +
             deadServer() + "    server live " + live.address() + "\n"));
  size_t from = agent.process().outputSize();
  Client client("127.0.0.1", agent.port("fe"));
  Stopwatch clock;
  EXPECT_EQ(client.readLine(), "live");
  EXPECT_GE(clock.elapsed(), 300ms);  // three turnarounds of 100 ms
  client.close();
  std::string line = nextLogLine(agent, from);
  EXPECT_THAT(line, HasSubstr(" be/live ")) << line;
  EXPECT_TRUE(std::regex_search(line, std::regex(R"( \d+/\d+/\d+/\d+/\+3 )"))) << line;
}

TEST(RetriesTest, TimeoutQueueDefaultsToTimeoutConnect) {
  Backend hello("hello");
  Agent agent(
      config("    timeout connect 300ms\n    server s1 " + hello.address() + " maxconn 1\n"));
  Client first("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(first.readLine(), "hello");
  size_t from = agent.process().outputSize();
  Client second("127.0.0.1", agent.port("fe"));
  Stopwatch clock;
  EXPECT_TRUE(second.closedByPeer(5s));
  EXPECT_GE(clock.elapsed(), 250ms);
  EXPECT_LT(clock.elapsed(), 3s);  // not the 30 s of the other timeouts
  std::string line = nextLogLine(agent, from);
  EXPECT_THAT(line, HasSubstr(" sQ ")) << line;
  EXPECT_THAT(line, HasSubstr(" be/<NOSRV> ")) << line;
}

TEST(RetriesTest, AFrontendThatRefusesGivesItsGlobalSlotBack) {
  Backend hello("hello");
  // Global maxconn 2; fe1 takes one connection at a time. A second client of fe1 takes the
  // global slot, finds fe1 full and must give the global slot back: fe2 still has one.
  std::string fe1 = "frontend fe1\n    bind 127.0.0.1:0\n    maxconn 1\n    default_backend be\n";
  Agent agent(config("    timeout connect 1s\n    server s1 " + hello.address() + "\n", fe1,
                     "    maxconn 2\n"));
  Client a("127.0.0.1", agent.port("fe1"));
  ASSERT_EQ(a.readLine(), "hello");
  Client b("127.0.0.1", agent.port("fe1"));
  ASSERT_TRUE(b.connected());
  EXPECT_EQ(b.readLine(300ms), std::nullopt);  // waits for fe1
  Client c("127.0.0.1", agent.port("fe"));
  EXPECT_EQ(c.readLine(3s), "hello") << "the global slot of fe1's waiting client was kept";
}

TEST(RetriesTest, AServerDownByChecksStaysDownAcrossAnUnrelatedReload) {
  Backend live("live");
  // Active checks every 10 s (the dead server's first one 5 s in): passive checks mark it down
  // at its first refused connection. If a reload lost its state, it would take connections
  // again until the next active check; with `retries 0` such a client gets nothing.
  auto text = [&](const std::string& timeout_client) {
    return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout server 30s\n"
           "frontend fe\n    bind 127.0.0.1:0\n    timeout client " +
           timeout_client +
           "\n    default_backend be\nbackend be\n    balance roundrobin\n    retries 0\n"
           "    server live " +
           live.address() +
           " check inter 10s\n    server dead 127.0.0.1:" + std::to_string(refusedPort()) +
           " check inter 10s observe layer4 error-limit 1 on-error mark-down\n";
  };
  Agent agent(text("30s"));
  for (int i = 0; i < 10 && !agent.process().waitFor(std::regex("Server be/dead is DOWN"), 10ms);
       ++i) {
    whoAnswers(agent.port("fe"));
  }
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server be/dead is DOWN")));
  ASSERT_TRUE(agent.reload(text("40s")));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(whoAnswers(agent.port("fe")), "live") << i;
  EXPECT_THAT(agent.process().output(), ::testing::Not(HasSubstr("Server be/dead is UP")));
}

}  // namespace
}  // namespace lb::testing
