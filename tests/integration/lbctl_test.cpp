// lbctl against three real agents: apply everywhere (and what happens when one is down or the
// file is wrong), dry run and diff, get round trips, status against the traffic, events merged
// and followed across a kill -9, drains that wait, contexts, usage errors and help.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Result {
  int code = -1;
  std::string output;
};

ProcessOptions withEnv(std::vector<std::string> env) {
  ProcessOptions options;
  options.env = std::move(env);
  return options;
}

// Runs lbctl to its end. `env` adds to (or, as "NAME", removes from) the environment; by
// default no LBCTL_AGENTS and no contexts file leak in from the machine.
Result lbctl(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv{LBCTL_PATH, "--no-color"};
  argv.insert(argv.end(), args.begin(), args.end());
  env.insert(env.begin(), {"LBCTL_AGENTS", "LBCTL_CONFIG=/nonexistent/lbctl.yaml"});
  Process process(argv, withEnv(env));
  Result run;
  run.output = process.finalOutput(60s);
  run.code = process.wait(1s).value_or(-1);
  return run;
}

// Every server line says who answers: "hello" backends greet with their name.
std::string config(const std::vector<std::pair<std::string, std::string>>& servers,
                   const std::string& backend_extra = "") {
  std::string text =
      "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
      "    timeout server 30s\n"
      // Port 0: each agent keeps the port the kernel gave it across applies of this same text.
      "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
      "backend be\n    balance roundrobin\n" +
      backend_extra;
  for (const auto& [name, address] : servers) {
    text += "    server " + name + " " + address + "\n";
  }
  return text;
}

// Three agents named agent-a, -b and -c in a contexts file, which lbctl reads.
class LbctlTest : public ::testing::Test {
 protected:
  void startAgents(const std::string& text, size_t count = 3) {
    for (size_t i = 0; i < count; ++i) {
      std::string name = std::string("agent-") + static_cast<char>('a' + i);
      agents_.push_back(std::make_unique<Agent>(text, std::vector<std::string>{"--name", name}));
    }
    writeContexts();
  }

  void writeContexts(const std::vector<std::string>& extra_agents = {}) {
    std::string text =
        "# written by the test\ncurrent-context: test\ncontexts:\n"
        "  - name: test\n    agents:\n";
    for (size_t i = 0; i < agents_.size(); ++i) {
      text += "      - {name: agent-" + std::string(1, static_cast<char>('a' + i)) +
              ", address: \"" + agents_[i]->grpcAddress() + "\"}\n";
    }
    for (const auto& extra : extra_agents) text += "      - " + extra + "\n";
    contexts_ = dir_.write("lbctl.yaml", text);
  }

  Result ctl(const std::vector<std::string>& args) {
    return lbctl(args, {"LBCTL_CONFIG=" + contexts_});
  }

  uint64_t versionOf(Agent& agent) {
    ApiClient api(agent.grpcAddress());
    lb::v1::GetStatusResponse status;
    EXPECT_TRUE(api.getStatus(&status).ok());
    return status.agent().config_version();
  }

  TempDir dir_;
  std::string contexts_;
  std::vector<std::unique_ptr<Agent>> agents_;
};

TEST_F(LbctlTest, ApplyPutsTheFileInForceOnEveryAgentAndTrafficFollows) {
  Backend web1("web1"), web2("web2");
  startAgents(config({{"s1", web1.address()}}));
  std::string file = dir_.write("lb.cfg", config({{"s1", web2.address()}}));
  Result run = ctl({"apply", "-f", file});
  EXPECT_EQ(run.code, 0) << run.output;
  for (const char* name : {"agent-a", "agent-b", "agent-c"}) {
    EXPECT_THAT(run.output, HasSubstr(std::string(name) + ": version 1 -> 2 (1 changed)"));
  }
  EXPECT_THAT(run.output, HasSubstr("~ server be/s1: port"));
  for (auto& agent : agents_) {
    EXPECT_EQ(versionOf(*agent), 2u);
    EXPECT_EQ(whoAnswers(agent->port("fe")), "web2");
  }
  // The same again changes nothing anywhere.
  run = ctl({"apply", "-f", file});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("agent-b: unchanged, version 2"));
}

