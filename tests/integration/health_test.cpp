// Health checks through the real lb-agent, as the guide's reader sees them: stop a backend or
// cut its network and it leaves the pool; bring it back and it rejoins; a server that answers
// wrongly is taken out. The agent's "Server be/s is DOWN" / "is UP" lines are only waited for
// as the moment something happened; what is asserted is which backend answers the clients.
// Intervals are 100 - 300 ms; waits are generous so that a loaded machine does not fail them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "tests/integration/harness.h"
#include "tests/integration/segments.h"

namespace lb::testing {
namespace {

constexpr Millis kEvent = 10s;  // upper bound for "the checks noticed"

std::string config(const std::string& backends, const std::string& frontends = "") {
  return "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n" +
         (frontends.empty() ? "frontend fe\n"
                              "    bind 127.0.0.1:0\n"
                              "    default_backend be\n"
                            : frontends) +
         backends;
}

std::string frontend(const std::string& name, const std::string& backend) {
  return "frontend " + name + "\n    bind 127.0.0.1:0\n    default_backend " + backend + "\n";
}

std::string server(const std::string& name, const std::string& address,
                   const std::string& settings) {
  return "    server " + name + " " + address + " " + settings + "\n";
}

std::string portAddress(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// Sends an HTTP request through the agent; the name of the http-mode backend that answered
// (its X-Backend header), or "" when nothing answered.
std::string httpWho(uint16_t port) {
  Client client("127.0.0.1", port);
  if (!client.connected() || !client.send("GET / HTTP/1.0\r\n\r\n")) return "";
  std::string answer = client.readAll(5s);
  static const std::regex kBackend("X-Backend: ([^\r\n]+)");
  std::smatch match;
  return std::regex_search(answer, match, kBackend) ? match[1].str() : "";
}

// Who answered `n` connections, and how often.
std::map<std::string, int> answers(int n, const std::function<std::string()>& who) {
  std::map<std::string, int> seen;
  for (int i = 0; i < n; ++i) ++seen[who()];
  return seen;
}

std::map<std::string, int> only(const std::string& name, int n) {
  return {{name, n}};
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Waits for the agent to say `pattern` (after output offset `from`).
bool said(Agent& agent, const std::string& pattern, size_t from = 0, Millis timeout = kEvent) {
  return agent.process().waitFor(std::regex(pattern), timeout, from).has_value();
}

// ---- the guide's failover story ----

TEST(HealthTest, StoppedServerLeavesThePoolAndRejoinsWhenItComesBack) {
  Backend web1("web1"), web2("web2");
  Agent agent(
      config("backend be\n"
             "    balance roundrobin\n" +
             server("web1", web1.address(), "check inter 100ms rise 2 fall 2") +
             server("web2", web2.address(), "check inter 100ms rise 2 fall 2")));
  uint16_t port = agent.port("fe");
  auto who = [&] { return whoAnswers(port); };
  auto before = answers(4, who);
  EXPECT_EQ(before["web1"], 2);
  EXPECT_EQ(before["web2"], 2);

  // "Stop apache": connections to it are refused.
  size_t from = agent.process().outputSize();
  uint16_t web2_port = web2.port();
  web2.kill();
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN", from)) << agent.process().output();
  EXPECT_EQ(answers(20, who), only("web1", 20));

  // Back on the same port: after `rise` good checks it takes connections again.
  from = agent.process().outputSize();
  Backend again("web2", "hello", "127.0.0.1", {}, web2_port);
  ASSERT_TRUE(said(agent, "Server be/web2 is UP", from)) << agent.process().output();
  auto after = answers(10, who);
  EXPECT_EQ(after["web1"], 5);
  EXPECT_EQ(after["web2"], 5);
}

// A host in its own network namespace behind a veth link: cutting the link makes its SYNs
// vanish (no RST, no ICMP), as when a server's network is unplugged.
class NetnsHost {
 public:
  NetnsHost() {
    if (::geteuid() != 0) return;
    for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(path, X_OK) == 0) ip_ = path;
    }
    if (ip_.empty()) return;
    int id = static_cast<int>(::getpid());
    std::string tag = std::to_string(id % 100000);
    ns_ = "lbh" + tag;
    host_side_ = "lbh" + tag + "a";
    ns_side_ = "lbh" + tag + "b";
    // 10.C.B.A/30 per process, so concurrent test runs do not collide.
    std::string prefix = "10." + std::to_string(100 + (id / 16384) % 100) + "." +
                         std::to_string((id / 64) % 256) + ".";
    host_address_ = prefix + std::to_string((id % 64) * 4 + 1);
    address_ = prefix + std::to_string((id % 64) * 4 + 2);
    cleanup();
    ok_ = run(ip_ + " netns add " + ns_) &&
          run(ip_ + " link add " + host_side_ + " type veth peer name " + ns_side_) &&
          run(ip_ + " link set " + ns_side_ + " netns " + ns_) &&
          run(ip_ + " addr add " + host_address_ + "/30 dev " + host_side_) &&
          run(ip_ + " link set " + host_side_ + " up") &&
          run(inNs("ip addr add " + address_ + "/30 dev " + ns_side_)) &&
          run(inNs("ip link set " + ns_side_ + " up")) && run(inNs("ip link set lo up")) &&
          // A permanent neighbour entry: with the link cut, packets are dropped silently
          // instead of failing neighbour resolution (EHOSTUNREACH) after a few seconds.
          run(ip_ + " neigh replace " + address_ + " lladdr $(" + inNs("cat /sys/class/net/") +
              ns_side_ + "/address) dev " + host_side_ + " nud permanent");
  }
  ~NetnsHost() {
    process_.reset();
    cleanup();
  }
  bool ok() const { return ok_; }

  // Starts a "hello" lb-demo-backend inside the namespace; returns "ADDRESS:PORT".
  std::string startBackend(const std::string& name) {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{ip_, "netns", "exec", ns_, LB_DEMO_BACKEND_PATH, "--name", name,
                                 "--listen", address_ + ":0", "--mode", "hello"});
    auto match = process_->waitFor(std::regex("listening on .*:([0-9]+)\n"));
    if (!match) return "";
    return address_ + ":" + (*match)[1].str();
  }
  bool cut() { return run(inNs("ip link set " + ns_side_ + " down")); }
  bool restore() { return run(inNs("ip link set " + ns_side_ + " up")); }

