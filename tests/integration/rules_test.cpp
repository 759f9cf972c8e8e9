// Layer-4 rules with real traffic: SNI routing of a real TLS ClientHello (openssl s_client) to
// two TLS servers without terminating TLS, a source allow-list, dst_port switching between
// two listening ports, a stick-table rate limit, `stick on src` across connections and
// reloads, use-server, and what a rule-closed connection counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string defaults() {
  return "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n"
         "    timeout server 30s\n";
}

// What the server behind lb said first ("a", "b" ... from a hello backend), or "" when the
// connection was closed without a word.
std::string greeting(uint16_t port, const std::string& source = "") {
  Client client("127.0.0.1", port, source);
  if (!client.connected()) return "";
  return client.readLine(5s).value_or("");
}

// Runs a shell command and returns its output (stdout and stderr).
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  ::pclose(pipe);
  return out;
}

// A TLS server (openssl s_server) whose certificate names `host`; it never sees lb's hands on
// the handshake, so the certificate a client gets says which server it reached.
class TlsServer {
 public:
  TlsServer(const TempDir& dir, const std::string& host) {
    std::string key = dir.path() + "/" + host + ".key";
    std::string crt = dir.path() + "/" + host + ".crt";
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
        " -out " + crt + " -subj /CN=" + host + " -days 2");
    process_ = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/openssl", "s_server",
                                                                  "-accept", "127.0.0.1:0", "-cert",
                                                                  crt, "-key", key, "-www"});
    auto match = process_->waitFor(std::regex("ACCEPT 127.0.0.1:([0-9]+)"), 10s);
    if (match) port_ = static_cast<uint16_t>(std::stoi((*match)[1]));
  }
  uint16_t port() const { return port_; }

 private:
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

// The subject of the certificate a TLS client got through lb asking for `sni`.
std::string certificateThrough(uint16_t port, const std::string& sni) {
  std::string out = run("timeout 10 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                        " -servername " + sni + " </dev/null");
  std::smatch m;
  if (std::regex_search(out, m, std::regex("subject=CN ?= ?([^\n]+)"))) return m[1];
  return "";
}

TEST(RulesTest, RoutesATlsClientHelloBySniWithoutTerminatingTls) {
  TempDir dir;
  TlsServer a(dir, "a.example.com");
  TlsServer b(dir, "b.example.com");
  ASSERT_NE(a.port(), 0);
  ASSERT_NE(b.port(), 0);
  Backend other("other");
  Agent agent(defaults() +
              "frontend tls\n    bind 127.0.0.1:0\n"
              "    tcp-request inspect-delay 5s\n"
              "    tcp-request content accept if { req_ssl_hello_type 1 }\n"
              "    acl to_a req.ssl_sni -i a.example.com\n"
              "    use_backend be_a if to_a\n"
              "    use_backend be_b if { req.ssl_sni -m end .example.com }\n"
              "    default_backend be_other\n"
              "backend be_a\n    server a 127.0.0.1:" +
              std::to_string(a.port()) +
              "\n"
              "backend be_b\n    server b 127.0.0.1:" +
              std::to_string(b.port()) +
              "\n"
              "backend be_other\n    server other " +
              other.address() + "\n");
  EXPECT_EQ(certificateThrough(agent.port("tls"), "a.example.com"), "a.example.com");
  EXPECT_EQ(certificateThrough(agent.port("tls"), "A.EXAMPLE.COM"), "a.example.com");
  EXPECT_EQ(certificateThrough(agent.port("tls"), "b.example.com"), "b.example.com");
  EXPECT_EQ(certificateThrough(agent.port("tls"), "www.example.com"), "b.example.com");
  // Not TLS at all: the rules decide at once (no wait for inspect-delay), default backend.
  auto started = std::chrono::steady_clock::now();
  Client plain("127.0.0.1", agent.port("tls"));
  ASSERT_TRUE(plain.send("PING\n"));
  EXPECT_EQ(plain.readLine(4s).value_or(""), "other");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
}

TEST(RulesTest, ASilentClientIsRoutedWhenInspectDelayEnds) {
  Backend first("first");
  Backend tls("tls");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    tcp-request inspect-delay 300ms\n"
              "    tcp-request content accept if { req.ssl_hello_type 1 }\n"
              "    use_backend be_tls if { req.ssl_hello_type 1 }\n"
              "    default_backend be_first\n"
              "backend be_first\n    server s " +
              first.address() +
              "\n"
              "backend be_tls\n    server s " +
              tls.address() + "\n");
  // Servers that speak first (SSH, SMTP, MySQL) still work behind inspect-delay: the client
  // says nothing, and after the delay it goes to the default backend.
  EXPECT_EQ(greeting(agent.port("fe")), "first");
}

