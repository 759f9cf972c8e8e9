// HAProxy's Runtime API on `stats socket`, driven by the clients HAProxy users already run:
// socat scripts (a rolling drain), hatop in tmux, the Prometheus HAProxy exporter; HAProxy's
// framing, levels and messages byte for byte where scripts depend on them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string config(const std::string& sockets, const std::string& s1, const std::string& s2,
                   const std::string& balance = "roundrobin") {
  return "global\n" + sockets +
         "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\nfrontend web\n    bind 127.0.0.1:0\n    default_backend be\n"
         "backend be\n    balance " +
         balance + "\n    server s1 " + s1 + " check inter 200ms fall 1 rise 1\n    server s2 " +
         s2 + " check inter 200ms fall 1 rise 1 weight 3\n";
}

// `input` sent with socat (the real one) to `target` ("UNIX-CONNECT:/path", "TCP:host:port");
// what came back.
std::string socat(const TempDir& dir, const std::string& target, const std::string& input) {
  static int n = 0;
  std::string file = dir.write("input" + std::to_string(n++), input);
  Process process({"/bin/sh", "-c", "socat -t 5 - " + target + " < " + file});
  return process.finalOutput(20s);
}

TEST(RuntimeApiTest, ARollingDrainScriptWithSocatWaitsForTheLastConnection) {
  Backend web1("web1"), web2("web2");
  TempDir dir;
  std::string sock = dir.path() + "/admin.sock";
  Agent agent(config("    stats socket " + sock + " mode 600 level admin\n", web1.address(),
                     web2.address(), "first"));
  ASSERT_TRUE(std::filesystem::is_socket(sock)) << agent.process().output();
  EXPECT_EQ(std::filesystem::status(sock).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A client of s1 that stays (balance first: the first connection goes to s1).
  Client held("127.0.0.1", agent.port("web"));
  ASSERT_EQ(held.readLine(), "web1");
  // The playbook step HAProxy users script: drain, wait for scur 0, maint, later ready.
  std::string script = dir.write(
      "drain.sh", "set -e\nS=\"socat - UNIX-CONNECT:" + sock +
                      "\"\n"
                      "echo 'set server be/s1 state drain' | $S\n"
                      "echo drained\n"
                      "for i in $(seq 300); do\n"
                      "  scur=$(echo 'show stat' | $S | awk -F, '$1==\"be\" && "
                      "$2==\"s1\" {print $5}')\n"
                      "  [ \"$scur\" = 0 ] && break\n"
                      "  sleep 0.1\n"
                      "done\n"
                      "echo \"scur $scur\"\n"
                      "echo 'set server be/s1 state maint' | $S\n"
                      "echo 'show stat' | $S | awk -F, '$2==\"s1\" {print \"status \" $18}'\n"
                      "echo 'set server be/s1 state ready' | $S\n"
                      "echo done\n");
  Process drain({"/bin/sh", script});
  ASSERT_TRUE(drain.waitFor(std::regex("drained\n")));
  // While s1 drains, new clients go to s2 and the held one keeps working.
  EXPECT_EQ(whoAnswers(agent.port("web")), "web2");
  std::string stat = socat(dir, "UNIX-CONNECT:" + sock, "show stat\n");
  EXPECT_THAT(stat, ::testing::ContainsRegex("\nbe,s1,0,,1,[^\n]*,DRAIN,"));
  EXPECT_FALSE(drain.waitFor(std::regex("scur"), 500ms));  // still waiting for the client
  ASSERT_TRUE(held.send("bye\n"));
  EXPECT_EQ(held.readLine(), "bye");
  held.close();
  EXPECT_EQ(drain.wait(30s), 0) << drain.finalOutput();
  std::string out = drain.finalOutput();
  // (each `set` answers an empty line)
  EXPECT_EQ(out, "\ndrained\nscur 0\n\nstatus MAINT\n\ndone\n");
  // Each change went the way SetServerState goes: events with who made them.
  ApiClient api(agent.grpcAddress());
  std::vector<std::string> changes;
  for (const auto& e : api.heldEvents(lb::v1::Event::ADMIN_STATE)) {
    changes.push_back(e.old_state() + "->" + e.new_state() + " " + e.origin());
  }
  std::string origin = "stats socket " + sock;
  EXPECT_EQ(changes, (std::vector<std::string>{"READY->DRAIN " + origin, "DRAIN->MAINT " + origin,
                                               "MAINT->READY " + origin}));
}

TEST(RuntimeApiTest, FramingLevelsAndMessagesAreHaproxys) {
  Backend web1("web1"), web2("web2");
  TempDir dir;
  std::string admin = "UNIX-CONNECT:" + dir.path() + "/admin.sock";
  std::string user = "UNIX-CONNECT:" + dir.path() + "/user.sock";
  std::string oper = "UNIX-CONNECT:" + dir.path() + "/operator.sock";
  Agent agent(config("    stats socket " + dir.path() + "/admin.sock level admin\n" +
                         "    stats socket " + dir.path() + "/user.sock level user\n" +
                         "    stats socket " + dir.path() + "/operator.sock\n",
                     web1.address(), web2.address()));
  // Non-interactive: each command's answer and an empty line, then the connection closes.
  EXPECT_EQ(socat(dir, admin, "show backend;get weight be/s2\n"),
            "# name\nbe\n\n3 (initial 3)\n\n");
  // Interactive: "> " after each answer; quit closes without a word.
  EXPECT_EQ(socat(dir, admin, "prompt\nshow backend\nget weight be/s2;show cli level\nquit\n"),
            "\n> # name\nbe\n\n> 3 (initial 3)\n\n> admin\n\n> ");
  EXPECT_EQ(socat(dir, admin, "set weight be/s2 50%\n"), "\n");
  EXPECT_EQ(socat(dir, admin, "get weight be/s2\n"), "1 (initial 3)\n\n");
  EXPECT_EQ(socat(dir, admin, "set weight be/s2 257\n"),
            "Absolute weight can only be between 0 and 256 inclusive.\n\n");
  EXPECT_EQ(socat(dir, admin, "set weight be/s2 abc\n"),
            "Empty weight string empty or preceded by garbage\n");
  EXPECT_EQ(socat(dir, admin, "disable server be/nope\n"), "No such server.\n\n");
  EXPECT_EQ(socat(dir, admin, "disable server nope/s1\n"), "No such backend.\n\n");
  EXPECT_EQ(socat(dir, admin, "disable server be\n"), "Require 'backend/server'.\n\n");
  EXPECT_EQ(socat(dir, admin, "set server be/s1 state bogus\n"),
            "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
  EXPECT_EQ(socat(dir, admin, "show servers state nope\n"), "Can't find backend.\n\n");
  EXPECT_THAT(socat(dir, admin, "set maxconn server be/s1 10\n"), HasSubstr("not supported by lb"));
  EXPECT_THAT(socat(dir, admin, "foo\n"),
              HasSubstr("Unknown command, but maybe one of the following ones is a better match"));
  EXPECT_THAT(socat(dir, admin, "\n"),
              HasSubstr("Unknown command. Please enter one of the following commands only:\n"));
  // Levels: user reads, operator also clears and shows sessions, admin changes.
  EXPECT_EQ(socat(dir, user, "disable server be/s1\n"), "Permission denied\n\n");
  EXPECT_EQ(socat(dir, user, "clear counters\n"), "Permission denied\n\n");
  EXPECT_EQ(socat(dir, user, "get weight be/s1\n"), "1 (initial 1)\n\n");
  EXPECT_EQ(socat(dir, oper, "show cli level\n"), "operator\n\n");  // HAProxy's default
  EXPECT_EQ(socat(dir, oper, "clear counters\n"), "\n");
  EXPECT_EQ(socat(dir, oper, "set server be/s1 state drain\n"), "Permission denied\n\n");
  EXPECT_EQ(socat(dir, oper, "prompt\nuser\nclear counters\nshow cli level\n"),
            "\n> \n> Permission denied\n\n> user\n\n> ");
  EXPECT_EQ(socat(dir, user, "operator\n"), "Permission denied\n\n");  // never up

  // show stat: HAProxy's 128 columns, every row as long, ending in ','.
  std::string stat = socat(dir, admin, "show stat\n");
  ASSERT_EQ(stat.rfind("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,", 0), 0u) << stat;
  std::vector<std::string> rows;
  std::istringstream lines(stat);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 128) << line;
    EXPECT_EQ(line.back(), ',');
    rows.push_back(line.substr(0, line.find(',', line.find(',') + 1)));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"# pxname,svname", "web,FRONTEND", "be,s1", "be,s2",
                                            "be,BACKEND"}));
  EXPECT_THAT(socat(dir, admin, "show stat -1 4 -1\n"), ::testing::Not(HasSubstr("BACKEND")));
  EXPECT_EQ(socat(dir, admin, "show stat nope -1 -1\n"), "No such proxy.\n\n");
  // Over TCP too.
  std::string info = socat(dir, admin, "show info\n");
  for (const char* key : {"Name: ", "Version: ", "Release_date: ", "Nbproc: ", "Process_num: ",
                          "Pid: ", "Uptime: ", "Maxconn: ", "CurrConns: ", "Maxpipes: ",
                          "PipesUsed: ", "Tasks: ", "Run_queue: ", "node: "}) {
    EXPECT_TRUE(info.rfind(key, 0) == 0 || info.find(std::string("\n") + key) != std::string::npos)
        << key;  // what hatop requires
  }
}

