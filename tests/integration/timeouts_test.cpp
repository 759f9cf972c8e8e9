// Every timeout of a TCP session, as a user sees it: the connection ends, not too early and not
// much later. Timeouts are short (100 - 1200 ms); upper bounds are generous so a loaded machine
// does not make the tests flaky.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

constexpr Millis kSoon = 5s;  // upper bound for "the timeout fired"

std::string config(const std::string& timeouts, const std::string& servers) {
  return "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n" +
         timeouts +
         "frontend fe\n"
         "    bind 127.0.0.1:0\n"
         "    default_backend be\n"
         "backend be\n" +
         servers;
}

std::string server(const std::string& address, const std::string& settings = "") {
  return "    server s1 " + address + (settings.empty() ? "" : " " + settings) + "\n";
}
std::string rawServer(const RawListener& raw) {
  return server("127.0.0.1:" + std::to_string(raw.port()));
}

// Connects through the agent and accepts the agent's connection at `raw`.
struct Session {
  Client client;
  Client backend;
};
Session open(Agent& agent, RawListener& raw) {
  Client client("127.0.0.1", agent.port("fe"));
  int fd = client.connected() ? raw.accept() : -1;
  return {std::move(client), Client(fd)};
}

// Lets the session sit idle for `time` while checking that nothing arrives at the client.
void idle(Client& client, Millis time) {
  EXPECT_EQ(client.readSome(1, time), "");
}

TEST(TimeoutsTest, ClientTimeoutClosesAnIdleConnection) {
  Backend hello("hello");
  Agent agent(
      config("    timeout client 300ms\n    timeout server 30s\n", server(hello.address())));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(client.readLine(), "hello");
  Stopwatch clock;
  EXPECT_TRUE(client.closedByPeer(kSoon));
  EXPECT_GE(clock.elapsed(), 150ms);
}

TEST(TimeoutsTest, ServerTimeoutClosesAnIdleConnection) {
  Backend hello("hello");
  Agent agent(
      config("    timeout client 30s\n    timeout server 300ms\n", server(hello.address())));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(client.readLine(), "hello");
  Stopwatch clock;
  EXPECT_TRUE(client.closedByPeer(kSoon));
  EXPECT_GE(clock.elapsed(), 150ms);
}

TEST(TimeoutsTest, TrafficKeepsAConnectionAlivePastItsTimeouts) {
  Backend echo("echo", "echo");
  Agent agent(
      config("    timeout client 400ms\n    timeout server 400ms\n", server(echo.address())));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.connected());
  Stopwatch clock;
  // Exchanges paced by waiting 150 ms for an answer that does not come: 1.2 s in all.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(client.send("ping\n"));
    ASSERT_EQ(client.readLine(), "ping") << "after " << clock.elapsed().count() << " ms";
    idle(client, 150ms);
  }
  EXPECT_TRUE(client.closedByPeer(kSoon));
}

TEST(TimeoutsTest, ConnectTimeoutGivesUpOnAServerThatNeverAnswers) {
  BlackholeListener blackhole;
  if (!blackhole.hangs()) GTEST_SKIP() << "the kernel did not drop SYNs to a full accept queue";
  Agent agent(
      config("    timeout client 30s\n    timeout server 30s\n"
             "    timeout connect 200ms\n    retries 1\n",
             server("127.0.0.1:" + std::to_string(blackhole.port()))));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.connected());
  Stopwatch clock;
  EXPECT_TRUE(client.closedByPeer(kSoon));
  // Two attempts of 200 ms (a retry after a timeout starts at once).
  EXPECT_GE(clock.elapsed(), 200ms);
}

TEST(TimeoutsTest, TunnelTimeoutOverridesClientAndServerTimeouts) {
  Backend hello("hello");
  Agent agent(
      config("    timeout client 200ms\n    timeout server 200ms\n"
             "    timeout tunnel 1200ms\n",
             server(hello.address())));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(client.readLine(), "hello");
  Stopwatch clock;
  idle(client, 600ms);  // three times the client and server timeouts
  ASSERT_TRUE(client.send("still there\n"));
  EXPECT_EQ(client.readLine(), "still there");
  clock = Stopwatch();
  EXPECT_TRUE(client.closedByPeer(kSoon));
  EXPECT_GE(clock.elapsed(), 600ms);
}