 private:
  std::string inNs(const std::string& command) const {
    return ip_ + " netns exec " + ns_ + " " + command;
  }
  static bool run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
  }
  void cleanup() {
    if (ns_.empty()) return;
    run(ip_ + " link del " + host_side_);
    run(ip_ + " netns del " + ns_);
  }

  std::string ip_;
  std::string ns_, host_side_, ns_side_, host_address_, address_;
  std::unique_ptr<Process> process_;
  bool ok_ = false;
};

TEST(HealthTest, ServerWhoseNetworkIsCutLeavesThePoolAndRejoinsWhenItIsBack) {
  NetnsHost host;
  if (!host.ok()) {
    GTEST_SKIP() << "network namespaces are not usable here (needs root and `ip netns`); "
                    "ServerThatNeverAnswersSynIsMarkedDown covers the SYN timeout";
  }
  Backend web1("web1");
  std::string web2 = host.startBackend("web2");
  ASSERT_FALSE(web2.empty());
  Agent agent(
      config("backend be\n"
             "    balance roundrobin\n" +
             server("web1", web1.address(), "check inter 200ms rise 2 fall 2") +
             server("web2", web2, "check inter 200ms rise 2 fall 2")));
  uint16_t port = agent.port("fe");
  auto who = [&] { return whoAnswers(port); };
  auto before = answers(4, who);
  EXPECT_EQ(before["web2"], 2);

  size_t from = agent.process().outputSize();
  ASSERT_TRUE(host.cut());
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN", from)) << agent.process().output();
  EXPECT_EQ(answers(20, who), only("web1", 20));

  from = agent.process().outputSize();
  ASSERT_TRUE(host.restore());
  ASSERT_TRUE(said(agent, "Server be/web2 is UP", from)) << agent.process().output();
  auto after = answers(10, who);
  EXPECT_EQ(after["web1"], 5);
  EXPECT_EQ(after["web2"], 5);
}