TEST(RuntimeApiTest, SocketsFollowTheConfigurationAndAnIdleClientIsClosed) {
  Backend web1("web1"), web2("web2");
  TempDir dir;
  std::string a = dir.path() + "/a.sock", b = dir.path() + "/b.sock";
  Agent agent(config("    stats socket " + a + " level admin\n    stats timeout 1s\n",
                     web1.address(), web2.address()));
  ASSERT_TRUE(std::filesystem::is_socket(a));
  // An idle connection is closed after `stats timeout` (1s here, 10s by default), without a
  // word.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", a.c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    Client idle(fd);
    Stopwatch watch;
    EXPECT_TRUE(idle.closedByPeer(6s));
    EXPECT_LT(watch.elapsed(), 6s);
  }
  ASSERT_TRUE(agent.reload(
      config("    stats socket " + b + " level user\n", web1.address(), web2.address())));
  ASSERT_TRUE(agent.process().waitFor(std::regex("Runtime API listening on " + b)));
  EXPECT_FALSE(std::filesystem::exists(a));
  EXPECT_EQ(socat(dir, "UNIX-CONNECT:" + b, "show cli level\n"), "user\n\n");
  agent.process().signal(SIGTERM);
  ASSERT_EQ(agent.process().wait(), 0);
  EXPECT_FALSE(std::filesystem::exists(b));  // removed at exit
}