TEST(TimeoutsTest, ClientFinTimeoutEndsASessionTheServerHalfClosed) {
  RawListener raw;
  Agent agent(
      config("    timeout client 30s\n    timeout server 30s\n"
             "    timeout client-fin 300ms\n",
             rawServer(raw)));
  auto [client, backend] = open(agent, raw);
  ASSERT_GE(backend.fd(), 0);
  idle(client, 500ms);  // longer than client-fin: it counts from the FIN, not from before
  backend.shutdownWrite();
  Stopwatch clock;
  int error = -1;
  EXPECT_EQ(client.readAll(kSoon, &error), "");
  EXPECT_EQ(error, 0) << "the server's FIN should reach the client";
  // The client neither sends nor closes: client-fin ends the session, the server sees it.
  EXPECT_EQ(backend.readAll(kSoon, &error), "");
  EXPECT_NE(error, ETIMEDOUT);
  EXPECT_GE(clock.elapsed(), 150ms);
}

TEST(TimeoutsTest, ServerFinTimeoutEndsASessionTheClientHalfClosed) {
  RawListener raw;
  Agent agent(
      config("    timeout client 30s\n    timeout server 30s\n"
             "    timeout server-fin 300ms\n",
             rawServer(raw)));
  auto [client, backend] = open(agent, raw);
  ASSERT_GE(backend.fd(), 0);
  idle(client, 500ms);  // longer than server-fin: it counts from the FIN, not from before
  client.shutdownWrite();
  Stopwatch clock;
  int error = -1;
  EXPECT_EQ(backend.readAll(kSoon, &error), "");
  EXPECT_EQ(error, 0) << "the client's FIN should reach the server";
  // The server neither answers nor closes: server-fin ends the session.
  EXPECT_TRUE(client.closedByPeer(kSoon));
  EXPECT_GE(clock.elapsed(), 150ms);
}

TEST(TimeoutsTest, ClientFinTimeoutDoesNotCutASlowAnswerAfterTheClientsFin) {
  // HAProxy applies client-fin once it has closed the client's side, not after the client's own
  // FIN: a client that sends its request and FIN still gets a slow answer.
  RawListener raw;
  Agent agent(
      config("    timeout client 30s\n    timeout server 30s\n"
             "    timeout client-fin 200ms\n",
             rawServer(raw)));
  auto [client, backend] = open(agent, raw);
  ASSERT_GE(backend.fd(), 0);
  ASSERT_TRUE(client.send("request\n"));
  client.shutdownWrite();
  int error = -1;
  EXPECT_EQ(backend.readAll(kSoon, &error), "request\n");
  EXPECT_EQ(error, 0);
  idle(client, 600ms);  // the server thinks for three times client-fin
  ASSERT_TRUE(backend.send("answer\n"));
  backend.shutdownWrite();
  EXPECT_EQ(client.readAll(kSoon, &error), "answer\n");
  EXPECT_EQ(error, 0);
}

TEST(TimeoutsTest, ClientTimeoutDoesNotCutASlowAnswerAfterTheClientsFin) {
  // Once the client sent its FIN, lb expects nothing more from it: as in HAProxy, only a write
  // to the client that does not progress runs into `timeout client`.
  RawListener raw;
  Agent agent(config("    timeout client 200ms\n    timeout server 30s\n", rawServer(raw)));
  auto [client, backend] = open(agent, raw);
  ASSERT_GE(backend.fd(), 0);
  ASSERT_TRUE(client.send("request\n"));
  client.shutdownWrite();
  int error = -1;
  EXPECT_EQ(backend.readAll(kSoon, &error), "request\n");
  idle(client, 600ms);
  ASSERT_TRUE(backend.send("answer\n"));
  backend.shutdownWrite();
  EXPECT_EQ(client.readAll(kSoon, &error), "answer\n");
  EXPECT_EQ(error, 0);
}

TEST(TimeoutsTest, QueueTimeoutClosesAWaitingClientWithoutData) {
  Backend hello("hello");
  Agent agent(config("    timeout client 30s\n    timeout server 30s\n    timeout queue 300ms\n",
                     server(hello.address(), "maxconn 1")));
  Client first("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(first.readLine(), "hello");
  Client second("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(second.connected());
  Stopwatch clock;
  EXPECT_TRUE(second.closedByPeer(kSoon));
  EXPECT_GE(clock.elapsed(), 150ms);
  // The first client never noticed.
  ASSERT_TRUE(first.send("ping\n"));
  EXPECT_EQ(first.readLine(), "ping");
}

}  // namespace
}  // namespace lb::testing
