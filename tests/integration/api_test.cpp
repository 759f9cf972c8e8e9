// The management API with a real gRPC client against real agents: apply (errors, dry run,
// versions, hitless), status, server state, event streams (replay, live, slow watchers),
// persistence across kill -9, and no connection failed during applies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using lb::v1::Event;
using lb::v1::ServerStatus;
using ::testing::HasSubstr;

std::string config(const std::vector<std::pair<std::string, std::string>>& servers,
                   const std::string& backend_extra = "", const std::string& bind = "127.0.0.1:0") {
  std::string text =
      "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
      "    timeout server 30s\nfrontend fe\n    bind " +
      bind + "\n    default_backend be\nbackend be\n    balance roundrobin\n" + backend_extra;
  for (const auto& [name, address] : servers) {
    text += "    server " + name + " " + address + "\n";
  }
  return text;
}

std::string bindOf(Agent& agent) {
  return "127.0.0.1:" + std::to_string(agent.port("fe"));
}

// Reads stream messages until `done` says so or the time is up (on a thread of its own, so
// the test's deadline holds even when the stream is silent).
std::vector<lb::v1::WatchEventsResponse> readUntil(
    grpc::ClientReader<lb::v1::WatchEventsResponse>& reader, grpc::ClientContext& context,
    const std::function<bool(const std::vector<lb::v1::WatchEventsResponse>&)>& done,
    Millis limit = 10s) {
  std::vector<lb::v1::WatchEventsResponse> got;
  std::mutex mutex;
  std::atomic<bool> finished{false};
  std::thread timer([&] {
    Stopwatch watch;
    while (!finished && watch.elapsed() < limit) std::this_thread::sleep_for(10ms);
    if (!finished) context.TryCancel();
  });
  lb::v1::WatchEventsResponse message;
  while (reader.Read(&message)) {
    std::lock_guard lock(mutex);
    got.push_back(message);
    if (done(got)) break;
  }
  finished = true;
  timer.join();
  return got;
}

TEST(ApiTest, AnApplyWithAMistakeNamesTheLineAndChangesNothing) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  std::string text = config({{"s1", web1.address()}}, "", bindOf(agent));
  text.replace(text.find("default_backend be"), 18, "default_backend bee");
  lb::v1::ApplyConfigResponse response;
  grpc::Status status = api.applyText(text, &response, false, 0, "haproxy.cfg");
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "haproxy.cfg:8: error: default_backend 'bee' of frontend 'fe' not found; did you "
            "mean 'be'?");
  // The same, structured, in the standard status details.
  lb::v1::ErrorStatus details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(details.details_size(), 1);
  lb::v1::ApplyErrors errors;
  ASSERT_TRUE(details.details(0).UnpackTo(&errors));
  ASSERT_EQ(errors.errors_size(), 1);
  EXPECT_EQ(errors.errors(0).file(), "haproxy.cfg");
  EXPECT_EQ(errors.errors(0).line(), 8u);
  EXPECT_EQ(errors.version(), 1u);
  // Nothing changed: the old configuration serves, at its version.
  EXPECT_EQ(whoAnswers(agent.port("fe")), "web1");
  lb::v1::GetConfigResponse current;
  ASSERT_TRUE(api.getConfig(&current).ok());
  EXPECT_EQ(current.version(), 1u);
  EXPECT_EQ(current.config().frontends(0).default_backend(), "be");
}

TEST(ApiTest, ATypedConfigIsCheckedByFieldPath) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  lb::v1::GetConfigResponse current;
  ASSERT_TRUE(api.getConfig(&current).ok());
  lb::v1::ApplyConfigRequest request;
  *request.mutable_config() = current.config();
  request.mutable_config()->mutable_backends(0)->mutable_servers(0)->set_weight(999);
  lb::v1::ApplyConfigResponse response;
  grpc::Status status = api.apply(request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "backends[0].servers[0].weight: error: server be/s1: weight 999 is out of range; "
            "use 0 to 256");
}