TEST(RuntimeApiTest, ThePrometheusHaproxyExporterExportsLbsServers) {
  Backend web1("web1");
  TempDir dir;
  std::string sock = dir.path() + "/admin.sock";
  uint16_t gone;
  {
    RawListener unused;
    gone = unused.port();
  }
  Agent agent(config("    stats socket " + sock + " level admin\n", web1.address(),
                     "127.0.0.1:" + std::to_string(gone)));
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server be/s2 is DOWN")));
  uint16_t port;
  {
    RawListener probe;
    port = probe.port();
  }
  Process exporter({"/usr/bin/prometheus-haproxy-exporter", "--haproxy.scrape-uri=unix:" + sock,
                    "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  std::string metrics;
  Stopwatch watch;
  while (watch.elapsed() < 30s) {
    metrics = httpGet("127.0.0.1:" + std::to_string(port), "/metrics").body;
    if (metrics.find("haproxy_server_up{") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_THAT(metrics, HasSubstr("haproxy_up 1"));
  EXPECT_THAT(metrics, HasSubstr("haproxy_server_up{backend=\"be\",server=\"s1\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("haproxy_server_up{backend=\"be\",server=\"s2\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("haproxy_backend_up{backend=\"be\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("haproxy_exporter_csv_parse_failures_total 0"));
}

TEST(RuntimeApiTest, HatopShowsLbsProxiesAndServers) {
  Backend web1("web1");
  TempDir dir;
  std::string sock = dir.path() + "/admin.sock";
  Agent agent(config("    stats socket " + sock + " level admin\n", web1.address(), "127.0.0.1:1"));
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server be/s2 is DOWN")));
  std::string session = "lbtest" + std::to_string(::getpid());
  Process start({"/usr/bin/tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
                 "/usr/bin/hatop -s " + sock});
  ASSERT_EQ(start.wait(), 0) << start.finalOutput();
  std::string screen;
  Stopwatch watch;
  while (watch.elapsed() < 20s) {
    Process capture({"/usr/bin/tmux", "capture-pane", "-p", "-t", session});
    screen = capture.finalOutput();
    if (screen.find("BACKEND") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  Process({"/usr/bin/tmux", "kill-session", "-t", session}).wait();
  EXPECT_THAT(screen, HasSubstr("lb Version: "));
  EXPECT_THAT(screen, HasSubstr(">>> be"));
  EXPECT_THAT(screen, ::testing::ContainsRegex("s1 +1 UP +L4OK"));
  EXPECT_THAT(screen, ::testing::ContainsRegex("s2 +3 DOWN +L4CON"));
}

}  // namespace
}  // namespace lb::testing