TEST_F(LbctlTest, AMistakeInTheFileIsCaughtHereAndNothingIsSent) {
  Backend web1("web1");
  startAgents(config({{"s1", web1.address()}}));
  std::string file = dir_.write("bad.cfg", config({{"s1", web1.address()}}) +
                                               "frontend x\n    bind 127.0.0.1:0\n"
                                               "    default_backend be2\n");
  Result run = ctl({"apply", "-f", file});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr(file + ":14: error: default_backend 'be2' of frontend 'x' "
                                           "not found; did you mean 'be'?"));
  EXPECT_THAT(run.output, HasSubstr("nothing was sent to the agents"));
  for (auto& agent : agents_) EXPECT_EQ(versionOf(*agent), 1u);
  // The agents' own events say nothing was refused: nothing reached them.
  run = ctl({"events", "--type", "config_refused"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.output, Not(HasSubstr("refused")));
}

TEST_F(LbctlTest, WithOneAgentDownTheOthersApplyAndTheDownOneIsNamed) {
  Backend web1("web1"), web2("web2");
  startAgents(config({{"s1", web1.address()}}), 2);
  // A third address where nothing listens any more.
  uint16_t gone;
  {
    RawListener listener;
    gone = listener.port();
  }
  writeContexts({"{name: agent-gone, address: \"127.0.0.1:" + std::to_string(gone) + "\"}"});
  std::string file = dir_.write("lb.cfg", config({{"s1", web2.address()}}));
  Result run = ctl({"--timeout", "3s", "apply", "-f", file});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("agent-a: version 1 -> 2"));
  EXPECT_THAT(run.output, HasSubstr("agent-b: version 1 -> 2"));
  EXPECT_THAT(run.output, HasSubstr("agent-gone: unreachable: connection refused"));
  for (auto& agent : agents_) EXPECT_EQ(whoAnswers(agent->port("fe")), "web2");
}

TEST_F(LbctlTest, DryRunAndDiffShowTheChangeAndChangeNothing) {
  Backend web1("web1"), web2("web2");
  startAgents(config({{"s1", web1.address()}}), 2);
  std::string file = dir_.write("lb.cfg", config({{"s1", web1.address()}, {"s2", web2.address()}}));
  Result run = ctl({"apply", "-f", file, "--dry-run"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("agent-a: version 1 would become 2 (+1 server)"));
  EXPECT_THAT(run.output, HasSubstr("+ server be/s2"));
  run = ctl({"diff", "-f", file});
  EXPECT_EQ(run.code, 1) << run.output;  // differences
  EXPECT_THAT(run.output, HasSubstr("agent-b: version 1 would become 2 (+1 server)"));
  for (auto& agent : agents_) {
    EXPECT_EQ(versionOf(*agent), 1u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(whoAnswers(agent->port("fe")), "web1");
  }
  ASSERT_EQ(ctl({"apply", "-f", file}).code, 0);
  run = ctl({"diff", "-f", file});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("agent-a: no changes, version 2"));
}

TEST_F(LbctlTest, GetRendersWhatLbAgentChecksAndApplyReadsBackUnchanged) {
  Backend web1("web1"), web2("web2");
  startAgents(config({{"s1", web1.address()}, {"s2", web2.address()}},
                     "    default-server check inter 2s\n"),
              1);
  Result run = ctl({"get"});
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("server s2 " + web2.address() + " check"));
  std::string rendered = dir_.write("rendered.cfg", run.output);
  Process check({LB_AGENT_PATH, "-c", "-f", rendered});
  EXPECT_EQ(check.wait(), 0) << check.finalOutput();
  run = ctl({"apply", "-f", rendered});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("agent-a: unchanged, version 1"));
  // YAML too, and the text as it was written.
  run = ctl({"get", "-o", "yaml"});
  ASSERT_EQ(run.code, 0) << run.output;
  std::string yaml = dir_.write("got.yaml", run.output);
  run = ctl({"apply", "-f", yaml});
  EXPECT_THAT(run.output, HasSubstr("agent-a: unchanged, version 1"));
  run = ctl({"get", "--source"});
  EXPECT_THAT(run.output, HasSubstr("    default-server check inter 2s\n"));
}