TEST(HealthTest, ServerThatNeverAnswersSynIsMarkedDown) {
  // Without namespaces: a listener whose accept queue is full drops SYNs the same way.
  BlackholeListener hole;
  if (!hole.hangs()) GTEST_SKIP() << "the kernel completed every connect; no blackhole here";
  Backend web1("web1");
  Agent agent(config("backend be\n" + server("web1", web1.address(), "check inter 200ms fall 2") +
                     server("web2", portAddress(hole.port()), "check inter 200ms fall 2")));
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN")) << agent.process().output();
  EXPECT_EQ(answers(20, [&] { return whoAnswers(agent.port("fe")); }), only("web1", 20));
}

TEST(HealthTest, ServerThatAcceptsButNeverAnswersFailsAnHttpCheck) {
  RawListener silent("127.0.0.1", 128);  // the kernel accepts; nobody reads or answers
  Backend web1("web1", "http");
  Agent agent(
      config("backend be\n"
             "    option httpchk\n"
             "    timeout check 300ms\n" +
             server("web1", web1.address(), "check inter 200ms fall 2") +
             server("web2", portAddress(silent.port()), "check inter 200ms fall 2")));
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN")) << agent.process().output();
  EXPECT_EQ(answers(20, [&] { return httpWho(agent.port("fe")); }), only("web1", 20));
}