TEST(RulesTest, AClientThatClosesItsSideIsRoutedWithoutWaitingForInspectDelay) {
  Backend app("app");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    tcp-request inspect-delay 20s\n"
              "    tcp-request content accept if { req.len ge 100 }\n"
              "    default_backend be\n"
              "backend be\n    server s " +
              app.address() + "\n");
  auto started = std::chrono::steady_clock::now();
  Client client("127.0.0.1", agent.port("fe"));
  ASSERT_TRUE(client.send("short\n"));
  client.shutdownWrite();  // no more bytes will come: the rules decide now
  EXPECT_EQ(client.readLine(10s).value_or(""), "app");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(RulesTest, ASourceAllowListRejectsOtherClients) {
  Backend app("app");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    acl allowed src 127.0.0.2 10.0.0.0/8\n"
              "    tcp-request connection reject unless allowed\n"
              "    default_backend be\n"
              "backend be\n    server s " +
              app.address() + "\n");
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.2"), "app");
  Client refused("127.0.0.1", agent.port("fe"), "127.0.0.3");
  ASSERT_TRUE(refused.connected());
  EXPECT_TRUE(refused.closedByPeer(5s));
  // `tcp-request content reject` works the same on a later stage, with the client's bytes.
  Agent content(defaults() +
                "frontend fe\n    bind 127.0.0.1:0\n"
                "    tcp-request inspect-delay 2s\n"
                "    tcp-request content reject if { req.payload(0,4) -m str QUIT }\n"
                "    default_backend be\n"
                "backend be\n    server s " +
                app.address() + "\n");
  Client quitter("127.0.0.1", content.port("fe"));
  ASSERT_TRUE(quitter.send("QUIT please\n"));
  EXPECT_TRUE(quitter.closedByPeer(5s));
  Client talker("127.0.0.1", content.port("fe"));
  ASSERT_TRUE(talker.send("HELO\n"));
  EXPECT_EQ(talker.readLine(5s).value_or(""), "app");
}

// Two ports the kernel says are free now (bound, then released for the agent to take).
std::array<uint16_t, 2> freePorts() {
  std::array<uint16_t, 2> ports{};
  std::array<int, 2> fds{};
  for (size_t i = 0; i < 2; ++i) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t length = sizeof addr;
    ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&addr), &length);
    ports[i] = ntohs(addr.sin_port);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

TEST(RulesTest, DstPortSwitchesBackends) {
  Backend mail("mail");
  Backend web("web");
  auto ports = freePorts();
  Agent agent(defaults() + "frontend fe\n    bind 127.0.0.1:" + std::to_string(ports[0]) +
              "\n"
              "    bind 127.0.0.1:" +
              std::to_string(ports[1]) +
              "\n"
              "    use_backend be_mail if { dst_port " +
              std::to_string(ports[1]) +
              " }\n"
              "    default_backend be_web\n"
              "backend be_mail\n    server s " +
              mail.address() +
              "\n"
              "backend be_web\n    server s " +
              web.address() + "\n");
  EXPECT_EQ(greeting(ports[0]), "web");
  EXPECT_EQ(greeting(ports[1]), "mail");
}

