// Tier health on --http: what an upper tier's check, a container's HEALTHCHECK and an operator
// see on /healthz and /healthz/frontend/NAME, the agent-wide drain switch (SetAgentDrain), and
// an upper tier that takes an inner agent out when its servers are gone or it is drained.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include <algorithm>
#include <regex>
#include <set>
#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string defaults() {
  return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\n";
}

std::string innerConfig(const std::string& server, const std::string& bind_extra = "") {
  return defaults() + "frontend web\n    bind 127.0.0.1:0" + bind_extra +
         "\n    default_backend servers\nbackend servers\n    server s1 " + server +
         " check inter 200ms fall 1 rise 1\n";
}

TEST(TierHealthTest, FrontendAnswers503WhenItsBackendHasNoUsableServer) {
  auto web1 = std::make_unique<Backend>("web1");
  Agent agent(innerConfig(web1->address()));
  ASSERT_FALSE(agent.httpAddress().empty()) << agent.process().output();
  HttpAnswer alive = httpGet(agent.httpAddress(), "/healthz");
  EXPECT_EQ(alive.status, 200);
  EXPECT_THAT(alive.body, HasSubstr("configuration version 1"));
  HttpAnswer up = httpGet(agent.httpAddress(), "/healthz/frontend/web");
  EXPECT_EQ(up.status, 200) << up.body;
  EXPECT_THAT(up.body, HasSubstr("1 of 1 servers usable in backend servers"));

  size_t from = agent.process().outputSize();
  web1->kill();
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server servers/s1 is DOWN"), 10s, from));
  HttpAnswer down = httpGet(agent.httpAddress(), "/healthz/frontend/web");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_THAT(down.body, HasSubstr("0 of 1 servers usable"));
  // The agent itself is fine: /healthz (liveness) stays 200.
  EXPECT_EQ(httpGet(agent.httpAddress(), "/healthz").status, 200);
}

TEST(TierHealthTest, UnknownFrontendsPathsAndMethodsGetPreciseAnswers) {
  Backend web1("web1");
  Agent agent(innerConfig(web1.address()));
  HttpAnswer unknown = httpGet(agent.httpAddress(), "/healthz/frontend/wbe");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("did you mean 'web'?"));
  HttpAnswer nothing = httpGet(agent.httpAddress(), "/metricz");
  EXPECT_EQ(nothing.status, 404);
  EXPECT_THAT(nothing.body, HasSubstr("/healthz/frontend/NAME"));
  // A query string is not part of the path (checks sometimes add one).
  EXPECT_EQ(httpGet(agent.httpAddress(), "/healthz/frontend/web?from=edge").status, 200);

  auto colon = agent.httpAddress().rfind(':');
  uint16_t port = static_cast<uint16_t>(std::stoi(agent.httpAddress().substr(colon + 1)));
  {
    Client post("127.0.0.1", port);
    post.send(
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    std::string answer = post.readAll(5s);
    EXPECT_THAT(answer, HasSubstr("405 Method Not Allowed"));
    EXPECT_THAT(answer, HasSubstr("Allow: GET, HEAD"));
  }
  {
    Client huge("127.0.0.1", port);
    huge.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_THAT(huge.readAll(5s), HasSubstr("431"));
  }
  {
    Client garbage("127.0.0.1", port);
    garbage.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n");
    EXPECT_THAT(garbage.readAll(5s), HasSubstr("400 Bad Request"));
  }
  {
    // Keep-alive: two requests on one connection, both answered.
    Client keep("127.0.0.1", port);
    keep.send(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz/frontend/web HTTP/1.1\r\n"
        "Host: x\r\nConnection: close\r\n\r\n");
    std::string both = keep.readAll(5s);
    size_t first = both.find("HTTP/1.1 200");
    ASSERT_NE(first, std::string::npos) << both;
    EXPECT_NE(both.find("HTTP/1.1 200", first + 1), std::string::npos) << both;
  }
  // Still serving, and traffic still flows.
  EXPECT_EQ(httpGet(agent.httpAddress(), "/healthz").status, 200);
  EXPECT_EQ(whoAnswers(agent.port("web")), "web1");
}

TEST(TierHealthTest, DrainSwitchAnswers503WhileTrafficKeepsFlowingAndSurvivesARestart) {
  Backend web1("web1");
  TempDir state;
  std::string config = innerConfig(web1.address());
  lb::v1::SetAgentDrainResponse response;
  {
    Agent agent(config, {"--state-dir", state.path()});
    ApiClient api(agent.grpcAddress());
    ASSERT_TRUE(api.setDrain(true, &response).ok());
    EXPECT_TRUE(response.draining());
    EXPECT_TRUE(response.changed());
    HttpAnswer drained = httpGet(agent.httpAddress(), "/healthz/frontend/web");
    EXPECT_EQ(drained.status, 503);
    EXPECT_THAT(drained.body, HasSubstr("draining"));
    EXPECT_EQ(whoAnswers(agent.port("web")), "web1");  // traffic that arrives is served
    HttpAnswer alive = httpGet(agent.httpAddress(), "/healthz");
    EXPECT_EQ(alive.status, 200);
    EXPECT_THAT(alive.body, HasSubstr("draining"));
    // Again: nothing changes.
    ASSERT_TRUE(api.setDrain(true, &response).ok());
    EXPECT_FALSE(response.changed());

    lb::v1::GetStatusResponse status;
    ASSERT_TRUE(api.getStatus(&status).ok());
    EXPECT_TRUE(status.agent().draining());
    EXPECT_EQ(status.agent().http_address(), agent.httpAddress());
    auto events = api.heldEvents(lb::v1::Event::AGENT_DRAIN);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].old_state(), "ready");
    EXPECT_EQ(events[0].new_state(), "draining");
  }
  // The switch is part of the acknowledged state: a restarted agent is still drained.
  Agent restarted(config, {"--state-dir", state.path()});
  EXPECT_THAT(restarted.process().output(), HasSubstr("this agent is drained"));
  EXPECT_EQ(httpGet(restarted.httpAddress(), "/healthz/frontend/web").status, 503);
  ApiClient api(restarted.grpcAddress());
  ASSERT_TRUE(api.setDrain(false, &response).ok());
  EXPECT_TRUE(response.changed());
  EXPECT_FALSE(response.draining());
  EXPECT_EQ(httpGet(restarted.httpAddress(), "/healthz/frontend/web").status, 200);
}

