// The agent's life: graceful stop (SIGTERM), hard-stop-after, a second signal, and reloads
// (SIGHUP) that keep the listening sockets, or keep the old configuration when the new is bad.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

std::string config(const std::string& servers, const std::string& global = "") {
  return "global\n" + global +
         "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "frontend fe\n"
         "    bind 127.0.0.1:0\n"
         "    default_backend be\n"
         "backend be\n" +
         servers;
}

std::string server(const std::string& name, const Backend& backend,
                   const std::string& settings = "") {
  return "    server " + name + " " + backend.address() + (settings.empty() ? "" : " ") + settings +
         "\n";
}

// Sends SIGTERM (or SIGINT) and waits until the agent says its listeners are closed.
void stopAccepting(Agent& agent, int sig = SIGTERM) {
  size_t from = agent.process().outputSize();
  agent.process().signal(sig);
  ASSERT_TRUE(agent.process().waitFor(std::regex("stopping: listeners closed"), 10s, from))
      << agent.process().output();
}

bool echoes(Client& client, const std::string& line) {
  return client.send(line + "\n") && client.readLine() == line;
}

// Bulk transfers use splice(2), which has no MSG_NOSIGNAL: a write to a connection the peer
// just reset can raise SIGPIPE, which must not end the agent. The kernel says which signals a
// process ignores in /proc/PID/status.
TEST(LifecycleTest, TheAgentIgnoresSigpipe) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)));
  std::ifstream status("/proc/" + std::to_string(agent.process().pid()) + "/status");
  std::string line;
  uint64_t ignored = 0;
  while (std::getline(status, line)) {
    if (line.rfind("SigIgn:", 0) == 0) ignored = std::stoull(line.substr(7), nullptr, 16);
  }
  EXPECT_TRUE(ignored & (uint64_t{1} << (SIGPIPE - 1))) << "SigIgn " << std::hex << ignored;
}

// How many of the process's threads run with the scheduling policy `policy` (SCHED_BATCH, ...):
// field 41 of /proc/PID/task/TID/stat, counted from the one after the command's ')'.
int threadsWithPolicy(pid_t pid, int policy) {
  int count = 0;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (stat.find(')') == std::string::npos) continue;  // the thread just ended
    std::istringstream fields(stat.substr(stat.rfind(')') + 1));
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
      if (i == 41 && std::stoi(field) == policy) ++count;
    }
  }
  return count;
}

// Waits (up to 5 s) until `want` threads have `policy`: workers switch when they take up a
// configuration, just after the agent logs it.
bool threadsReach(pid_t pid, int policy, int want) {
  Stopwatch clock;
  while (threadsWithPolicy(pid, policy) != want) {
    if (clock.elapsed() > 5s) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// The data-plane workers run SCHED_BATCH (and nothing else does); `tune.sched-policy normal`
// turns them back to SCHED_OTHER on reload, and removing it again to SCHED_BATCH.
TEST(LifecycleTest, WorkerThreadsRunSchedBatchUnlessToldNormal) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)), {"--threads", "3"});
  pid_t pid = agent.process().pid();
  EXPECT_TRUE(threadsReach(pid, SCHED_BATCH, 3)) << threadsWithPolicy(pid, SCHED_BATCH);
  ASSERT_TRUE(agent.reload(config(server("s1", echo), "    tune.sched-policy normal\n")))
      << agent.process().output();
  EXPECT_TRUE(threadsReach(pid, SCHED_BATCH, 0)) << threadsWithPolicy(pid, SCHED_BATCH);
  ASSERT_TRUE(agent.reload(config(server("s1", echo))));
  EXPECT_TRUE(threadsReach(pid, SCHED_BATCH, 3)) << threadsWithPolicy(pid, SCHED_BATCH);
  Client client("127.0.0.1", agent.port("fe"));
  EXPECT_TRUE(echoes(client, "still relaying"));
}

TEST(LifecycleTest, SigtermRefusesNewClientsAndWaitsForRunningSessions) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)));
  uint16_t port = agent.port("fe");
  Client held("127.0.0.1", port);
  ASSERT_TRUE(echoes(held, "before"));
  stopAccepting(agent);
  EXPECT_FALSE(Client("127.0.0.1", port).connected()) << "a new client was accepted";
  // The running session goes on, in both directions.
  EXPECT_TRUE(echoes(held, "during"));
  EXPECT_TRUE(agent.process().running());
  Stopwatch clock;
  EXPECT_TRUE(held.closeGracefully());
  EXPECT_EQ(agent.process().wait(5s), 0);
  EXPECT_LT(clock.elapsed(), 3s);
}