TEST(ApiTest, ADryRunReturnsTheDiffAndChangesNothing) {
  Backend web1("web1"), web2("web2");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  lb::v1::ApplyConfigResponse response;
  grpc::Status status = api.applyText(
      config({{"s1", web1.address()}, {"s2", web2.address()}}, "", bindOf(agent)), &response,
      /*dry_run=*/true);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.applied());
  EXPECT_EQ(response.version(), 1u);
  // The new server, and the bind written with the port the kernel chose at first.
  EXPECT_EQ(response.diff().summary(), "+1 server, 1 changed");
  EXPECT_THAT(response.diff().servers_added(), ::testing::ElementsAre("be/s2"));
  ASSERT_EQ(response.diff().frontends_changed_size(), 1);
  EXPECT_THAT(response.diff().frontends_changed(0).fields(), ::testing::ElementsAre("binds"));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(whoAnswers(agent.port("fe")), "web1");
  lb::v1::GetConfigResponse current;
  ASSERT_TRUE(api.getConfig(&current).ok());
  EXPECT_EQ(current.version(), 1u);
}

TEST(ApiTest, AnExpectedVersionThatIsNotInForceIsAConflict) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  lb::v1::ApplyConfigResponse response;
  std::string next = config({{"s1", web1.address()}}, "    retries 2\n", bindOf(agent));
  grpc::Status status = api.applyText(next, &response, false, /*expected_version=*/5);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "expected version 5, but version 1 is in force");
  ASSERT_TRUE(api.applyText(next, &response, false, 1).ok());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_EQ(response.previous_version(), 1u);
  EXPECT_TRUE(response.applied());
  // The same again: nothing to do, the version stays.
  ASSERT_TRUE(api.applyText(next, &response).ok());
  EXPECT_FALSE(response.applied());
  EXPECT_EQ(response.version(), 2u);
  EXPECT_EQ(response.diff().summary(), "no changes");
}

TEST(ApiTest, AnAddedServerTakesTrafficAndTheOthersKeepTheirHealth) {
  Backend web1("web1"), web2("web2");
  uint16_t dead = refusedPort();
  std::string check = "    default-server check inter 10s fall 1\n";
  // The dead server first: its first check is at once (first checks are spread over inter).
  Agent agent(
      config({{"dead", "127.0.0.1:" + std::to_string(dead)}, {"s1", web1.address()}}, check));
  ASSERT_TRUE(agent.process().waitFor(std::regex("Server be/dead is DOWN")));
  ApiClient api(agent.grpcAddress());
  lb::v1::ApplyConfigResponse response;
  ASSERT_TRUE(api.applyText(config({{"dead", "127.0.0.1:" + std::to_string(dead)},
                                    {"s1", web1.address()},
                                    {"s2", web2.address()}},
                                   check, bindOf(agent)),
                            &response)
                  .ok());
  EXPECT_THAT(response.diff().servers_added(), ::testing::ElementsAre("be/s2"));
  std::map<std::string, int> seen;
  for (int i = 0; i < 6; ++i) ++seen[whoAnswers(agent.port("fe"))];
  EXPECT_EQ(seen, (std::map<std::string, int>{{"web1", 3}, {"web2", 3}}));
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(serverOf(status, "be", "dead").op_state(), ServerStatus::DOWN);  // kept
  EXPECT_EQ(serverOf(status, "be", "s1").op_state(), ServerStatus::UP);
  EXPECT_EQ(status.agent().config_version(), 2u);
}