TEST_F(LbctlTest, StatusJsonSaysWhatTheTrafficDid) {
  Backend web1("web1"), web2("web2");
  startAgents(config({{"s1", web1.address()}, {"s2", web2.address()}}), 2);
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(whoAnswers(agents_[0]->port("fe")).empty());
  ASSERT_FALSE(whoAnswers(agents_[1]->port("fe")).empty());
  Result run = ctl({"status", "-o", "json"});
  ASSERT_EQ(run.code, 0) << run.output;
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(run.output, &doc).ok()) << run.output;
  const auto& list = doc.fields().at("agents").list_value().values();
  ASSERT_EQ(list.size(), 2);
  auto totalOf = [&](int agent, const std::string& server) {
    const auto& status = list[agent].struct_value().fields().at("status").struct_value();
    const auto& backend =
        status.fields().at("backends").list_value().values(0).struct_value().fields();
    for (const auto& s : backend.at("servers").list_value().values()) {
      const auto& f = s.struct_value().fields();
      if (f.at("name").string_value() == server) {
        // 64-bit counters are strings in protobuf's JSON mapping.
        return std::stoi(f.at("total_connections").string_value());
      }
    }
    return -1;
  };
  EXPECT_EQ(list[0].struct_value().fields().at("agent").string_value(), "agent-a");
  EXPECT_EQ(totalOf(0, "s1"), 2);
  EXPECT_EQ(totalOf(0, "s2"), 2);
  EXPECT_EQ(totalOf(1, "s1") + totalOf(1, "s2"), 1);
  // The table says the same, server by server.
  run = ctl({"status", "be"});
  EXPECT_THAT(run.output, HasSubstr("agent-a  lb "));
  EXPECT_TRUE(std::regex_search(run.output, std::regex("be/s1 +127\\.0\\.0\\.1:[0-9]+ +UP +READY")))
      << run.output;
}