TEST(HealthTest, AnHttpChecksRequestCarriesTheHandshakesLastAck) {
  // As with HAProxy's checks (tcp-smart-connect): the server receives the SYN and then the
  // request, which carries the handshake's last ACK, not an ACK of its own first.
  RawListener listener;
  Agent agent(config("backend be\n    option httpchk GET /\n" +
                     server("s", portAddress(listener.port()), "check inter 10s")));
  int fd = listener.accept(10s);
  ASSERT_GE(fd, 0) << "no check came";
  Client check(fd);
  std::string request;
  while (auto line = check.readLine(5s)) {
    request += *line + "\n";
    if (*line == "\r") break;  // the end of the headers
  }
  ASSERT_EQ(request.rfind("GET / HTTP/1.0\r\n", 0), 0u) << request;
  uint32_t segments = segmentsIn(fd);
  ASSERT_GT(segments, 0u) << "TCP_INFO is not available";
  EXPECT_EQ(segments, 2u) << "the SYN and the request; 3 when the ACK travelled alone";
  check.send("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  check.shutdownWrite();
  EXPECT_TRUE(check.closedByPeer(5s));
}

// ---- checks that expect an application answer ----

TEST(HealthTest, HttpCheckTakesOutServersWithTheWrongStatus) {
  Backend ok("ok", "http");
  Backend unavailable("unavailable", "http", "127.0.0.1", {"--status", "503"});
  Backend moved("moved", "http", "127.0.0.1", {"--status", "302"});
  // Answers, not timeouts, are tested here: `timeout check 2s` keeps a slow answer on a loaded
  // machine from failing a check.
  std::string settings = "check inter 100ms fall 1";
  Agent agent(config(
      // Without http-check expect: 2xx and 3xx pass.
      "backend be_default\n"
      "    option httpchk GET /\n"
      "    timeout check 2s\n" +
          server("ok", ok.address(), settings) +
          server("unavailable", unavailable.address(), settings) +
          server("moved", moved.address(), settings) +
          // With it, only the listed status.
          "backend be_status\n"
          "    option httpchk GET /\n"
          "    timeout check 2s\n"
          "    http-check expect status 200\n" +
          server("ok", ok.address(), settings) + server("moved", moved.address(), settings),
      frontend("fe_default", "be_default") + frontend("fe_status", "be_status")));
  ASSERT_TRUE(said(agent, "Server be_default/unavailable is DOWN")) << agent.process().output();
  ASSERT_TRUE(said(agent, "Server be_status/moved is DOWN")) << agent.process().output();
  // No client connection goes to a server once it is down, though it still accepts and answers.
  auto by_default = answers(20, [&] { return httpWho(agent.port("fe_default")); });
  EXPECT_EQ(by_default["ok"], 10);
  EXPECT_EQ(by_default["moved"], 10);
  EXPECT_EQ(by_default.count("unavailable"), 0u);
  EXPECT_EQ(answers(20, [&] { return httpWho(agent.port("fe_status")); }), only("ok", 20));
}

TEST(HealthTest, HttpCheckTakesOutServersWhoseBodyDoesNotMatch) {
  Backend web1("web1", "http");
  Backend web2("web2", "http", "127.0.0.1", {"--body", "under maintenance"});
  std::string settings = "check inter 100ms fall 1";
  std::string servers =
      server("web1", web1.address(), settings) + server("web2", web2.address(), settings);
  Agent agent(
      config("backend be_rstring\n"
             "    option httpchk\n"
             "    timeout check 2s\n"
             "    http-check expect rstring \"Served by web[0-9]+\"\n" +
                 servers +
                 "backend be_negated\n"
                 "    option httpchk\n"
                 "    timeout check 2s\n"
                 "    http-check expect ! string maintenance\n" +
                 servers,
             frontend("fe_rstring", "be_rstring") + frontend("fe_negated", "be_negated")));
  ASSERT_TRUE(said(agent, "Server be_rstring/web2 is DOWN")) << agent.process().output();
  ASSERT_TRUE(said(agent, "Server be_negated/web2 is DOWN")) << agent.process().output();
  EXPECT_EQ(answers(10, [&] { return httpWho(agent.port("fe_rstring")); }), only("web1", 10));
  // `!` passes web1 (no "maintenance" in its page): it keeps answering.
  EXPECT_EQ(answers(10, [&] { return httpWho(agent.port("fe_negated")); }), only("web1", 10));
}

TEST(HealthTest, TcpCheckSendAndExpectRules) {
  Backend web1("web1", "http");
  Backend maintenance("web2", "http", "127.0.0.1", {"--body", "under maintenance"});
  Backend failing("web3", "http", "127.0.0.1", {"--status", "500"});
  std::string settings = "check inter 100ms fall 1";
  Agent agent(config(
      "backend be\n"
      "    option tcp-check\n"
      "    timeout check 2s\n"
      "    tcp-check send \"GET / HTTP/1.0\\r\\n\\r\\n\"\n"
      "    tcp-check expect string \"200 OK\"\n"
      "    tcp-check expect ! string maintenance\n"
      "    tcp-check expect rstring \"X-Backend: web[0-9]\"\n" +
      server("web1", web1.address(), settings) + server("web2", maintenance.address(), settings) +
      server("web3", failing.address(), settings)));
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN")) << agent.process().output();
  ASSERT_TRUE(said(agent, "Server be/web3 is DOWN")) << agent.process().output();
  EXPECT_EQ(answers(20, [&] { return httpWho(agent.port("fe")); }), only("web1", 20));
}

// ---- passive checks ----

TEST(HealthTest, PassiveChecksMarkDownLongBeforeTheNextActiveCheck) {
  Backend web1("web1"), web2("web2");
  // Active checks every 30 s: web2's first one is 15 s away (first checks are spread).
  Agent agent(
      config("backend be\n"
             "    balance roundrobin\n"
             "    retries 3\n"
             "    timeout connect 500ms\n" +
             server("web1", web1.address(), "check inter 30s") +
             server("web2", web2.address(),
                    "check inter 30s observe layer4 error-limit 2 on-error mark-down")));
  Stopwatch clock;
  web2.kill();
  uint16_t port = agent.port("fe");
  // The connection that goes to web2 is retried there, fails again (error-limit reached) and is
  // redispatched: every client is answered by web1, including the one that tripped the limit.
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) ++seen[whoAnswers(port)];
  EXPECT_EQ(seen, only("web1", 6));
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN", 0, 5s)) << agent.process().output();
  EXPECT_LT(clock.elapsed(), 12s);
  EXPECT_EQ(answers(20, [&] { return whoAnswers(port); }), only("web1", 20));
}

// ---- at scale ----