TEST(ApiTest, StatusShowsWhatTheTrafficDid) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}), {"--name", "edge-1"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(whoAnswers(agent.port("fe")), "web1");
  Client held("127.0.0.1", agent.port("fe"));
  ASSERT_EQ(held.readLine(), "web1");
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.agent().name(), "edge-1");
  EXPECT_EQ(status.agent().pid(), agent.process().pid());
  EXPECT_EQ(status.agent().config_version(), 1u);
  EXPECT_EQ(status.agent().incarnation().size(), 16u);
  ASSERT_EQ(status.frontends_size(), 1);
  EXPECT_EQ(status.frontends(0).binds(0), bindOf(agent));
  EXPECT_EQ(status.frontends(0).total_connections(), 4u);
  EXPECT_EQ(status.frontends(0).current_connections(), 1u);
  ASSERT_EQ(status.backends_size(), 1);
  EXPECT_EQ(status.backends(0).balance(), "roundrobin");
  EXPECT_EQ(status.backends(0).usable_servers(), 1u);
  auto s1 = serverOf(status, "be", "s1");
  EXPECT_EQ(s1.address(), web1.address());
  EXPECT_EQ(s1.total_connections(), 4u);
  EXPECT_EQ(s1.current_connections(), 1u);
  EXPECT_EQ(s1.admin_state(), ServerStatus::READY);
  EXPECT_EQ(s1.bytes_out(), 4u * 5);  // "web1\n" each, the open connection's included
  // One backend only; an unknown one is NOT_FOUND with a suggestion.
  ASSERT_TRUE(api.getStatus(&status, "be").ok());
  EXPECT_EQ(status.frontends_size(), 0);
  grpc::Status missing = api.getStatus(&status, "bee");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_message(), "no backend 'bee'; did you mean 'be'?");
}

