// The PROXY protocol between tiers: what a send-proxy server receives, what an accept-proxy
// frontend makes of it (the client's own address in its log and its balancing), what it does
// with anything else, and checks through an accept-proxy tier.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <thread>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string defaults() {
  return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\n";
}

std::string frontend(const std::string& bind_extra = "", const std::string& extra = "") {
  return "frontend fe\n    bind 127.0.0.1:0" + bind_extra + "\n" + extra +
         "    default_backend be\n";
}

TEST(ProxyProtocolTest, SendProxyPutsTheClientsAddressesBeforeItsBytes) {
  for (const std::string version : {"send-proxy", "send-proxy-v2"}) {
    RawListener server;
    Agent agent(defaults() + frontend() + "backend be\n    server s1 127.0.0.1:" +
                std::to_string(server.port()) + " " + version + "\n");
    Client client("127.0.0.1", agent.port("fe"), "127.0.0.2");
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send("hello"));
    int fd = server.accept();
    ASSERT_GE(fd, 0);
    Client accepted(fd);
    sockaddr_in local{};
    socklen_t length = sizeof local;
    ::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &length);
    const uint16_t client_port = ntohs(local.sin_port);
    if (version == "send-proxy") {
      std::string expected = "PROXY TCP4 127.0.0.2 127.0.0.1 " + std::to_string(client_port) + " " +
                             std::to_string(agent.port("fe")) + "\r\nhello";
      EXPECT_EQ(accepted.readSome(expected.size(), 5s), expected);
    } else {
      std::string got = accepted.readSome(28 + 5, 5s);
      ASSERT_EQ(got.size(), 33u);
      EXPECT_EQ(got.substr(0, 12), std::string("\r\n\r\n\0\r\nQUIT\n", 12));
      EXPECT_EQ(got.substr(16, 4), std::string("\x7f\x00\x00\x02", 4));  // 127.0.0.2
      EXPECT_EQ(static_cast<unsigned char>(got[24]) * 256 + static_cast<unsigned char>(got[25]),
                client_port);
      EXPECT_EQ(got.substr(28), "hello");
    }
  }
}

TEST(ProxyProtocolTest, ARetryToAServerWithoutSendProxySendsTheBytesAlone) {
  uint16_t refused;
  {
    RawListener gone;
    refused = gone.port();
  }
  RawListener plain;
  // Round robin: of two clients in a row one tries s1 first (refused), then s2.
  Agent agent(defaults() + frontend() +
              "backend be\n    timeout connect 100ms\n    retries 1\n    option redispatch\n"
              "    server s1 127.0.0.1:" +
              std::to_string(refused) +
              " send-proxy\n    server s2 127.0.0.1:" + std::to_string(plain.port()) + "\n");
  for (int i = 0; i < 2; ++i) {
    Client client("127.0.0.1", agent.port("fe"));
    ASSERT_TRUE(client.send("hello"));
    int fd = plain.accept();
    ASSERT_GE(fd, 0) << agent.process().output();
    Client accepted(fd);
    EXPECT_EQ(accepted.readSome(5, 5s), "hello") << i;
  }
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_GE(status.backends(0).servers(0).connect_errors(), 1u);  // a client did try s1 first
}