TEST(HealthTest, FiveThousandServersFailingAtOnceAreAllMarkedDownWithinTheirInterval) {
  // A rack lost at once: every server of a big backend fails its first check in the same
  // second. Each DOWN must stay cheap (it used to rebuild the backend's balancer in
  // O(servers^2): this took minutes, checks were reported tens of seconds late, and SIGTERM
  // waited behind them).
  constexpr int kServers = 5000;
  Backend web1("web1");
  uint16_t refused = refusedPort();
  std::string servers = server("web1", web1.address(), "check inter 1s");
  for (int i = 0; i < kServers; ++i) {
    servers += server("d" + std::to_string(i), portAddress(refused), "check inter 1s fall 1");
  }
  Agent agent(config("backend be\n    balance roundrobin\n" + servers));
  // First checks are spread over the interval, in configuration order: d4999's comes last.
  auto last = agent.process().waitFor(std::regex("Server be/d" + std::to_string(kServers - 1) +
                                                 " is DOWN.*check duration: ([0-9]+)ms"),
                                      30s);
  ASSERT_TRUE(last.has_value()) << "DOWN so far: "
                                << occurrences(agent.process().output(), " is DOWN");
  // A refused connect is answered at once; it must not be reported as having taken seconds.
  EXPECT_LT(std::stoi((*last)[1].str()), 1000);
  std::string out = agent.process().output();
  EXPECT_EQ(occurrences(out, " is DOWN"), static_cast<size_t>(kServers));
  EXPECT_NE(out.find("1 active and 0 backup servers left"), std::string::npos);
  EXPECT_EQ(answers(10, [&] { return whoAnswers(agent.port("fe")); }), only("web1", 10));
  agent.process().signal(SIGTERM);
  EXPECT_EQ(agent.process().wait(5s), 0);
}

// ---- what follows from a server going down ----

TEST(HealthTest, BackupTakesOverWhenTheActiveServerFailsItsCheck) {
  Backend web1("web1"), spare("spare");
  Agent agent(config("backend be\n" + server("web1", web1.address(), "check inter 100ms fall 2") +
                     server("spare", spare.address(), "check inter 100ms fall 2 backup")));
  uint16_t port = agent.port("fe");
  auto who = [&] { return whoAnswers(port); };
  EXPECT_EQ(answers(6, who), only("web1", 6));  // the backup waits while an active is up

  size_t from = agent.process().outputSize();
  web1.kill();
  ASSERT_TRUE(said(agent, "Server be/web1 is DOWN", from)) << agent.process().output();
  EXPECT_EQ(answers(10, who), only("spare", 10));

  // And with the backup gone too, nothing is left: connections are closed unanswered.
  from = agent.process().outputSize();
  spare.kill();
  ASSERT_TRUE(said(agent, "backend be has no server available!", from)) << agent.process().output();
  Client client("127.0.0.1", port);
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.closedByPeer(5s));
}

TEST(HealthTest, OnMarkedDownShutdownSessionsClosesRunningSessions) {
  Backend web1("web1"), web2("web2"), web3("web3");
  // web2 and web3 are checked on ports the test controls (`port`, `addr`): closing them fails
  // the checks while the servers themselves, and their sessions, stay alive.
  auto check2 = std::make_unique<RawListener>("127.0.0.1", 128);
  auto check3 = std::make_unique<RawListener>("127.0.0.1", 128);
  Agent agent(
      config("backend be\n"
             "    balance roundrobin\n" +
             server("web1", web1.address(), "check inter 100ms") +
             server("web2", web2.address(),
                    "check port " + std::to_string(check2->port()) +
                        " inter 100ms fall 1 on-marked-down shutdown-sessions") +
             server("web3", web3.address(),
                    "check addr 127.0.0.1 port " + std::to_string(check3->port()) +
                        " inter 100ms fall 1")));
  uint16_t port = agent.port("fe");
  std::map<std::string, Client> held;
  for (int i = 0; i < 6 && held.size() < 3; ++i) {
    Client client("127.0.0.1", port);
    auto name = client.readLine();
    ASSERT_TRUE(name.has_value());
    held.emplace(*name, std::move(client));
  }
  ASSERT_EQ(held.size(), 3u);

  size_t from = agent.process().outputSize();
  check2.reset();
  check3.reset();
  ASSERT_TRUE(said(agent, "Server be/web2 is DOWN", from)) << agent.process().output();
  ASSERT_TRUE(said(agent, "Server be/web3 is DOWN", from)) << agent.process().output();
  // web2's session is closed by the agent; web3's (no shutdown-sessions) goes on.
  EXPECT_TRUE(held.at("web2").closedByPeer(5s));
  ASSERT_TRUE(held.at("web3").send("still there?\n"));
  EXPECT_EQ(held.at("web3").readLine(), "still there?");
  ASSERT_TRUE(held.at("web1").send("and here?\n"));
  EXPECT_EQ(held.at("web1").readLine(), "and here?");
  EXPECT_EQ(answers(6, [&] { return whoAnswers(port); }), only("web1", 6));
}

}  // namespace
}  // namespace lb::testing