TEST(ApiTest, DrainSendsNoNewConnectionThereWhileAnOpenOneKeepsFlowing) {
  Backend echo1("echo1", "echo"), web2("web2");
  Agent agent(config({{"s1", echo1.address()}, {"s2", web2.address()}}));
  Client open("127.0.0.1", agent.port("fe"));  // round robin: s1
  ASSERT_TRUE(open.send("before\n"));
  ASSERT_EQ(open.readLine(), "before");
  ApiClient api(agent.grpcAddress());
  lb::v1::SetServerStateResponse response;
  grpc::Status status = api.setServer("be", "s1", ServerStatus::DRAIN, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.server().admin_state(), ServerStatus::DRAIN);
  EXPECT_EQ(response.server().current_connections(), 1u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(whoAnswers(agent.port("fe")), "web2");
  ASSERT_TRUE(open.send("after\n"));
  EXPECT_EQ(open.readLine(), "after");
  // Unknown names are NOT_FOUND, with a suggestion; nothing to change is INVALID_ARGUMENT.
  status = api.setServer("be", "s3", ServerStatus::DRAIN, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "no server 's3' in backend 'be'; did you mean 's1'?");
  status = api.setServer("be", "s1", ServerStatus::ADMIN_STATE_UNSPECIFIED, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = api.setServer("be", "s1", ServerStatus::ADMIN_STATE_UNSPECIFIED, &response, 300);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // READY again, and a weight.
  ASSERT_TRUE(api.setServer("be", "s1", ServerStatus::READY, &response, 3).ok());
  EXPECT_EQ(response.server().effective_weight(), 3u);
  EXPECT_EQ(response.server().configured_weight(), 1u);
}

TEST(ApiTest, ARemovedServersConnectionsCloseAfterHardStopAfterTheOthersStay) {
  Backend web1("web1"), web2("web2");  // they greet with their name, then echo
  const std::string global = "global\n    hard-stop-after 3s\n";
  Agent agent(global + config({{"s1", web1.address()}, {"s2", web2.address()}}));
  // One connection to each server (which worker takes which is the kernel's choice).
  std::optional<Client> kept, removed;
  for (int i = 0; i < 20 && !(kept && removed); ++i) {
    Client c("127.0.0.1", agent.port("fe"));
    auto who = c.readLine();
    ASSERT_TRUE(who);
    auto& slot = *who == "web1" ? kept : removed;
    if (!slot) slot.emplace(std::move(c));
  }
  ASSERT_TRUE(kept && removed);
  ApiClient api(agent.grpcAddress());
  lb::v1::ApplyConfigResponse response;
  ASSERT_TRUE(
      api.applyText(global + config({{"s1", web1.address()}}, "", bindOf(agent)), &response).ok());
  EXPECT_THAT(response.diff().summary(), HasSubstr("-1 server"));
  // The removed server's connection finishes its work first...
  ASSERT_TRUE(removed->send("still\n"));
  EXPECT_EQ(removed->readLine(), "still");
  // ...and is closed once hard-stop-after has passed; the kept server's goes on.
  EXPECT_TRUE(removed->closedByPeer(20s));
  EXPECT_TRUE(agent.process().waitFor(
      std::regex("hard-stop-after: closing 1 connection to removed servers")));
  ASSERT_TRUE(kept->send("after\n"));
  EXPECT_EQ(kept->readLine(), "after");
}

TEST(ApiTest, EventsAfterSinceAreReplayedThenABackendKilledGoesDownWithItsCause) {
  Backend web1("web1"), web2("web2");
  Agent agent(config({{"s1", web1.address()}, {"s2", web2.address()}},
                     "    default-server check inter 100ms fall 2\n"));
  ApiClient api(agent.grpcAddress());
  lb::v1::SetServerStateResponse set;
  ASSERT_TRUE(api.setServer("be", "s1", ServerStatus::DRAIN, &set).ok());
  ASSERT_TRUE(api.setServer("be", "s1", ServerStatus::READY, &set).ok());
  grpc::ClientContext context;
  lb::v1::WatchEventsRequest request;
  request.set_since(0);
  auto reader = api.watch(request, &context);
  // The start, the replay (config applied, drain, ready), then live events.
  auto got = readUntil(*reader, context, [](const auto& messages) { return messages.size() >= 4; });
  ASSERT_GE(got.size(), 4u);
  ASSERT_TRUE(got[0].has_start());
  EXPECT_EQ(got[0].start().first_sequence(), 1u);
  EXPECT_FALSE(got[0].start().lost());
  EXPECT_EQ(got[1].event().type(), Event::CONFIG_APPLIED);
  EXPECT_EQ(got[1].event().sequence(), 1u);
  EXPECT_EQ(got[1].event().origin(), "startup");
  EXPECT_EQ(got[2].event().new_state(), "DRAIN");
  EXPECT_EQ(got[3].event().new_state(), "READY");
  uint64_t last = got[3].event().sequence();
  // Live: web2 dies.
  web2.kill();
  auto live = readUntil(*reader, context, [](const auto& messages) {
    for (const auto& m : messages) {
      if (m.event().type() == Event::SERVER_STATE && m.event().server() == "s2") return true;
    }
    return false;
  });
  const Event* down = nullptr;
  for (const auto& m : live) {
    if (m.event().type() == Event::SERVER_STATE) down = &m.event();
    EXPECT_GT(m.event().sequence(), last);  // nothing twice
  }
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->new_state(), "DOWN");
  EXPECT_EQ(down->cause().status(), "L4CON");
  EXPECT_EQ(down->cause().info(), "Connection refused");
  context.TryCancel();
  // Replay from the middle.
  grpc::ClientContext again;
  request.set_since(2);
  auto replay = api.watch(request, &again);
  got = readUntil(*replay, again, [](const auto& messages) { return messages.size() >= 2; });
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[1].event().sequence(), 3u);
  again.TryCancel();
}

TEST(ApiTest, AReplayOnlyStreamEndsOnceWhatIsHeldWasSent) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  lb::v1::SetServerStateResponse set;
  ASSERT_TRUE(api.setServer("be", "s1", ServerStatus::DRAIN, &set).ok());
  lb::v1::WatchEventsRequest request;
  request.set_since(0);
  request.set_replay_only(true);
  request.add_types(Event::ADMIN_STATE);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto reader = api.watch(request, &context);
  std::vector<lb::v1::WatchEventsResponse> got;
  lb::v1::WatchEventsResponse message;
  while (reader->Read(&message)) got.push_back(message);
  EXPECT_TRUE(reader->Finish().ok());  // ended by the agent, not by the deadline
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].has_start());
  EXPECT_EQ(got[1].event().new_state(), "DRAIN");
}