// Two tiers: an edge that sends the header, an inner tier that accepts it and logs.
class TwoTiersTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TwoTiersTest, TheInnerTierLogsAndBalancesOnTheClientsOwnAddress) {
  Backend web1("web1"), web2("web2");
  Agent inner(defaults() + frontend(" accept-proxy", "    option tcplog\n") +
              "backend be\n    balance source\n    server s1 " + web1.address() +
              "\n    server s2 " + web2.address() + "\n");
  Agent edge(defaults() + frontend() + "backend be\n    server inner 127.0.0.1:" +
             std::to_string(inner.port("fe")) + " " + GetParam() + "\n");
  // Through both tiers; the inner tier sees 127.0.0.2 and .3, not the edge's 127.0.0.1.
  std::string first = whoAnswers(edge.port("fe"), "127.0.0.1", "127.0.0.2");
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(whoAnswers(edge.port("fe"), "127.0.0.1", "127.0.0.2"), first);  // source: sticky
  }
  EXPECT_TRUE(
      inner.process().waitFor(std::regex("127\\.0\\.0\\.2:[0-9]+ \\[[^\\]]+\\] fe be/s[12]")))
      << inner.process().output();
  std::string log = inner.process().output();
  EXPECT_FALSE(std::regex_search(log, std::regex("127\\.0\\.0\\.1:[0-9]+ \\["))) << log;
  ApiClient api(inner.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.frontends(0).bad_proxy_headers(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Versions, TwoTiersTest, ::testing::Values("send-proxy", "send-proxy-v2"));

TEST(ProxyProtocolTest, AcceptProxyClosesWhatIsNotAHeaderAndCountsIt) {
  Backend web1("web1");
  Agent agent(defaults() + frontend(" accept-proxy", "    timeout client 1s\n") +
              "backend be\n    server s1 " + web1.address() + "\n");
  // Garbage: closed at once, the server never sees it.
  Client garbage("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(garbage.send("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(garbage.closedByPeer(5s));
  // Nothing at all: closed once `timeout client` has passed.
  Client silent("127.0.0.1", agent.port("fe"));
  Stopwatch watch;
  EXPECT_TRUE(silent.closedByPeer(10s));
  EXPECT_GE(watch.elapsed(), 900ms);
  // A header in two segments, then the client's bytes: served.
  Client split("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(split.send("PROXY TCP4 192.0.2.7 "));
  std::this_thread::sleep_for(50ms);  // a separate segment (a real network splits this way)
  ASSERT_TRUE(split.send("192.0.2.1 4000 80\r\nping\n"));
  EXPECT_EQ(split.readLine(), "web1");
  EXPECT_EQ(split.readLine(), "ping");
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.frontends(0).bad_proxy_headers(), 2u);
  EXPECT_EQ(status.backends(0).servers(0).total_connections(), 1u);
}

TEST(ProxyProtocolTest, ChecksReachAServerBehindAnAcceptProxyTier) {
  // The inner tier's server answers HTTP; the edge checks it through the inner tier, whose
  // accept-proxy bind takes only connections that start with a header.
  Backend http("origin", "http");
  Agent inner(defaults() + frontend(" accept-proxy") + "backend be\n    server s1 " +
              http.address() + "\n");
  const std::string inner_address = "127.0.0.1:" + std::to_string(inner.port("fe"));
  Agent edge(defaults() + frontend() +
             "backend be\n    option httpchk GET /\n"
             "    server v1 " +
             inner_address +
             " send-proxy check inter 200ms rise 1\n"
             "    server v2 " +
             inner_address +
             " send-proxy-v2 check inter 200ms rise 1\n"
             "    server forced " +
             inner_address + " check-send-proxy check inter 200ms rise 1\n");
  ApiClient api(edge.grpcAddress());
  lb::v1::GetStatusResponse status;
  Stopwatch watch;
  bool all_checked = false;
  while (!all_checked && watch.elapsed() < 10s) {
    ASSERT_TRUE(api.getStatus(&status).ok());
    all_checked = true;
    for (const auto& s : status.backends(0).servers()) {
      all_checked = all_checked && s.last_check().status() == "L7OK";
    }
    if (!all_checked) std::this_thread::sleep_for(50ms);
  }
  for (const auto& s : status.backends(0).servers()) {
    EXPECT_EQ(s.last_check().status(), "L7OK") << s.name() << " " << s.last_check().info();
    EXPECT_EQ(s.op_state(), lb::v1::ServerStatus::UP) << s.name();
  }
  ApiClient inner_api(inner.grpcAddress());
  ASSERT_TRUE(inner_api.getStatus(&status).ok());
  EXPECT_EQ(status.frontends(0).bad_proxy_headers(), 0u);
}

TEST(ProxyProtocolTest, ATcpCheckConnectSendProxySendsAHeaderFirst) {
  RawListener server;
  Agent agent(defaults() + frontend() +
              "backend be\n    option tcp-check\n    tcp-check connect send-proxy\n"
              "    tcp-check send ping\\n\n    tcp-check expect string pong\n"
              "    server s1 127.0.0.1:" +
              std::to_string(server.port()) + " check inter 10s\n");
  int fd = server.accept();
  ASSERT_GE(fd, 0);
  Client check(fd);
  EXPECT_EQ(check.readSome(20, 5s), "PROXY UNKNOWN\r\nping\n");
}

}  // namespace
}  // namespace lb::testing