TEST_F(LbctlTest, FollowSeesABackendDieEverywhereAndAnAgentRestartLosesAndRepeatsNothing) {
  Backend web1("web1"), web2("web2");
  const std::string checked = "    default-server check inter 100ms fall 1 rise 1\n";
  const std::string text = config({{"s1", web1.address()}, {"s2", web2.address()}}, checked);
  startAgents(text, 2);
  // agent-c: on a UNIX socket (the same address after a restart) and with a state directory.
  TempDir state;
  std::string file = dir_.write("c.cfg", text);
  std::string socket = "unix:" + state.path() + "/api.sock";
  std::vector<std::string> argv{LB_AGENT_PATH, "-f",        file,     "--name",      "agent-c",
                                "--grpc",      socket,      "--http", "127.0.0.1:0", "--state-dir",
                                state.path(),  "--threads", "1"};
  auto c = std::make_unique<Process>(argv);
  ASSERT_TRUE(c->waitFor(std::regex("management API listening"))) << c->output();
  writeContexts({"{name: agent-c, address: \"" + socket + "\"}"});
  // JSON lines carry each event's sequence: a duplicate would show.
  Process follow({LBCTL_PATH, "events", "--follow", "-o", "json", "--type", "server_state",
                  "--type", "admin_state"},
                 withEnv({"LBCTL_AGENTS", "LBCTL_CONFIG=" + contexts_}));
  auto event = [](const std::string& agent, const std::string& server, const std::string& state) {
    return std::regex("\\{\"agent\":\"" + agent + "\",\"event\":\\{[^\n]*\"server\":\"" + server +
                      "\"[^\n]*\"new_state\":\"" + state + "\"");
  };
  // A backend dies: every agent that uses it says so.
  web2.kill();
  for (const char* name : {"agent-a", "agent-b", "agent-c"}) {
    EXPECT_TRUE(follow.waitFor(event(name, "s2", "DOWN"), 15s)) << name << "\n" << follow.output();
  }
  // A drain everywhere, seen everywhere; then agent-c is killed and comes back.
  ASSERT_EQ(ctl({"server", "drain", "be/s1"}).code, 0);
  for (const char* name : {"agent-a", "agent-b", "agent-c"}) {
    ASSERT_TRUE(follow.waitFor(event(name, "s1", "DRAIN"), 15s)) << name << follow.output();
  }
  c->signal(SIGKILL);
  c->wait();
  ASSERT_TRUE(follow.waitFor(std::regex("\"agent-c\",\"note\":\"disconnected"), 15s))
      << follow.output();
  c = std::make_unique<Process>(argv);
  ASSERT_TRUE(c->waitFor(std::regex("management API listening"))) << c->output();
  ASSERT_TRUE(follow.waitFor(std::regex("\"agent-c\",\"note\":\"the agent restarted"), 15s))
      << follow.output();
  ASSERT_EQ(ctl({"server", "ready", "be/s1"}).code, 0);
  for (const char* name : {"agent-a", "agent-b", "agent-c"}) {
    EXPECT_TRUE(follow.waitFor(event(name, "s1", "READY"), 15s)) << name << follow.output();
  }
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait(), 0) << follow.output();
  // Per agent: sequences only go up (nothing shown twice), and every change is there once per
  // run of the agent (agent-c's second run brought its drain back from the state directory and
  // found web2 dead again: new events, with new sequences).
  std::map<std::string, std::vector<google::protobuf::Struct>> events;
  std::istringstream lines(follow.output());
  for (std::string line; std::getline(lines, line);) {
    google::protobuf::Struct doc;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &doc).ok()) << line;
    if (doc.fields().count("event") == 0) continue;
    events[doc.fields().at("agent").string_value()].push_back(
        doc.fields().at("event").struct_value());
  }
  auto field = [](const google::protobuf::Struct& e, const std::string& name) {
    auto it = e.fields().find(name);
    return it == e.fields().end() ? std::string() : it->second.string_value();
  };
  auto count = [&](const std::string& agent, const std::string& server, const std::string& state) {
    int n = 0;
    for (const auto& e : events[agent]) {
      n += field(e, "server") == server && field(e, "new_state") == state;
    }
    return n;
  };
  for (const char* name : {"agent-a", "agent-b", "agent-c"}) {
    uint64_t previous = 0;
    for (const auto& e : events[name]) {
      uint64_t sequence = std::stoull(field(e, "sequence"));
      EXPECT_GT(sequence, previous) << name;
      previous = sequence;
    }
  }
  for (const char* name : {"agent-a", "agent-b"}) {
    EXPECT_EQ(count(name, "s2", "DOWN"), 1) << name;
    EXPECT_EQ(count(name, "s1", "DRAIN"), 1) << name;
    EXPECT_EQ(count(name, "s1", "READY"), 1) << name;
  }
  EXPECT_EQ(count("agent-c", "s2", "DOWN"), 2);
  EXPECT_EQ(count("agent-c", "s1", "DRAIN"), 2);
  EXPECT_EQ(count("agent-c", "s1", "READY"), 1);
}

TEST_F(LbctlTest, DrainWaitReturnsOnceTheHeldConnectionClosesAndNewOnesWentElsewhere) {
  Backend web1("web1"), web2("web2");  // they greet with their name, then echo
  startAgents(config({{"s1", web1.address()}, {"s2", web2.address()}}), 1);
  std::optional<Client> held;  // a connection to s1 (which worker takes it is the kernel's choice)
  for (int i = 0; i < 20 && !held; ++i) {
    Client c("127.0.0.1", agents_[0]->port("fe"));
    if (c.readLine() == "web1") held.emplace(std::move(c));
  }
  ASSERT_TRUE(held);
  // Given up on when the time is short: it names the agent still holding the connection.
  Result run = ctl({"server", "drain", "be/s1", "--wait", "--wait-timeout", "1s"});
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("still holding connections after 1s: agent-a (1 connection)"));
  Process drain({LBCTL_PATH, "--no-color", "server", "drain", "be/s1", "--wait"},
                withEnv({"LBCTL_AGENTS", "LBCTL_CONFIG=" + contexts_}));
  ASSERT_TRUE(drain.waitFor(std::regex("waiting: 1 connection \\(agent-a 1\\)"))) << drain.output();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(whoAnswers(agents_[0]->port("fe")), "web2");
  EXPECT_TRUE(drain.running());
  ASSERT_TRUE(held->send("still\n"));
  EXPECT_EQ(held->readLine(), "still");
  held->close();
  EXPECT_EQ(drain.wait(15s), 0);
  EXPECT_THAT(drain.output(), HasSubstr("be/s1: no connection left on any agent"));
}

