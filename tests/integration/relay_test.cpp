// The two-way relay: bytes arrive intact, half-closes and resets are passed on, IPv6 works.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/segments.h"

namespace lb::testing {
namespace {

std::string config(const std::string& servers, const std::string& global = "",
                   const std::string& bind = "127.0.0.1:0") {
  return "global\n" + global +
         "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "frontend fe\n"
         "    bind " +
         bind +
         "\n"
         "    default_backend be\n"
         "backend be\n" +
         servers;
}

std::string server(const std::string& address) {
  return "    server s1 " + address + "\n";
}
std::string rawServer(const RawListener& raw) {
  return server("127.0.0.1:" + std::to_string(raw.port()));
}

// 1 MiB that is not one repeated byte, so reordering or loss shows.
std::string mebibyte() {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return data;
}

// Sends `data` then FIN from another thread while the caller reads, so neither side stalls on
// full socket buffers.
std::thread sendThenFin(Client& sender, const std::string& data) {
  return std::thread([&sender, &data] {
    sender.send(data);
    sender.shutdownWrite();
  });
}

// A client connected through the agent to a server socket the test drives itself.
struct Relayed {
  RawListener raw;
  Agent agent{config(rawServer(raw))};
  Client client{"127.0.0.1", agent.port("fe")};
  std::optional<Client> backend;
  Relayed() {
    int fd = raw.accept();
    if (fd >= 0) backend.emplace(fd);
  }
  bool connected() const { return client.connected() && backend.has_value(); }
};

void expectClientHalfCloseRelaysEverything(const std::string& global) {
  Backend echo("echo", "echo");
  Agent agent(config(server(echo.address()), global));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.connected());
  const std::string data = mebibyte();
  std::thread sender = sendThenFin(client, data);
  int error = -1;
  std::string back = client.readAll(20s, &error);
  sender.join();
  EXPECT_EQ(error, 0) << "expected a clean EOF after the data";
  EXPECT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data) << "the echoed bytes differ";
}

TEST(RelayTest, ClientHalfCloseAfterAMebibyteGetsItAllBackThenEof) {
  expectClientHalfCloseRelaysEverything("");
}

TEST(RelayTest, SmallBuffersStillRelayAMebibyteIntact) {
  expectClientHalfCloseRelaysEverything("    tune.bufsize 1024\n");
}

// A mebibyte is a bulk transfer, moved with splice(2) after the first full buffer; with
// `nosplice` it is copied through buffers all the way.
TEST(RelayTest, NospliceRelaysAMebibyteIntactThroughBuffers) {
  expectClientHalfCloseRelaysEverything("    nosplice\n");
}