TEST(RulesTest, AStickTableRateLimitRejectsTheConnectionOverTheLimit) {
  Backend app("app");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    stick-table type ip size 100k expire 60s store conn_rate(60s),conn_cur\n"
              "    tcp-request connection track-sc0 src\n"
              "    tcp-request connection reject if { sc0_conn_rate gt 3 }\n"
              "    default_backend be\n"
              "backend be\n    server s " +
              app.address() + "\n");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.2"), "app") << i;
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.2"), "");  // the 4th within the period
  // Another client has its own count.
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.3"), "app");
}

TEST(RulesTest, ShowTableAndDeniedCountsSayWhatTheRulesDid) {
  Backend app("app");
  TempDir dir;
  std::string sock = dir.path() + "/admin.sock";
  Agent agent("global\n    stats socket " + sock + " level admin\n" + defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    stick-table type ip size 100k expire 60s store conn_cnt,conn_rate(60s)\n"
              "    tcp-request connection track-sc0 src\n"
              "    tcp-request connection reject if { sc0_conn_rate gt 2 }\n"
              "    tcp-request inspect-delay 500ms\n"
              "    tcp-request content reject if { req.payload(0,4) -m str QUIT }\n"
              "    default_backend be\n"
              "backend be\n    server s " +
              app.address() + "\n");
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.7"), "app");
  Client quitter("127.0.0.1", agent.port("fe"), "127.0.0.7");
  ASSERT_TRUE(quitter.send("QUIT\n"));
  EXPECT_TRUE(quitter.closedByPeer(5s));
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.7"), "");  // the third: over the rate
  std::string table = run("echo 'show table fe' | socat -t 5 - UNIX-CONNECT:" + sock);
  EXPECT_THAT(table, HasSubstr("# table: fe, type: ip, size:102400, used:1"));
  EXPECT_THAT(table, HasSubstr("key=127.0.0.7 use="));
  EXPECT_THAT(table, HasSubstr("conn_cnt=3 conn_rate(60000)=3"));
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  ASSERT_EQ(status.frontends_size(), 1);
  EXPECT_EQ(status.frontends(0).denied_connections(), 1u);
  EXPECT_EQ(status.frontends(0).denied_requests(), 1u);
  // Cleared, the client starts over.
  run("echo 'clear table fe key 127.0.0.7' | socat -t 5 - UNIX-CONNECT:" + sock);
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.7"), "app");
}

TEST(RulesTest, ExpectProxyLayer4ReadsAProxyHeaderFromTrustedSourcesOnly) {
  Backend app("app");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    tcp-request connection expect-proxy layer4 if { src 127.0.0.2 }\n"
              "    default_backend be\n"
              "backend be\n    server s " +
              app.address() + "\n");
  Client tier("127.0.0.1", agent.port("fe"), "127.0.0.2");
  ASSERT_TRUE(tier.send("PROXY TCP4 203.0.113.7 127.0.0.1 51234 80\r\n"));
  EXPECT_EQ(tier.readLine(5s).value_or(""), "app");
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  ASSERT_EQ(status.frontends_size(), 1);
  EXPECT_EQ(status.frontends(0).last_proxied_client(), "203.0.113.7:51234");
  // Anyone else is not expected to send one: served as it comes.
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.3"), "app");
}