TEST_F(LbctlTest, ContextsAreListedChosenAndTheFileKeepsItsComments) {
  std::string file = dir_.write("contexts.yaml",
                                "# our balancers\ncurrent-context: prod\ncontexts:\n"
                                "  - name: prod\n    agents: [10.0.0.1:9901, 10.0.0.2:9901]\n"
                                "  - name: staging   # the test ones\n"
                                "    agents:\n      - {name: s1, address: 10.0.1.1:9901}\n");
  std::vector<std::string> env{"LBCTL_CONFIG=" + file};
  Result run = lbctl({"config", "get-contexts"}, env);
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_TRUE(
      std::regex_search(run.output, std::regex("\\* +prod +10\\.0\\.0\\.1:9901,10\\.0\\.0\\.2")))
      << run.output;
  EXPECT_THAT(run.output, HasSubstr("s1=10.0.1.1:9901"));
  EXPECT_EQ(lbctl({"config", "use-context", "staging"}, env).code, 0);
  run = lbctl({"config", "current-context"}, env);
  EXPECT_EQ(run.output, "staging\n");
  run = lbctl({"config", "use-context", "prdo"}, env);
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.output, HasSubstr("no context 'prdo' in " + file + "; did you mean 'prod'?"));
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("# our balancers\ncurrent-context: staging\n"));
  EXPECT_THAT(text, HasSubstr("  - name: staging   # the test ones\n"));
  // Without agents anywhere: a usage error that says where agents come from.
  run = lbctl({"status"});
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.output, HasSubstr("no agents: give --agent ADDR, set LBCTL_AGENTS"));
}

TEST(LbctlUsageTest, EveryCommandsHelpHasAnExampleAndWrongUsageExitsTwoInOneLine) {
  for (const auto& command : std::vector<std::vector<std::string>>{{},
                                                                   {"apply"},
                                                                   {"diff"},
                                                                   {"get"},
                                                                   {"status"},
                                                                   {"events"},
                                                                   {"server"},
                                                                   {"server", "drain"},
                                                                   {"server", "ready"},
                                                                   {"server", "maint"},
                                                                   {"server", "weight"},
                                                                   {"config"},
                                                                   {"config", "get-contexts"},
                                                                   {"config", "use-context"},
                                                                   {"config", "current-context"},
                                                                   {"version"}}) {
    auto args = command;
    args.push_back("--help");
    Result run = lbctl(args);
    EXPECT_EQ(run.code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr("Example")) << ::testing::PrintToString(command);
  }
  for (const auto& wrong : std::vector<std::vector<std::string>>{
           {},
           {"bogus"},
           {"apply"},
           {"status", "--bogus"},
           {"server", "drain"},
           {"server", "weight", "be/s1", "300"},
           {"--timeout", "5", "--agent", "127.0.0.1:1", "status"},
           {"--agent", "127.0.0.1:1", "server", "drain", "no-slash"},
           {"--agent", "127.0.0.1:1", "events", "--type", "server_sate"}}) {
    Result run = lbctl(wrong);
    EXPECT_EQ(run.code, 2) << ::testing::PrintToString(wrong) << run.output;
    EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1)
        << ::testing::PrintToString(wrong) << run.output;
  }
}

TEST(LbctlUsageTest, VersionSaysLbctlsAndEachAgents) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}), {"--name", "edge"});
  Result run = lbctl({"--agent", agent.grpcAddress(), "version"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_TRUE(std::regex_search(run.output, std::regex("^lbctl [0-9]+\\.[0-9]+\\.[0-9]+\n")));
  EXPECT_THAT(run.output, HasSubstr(agent.grpcAddress() + ": lb-agent "));
  EXPECT_THAT(run.output, HasSubstr("'edge'"));
}

}  // namespace
}  // namespace lb::testing
