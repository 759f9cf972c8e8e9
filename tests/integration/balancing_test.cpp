// Balancing through the real lb-agent to real backend processes: which server answers.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

std::string config(const std::string& balance, const std::string& servers,
                   const std::string& extra = "") {
  return "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "frontend fe\n"
         "    bind 127.0.0.1:0\n"
         "    default_backend be\n"
         "backend be\n"
         "    balance " +
         balance + "\n" + extra + servers;
}

std::string server(const std::string& name, const Backend& backend,
                   const std::string& settings = "") {
  return "    server " + name + " " + backend.address() + (settings.empty() ? "" : " ") + settings +
         "\n";
}

// How many of `connections` sequential connections each backend answered.
std::map<std::string, int> countAnswers(uint16_t port, int connections,
                                        const std::string& source = "") {
  std::map<std::string, int> seen;
  for (int i = 0; i < connections; ++i) ++seen[whoAnswers(port, "127.0.0.1", source)];
  return seen;
}

// A connection held open; `name` is the backend that greeted it.
struct Held {
  Client client;
  std::string name;
};

Held hold(uint16_t port) {
  Client client("127.0.0.1", port);
  std::string name = client.connected() ? client.readLine().value_or("") : "";
  return {std::move(client), name};
}

TEST(BalancingTest, RoundRobinAnswersInTurnLikeTheGuide) {
  Backend b1("backend1"), b2("backend2"), b3("backend3");
  Agent agent(config("roundrobin", "    server server1 " + b1.address() + "\n" +
                                       "    server server2 " + b2.address() + "\n" +
                                       "    server server3 " + b3.address() + "\n"));
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(whoAnswers(agent.port("fe")));
  EXPECT_EQ(seen, (std::vector<std::string>{"backend1", "backend2", "backend3", "backend1",
                                            "backend2", "backend3"}));
}

TEST(BalancingTest, RoundRobinWeightsShareThreeThousandConnections) {
  Backend b1("w1"), b2("w2"), b3("w3");
  Agent agent(config("roundrobin", server("s1", b1, "weight 1") + server("s2", b2, "weight 2") +
                                       server("s3", b3, "weight 3")));
  auto seen = countAnswers(agent.port("fe"), 3000);
  // Within 2% of the 1:2:3 ratio (smooth weighted round robin is exact over whole cycles).
  EXPECT_NEAR(seen["w1"], 500, 10);
  EXPECT_NEAR(seen["w2"], 1000, 20);
  EXPECT_NEAR(seen["w3"], 1500, 30);
  EXPECT_EQ(seen[""], 0);
}

TEST(BalancingTest, StaticRoundRobinFollowsWeightsAndTurns) {
  Backend b1("s1"), b2("s2"), b3("s3");
  Agent agent(config("static-rr", server("s1", b1, "weight 1") + server("s2", b2, "weight 2") +
                                      server("s3", b3, "weight 1")));
  std::map<std::string, int> seen;
  std::set<std::string> first_cycle;
  for (int i = 0; i < 40; ++i) {
    std::string name = whoAnswers(agent.port("fe"));
    if (i < 4) first_cycle.insert(name);
    ++seen[name];
  }
  EXPECT_EQ(first_cycle, (std::set<std::string>{"s1", "s2", "s3"}));
  EXPECT_EQ(seen["s1"], 10);
  EXPECT_EQ(seen["s2"], 20);
  EXPECT_EQ(seen["s3"], 10);
}

TEST(BalancingTest, LeastConnSendsNewConnectionsToTheLeastLoadedServer) {
  Backend b1("l1"), b2("l2"), b3("l3");
  Agent agent(config("leastconn", server("s1", b1) + server("s2", b2) + server("s3", b3)));
  uint16_t port = agent.port("fe");
  std::vector<Held> held;
  std::map<std::string, int> load;
  // Three ties in a row: each goes to a server that has none yet.
  for (int i = 0; i < 3; ++i) {
    held.push_back(hold(port));
    ++load[held.back().name];
  }
  EXPECT_EQ(load, (std::map<std::string, int>{{"l1", 1}, {"l2", 1}, {"l3", 1}}));
  // A fourth makes one server the busiest; the next two go to the other two.
  held.push_back(hold(port));
  std::string busiest = held.back().name;
  ASSERT_FALSE(busiest.empty());
  std::set<std::string> next;
  for (int i = 0; i < 2; ++i) {
    held.push_back(hold(port));
    next.insert(held.back().name);
  }
  EXPECT_EQ(next.count(busiest), 0u);
  EXPECT_EQ(next.size(), 2u);
  // Everyone holds two now; end both connections of one server: it gets the next two.
  std::string freed;
  for (auto& h : held) {
    if (h.name == held[0].name) {
      freed = h.name;
      EXPECT_TRUE(h.client.closeGracefully());
    }
  }
  Held a = hold(port), b = hold(port);
  EXPECT_EQ(a.name, freed);
  EXPECT_EQ(b.name, freed);
}

TEST(BalancingTest, SourceKeepsEachClientAddressOnOneServer) {
  Backend b1("h1"), b2("h2"), b3("h3");
  Agent agent(config("source", server("s1", b1) + server("s2", b2) + server("s3", b3)));
  std::set<std::string> used;
  for (int host = 1; host <= 12; ++host) {
    std::string source = "127.0.0." + std::to_string(host);
    auto seen = countAnswers(agent.port("fe"), 8, source);
    ASSERT_EQ(seen.size(), 1u) << source << " went to several servers";
    EXPECT_NE(seen.begin()->first, "") << source;
    used.insert(seen.begin()->first);
  }
  // Different addresses spread over the servers.
  EXPECT_GE(used.size(), 2u);
}