TEST(RulesTest, ConcurrentConnectionLimitPerSourceFromABackendTable) {
  Backend app("app");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    tcp-request content track-sc1 src table per_ip\n"
              "    tcp-request content reject if { sc1_conn_cur gt 2 }\n"
              "    default_backend be\n"
              "backend per_ip\n    stick-table type ip size 1k expire 30s store conn_cur\n"
              "backend be\n    server s " +
              app.address() + "\n");
  Client one("127.0.0.1", agent.port("fe"), "127.0.0.4");
  Client two("127.0.0.1", agent.port("fe"), "127.0.0.4");
  EXPECT_EQ(one.readLine(5s).value_or(""), "app");
  EXPECT_EQ(two.readLine(5s).value_or(""), "app");
  EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.4"), "");  // a third at once
  ASSERT_TRUE(one.closeGracefully());
  // One gone, room for one more (conn_cur counts down when a connection ends).
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    admitted = greeting(agent.port("fe"), "127.0.0.4") == "app";
  }
  EXPECT_TRUE(admitted);
}

std::string stickConfig(const std::string& s1, const std::string& s2, const std::string& s3,
                        const std::string& retries) {
  return defaults() +
         "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
         "backend be\n    balance roundrobin\n    retries " +
         retries +
         "\n"
         "    stick-table type ip size 1k expire 10m\n"
         "    stick on src\n"
         "    default-server check inter 200ms fall 1\n"
         "    server s1 " +
         s1 + "\n    server s2 " + s2 + "\n    server s3 " + s3 + "\n";
}

TEST(RulesTest, StickOnSrcKeepsAClientOnItsServerAcrossConnectionsAndReloads) {
  Backend s1("s1");
  Backend s2("s2");
  Backend s3("s3");
  Agent agent(stickConfig(s1.address(), s2.address(), s3.address(), "3"));
  std::map<std::string, std::string> first;
  for (const std::string source : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    first[source] = greeting(agent.port("fe"), source);
    ASSERT_FALSE(first[source].empty());
  }
  // Round robin alone would spread these; the table keeps each client where it was.
  for (int round = 0; round < 4; ++round) {
    for (const auto& [source, server] : first) {
      EXPECT_EQ(greeting(agent.port("fe"), source), server) << source;
    }
  }
  std::set<std::string> distinct;
  for (const auto& [source, server] : first) distinct.insert(server);
  EXPECT_EQ(distinct.size(), 3u);  // round robin gave the three clients three servers
  ASSERT_TRUE(agent.reload(stickConfig(s1.address(), s2.address(), s3.address(), "2")));
  for (const auto& [source, server] : first) {
    EXPECT_EQ(greeting(agent.port("fe"), source), server) << source << " after the reload";
  }
  // A stuck client whose server is marked DOWN goes elsewhere (the balancer picks a usable one).
  const std::string lost = first["127.0.0.2"];
  (lost == "s1" ? s1 : lost == "s2" ? s2 : s3).kill();
  bool moved = false;
  for (int attempt = 0; attempt < 20 && !moved; ++attempt) {
    std::string got = greeting(agent.port("fe"), "127.0.0.2");
    moved = !got.empty() && got != lost;
  }
  EXPECT_TRUE(moved);
}

TEST(RulesTest, UseServerPinsMatchingClients) {
  Backend s1("s1");
  Backend s2("s2");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
              "backend be\n    balance roundrobin\n"
              "    use-server s2 if { src 127.0.0.5 }\n"
              "    server s1 " +
              s1.address() + "\n    server s2 " + s2.address() + "\n");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(greeting(agent.port("fe"), "127.0.0.5"), "s2");
  std::set<std::string> others;
  for (int i = 0; i < 4; ++i) others.insert(greeting(agent.port("fe"), "127.0.0.6"));
  EXPECT_EQ(others, (std::set<std::string>{"s1", "s2"}));
}

TEST(RulesTest, NbsrvRoutesAroundABackendWithoutServers) {
  Backend spare("spare");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n"
              "    use_backend be_spare if { nbsrv(be_main) lt 1 }\n"
              "    default_backend be_main\n"
              "backend be_main\n    server s 127.0.0.1:1 disabled\n"
              "backend be_spare\n    server s " +
              spare.address() + "\n");
  EXPECT_EQ(greeting(agent.port("fe")), "spare");
}

}  // namespace
}  // namespace lb::testing