// splice(2) into a socket whose peer is gone raises SIGPIPE (it has no MSG_NOSIGNAL): the
// agent must shrug it off and keep serving.
TEST(RelayTest, AClientLeavingInTheMiddleOfABulkTransferLeavesTheAgentServing) {
  RawListener raw;
  Agent agent(config(rawServer(raw)));
  for (int round = 0; round < 20; ++round) {
    Stopwatch round_time;
    Client client("127.0.0.1", agent.port("fe"));
    ASSERT_TRUE(client.connected());
    int fd = raw.accept();
    ASSERT_GE(fd, 0);
    Client backend(fd);
    // Each send gives up after 1 s, and the flood after 3 s: a broken relay fails this round
    // fast instead of holding the test to ctest's limit.
    timeval patience{1, 0};
    ::setsockopt(backend.fd(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
    std::atomic<int> stopped_by{0};
    std::thread flood([&] {
      const std::string chunk(1 << 20, 'x');
      for (int i = 0; i < 64 && round_time.elapsed() < 3s; ++i) {
        if (!backend.send(chunk)) {
          stopped_by = errno;
          break;
        }
      }
    });
    if (round % 2 == 1) client.shutdownWrite();  // half-closed first, as iperf3's streams
    EXPECT_EQ(client.readSome(256 * 1024, 5s).size(), 256u * 1024);
    client.close();  // gone, unread bytes and all (an RST), with the agent still writing to it
    flood.join();    // ends when the agent passes the reset on to the server
    ASSERT_TRUE(stopped_by == ECONNRESET || stopped_by == EPIPE)
        << "round " << round << ": the client's reset did not reach the server ("
        << std::strerror(stopped_by) << ")";
  }
  ASSERT_TRUE(agent.process().running()) << "the agent died";
  Client after("127.0.0.1", agent.port("fe"));
  int fd = raw.accept();
  ASSERT_GE(fd, 0);
  Client backend(fd);
  ASSERT_TRUE(backend.send("still here\n"));
  EXPECT_EQ(after.readLine(), "still here");
}

TEST(RelayTest, AServerResetInTheMiddleOfABulkTransferReachesTheClientAsAReset) {
  Relayed relayed;
  ASSERT_TRUE(relayed.connected());
  Client& client = relayed.client;
  Client& backend = *relayed.backend;
  const std::string data = mebibyte();
  ASSERT_TRUE(backend.send(data.substr(0, 256 * 1024)));
  std::string first = client.readSome(256 * 1024, 5s);
  EXPECT_EQ(first.size(), 256u * 1024) << "the first part is relayed (spliced) intact";
  EXPECT_TRUE(first == data.substr(0, first.size()));
  backend.reset();
  int error = 0;
  client.readAll(5s, &error);
  EXPECT_EQ(error, ECONNRESET);
}

TEST(RelayTest, ServerHalfCloseFirstThenTheClientsLateDataStillArrives) {
  Relayed relayed;
  ASSERT_TRUE(relayed.connected());
  Client& client = relayed.client;
  Client& backend = *relayed.backend;
  const std::string data = mebibyte();
  std::thread sender = sendThenFin(backend, data);
  int error = -1;
  std::string got = client.readAll(20s, &error);
  sender.join();
  EXPECT_EQ(error, 0) << "expected a clean EOF after the server's data";
  EXPECT_EQ(got.size(), data.size());
  EXPECT_TRUE(got == data);
  // The other direction is still open: the server receives what the client sends now.
  ASSERT_TRUE(client.send("late data"));
  client.shutdownWrite();
  EXPECT_EQ(backend.readAll(5s, &error), "late data");
  EXPECT_EQ(error, 0) << "the client's FIN should reach the server as a FIN";
}

TEST(RelayTest, BothDirectionsCarryDataAtOnce) {
  Relayed relayed;
  ASSERT_TRUE(relayed.connected());
  Client& client = relayed.client;
  Client& backend = *relayed.backend;
  const std::string data = mebibyte();
  std::thread upload = sendThenFin(client, data);
  std::thread download = sendThenFin(backend, data);
  int server_error = -1, client_error = -1;
  std::string at_server;
  std::thread server_reader([&] { at_server = backend.readAll(20s, &server_error); });
  std::string at_client = client.readAll(20s, &client_error);
  server_reader.join();
  upload.join();
  download.join();
  EXPECT_EQ(client_error, 0);
  EXPECT_EQ(server_error, 0);
  EXPECT_TRUE(at_client == data) << at_client.size() << " bytes at the client";
  EXPECT_TRUE(at_server == data) << at_server.size() << " bytes at the server";
}

TEST(RelayTest, ServerResetReachesTheClientAsAReset) {
  Relayed relayed;
  ASSERT_TRUE(relayed.connected());
  Client& client = relayed.client;
  Client& backend = *relayed.backend;
  ASSERT_TRUE(backend.send("hi\n"));
  ASSERT_EQ(client.readLine(), "hi");
  backend.reset();
  int error = 0;
  EXPECT_EQ(client.readAll(5s, &error), "");
  EXPECT_EQ(error, ECONNRESET) << "a server reset must not look like a clean close";
}

TEST(RelayTest, ClientResetReachesTheServerPromptly) {
  Relayed relayed;
  ASSERT_TRUE(relayed.connected());
  Client& client = relayed.client;
  Client& backend = *relayed.backend;
  ASSERT_TRUE(client.send("hi\n"));
  ASSERT_EQ(backend.readLine(), "hi");
  Stopwatch clock;
  client.reset();
  int error = 0;
  EXPECT_EQ(backend.readAll(5s, &error), "");
  EXPECT_EQ(error, ECONNRESET) << "a client reset must not look like a clean close";
  EXPECT_LT(clock.elapsed(), 2s);
}

TEST(RelayTest, ServesIpv6ClientsFromAnIpv6Server) {
  if (!hasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  Backend b1("six1", "hello", "::1"), b2("six2", "hello", "::1");
  Agent agent(config("    server s1 " + b1.address() + "\n    server s2 " + b2.address() + "\n", "",
                     "[::1]:0"));
  EXPECT_EQ(whoAnswers(agent.port("fe"), "::1"), "six1");
  EXPECT_EQ(whoAnswers(agent.port("fe"), "::1"), "six2");
  Client client("::1", agent.port("fe"));
  ASSERT_TRUE(client.connected());
  EXPECT_EQ(client.readLine(), "six1");
  ASSERT_TRUE(client.send("over six\n"));
  EXPECT_EQ(client.readLine(), "over six");
}

TEST(RelayTest, Ipv4ClientsReachAnIpv6Server) {
  if (!hasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  Backend six("six", "hello", "::1");
  Agent agent(config(server(six.address())));
  EXPECT_EQ(whoAnswers(agent.port("fe")), "six");
}

}  // namespace
}  // namespace lb::testing

namespace lb::testing {
namespace {

// A client whose request and FIN are both waiting when lb accepts it: `frontend maxconn 1` and
// a first client holding the slot keep it in the backlog while it sends. Returns what the
// server received, how (`segments_in`), and what the client got back.
struct EarlyExchange {
  std::string at_server;
  int server_error = -1;
  uint32_t segments_in = 0;
  std::string at_client;
  int client_error = -1;
};

EarlyExchange requestWaitingAtAccept(const std::string& backend_options) {
  RawListener raw;
  Agent agent(config(rawServer(raw) + backend_options, "", "127.0.0.1:0\n    maxconn 1"));
  EarlyExchange result;
  Client holder("127.0.0.1", agent.port("fe"));
  int held = raw.accept();
  if (held < 0) return result;
  Client held_backend(held);
  Client client("127.0.0.1", agent.port("fe"));
  if (!client.send("GET / HTTP/1.0\r\n\r\n")) return result;
  client.shutdownWrite();
  holder.close();  // lb accepts `client` once that session ends, with its request and FIN in
  held_backend.close();
  int fd = raw.accept();
  if (fd < 0) return result;
  Client backend(fd);
  result.at_server = backend.readAll(5s, &result.server_error);
  result.segments_in = segmentsIn(fd);
  backend.send("HTTP/1.0 200 OK\r\n\r\nhi");
  backend.shutdownWrite();
  result.at_client = client.readAll(5s, &result.client_error);
  return result;
}

TEST(RelayTest, ARequestAndFinSentBeforeTheAcceptReachTheServerInOrder) {
  EarlyExchange got = requestWaitingAtAccept("");
  EXPECT_EQ(got.at_server, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(got.server_error, 0) << "the client's FIN should reach the server after its data";
  EXPECT_EQ(got.at_client, "HTTP/1.0 200 OK\r\n\r\nhi");
  EXPECT_EQ(got.client_error, 0);
}

TEST(RelayTest, ARequestAndFinSentWhileQueuedReachTheServerInOrder) {
  // The server takes one connection at a time: the second client waits in the backend's queue,
  // accepted by lb, while its request and FIN arrive. Both must reach the server once it is
  // its turn, the FIN without waiting for a timeout.
  RawListener raw;
  Agent agent(config("    timeout queue 20s\n    server s1 127.0.0.1:" +
                     std::to_string(raw.port()) + " maxconn 1\n"));
  Client holder("127.0.0.1", agent.port("fe"));
  int held = raw.accept();
  ASSERT_GE(held, 0);
  Client held_backend(held);
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.send("GET / HTTP/1.0\r\n\r\n"));
  client.shutdownWrite();
  // Nothing reaches the server while the first connection holds the slot.
  EXPECT_LT(raw.accept(300ms), 0);
  holder.close();
  held_backend.close();
  int fd = raw.accept();
  ASSERT_GE(fd, 0);
  Client backend(fd);
  int error = -1;
  Stopwatch clock;
  EXPECT_EQ(backend.readAll(5s, &error), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(error, 0) << "the client's FIN should follow its request";
  EXPECT_LT(clock.elapsed(), 2s);
}

TEST(RelayTest, SmartConnectSendsTheHandshakesLastAckWithTheRequest) {
  // With the request in hand before connecting, the server gets SYN, ACK + request, FIN; with
  // `no option tcp-smart-connect` the ACK comes alone first: one segment more.
  EarlyExchange smart = requestWaitingAtAccept("");
  EarlyExchange plain = requestWaitingAtAccept("    no option tcp-smart-connect\n");
  ASSERT_EQ(smart.at_server, plain.at_server);
  ASSERT_GT(plain.segments_in, 0u) << "TCP_INFO is not available";
  EXPECT_EQ(smart.segments_in + 1, plain.segments_in)
      << "smart " << smart.segments_in << ", plain " << plain.segments_in;
}

TEST(RelayTest, AResponseAndTheServersFinReachTheClientInOneSegment) {
  // A server that answers and closes (HTTP/1.0, Connection: close): lb has the answer and the
  // FIN in hand together and sends them as one segment, as HAProxy does, so the client
  // acknowledges both at once instead of getting the data, then the FIN in a segment of its own.
  Relayed r;
  ASSERT_TRUE(r.connected());
  const std::string request = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_TRUE(r.client.send(request));
  ASSERT_EQ(r.backend->readSome(request.size(), 5s), request);
  uint32_t before = segmentsIn(r.client.fd());  // SYN-ACK, the ACK of the request
  ASSERT_GT(before, 0u) << "TCP_INFO is not available";
  // The server's answer and FIN arrive at lb together, in one segment.
  const std::string answer = "HTTP/1.0 200 OK\r\n\r\nhello";
  ASSERT_EQ(::send(r.backend->fd(), answer.data(), answer.size(), MSG_MORE),
            static_cast<ssize_t>(answer.size()));
  r.backend->shutdownWrite();
  int error = -1;
  EXPECT_EQ(r.client.readAll(5s, &error), answer);
  EXPECT_EQ(error, 0);
  EXPECT_EQ(segmentsIn(r.client.fd()) - before, 1u) << "the answer and the FIN came apart";
}

TEST(RelayTest, AServerWithoutAPortIsReachedOnThePortTheClientConnectedTo) {
  // `server s1 127.0.0.2`: the port comes from the client's connection, here the frontend's.
  RawListener raw("127.0.0.2");
  const std::string port = std::to_string(raw.port());
  Agent agent(config(server("127.0.0.2"), "", "127.0.0.1:" + port));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.send("hello\n"));
  int fd = raw.accept();
  ASSERT_GE(fd, 0) << "nothing reached 127.0.0.2:" << port;
  Client backend(fd);
  EXPECT_EQ(backend.readLine(), "hello");
}

TEST(RelayTest, TheFirstBytesSurviveARetryToAnotherServer) {
  // Each client's line is waiting when lb accepts it (the one before holds the only slot), so
  // lb reads it before connecting; round robin alternates between `dead`, which refuses, and
  // `live`. A line read for `dead` must reach `live` with the redispatched retry.
  Backend live("live", "echo");
  Agent agent(
      config("    timeout connect 100ms\n    retries 1\n    option redispatch\n"
             "    server dead 127.0.0.1:" +
                 std::to_string(refusedPort()) + "\n    server live " + live.address() + "\n",
             "", "127.0.0.1:0\n    maxconn 1"));
  auto holder = std::make_unique<Client>("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(holder->send("hold\n"));
  ASSERT_EQ(holder->readLine(), "hold");
  for (int i = 0; i < 4; ++i) {
    auto client = std::make_unique<Client>("127.0.0.1", agent.port("fe"));
    ASSERT_TRUE(client->send("line " + std::to_string(i) + "\n"));
    holder->close();
    EXPECT_EQ(client->readLine(), "line " + std::to_string(i)) << "connection " << i;
    holder = std::move(client);
  }
}

TEST(RelayTest, TcpSmartAcceptStillRelaysBothWays) {
  Backend echo("echo", "echo");
  Agent agent(
      "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n"
      "    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:0\n"
      "    option tcp-smart-accept\n    default_backend be\nbackend be\n" +
      server(echo.address()));
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.send("ping\n"));
  EXPECT_EQ(client.readLine(), "ping");
  const std::string data = mebibyte();
  std::thread sender = sendThenFin(client, data);
  int error = -1;
  std::string back = client.readAll(20s, &error);
  sender.join();
  EXPECT_EQ(error, 0);
  EXPECT_TRUE(back == data) << back.size() << " bytes back";
}

}  // namespace
}  // namespace lb::testing