TEST(LifecycleTest, SigintStopsGracefullyToo) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)));
  Client held("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(echoes(held, "before"));
  stopAccepting(agent, SIGINT);
  EXPECT_TRUE(echoes(held, "during"));
  held.close();
  EXPECT_EQ(agent.process().wait(5s), 0);
}

TEST(LifecycleTest, SigtermWithoutSessionsExitsAtOnce) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)));
  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait(5s), 0);
}

TEST(LifecycleTest, HardStopAfterClosesSessionsThatOutstayIt) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo), "    hard-stop-after 400ms\n"));
  Client held("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(echoes(held, "before"));
  stopAccepting(agent);
  Stopwatch clock;
  EXPECT_TRUE(echoes(held, "during"));
  EXPECT_TRUE(held.closedByPeer(5s));
  EXPECT_GE(clock.elapsed(), 200ms);
  EXPECT_EQ(agent.process().wait(5s), 0);
}

TEST(LifecycleTest, SecondSigtermClosesRunningSessionsAtOnce) {
  Backend echo("echo", "echo");
  Agent agent(config(server("s1", echo)));
  Client held("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(echoes(held, "before"));
  stopAccepting(agent);
  EXPECT_TRUE(echoes(held, "during"));
  agent.process().signal(SIGTERM);
  EXPECT_TRUE(held.closedByPeer(5s));
  EXPECT_EQ(agent.process().wait(5s), 0);
}

TEST(LifecycleTest, ReloadKeepsThePortAndAppliesNewServersAndWeights) {
  Backend b1("b1"), b2("b2");
  Agent agent(config(server("s1", b1)));
  uint16_t port = agent.port("fe");
  Client held("127.0.0.1", port);
  ASSERT_EQ(held.readLine(), "b1");

  // Clients keep connecting while the reload happens: every one is served.
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::thread load([&] {
    for (int i = 0; i < 5000 && !stop; ++i) {
      (whoAnswers(port).empty() ? failed : served)++;
    }
  });
  size_t from = agent.process().outputSize();
  bool reloaded = agent.reload(config(server("s1", b1, "weight 1") + server("s2", b2, "weight 2")));
  // A few more connections after the reload, from here too, then stop the load.
  for (int i = 0; i < 20; ++i) (whoAnswers(port).empty() ? failed : served)++;
  stop = true;
  load.join();
  ASSERT_TRUE(reloaded) << agent.process().output();
  EXPECT_EQ(failed, 0) << "clients connecting during the reload were not served";
  EXPECT_GT(served, 0);

  // Same port, as the reload logged.
  auto listening = agent.process().waitFor(
      std::regex("frontend 'fe' listening on 127\\.0\\.0\\.1:([0-9]+)\n"), 1s, from);
  ASSERT_TRUE(listening);
  EXPECT_EQ((*listening)[1], std::to_string(port));

  // The new weights: b2 answers twice as often as b1.
  std::map<std::string, int> seen;
  for (int i = 0; i < 30; ++i) ++seen[whoAnswers(port)];
  EXPECT_EQ(seen, (std::map<std::string, int>{{"b1", 10}, {"b2", 20}}));

  // The session from before the reload still relays.
  ASSERT_TRUE(held.send("still here\n"));
  EXPECT_EQ(held.readLine(), "still here");
}

TEST(LifecycleTest, ReloadCanRemoveAServer) {
  Backend b1("b1"), b2("b2");
  Agent agent(config(server("s1", b1) + server("s2", b2)));
  uint16_t port = agent.port("fe");
  ASSERT_TRUE(agent.reload(config(server("s2", b2)))) << agent.process().output();
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) ++seen[whoAnswers(port)];
  EXPECT_EQ(seen, (std::map<std::string, int>{{"b2", 6}}));
}

TEST(LifecycleTest, BadConfigOnReloadKeepsTheRunningOne) {
  Backend b1("b1"), b2("b2");
  Agent agent(config(server("s1", b1)));
  uint16_t port = agent.port("fe");
  EXPECT_TRUE(agent.reloadRefused(config(server("s1", b1) + "    server s2 nowhere:x\n")));
  EXPECT_TRUE(agent.reloadRefused("frontend fe\n    bind 127.0.0.1:0\n    default_backend none\n"));
  EXPECT_TRUE(agent.process().running());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(whoAnswers(port), "b1");
  // A good configuration afterwards still applies.
  ASSERT_TRUE(agent.reload(config(server("s2", b2))));
  EXPECT_EQ(whoAnswers(port), "b2");
}

}  // namespace
}  // namespace lb::testing
