// Connection limits: server maxconn queues in the backend, frontend and global maxconn stop
// accepting (clients wait in the kernel's backlog), maxqueue bounds the wait line.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

constexpr Millis kNotServed = 300ms;  // how long a waiting client is watched for a greeting

std::string defaults(const std::string& extra = "") {
  return "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n" +
         extra;
}

std::string frontend(const std::string& name, const std::string& extra = "") {
  return "frontend " + name + "\n    bind 127.0.0.1:0\n    default_backend be\n" + extra;
}

std::string backend(const std::string& servers) {
  return "backend be\n" + servers;
}

TEST(LimitsTest, ServerMaxconnQueuesTheNextClientUntilASlotFrees) {
  Backend hello("hello");
  Agent agent(defaults("    timeout queue 20s\n") + frontend("fe") +
              backend("    server s1 " + hello.address() + " maxconn 1\n"));
  Client a("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(a.readLine(), "hello");
  Client b("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(b.connected());
  EXPECT_EQ(b.readLine(kNotServed), std::nullopt) << "the second client was served at once";
  a.close();
  EXPECT_EQ(b.readLine(), "hello");
  ASSERT_TRUE(b.send("ping\n"));
  EXPECT_EQ(b.readLine(), "ping");
}

TEST(LimitsTest, AFullActiveServerQueuesTheClientWhileABackupWaitsIdle) {
  // As HAProxy: backups serve only when no active server is usable; a full one means waiting.
  Backend active("active"), spare("spare");
  Agent agent(defaults("    timeout queue 20s\n") + frontend("fe") +
              backend("    server s1 " + active.address() + " maxconn 1\n" + "    server b1 " +
                      spare.address() + " backup\n"));
  Client a("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(a.readLine(), "active");
  Client b("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(b.connected());
  EXPECT_EQ(b.readLine(kNotServed), std::nullopt) << "the backup took the client";
  a.close();
  EXPECT_EQ(b.readLine(), "active");
}

TEST(LimitsTest, QueuedClientsAreServedInArrivalOrder) {
  Backend echo("echo", "echo");
  Agent agent(defaults("    timeout queue 20s\n") + frontend("fe") +
              backend("    server s1 " + echo.address() + " maxconn 1\n"));
  std::vector<Client> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back("127.0.0.1", agent.port("fe"));
    ASSERT_TRUE(clients.back().send(std::to_string(i) + "\n"));
    // Each is queued (or served, for the first) before the next arrives.
    if (i == 0) {
      ASSERT_EQ(clients[0].readLine(), "0");
    } else {
      ASSERT_EQ(clients.back().readLine(200ms), std::nullopt);
    }
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(clients[i].closeGracefully());
    EXPECT_EQ(clients[i + 1].readLine(), std::to_string(i + 1));
    for (int j = i + 2; j < 4; ++j) EXPECT_EQ(clients[j].readSome(1, 50ms), "");
  }
}

TEST(LimitsTest, MaxqueueClosesClientsBeyondTheWaitLine) {
  Backend hello("hello");
  Agent agent(defaults("    timeout queue 20s\n") + frontend("fe") +
              backend("    server s1 " + hello.address() + " maxconn 1 maxqueue 1\n"));
  Client a("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(a.readLine(), "hello");
  Client b("127.0.0.1", agent.port("fe"));  // waits in the queue
  EXPECT_EQ(b.readLine(kNotServed), std::nullopt);
  Client c("127.0.0.1", agent.port("fe"));  // the queue is full
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.closedByPeer(5s));
  a.close();
  EXPECT_EQ(b.readLine(), "hello");
}

TEST(LimitsTest, FrontendMaxconnHoldsTheNextClientUntilTheFirstLeaves) {
  Backend hello("hello");
  Agent agent(defaults() + frontend("fe", "    maxconn 1\n") +
              backend("    server s1 " + hello.address() + "\n"));
  Client a("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(a.readLine(), "hello");
  Client b("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(b.connected()) << "at maxconn clients wait in the backlog, they are not refused";
  EXPECT_EQ(b.readLine(kNotServed), std::nullopt) << "the second client was served at once";
  a.close();
  EXPECT_EQ(b.readLine(), "hello");
}

TEST(LimitsTest, FrontendMaxconnLimitsOnlyItsOwnFrontend) {
  Backend hello("hello");
  Agent agent(defaults() + frontend("fe1", "    maxconn 1\n") + frontend("fe2") +
              backend("    server s1 " + hello.address() + "\n"));
  Client a("127.0.0.1", agent.port("fe1"));
  ASSERT_EQ(a.readLine(), "hello");
  EXPECT_EQ(whoAnswers(agent.port("fe2")), "hello");
}

TEST(LimitsTest, GlobalMaxconnHoldsClientsOfEveryFrontend) {
  Backend hello("hello");
  Agent agent("global\n    maxconn 1\n" + defaults() + frontend("fe1") + frontend("fe2") +
              backend("    server s1 " + hello.address() + "\n"));
  Client a("127.0.0.1", agent.port("fe1"));
  ASSERT_EQ(a.readLine(), "hello");
  Client b("127.0.0.1", agent.port("fe2"));
  ASSERT_TRUE(b.connected());
  EXPECT_EQ(b.readLine(kNotServed), std::nullopt) << "global maxconn was not enforced";
  a.close();
  EXPECT_EQ(b.readLine(), "hello");
}

}  // namespace
}  // namespace lb::testing
