// Two tiers on real hosts: network namespaces on a bridge, made by the test. An edge agent
// balances to two inner agents (PROXY v2, tier-health checks), which balance to three backends;
// a client host connects to the edge. lbctl cluster rolls configurations out from a host of its
// own. What a user of the topology observes is asserted: traffic through both tiers, the
// client's own address at the inner tier, failover when an inner agent's servers die or its
// link is cut, the rollout order and its rollback, and a drain without a failed connection.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <regex>
#include <set>
#include <thread>

#include "tests/cluster/netns.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

// Checks every 300 ms, two failures to go down: a tier notices a death within about a second.
const std::string kDefaults =
    "defaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 1s\n"
    "    timeout client 30s\n    timeout server 30s\n    retries 2\n    option redispatch\n";

std::string innerConfig(const std::vector<std::pair<std::string, std::string>>& servers,
                        const std::string& bind = ":8080") {
  std::string text = kDefaults + "frontend web\n    bind " + bind +
                     " accept-proxy\n    default_backend servers\nbackend servers\n"
                     "    balance roundrobin\n";
  for (const auto& [name, address] : servers) {
    text += "    server " + name + " " + address + " check inter 300ms fall 2 rise 1\n";
  }
  return text;
}

class TwoTiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!Network::usable(&why)) GTEST_SKIP() << why;
    net_ = std::make_unique<Network>();
    net_->addHost("client", 100);
    for (auto [name, index] : std::vector<std::pair<std::string, int>>{
             {"edge-1", 1}, {"inner-1", 2}, {"inner-2", 3}, {"b1", 11}, {"b2", 12}, {"b3", 13}}) {
      net_->addHost(name, index);
    }
    for (const std::string name : {"b1", "b2", "b3"}) {
      auto backend = net_->start(name, {LB_DEMO_BACKEND_PATH, "--name", name, "--mode", "hello",
                                        "--listen", net_->address(name) + ":8081"});
      ASSERT_TRUE(backend->waitFor(std::regex("listening on"))) << backend->output();
      backends_[name] = std::move(backend);
    }
    for (const std::string name : {"edge-1", "inner-1", "inner-2"}) {
      // On the hosts' network the API needs TLS and tokens, or --grpc-insecure (test network).
      auto agent = net_->start(name, {LB_AGENT_PATH, "--name", name, "--threads", "1", "--grpc",
                                      net_->address(name) + ":9901", "--grpc-insecure", "--http",
                                      net_->address(name) + ":9902"});
      ASSERT_TRUE(agent->waitFor(std::regex("management API listening"))) << agent->output();
      agents_[name] = std::move(agent);
    }
    writeInner("inner-1", innerConfig({{"b1", net_->address("b1") + ":8081"},
                                       {"b2", net_->address("b2") + ":8081"}}));
    writeInner("inner-2", innerConfig({{"b3", net_->address("b3") + ":8081"}}));
    writeEdge("");
    dir_.write("cluster.yaml",
               "tiers:\n"
               "  - name: edge\n"
               "    config: edge.cfg\n"
               "    agents:\n"
               "      - {name: edge-1, address: " +
                   net_->address("edge-1") +
                   ":9901}\n"
                   "    upstream: {backend: inner, frontend: web, "
                   "server-options: \"inter 300ms fall 2 rise 1\"}\n"
                   "  - name: inner\n"
                   "    agents:\n"
                   "      - {name: inner-1, address: " +
                   net_->address("inner-1") +
                   ":9901, config: inner-1.cfg}\n"
                   "      - {name: inner-2, address: " +
                   net_->address("inner-2") + ":9901, config: inner-2.cfg}\n");
  }

  void writeInner(const std::string& name, const std::string& text) {
    dir_.write(name + ".cfg", text);
  }
  void writeEdge(const std::string& backend_extra) {
    dir_.write("edge.cfg", kDefaults +
                               "frontend web\n    bind :8080\n    default_backend inner\n"
                               "backend inner\n    balance roundrobin\n" +
                               backend_extra);
  }

  // lbctl cluster ARGS from the client host; its exit code, output in *out.
  int cluster(std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv{LBCTL_PATH, "--no-color", "cluster", "-f",
                                  dir_.path() + "/cluster.yaml"};
    argv.insert(argv.end(), args.begin(), args.end());
    return net_->run("client", argv, out);
  }
  int lbctl(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {LBCTL_PATH, "--no-color"});
    return net_->run("client", args, out);
  }

  void applyOrFail() {
    std::string out;
    ASSERT_EQ(cluster({"apply"}, &out), 0) << out;
    ASSERT_THAT(out, HasSubstr("cluster applied"));
  }

  // One connection from the client host through the edge: the backend's name, "" if none.
  std::string ask() {
    std::string who;
    net_->inside("client", [&] { who = whoAnswers(8080, net_->address("edge-1")); });
    return who;
  }

  Process& agent(const std::string& name) { return *agents_.at(name); }

  TempDir dir_;
  std::unique_ptr<Network> net_;
  std::map<std::string, std::unique_ptr<Process>> backends_;
  std::map<std::string, std::unique_ptr<Process>> agents_;
};