TEST(TierHealthTest, AStoppingAgentAnswers503UntilItsLastConnectionEnds) {
  Backend web1("web1");
  Agent agent(innerConfig(web1.address()));
  Client held("127.0.0.1", agent.port("web"));
  ASSERT_EQ(held.readLine(), "web1");
  size_t from = agent.process().outputSize();
  agent.process().signal(SIGTERM);
  ASSERT_TRUE(agent.process().waitFor(std::regex("stopping: listeners closed"), 10s, from));
  HttpAnswer alive = httpGet(agent.httpAddress(), "/healthz");
  EXPECT_EQ(alive.status, 503);
  EXPECT_THAT(alive.body, HasSubstr("stopping"));
  EXPECT_EQ(httpGet(agent.httpAddress(), "/healthz/frontend/web").status, 503);
  held.close();
  EXPECT_EQ(agent.process().wait(), 0);
}

TEST(TierHealthTest, HttpCanBeTurnedOffAndABusyAddressStopsTheStart) {
  Backend web1("web1");
  Agent quiet(innerConfig(web1.address()), {"--http", "none"});
  EXPECT_TRUE(quiet.httpAddress().empty());
  EXPECT_EQ(whoAnswers(quiet.port("web")), "web1");

  Agent first(innerConfig(web1.address()));
  TempDir dir;
  std::string cfg = dir.write("lb.cfg", innerConfig(web1.address()));
  Process second({LB_AGENT_PATH, "-f", cfg, "--threads", "1", "--grpc", "127.0.0.1:0", "--http",
                  first.httpAddress()});
  EXPECT_EQ(second.wait(), 1);
  EXPECT_THAT(second.finalOutput(), HasSubstr("--http: cannot listen on " + first.httpAddress()));
}

// The point of it all: an upper tier checks the inner agent's frontend and stops sending to it
// when the inner agent's own servers are gone, and when it is drained.
TEST(TierHealthTest, AnUpperTierTakesOutAnInnerAgentWhoseServersAreGoneOrThatIsDrained) {
  auto web1 = std::make_unique<Backend>("web1");
  Backend web2("web2");
  Agent inner1(innerConfig(web1->address(), " accept-proxy"));
  Agent inner2(innerConfig(web2.address(), " accept-proxy"));
  auto server = [](const std::string& name, Agent& inner) {
    std::string http = inner.httpAddress();
    return "    server " + name + " 127.0.0.1:" + std::to_string(inner.port("web")) +
           " send-proxy-v2 check port " + http.substr(http.rfind(':') + 1) +
           " inter 200ms fall 1 rise 1\n";
  };
  Agent edge(defaults() +
             "frontend web\n    bind 127.0.0.1:0\n    default_backend inner\nbackend inner\n"
             "    option httpchk GET /healthz/frontend/web\n" +
             server("inner-1", inner1) + server("inner-2", inner2));
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.insert(whoAnswers(edge.port("web")));
  EXPECT_EQ(seen, (std::set<std::string>{"web1", "web2"}));

  size_t from = edge.process().outputSize();
  web1->kill();
  auto down = edge.process().waitFor(std::regex("Server inner/inner-1 is DOWN[^\n]*"), 10s, from);
  ASSERT_TRUE(down) << edge.process().output();
  EXPECT_THAT(down->str(), HasSubstr("503"));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(whoAnswers(edge.port("web")), "web2") << i;

  // Drain inner-2 too: the edge takes it out while inner-2 keeps serving what it is sent.
  from = edge.process().outputSize();
  ApiClient api(inner2.grpcAddress());
  lb::v1::SetAgentDrainResponse response;
  ASSERT_TRUE(api.setDrain(true, &response).ok());
  ASSERT_TRUE(edge.process().waitFor(std::regex("Server inner/inner-2 is DOWN"), 10s, from));
  from = edge.process().outputSize();
  ASSERT_TRUE(api.setDrain(false, &response).ok());
  ASSERT_TRUE(edge.process().waitFor(std::regex("Server inner/inner-2 is UP"), 10s, from));
  EXPECT_EQ(whoAnswers(edge.port("web")), "web2");
}

}  // namespace
}  // namespace lb::testing