TEST(ApiTest, AWatcherThatNeverReadsDoesNotSlowTheOthers) {
  Backend web1("web1");
  std::vector<std::pair<std::string, std::string>> servers;
  for (int i = 0; i < 5; ++i) servers.push_back({"s" + std::to_string(i), web1.address()});
  Agent agent(config(servers));
  ApiClient api(agent.grpcAddress());
  // A watcher that stops reading (behind a forwarder that stops reading its socket), and one
  // that reads.
  std::string address = agent.grpcAddress();
  FreezableForwarder forwarder(
      static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  // Small flow-control windows, as a client on a slow link would have.
  grpc::ChannelArguments small;
  small.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16384);
  ApiClient slow("127.0.0.1:" + std::to_string(forwarder.port()), "", nullptr, small);
  grpc::ClientContext stalled_context, reading_context;
  lb::v1::WatchEventsRequest request;
  auto stalled = slow.watch(request, &stalled_context);
  lb::v1::WatchEventsResponse first;
  ASSERT_TRUE(stalled->Read(&first));  // the stream is up
  ASSERT_TRUE(first.has_start());
  forwarder.freeze();
  auto reading = api.watch(request, &reading_context);
  std::atomic<size_t> seen{0};
  std::thread reader([&] {
    lb::v1::WatchEventsResponse message;
    while (reading->Read(&message)) {
      if (message.has_event()) ++seen;
    }
  });
  // 20,000 events (four servers drained and made ready again, one event each), far more than
  // the stalled watcher's queue and its stream's flow-control window hold.
  constexpr int kPerServer = 5000;
  constexpr size_t kEvents = 4 * kPerServer;
  Stopwatch watch;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int s = 1; s <= 4; ++s) {
    writers.emplace_back([&, s] {
      lb::v1::SetServerStateResponse response;
      for (int i = 0; i < kPerServer; ++i) {
        auto state = i % 2 == 0 ? ServerStatus::DRAIN : ServerStatus::READY;
        if (!api.setServer("be", "s" + std::to_string(s), state, &response).ok()) ++failures;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(failures.load(), 0);
  while (seen < kEvents && watch.elapsed() < 60s) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(seen.load(), kEvents) << "the reading watcher missed events";
  EXPECT_EQ(whoAnswers(agent.port("fe")), "web1");
  // The stalled watcher, read at last: its stream went on, and says what it lost.
  forwarder.thaw();
  uint64_t lost = 0, events = 0;
  lb::v1::WatchEventsResponse message;
  Stopwatch drain;
  while (events + lost < kEvents && drain.elapsed() < 20s && stalled->Read(&message)) {
    if (message.has_lost()) lost += message.lost().count();
    if (message.has_event()) ++events;
  }
  EXPECT_GT(lost, 0u) << events << " events reached the stalled watcher";
  EXPECT_EQ(events + lost, kEvents);
  stalled_context.TryCancel();
  reading_context.TryCancel();
  reader.join();
}

TEST(ApiTest, AfterKillNineTheStateDirBringsBackConfigVersionAndDrain) {
  Backend web1("web1"), web2("web2");
  TempDir state;
  auto agent = std::make_unique<Agent>(config({{"s1", web1.address()}}),
                                       std::vector<std::string>{"--state-dir", state.path()});
  uint16_t port = agent->port("fe");
  ApiClient api(agent->grpcAddress());
  lb::v1::ApplyConfigResponse applied;
  ASSERT_TRUE(api.applyText(config({{"s1", web1.address()}, {"s2", web2.address()}}, "",
                                   "127.0.0.1:" + std::to_string(port)),
                            &applied)
                  .ok());
  EXPECT_EQ(applied.version(), 2u);
  lb::v1::SetServerStateResponse set;
  ASSERT_TRUE(api.setServer("be", "s1", ServerStatus::DRAIN, &set).ok());
  lb::v1::GetStatusResponse before;
  ASSERT_TRUE(api.getStatus(&before).ok());
  agent->process().signal(SIGKILL);
  agent->process().wait();
  agent.reset();
  // Only --state-dir: the agent comes back as it was acknowledged.
  Process restarted({LB_AGENT_PATH, "--state-dir", state.path(), "--grpc", "127.0.0.1:0", "--http",
                     "127.0.0.1:0", "--threads", "1"});
  auto api_line = restarted.waitFor(std::regex("management API listening on ([^\n]+)\n"));
  ASSERT_TRUE(api_line) << restarted.output();
  EXPECT_THAT(restarted.output(), HasSubstr("configuration version 2 applied from"));
  ApiClient again((*api_line)[1]);
  lb::v1::GetStatusResponse after;
  ASSERT_TRUE(again.getStatus(&after).ok());
  EXPECT_EQ(after.agent().config_version(), 2u);
  EXPECT_NE(after.agent().incarnation(), before.agent().incarnation());
  EXPECT_EQ(serverOf(after, "be", "s1").admin_state(), ServerStatus::DRAIN);
  EXPECT_EQ(serverOf(after, "be", "s2").admin_state(), ServerStatus::READY);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(whoAnswers(port), "web2");  // s1 drained, same port
  // The text it was applied from is there too.
  lb::v1::GetConfigResponse config_now;
  ASSERT_TRUE(again.getConfig(&config_now).ok());
  ASSERT_EQ(config_now.sources().files_size(), 1);
  EXPECT_EQ(config_now.sources().files(0).name(), "lb.cfg");
  // Event sequences go on above the previous run's.
  lb::v1::WatchEventsRequest request;
  request.set_since(0);
  grpc::ClientContext context;
  auto reader = again.watch(request, &context);
  lb::v1::WatchEventsResponse start;
  ASSERT_TRUE(reader->Read(&start));
  EXPECT_GT(start.start().first_sequence(), before.agent().last_event());
  EXPECT_TRUE(start.start().restarted());
  context.TryCancel();
}

TEST(ApiTest, NoConnectionFailsWhileFiftyAppliesChangeServersAndBinds) {
  Backend web1("web1"), web2("web2"), web3("web3");
  Agent agent(config({{"s1", web1.address()}, {"s2", web2.address()}}));
  ApiClient api(agent.grpcAddress());
  std::string bind = bindOf(agent);
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::thread clients([&] {
    Stopwatch watch;
    while (!stop && watch.elapsed() < 60s && served + failed < 100000) {
      std::string who = whoAnswers(agent.port("fe"));
      (who.empty() ? failed : served)++;
    }
  });
  for (int i = 0; i < 50; ++i) {
    // Each apply waits for a connection to complete since the previous one, so the
    // load overlaps every change however slow the box is.
    int before = served + failed;
    Stopwatch waited;
    while (served + failed == before && waited.elapsed() < 10s) std::this_thread::sleep_for(1ms);
    std::vector<std::pair<std::string, std::string>> servers{{"s1", web1.address()}};
    if (i % 2 == 0) servers.push_back({"s3", web3.address()});
    if (i % 3 != 0) servers.push_back({"s2", web2.address()});
    std::string text = config(servers, "", bind);
    if (i % 2 == 1) {
      // A second frontend comes and goes.
      text += "frontend extra\n    bind 127.0.0.1:0\n    default_backend be\n";
    }
    lb::v1::ApplyConfigResponse response;
    grpc::Status status = api.applyText(text, &response);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
    EXPECT_TRUE(response.applied()) << i;
  }
  stop = true;
  clients.join();
  EXPECT_EQ(failed.load(), 0) << served.load() << " served";
  EXPECT_GE(served.load(), 50);
}

TEST(ApiTest, AnAgentStartedWithoutConfigurationWaitsForOne) {
  Backend web1("web1");
  Process agent(
      {LB_AGENT_PATH, "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--threads", "1"});
  auto api_line = agent.waitFor(std::regex("management API listening on ([^\n]+)\n"));
  ASSERT_TRUE(api_line) << agent.output();
  EXPECT_THAT(agent.output(), HasSubstr("started without a configuration"));
  ApiClient api((*api_line)[1]);
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.agent().config_version(), 0u);
  lb::v1::ApplyConfigResponse response;
  ASSERT_TRUE(api.applyText(config({{"s1", web1.address()}}), &response).ok());
  EXPECT_EQ(response.version(), 1u);
  ASSERT_TRUE(api.getStatus(&status).ok());
  ASSERT_EQ(status.frontends_size(), 1);
  std::string bind = status.frontends(0).binds(0);
  EXPECT_EQ(whoAnswers(static_cast<uint16_t>(std::stoi(bind.substr(bind.rfind(':') + 1)))), "web1");
}

TEST(ApiTest, AStateDirThatNeverHeldAConfigurationStartsEmptyAgain) {
  TempDir state;
  {
    Process first({LB_AGENT_PATH, "--state-dir", state.path(), "--grpc", "127.0.0.1:0", "--http",
                   "127.0.0.1:0", "--threads", "1"});
    auto api_line = first.waitFor(std::regex("management API listening on ([^\n]+)\n"));
    ASSERT_TRUE(api_line) << first.output();
    // A refused apply is an event, and events are saved: the directory is no longer empty.
    ApiClient api((*api_line)[1]);
    lb::v1::ApplyConfigResponse response;
    EXPECT_FALSE(
        api.applyText("frontend fe\n    bind 127.0.0.1:0\n    no-such-keyword\n", &response).ok());
    first.signal(SIGKILL);
    first.wait();
  }
  Process second({LB_AGENT_PATH, "--state-dir", state.path(), "--grpc", "127.0.0.1:0", "--http",
                  "127.0.0.1:0", "--threads", "1"});
  auto api_line = second.waitFor(std::regex("management API listening on ([^\n]+)\n"));
  ASSERT_TRUE(api_line) << second.output();
  EXPECT_THAT(second.output(), HasSubstr("started without a configuration"));
  ApiClient api((*api_line)[1]);
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.agent().config_version(), 0u);
}

TEST(ApiTest, APublicAddressWithoutTlsIsRefusedUnlessInsecure) {
  Process refused(
      {LB_AGENT_PATH, "--grpc", "0.0.0.0:0", "--http", "127.0.0.1:0", "--threads", "1"});
  EXPECT_EQ(refused.wait(), 1);
  EXPECT_THAT(refused.finalOutput(), HasSubstr("reachable from other hosts without TLS"));
}

TEST(ApiTest, TheApiListensOnAUnixSocket) {
  Backend web1("web1");
  TempDir dir;
  std::string socket = "unix:" + dir.path() + "/api.sock";
  Agent agent(config({{"s1", web1.address()}}), {"--grpc", socket});
  EXPECT_EQ(agent.grpcAddress(), socket);
  ApiClient api(socket);
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  EXPECT_EQ(status.agent().config_version(), 1u);
}

TEST(ApiTest, ARequestLargerThanTheBoundIsRefusedClearly) {
  Backend web1("web1");
  Agent agent(config({{"s1", web1.address()}}));
  ApiClient api(agent.grpcAddress());
  lb::v1::ApplyConfigResponse response;
  grpc::Status status = api.applyText(std::string(17 << 20, '#'), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("larger than max"));
  EXPECT_EQ(whoAnswers(agent.port("fe")), "web1");
}

}  // namespace
}  // namespace lb::testing
