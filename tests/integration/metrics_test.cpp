// /metrics on --http as Prometheus and HAProxy dashboards read it: HAProxy exporter's family
// names and labels with lb's values, following what happens to servers, a valid exposition for
// promtool, and a real Prometheus server scraping an agent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string config(const std::string& s1, const std::string& s2) {
  return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\nfrontend web\n    bind 127.0.0.1:0\n    default_backend be\n"
         "backend be\n    server s1 " +
         s1 + " check inter 200ms fall 1 rise 1\n    server s2 " + s2 + " weight 3\n";
}

// The value of one sample ("name{labels}"), or -1 when absent.
double sample(const std::string& metrics, const std::string& series) {
  auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

TEST(MetricsTest, HaproxyFamiliesFollowServersTrafficAndApplies) {
  auto web1 = std::make_unique<Backend>("web1");
  Backend web2("web2");
  Agent agent(config(web1->address(), web2.address()));
  HttpAnswer first = httpGet(agent.httpAddress(), "/metrics");
  ASSERT_EQ(first.status, 200);
  const std::string& m = first.body;
  EXPECT_THAT(m, HasSubstr("# TYPE haproxy_server_status gauge\n"));
  EXPECT_EQ(sample(m, "haproxy_server_status{proxy=\"be\",server=\"s1\",state=\"UP\"}"), 1);
  EXPECT_EQ(sample(m, "haproxy_server_status{proxy=\"be\",server=\"s1\",state=\"DOWN\"}"), 0);
  EXPECT_EQ(sample(m, "haproxy_server_uweight{proxy=\"be\",server=\"s2\"}"), 3);
  EXPECT_EQ(sample(m, "haproxy_backend_active_servers{proxy=\"be\"}"), 2);
  EXPECT_EQ(sample(m, "haproxy_frontend_status{proxy=\"web\",state=\"UP\"}"), 1);
  EXPECT_EQ(sample(m, "lb_config_version"), 1);
  EXPECT_EQ(sample(m, "lb_config_applies_total{result=\"applied\"}"), 1);
  // Only checked servers have a check status.
  EXPECT_EQ(sample(m, "haproxy_server_check_status{proxy=\"be\",server=\"s2\",state=\"L4OK\"}"),
            -1);

  for (int i = 0; i < 4; ++i) ASSERT_FALSE(whoAnswers(agent.port("web")).empty());
  std::string after = httpGet(agent.httpAddress(), "/metrics").body;
  EXPECT_EQ(sample(after, "haproxy_frontend_sessions_total{proxy=\"web\"}"), 4);
  EXPECT_EQ(sample(after, "haproxy_backend_sessions_total{proxy=\"be\"}"), 4);
  EXPECT_GT(sample(after, "haproxy_server_bytes_out_total{proxy=\"be\",server=\"s2\"}"), 0);

  size_t from = agent.process().outputSize();
  web1->kill();
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server be/s1 is DOWN"), 10s, from));
  std::string down = httpGet(agent.httpAddress(), "/metrics").body;
  EXPECT_EQ(sample(down, "haproxy_server_status{proxy=\"be\",server=\"s1\",state=\"DOWN\"}"), 1);
  EXPECT_EQ(sample(down, "haproxy_server_check_status{proxy=\"be\",server=\"s1\",state=\"L4CON\"}"),
            1);
  EXPECT_EQ(sample(down, "haproxy_server_check_up_down_total{proxy=\"be\",server=\"s1\"}"), 1);
  EXPECT_EQ(sample(down, "haproxy_backend_active_servers{proxy=\"be\"}"), 1);

  ApiClient api(agent.grpcAddress());
  lb::v1::SetServerStateResponse changed;
  ASSERT_TRUE(api.setServer("be", "s2", lb::v1::ServerStatus::DRAIN, &changed).ok());
  lb::v1::ApplyConfigResponse refused;
  EXPECT_FALSE(
      api.applyText("frontend x\n    bind 127.0.0.1:0\n    default_backend nowhere\n", &refused)
          .ok());
  std::string drained = httpGet(agent.httpAddress(), "/metrics").body;
  EXPECT_EQ(sample(drained, "haproxy_server_status{proxy=\"be\",server=\"s2\",state=\"DRAIN\"}"),
            1);
  EXPECT_EQ(sample(drained, "haproxy_backend_status{proxy=\"be\",state=\"DOWN\"}"), 1);
  EXPECT_EQ(sample(drained, "lb_config_applies_total{result=\"invalid\"}"), 1);
  EXPECT_GE(sample(drained, "lb_events_total"), 3);
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  Backend web1("web1");
  Agent agent(config(web1.address(), "127.0.0.1:1"));
  TempDir dir;
  std::string path = dir.write("metrics.txt", httpGet(agent.httpAddress(), "/metrics").body);
  Process check({"/bin/sh", "-c", "promtool check metrics < " + path});
  EXPECT_EQ(check.wait(30s), 0) << check.finalOutput();
  EXPECT_EQ(check.finalOutput(), "");  // not even a lint warning
}

TEST(MetricsTest, ARealPrometheusScrapesTheAgent) {
  Backend web1("web1");
  Agent agent(config(web1.address(), "127.0.0.1:1"));
  uint16_t port;
  {
    RawListener probe;  // a port the kernel says is free, for Prometheus' own web address
    port = probe.port();
  }
  TempDir dir;
  std::string yaml = dir.write("prometheus.yml",
                               "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                               "  - job_name: lb\n    static_configs:\n      - targets: ['" +
                                   agent.httpAddress() + "']\n");
  Process prometheus({"/usr/bin/prometheus", "--config.file=" + yaml,
                      "--storage.tsdb.path=" + dir.path() + "/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  std::string address = "127.0.0.1:" + std::to_string(port);
  // The first scrape lands within a few intervals; the query then answers with s1's state.
  HttpAnswer answer;
  Stopwatch watch;
  while (watch.elapsed() < 60s) {
    answer = httpGet(address,
                     "/api/v1/query?query=haproxy_server_status%7Bserver%3D%22s1%22%2C"
                     "state%3D%22UP%22%7D");
    if (answer.body.find("\"value\"") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_THAT(answer.body, HasSubstr("\"proxy\":\"be\""));
  EXPECT_THAT(answer.body, ::testing::ContainsRegex("\"value\":\\[[0-9.]+,\"1\"\\]"));
  HttpAnswer targets = httpGet(address, "/api/v1/targets");
  EXPECT_THAT(targets.body, HasSubstr("\"health\":\"up\""));
}

}  // namespace
}  // namespace lb::testing