TEST(BalancingTest, FirstFillsServersInOrderUpToTheirMaxconn) {
  Backend b1("f1"), b2("f2"), b3("f3");
  Agent agent(config("first", server("s1", b1, "maxconn 2") + server("s2", b2, "maxconn 2") +
                                  server("s3", b3, "maxconn 2")));
  uint16_t port = agent.port("fe");
  Held a = hold(port), b = hold(port), c = hold(port);
  EXPECT_EQ(a.name, "f1");
  EXPECT_EQ(b.name, "f1");
  EXPECT_EQ(c.name, "f2");
  ASSERT_TRUE(a.client.closeGracefully());
  EXPECT_EQ(hold(port).name, "f1");  // a slot of the first server is free again
}

TEST(BalancingTest, RandomGivesEveryServerSomeTraffic) {
  Backend b1("r1"), b2("r2"), b3("r3");
  Agent agent(config("random", server("s1", b1) + server("s2", b2) + server("s3", b3)));
  auto seen = countAnswers(agent.port("fe"), 90);
  EXPECT_GT(seen["r1"], 0);
  EXPECT_GT(seen["r2"], 0);
  EXPECT_GT(seen["r3"], 0);
  EXPECT_EQ(seen[""], 0);
}

TEST(BalancingTest, WeightZeroNeverGetsTraffic) {
  Backend b1("z1"), b2("z2"), b3("z3");
  Agent agent(
      config("roundrobin", server("s1", b1) + server("s2", b2, "weight 0") + server("s3", b3)));
  auto seen = countAnswers(agent.port("fe"), 30);
  EXPECT_EQ(seen, (std::map<std::string, int>{{"z1", 15}, {"z3", 15}}));
}

TEST(BalancingTest, BackupAnswersWhenTheActiveServerIsDisabled) {
  Backend active("active"), backup("backup");
  Agent agent(
      config("roundrobin", server("a", active, "disabled") + server("b", backup, "backup")));
  EXPECT_EQ(countAnswers(agent.port("fe"), 5), (std::map<std::string, int>{{"backup", 5}}));
}

TEST(BalancingTest, BackupAnswersWhenTheActiveServerHasWeightZero) {
  Backend active("active"), backup("backup");
  Agent agent(
      config("roundrobin", server("a", active, "weight 0") + server("b", backup, "backup")));
  EXPECT_EQ(countAnswers(agent.port("fe"), 5), (std::map<std::string, int>{{"backup", 5}}));
}

TEST(BalancingTest, BackupIsIdleWhileAnActiveServerIsUsable) {
  Backend a1("a1"), a2("a2"), backup("backup");
  Agent agent(config("roundrobin", server("a1", a1, "disabled") + server("a2", a2) +
                                       server("b", backup, "backup")));
  EXPECT_EQ(countAnswers(agent.port("fe"), 6), (std::map<std::string, int>{{"a2", 6}}));
}

TEST(BalancingTest, OnlyTheFirstBackupServesWithoutAllbackups) {
  Backend active("active"), b1("b1"), b2("b2");
  Agent agent(config("roundrobin", server("a", active, "disabled") + server("b1", b1, "backup") +
                                       server("b2", b2, "backup")));
  EXPECT_EQ(countAnswers(agent.port("fe"), 6), (std::map<std::string, int>{{"b1", 6}}));
}

TEST(BalancingTest, AllbackupsBalancesOverEveryBackup) {
  Backend active("active"), b1("b1"), b2("b2");
  Agent agent(config(
      "roundrobin",
      server("a", active, "disabled") + server("b1", b1, "backup") + server("b2", b2, "backup"),
      "    option allbackups\n"));
  EXPECT_EQ(countAnswers(agent.port("fe"), 6), (std::map<std::string, int>{{"b1", 3}, {"b2", 3}}));
}

// Retries and redispatch against a server that refuses connections.
std::string refusingServers(const Backend& live) {
  return "    server dead 127.0.0.1:" + std::to_string(refusedPort()) + "\n" + "    server live " +
         live.address() + "\n";
}

TEST(BalancingTest, RedispatchServesEveryConnectionFromTheLiveServer) {
  Backend live("live");
  Agent agent(config("roundrobin", refusingServers(live),
                     "    timeout connect 100ms\n    retries 1\n    option redispatch\n"));
  EXPECT_EQ(countAnswers(agent.port("fe"), 8), (std::map<std::string, int>{{"live", 8}}));
}

TEST(BalancingTest, WithoutRedispatchConnectionsToADeadServerEndWithoutData) {
  Backend live("live");
  Agent agent(
      config("roundrobin", refusingServers(live), "    timeout connect 100ms\n    retries 2\n"));
  uint16_t port = agent.port("fe");
  for (int i = 0; i < 3; ++i) {
    // Round robin alternates: the dead server's turn, then the live one's.
    Client client("127.0.0.1", port);
    ASSERT_TRUE(client.connected());
    Stopwatch clock;
    EXPECT_TRUE(client.closedByPeer(5s)) << "connection " << i;
    // Two retries, each after min(1s, timeout connect) = 100 ms (the retry count itself is
    // read from the log in retries_test.cpp).
    EXPECT_GE(clock.elapsed(), 200ms);
    EXPECT_EQ(whoAnswers(port), "live");
  }
}

}  // namespace
}  // namespace lb::testing