// "2026-12-04T22:01:02.5Z" -> (date, seconds of the day).
std::pair<std::string, double> timeOf(const std::string& text) {
  std::smatch m;
  if (!std::regex_match(text, m, std::regex("(\\d+-\\d+-\\d+)T(\\d+):(\\d+):([\\d.]+)Z"))) {
    return {"", 0};
  }
  return {m[1], std::stoi(m[2]) * 3600.0 + std::stoi(m[3]) * 60.0 + std::stod(m[4])};
}

TEST_F(TwoTiersTest, ApplyGoesInnermostFirstAndTrafficCarriesTheClientsAddressThroughBothTiers) {
  applyOrFail();
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) seen.insert(ask());
  EXPECT_EQ(seen, (std::set<std::string>{"b1", "b2", "b3"}));

  // PROXY v2: the inner tier logs the client host's address, not the edge's.
  auto logged = agent("inner-1").waitFor(
      std::regex("(\\d+\\.\\d+\\.\\d+\\.\\d+):\\d+ \\[[^\\]]+\\] web servers/b[12] "));
  ASSERT_TRUE(logged) << agent("inner-1").output();
  EXPECT_EQ((*logged)[1], net_->address("client"));
  // ... and reports it in its status.
  std::string inner_status;
  ASSERT_EQ(
      lbctl({"--agent", net_->address("inner-1") + ":9901", "status", "-o", "json"}, &inner_status),
      0);
  EXPECT_THAT(inner_status, ::testing::ContainsRegex("\"last_proxied_client\":\"" +
                                                     net_->address("client") + ":[0-9]+\""));

  // Order, from the agents' own records: every inner agent applied before the edge did.
  std::string events;
  ASSERT_EQ(cluster({"events", "-o", "json", "--type", "config_applied"}, &events), 0) << events;
  std::regex line("\\{\"agent\":\"([a-z]+)/([a-z0-9-]+)\".*?\"time\":\"([^\"]+)\"");
  std::pair<std::string, double> last_inner{"", 0}, first_edge{"~", 0};
  int inner = 0, edge = 0;
  for (std::sregex_iterator it(events.begin(), events.end(), line), end; it != end; ++it) {
    auto when = timeOf((*it)[3]);
    if ((*it)[1] == "inner") {
      ++inner;
      last_inner = std::max(last_inner, when);
    } else {
      ++edge;
      first_edge = std::min(first_edge, when);
    }
  }
  EXPECT_EQ(inner, 2) << events;
  EXPECT_EQ(edge, 1) << events;
  EXPECT_LT(last_inner, first_edge) << events;
  std::string status;
  ASSERT_EQ(cluster({"status", "-o", "json"}, &status), 0) << status;
  std::regex version_one("\"config_version\":\"1\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(status.begin(), status.end(), version_one),
                          std::sregex_iterator()),
            3)
      << status;
  std::string tree;
  ASSERT_EQ(cluster({"status"}, &tree), 0) << tree;
  EXPECT_THAT(tree, HasSubstr("inner-1  [inner]"));
  EXPECT_THAT(tree, HasSubstr(net_->address("b3") + ":8081  UP"));
}

TEST_F(TwoTiersTest, WhenEveryServerBehindAnInnerAgentDiesTheEdgeStopsSendingThere) {
  applyOrFail();
  size_t inner_from = agent("inner-1").outputSize();
  size_t edge_from = agent("edge-1").outputSize();
  backends_.at("b1")->signal(SIGKILL);
  backends_.at("b2")->signal(SIGKILL);
  ASSERT_TRUE(agent("inner-1").waitFor(std::regex("backend servers has no server available"), 10s,
                                       inner_from))
      << agent("inner-1").output();
  Stopwatch noticed;
  ASSERT_TRUE(
      agent("edge-1").waitFor(std::regex("Server inner/inner-1 is DOWN[^\n]*503"), 10s, edge_from))
      << agent("edge-1").output();
  // Within the edge's checks: inter 300 ms x fall 2, plus one interval of phase (and slack for a
  // loaded machine).
  EXPECT_LT(noticed.elapsed(), 3s);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ask(), "b3") << i;
}

TEST_F(TwoTiersTest, WhenAnInnerAgentsLinkIsCutTheEdgeFailsOver) {
  applyOrFail();
  size_t edge_from = agent("edge-1").outputSize();
  net_->cut("inner-2");
  ASSERT_TRUE(agent("edge-1").waitFor(std::regex("Server inner/inner-2 is DOWN"), 10s, edge_from))
      << agent("edge-1").output();
  for (int i = 0; i < 20; ++i) {
    std::string who = ask();
    EXPECT_TRUE(who == "b1" || who == "b2") << i << ": '" << who << "'";
  }
  edge_from = agent("edge-1").outputSize();
  net_->plug("inner-2");
  ASSERT_TRUE(agent("edge-1").waitFor(std::regex("Server inner/inner-2 is UP"), 10s, edge_from));
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) seen.insert(ask());
  EXPECT_TRUE(seen.contains("b3"));
}

