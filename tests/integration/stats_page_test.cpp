// HAProxy's statistics sections in a user's haproxy.cfg (`listen stats`, `mode http`,
// `stats enable`, `stats uri`, `stats auth`, the Prometheus exporter service): they load next
// to the TCP frontends and lb serves them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string config(const std::string& web, const std::string& stats) {
  return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\nfrontend web\n    bind 127.0.0.1:0\n    default_backend be\n"
         "backend be\n    server s1 " +
         web + "\n" + stats;
}

// One GET with optional basic credentials ("user:password", sent base64-encoded by curl).
std::string curl(const std::string& url, const std::string& credentials = "") {
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "-i", "--max-time", "10", url};
  if (!credentials.empty()) argv.insert(argv.begin() + 1, {"-u", credentials});
  Process process(argv);
  return process.finalOutput(20s);
}

TEST(StatsPageTest, APageGuardedByHttpRulesLbCannotEnforceIsNotServedAtAll) {
  Backend web1("web1");
  uint16_t port;
  {
    RawListener probe;
    port = probe.port();
  }
  Agent agent(config(web1.address(), "listen stats\n    bind 127.0.0.1:" + std::to_string(port) +
                                         "\n    mode http\n    stats enable\n    stats uri /\n"
                                         "    acl internal src 10.0.0.0/8\n"
                                         "    acl AUTH http_auth(stats-auth)\n"
                                         "    stats http-request deny unless internal\n"
                                         "    stats http-request auth unless AUTH\n"));
  ASSERT_TRUE(agent.process().waitFor(std::regex("statistics page of 'stats' not served")));
  EXPECT_EQ(whoAnswers(agent.port("web")), "web1");  // the rest of the file runs
  // Nothing answers on the page's port: closed rather than open to anyone.
  Client client("127.0.0.1", port);
  EXPECT_FALSE(client.connected());
}

TEST(StatsPageTest, AListenStatsSectionLoadsNextToTcpFrontendsAndServesThePage) {
  Backend web1("web1");
  uint16_t port;
  {
    RawListener probe;
    port = probe.port();
  }
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  Agent agent(config(web1.address(), "listen stats\n    bind 127.0.0.1:" + std::to_string(port) +
                                         "\n    mode http\n    stats enable\n"
                                         "    stats uri /stats\n    stats refresh 10s\n"
                                         "    stats auth admin:secret\n"
                                         "    http-request use-service prometheus-exporter if "
                                         "{ path /metrics }\n"));
  ASSERT_TRUE(agent.process().waitFor(std::regex("statistics page of 'stats' listening on")));
  EXPECT_EQ(whoAnswers(agent.port("web")), "web1");  // the TCP frontend is unchanged

  std::string denied = curl(base + "/stats");
  EXPECT_THAT(denied, HasSubstr("HTTP/1.1 401"));
  EXPECT_THAT(denied, HasSubstr("WWW-Authenticate: Basic realm=\"HAProxy Statistics\""));
  EXPECT_THAT(curl(base + "/stats", "admin:wrong"), HasSubstr("HTTP/1.1 401"));
  std::string page = curl(base + "/stats", "admin:secret");
  EXPECT_THAT(page, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(page, HasSubstr("Content-Type: text/html"));
  EXPECT_THAT(page, HasSubstr("Refresh: 10"));
  EXPECT_THAT(page, HasSubstr("<td>s1</td><td class=\"UP\">UP</td>"));
  std::string csv = curl(base + "/stats;csv", "admin:secret");
  EXPECT_THAT(csv, HasSubstr("# pxname,svname,qcur,qmax,scur,"));
  EXPECT_THAT(csv, HasSubstr("\nbe,s1,"));
  // The exporter service: /metrics, no credentials, as HAProxy serves it.
  EXPECT_THAT(curl(base + "/metrics"),
              HasSubstr("haproxy_server_status{proxy=\"be\",server=\"s1\""));
  // The section is no data-plane frontend: no frontend 'stats' in the status.
  EXPECT_THAT(agent.process().output(), ::testing::Not(HasSubstr("frontend 'stats' listening")));
}

TEST(StatsPageTest, AStatsSectionThatAlsoProxiesHttpIsRefusedWithWhatToDo) {
  TempDir dir;
  std::string cfg = dir.write("lb.cfg", config("127.0.0.1:1",
                                               "listen stats\n    bind 127.0.0.1:0\n    mode http\n"
                                               "    stats enable\n    server app 127.0.0.1:2\n"));
  Process check({LB_AGENT_PATH, "-c", "-f", cfg});
  EXPECT_EQ(check.wait(), 1);
  EXPECT_THAT(check.finalOutput(),
              HasSubstr("serves statistics but also proxies HTTP: lb serves the statistics page "
                        "only for an HTTP section with no servers"));
}

}  // namespace
}  // namespace lb::testing