TEST_F(TwoTiersTest, AFailingInnerTierIsRolledBackAndTheEdgeIsNotTouched) {
  applyOrFail();
  // inner-1 and the edge change; inner-2 cannot put its change in force (no such address here).
  writeInner("inner-1", innerConfig({{"b1", net_->address("b1") + ":8081"}}));
  writeInner("inner-2", innerConfig({{"b3", net_->address("b3") + ":8081"}}, "10.77.0.250:8080"));
  writeEdge("    timeout server 40s\n");  // a change the rollout must never reach
  std::string out;
  EXPECT_EQ(cluster({"apply"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("inner-2: refused: frontend 'web': cannot bind 10.77.0.250:8080"));
  EXPECT_THAT(out, HasSubstr("inner/inner-1: rolled back to the configuration of version 1"));
  EXPECT_THAT(out, HasSubstr("the tiers above it were not touched"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("tier edge:")));

  std::string config;
  ASSERT_EQ(lbctl({"--agent", net_->address("inner-1") + ":9901", "get"}, &config), 0);
  EXPECT_THAT(config, HasSubstr("server b2 "));  // what it ran before, back in force
  ASSERT_EQ(lbctl({"--agent", net_->address("edge-1") + ":9901", "status", "-o", "json"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"config_version\":\"1\""));  // the edge never changed
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) seen.insert(ask());
  EXPECT_EQ(seen, (std::set<std::string>{"b1", "b2", "b3"}));
}

TEST_F(TwoTiersTest, DrainingAnInnerAgentMovesTrafficAwayWithoutAFailedConnection) {
  applyOrFail();
  // A long connection through inner-1: the drain waits for it and never cuts it.
  std::unique_ptr<Client> held;
  net_->inside("client", [&] {
    for (int i = 0; i < 10 && !held; ++i) {
      auto client = std::make_unique<Client>(net_->address("edge-1"), 8080);
      auto greeting = client->readLine();
      if (greeting == "b1" || greeting == "b2") held = std::move(client);
    }
  });
  ASSERT_TRUE(held);
  std::atomic<bool> stop{false}, drained{false};
  std::atomic<int> served{0}, failed{0}, after_drain{0}, after_drain_elsewhere{0};
  std::thread load([&] {
    net_->inside("client", [&] {
      Stopwatch watch;
      while (!stop && watch.elapsed() < 60s && served + failed < 5000) {
        bool late = drained;
        std::string who = whoAnswers(8080, net_->address("edge-1"));
        (who.empty() ? failed : served)++;
        if (late) {
          ++after_drain;
          if (who != "b3") ++after_drain_elsewhere;
        }
      }
    });
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, load};
  Stopwatch started;
  while (served < 20 && started.elapsed() < 30s) std::this_thread::sleep_for(10ms);
  std::string out;
  size_t drain_from = agent("edge-1").outputSize();
  EXPECT_EQ(cluster({"drain", "inner-1", "--wait", "--wait-timeout", "1s"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("edge/edge-1: inner/inner-1 DRAIN"));
  EXPECT_THAT(out, HasSubstr("inner-1: still 1 connection after 1s"));
  ASSERT_TRUE(held->send("still here\n"));
  EXPECT_EQ(held->readLine(), "still here");
  held->close();
  EXPECT_EQ(cluster({"drain", "inner-1", "--wait", "--wait-timeout", "30s"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("inner-1: drained, 0 connections"));
  drained = true;
  Stopwatch watch;
  while (after_drain < 30 && watch.elapsed() < 30s) std::this_thread::sleep_for(10ms);
  stop = true;
  load.join();
  EXPECT_EQ(failed.load(), 0) << served << " served";
  EXPECT_GE(after_drain.load(), 30);
  EXPECT_EQ(after_drain_elsewhere.load(), 0);  // nothing went to inner-1's servers
  // The drained agent's tier health says 503 too: the edge's checks take it out as well (and
  // would for any upper tier that lbctl does not know of).
  ASSERT_TRUE(
      agent("edge-1").waitFor(std::regex("Server inner/inner-1 is DOWN[^\n]*503"), 10s, drain_from))
      << agent("edge-1").output();

  size_t edge_from = agent("edge-1").outputSize();
  ASSERT_EQ(cluster({"ready", "inner-1"}, &out), 0) << out;
  ASSERT_TRUE(agent("edge-1").waitFor(std::regex("Server inner/inner-1 is UP"), 10s, edge_from))
      << agent("edge-1").output();
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) seen.insert(ask());
  EXPECT_EQ(seen, (std::set<std::string>{"b1", "b2", "b3"}));
}

}  // namespace
}  // namespace lb::testing
