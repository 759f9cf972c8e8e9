// HealthChecker on a real io_context with a Runtime built from HAProxy text: the events it
// publishes (fields, order), what the balancer sees, passive-check actions, admin states,
// slowstart, first-check spreading, and applies that keep a server. Check servers are sockets
// on 127.0.0.1 owned by the test; intervals are tens of milliseconds.
#include "agent/health/health_checker.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/loader.h"
#include "agent/control/event_log.h"
#include "tests/unit/health/loopback.h"

namespace lb::health {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using lb::v1::Event;
using runtime::AdminState;
using runtime::OpState;
using Clock = std::chrono::steady_clock;

// A TCP port on 127.0.0.1 the test opens and closes: bound but not listening, connections are
// refused; listening, the kernel accepts them (a TCP check passes).
class CheckPort {
 public:
  explicit CheckPort(bool listening) {
    fd_ = bindLoopback(&port_);
    if (listening) listen();
  }
  ~CheckPort() { close(); }
  void listen() { ::listen(fd_, 1024); }
  // From now on connections are refused (the port is free again).
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() {
    log_.subscribe([this](const Event& e) {
      events_.push_back(e);
      at_.push_back(Clock::now());
      if (on_event_) on_event_(e);
    });
  }

  std::shared_ptr<runtime::Runtime> build(const std::string& servers, uint64_t version = 1) {
    std::string text = "backend be\n    mode tcp\n" + servers;
    auto loaded = config::load({config::Source{"test.cfg", text, config::Format::kHaproxy}}, {});
    EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
    std::string error;
    auto rt = runtime::buildRuntime(loaded.config, version, store_, &error);
    EXPECT_NE(rt, nullptr) << error;
    return rt;
  }

  void start(const std::string& servers) {
    runtime_ = build(servers);
    applied_at_ = Clock::now();
    checker_.apply(runtime_);
  }

  // Starts with server `s` refused until it is DOWN, then listening until it is UP again at
  // full health, so what follows starts from a known counter (a first check that passes makes
  // no event). Forgets those events. `servers` must let the checks come quickly while changing
  // state (fastinter, downinter).
  bool startHealthy(CheckPort& port, const std::string& servers) {
    start(servers);
    if (!runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); })) return false;
    port.listen();
    if (!runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); })) return false;
    events_.clear();
    at_.clear();
    shutdowns_.clear();
    return true;
  }

  runtime::BackendRuntime& backend() { return *runtime_->backends.at(0); }
  runtime::ServerState& state(size_t i) { return *backend().servers.at(i).state; }

  // Runs the control loop until `done` or the timeout.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    io_.restart();
    auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) io_.run_one_for(10ms);
    return done();
  }
  void runFor(std::chrono::milliseconds time) {
    io_.restart();
    io_.run_for(time);
  }

  // The first event of `type` (for `server` when given), and where it is in events_.
  std::optional<size_t> find(Event::Type type, const std::string& server = "",
                             const std::string& new_state = "") const {
    for (size_t i = 0; i < events_.size(); ++i) {
      const Event& e = events_[i];
      if (e.type() == type && (server.empty() || e.server() == server) &&
          (new_state.empty() || e.new_state() == new_state)) {
        return i;
      }
    }
    return std::nullopt;
  }
  bool has(Event::Type type, const std::string& server = "",
           const std::string& new_state = "") const {
    return find(type, server, new_state).has_value();
  }
  size_t count(Event::Type type) const {
    size_t n = 0;
    for (const auto& e : events_) n += e.type() == type ? 1 : 0;
    return n;
  }

  asio::io_context io_;
  control::EventLog log_{"test-agent", 1000};
  std::vector<const runtime::ServerState*> shutdowns_;
  HealthChecker checker_{io_, HealthChecker::Hooks{&log_, [this](const runtime::ServerState* s) {
                                                     shutdowns_.push_back(s);
                                                   }}};
  runtime::StateStore store_;
  std::shared_ptr<runtime::Runtime> runtime_;
  std::vector<Event> events_;
  std::vector<Clock::time_point> at_;
  std::function<void(const Event&)> on_event_;
  Clock::time_point applied_at_;
};

TEST_F(CheckerTest, RefusedServerGoesDownWithAnEventThatSaysWhy) {
  CheckPort up(true), dead(false);
  start("    server up " + up.address() + " check inter 100ms\n" +  //
        "    server dead " + dead.address() + " check inter 100ms rise 2 fall 3\n");
  EXPECT_TRUE(backend().usable(1));  // servers start UP
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }));
  const Event& e = events_[*find(Event::SERVER_STATE, "dead")];
  EXPECT_GT(e.sequence(), 0u);
  EXPECT_EQ(e.agent(), "test-agent");
  EXPECT_GT(e.time().seconds(), 0);
  EXPECT_EQ(e.config_version(), 1u);
  EXPECT_EQ(e.backend(), "be");
  EXPECT_EQ(e.server(), "dead");
  EXPECT_EQ(e.old_state(), "UP");
  EXPECT_EQ(e.new_state(), "DOWN");
  EXPECT_EQ(e.cause().status(), "L4CON");
  EXPECT_EQ(e.cause().description(), "Layer4 connection problem");
  EXPECT_EQ(e.cause().info(), "Connection refused");
  EXPECT_EQ(e.cause().health(), 0u);
  EXPECT_EQ(e.cause().rise(), 2u);
  EXPECT_EQ(e.cause().fall(), 3u);
  EXPECT_FALSE(e.cause().passive());
  EXPECT_EQ(e.message().rfind("Server be/dead is DOWN, reason: Layer4 connection problem, info: "
                              "\"Connection refused\", check duration: ",
                              0),
            0u)
      << e.message();
  EXPECT_NE(e.message().find("1 active and 0 backup servers left. 0 sessions active, 0 requeued, "
                             "0 remaining in queue."),
            std::string::npos)
      << e.message();
  // The balancer sees it at once; the other server is untouched.
  EXPECT_FALSE(backend().usable(1));
  EXPECT_TRUE(backend().usable(0));
  EXPECT_EQ(state(1).op.load(), OpState::kDown);
  EXPECT_EQ(state(1).down_transitions.load(), 1u);
  runFor(300ms);
  EXPECT_FALSE(has(Event::SERVER_STATE, "up"));
  EXPECT_FALSE(has(Event::BACKEND_DOWN));
  EXPECT_EQ(count(Event::SERVER_STATE), 1u);  // checks go on, no repeated event
}

TEST_F(CheckerTest, LastServerDownIsBackendDownAndItsReturnBackendUp) {
  CheckPort port(false);
  start("    server s " + port.address() + " check inter 50ms rise 1 fall 1\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_DOWN); }));
  EXPECT_EQ(events_[*find(Event::BACKEND_DOWN)].message(), "backend be has no server available!");
  EXPECT_EQ(events_[*find(Event::BACKEND_DOWN)].backend(), "be");
  port.listen();
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_UP); }));
  auto down = find(Event::SERVER_STATE, "s", "DOWN");
  auto backend_down = find(Event::BACKEND_DOWN);
  auto up = find(Event::SERVER_STATE, "s", "UP");
  auto backend_up = find(Event::BACKEND_UP);
  ASSERT_TRUE(down && up);
  EXPECT_LT(*down, *backend_down);
  EXPECT_LT(*backend_down, *up);
  EXPECT_LT(*up, *backend_up);
  for (size_t i = 1; i < events_.size(); ++i) {
    EXPECT_EQ(events_[i].sequence(), events_[i - 1].sequence() + 1);
  }
  const Event& e = events_[*up];
  EXPECT_EQ(e.old_state(), "DOWN");
  EXPECT_EQ(e.cause().status(), "L4OK");
  EXPECT_EQ(e.cause().description(), "Layer4 check passed");
  EXPECT_EQ(e.cause().health(), 1u);
  EXPECT_EQ(
      e.message().rfind("Server be/s is UP, reason: Layer4 check passed, check duration: ", 0), 0u)
      << e.message();
  EXPECT_NE(e.message().find("1 active and 0 backup servers online."), std::string::npos);
  EXPECT_EQ(events_[*backend_up].message(), "backend be has a server available again.");
  EXPECT_TRUE(backend().usable(0));
}

TEST_F(CheckerTest, PassiveMarkDownIsImmediateAndShutsTheServersSessions) {
  CheckPort port(true), other(true);
  start("    server s " + port.address() +
        " check inter 10s observe layer4 error-limit 5 on-error mark-down "
        "on-marked-down shutdown-sessions\n" +
        "    server other " + other.address() + " check inter 10s\n");
  runFor(100ms);  // the first check passes
  auto reported = Clock::now();
  std::thread worker([&] {  // the data plane reports from its own thread
    checker_.reportErrorLimit(backend().servers[0].state, 5, "L4 timeout");
  });
  worker.join();
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  EXPECT_LT(Clock::now() - reported, 3s);  // not at the next check, 10 s away
  const Event& e = events_[*find(Event::SERVER_STATE, "s")];
  EXPECT_EQ(e.new_state(), "DOWN");
  EXPECT_EQ(e.cause().status(), "HANA");
  EXPECT_EQ(e.cause().description(), "Health analyze");
  EXPECT_EQ(e.cause().info(), "Detected 5 consecutive errors, last one was: L4 timeout");
  EXPECT_TRUE(e.cause().passive());
  EXPECT_FALSE(backend().usable(0));
  ASSERT_EQ(shutdowns_.size(), 1u);
  EXPECT_EQ(shutdowns_[0], backend().servers[0].state.get());
}

TEST_F(CheckerTest, WithoutShutdownSessionsRunningSessionsAreLeftAlone) {
  CheckPort port(true);
  start("    server s " + port.address() +
        " check inter 10s observe layer4 error-limit 5 on-error mark-down\n");
  runFor(50ms);
  checker_.reportErrorLimit(backend().servers[0].state, 5, "L4 timeout");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  EXPECT_TRUE(shutdowns_.empty());
}

TEST_F(CheckerTest, PassiveFailCheckIsOneFailedCheck) {
  CheckPort port(false);
  ASSERT_TRUE(startHealthy(port, "    server s " + port.address() +
                                     " check inter 10s fastinter 50ms downinter 50ms rise 2 "
                                     "fall 3 observe layer4 error-limit 3 on-error fail-check\n"));
  // health 4 of 0..4
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 unsuccessful connection");
  ASSERT_TRUE(runUntil([&] { return has(Event::CHECK, "s"); }));
  const Event& e = events_[*find(Event::CHECK, "s")];
  EXPECT_EQ(e.old_state(), "UP");
  EXPECT_EQ(e.new_state(), "UP");
  EXPECT_EQ(e.cause().status(), "HANA");
  EXPECT_EQ(e.cause().health(), 3u);
  EXPECT_TRUE(e.cause().passive());
  EXPECT_EQ(e.message(),
            "Health check for passive server be/s failed, reason: Health analyze, info: "
            "\"Detected 3 consecutive errors, last one was: L4 unsuccessful connection\", check "
            "duration: 0ms, status: 2/3 UP.");
  EXPECT_TRUE(backend().usable(0));
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 unsuccessful connection");
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 unsuccessful connection");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  EXPECT_FALSE(backend().usable(0));
}

TEST_F(CheckerTest, PassiveFastinterBringsTheNextCheckForward) {
  CheckPort port(false);
  ASSERT_TRUE(startHealthy(port, "    server s " + port.address() +
                                     " check inter 10s fastinter 50ms downinter 50ms rise 1 "
                                     "fall 1 observe layer4 error-limit 3 on-error fastinter\n"));
  // Fully up: the next check is 10 s away.
  port.close();
  auto reported = Clock::now();
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  runFor(20ms);
  EXPECT_TRUE(backend().usable(0));  // the action itself changes nothing
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  EXPECT_LT(Clock::now() - reported, 3s);
  // Marked down by the active check that came sooner.
  const Event& e = events_[*find(Event::SERVER_STATE, "s")];
  EXPECT_EQ(e.cause().status(), "L4CON");
  EXPECT_FALSE(e.cause().passive());
}

TEST_F(CheckerTest, PassiveSuddenDeathLeavesOneCheckToFail) {
  CheckPort port(false);
  ASSERT_TRUE(
      startHealthy(port, "    server s " + port.address() +
                             " check inter 10s fastinter 50ms downinter 50ms rise 2 "
                             "fall 3 observe layer4 error-limit 3 on-error sudden-death\n"));
  uint64_t failed_before = state(0).failed_checks.load();
  // health 4 of 0..4
  port.close();
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  auto check = find(Event::CHECK, "s");
  ASSERT_TRUE(check);
  EXPECT_EQ(events_[*check].cause().status(), "HANA");
  EXPECT_EQ(events_[*check].cause().health(), 2u);  // = rise: one more failure is fatal
  const Event& down = events_[*find(Event::SERVER_STATE, "s")];
  EXPECT_EQ(down.cause().status(), "L4CON");  // the one active check that failed
  // The simulated failure and that one check.
  EXPECT_EQ(state(0).failed_checks.load() - failed_before, 2u);
}

TEST_F(CheckerTest, PassiveReportsAreIgnoredInMaintenance) {
  CheckPort port(true);
  start("    server s " + port.address() +
        " check inter 10s observe layer4 error-limit 3 on-error mark-down\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kMaint, &error));
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  runFor(100ms);
  EXPECT_FALSE(has(Event::SERVER_STATE));
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
}

// ---- admin states (in-process API) ----

TEST_F(CheckerTest, MaintPausesChecksAndReadyResumesThem) {
  CheckPort up(true), dead(false);
  start("    server up " + up.address() + " check inter 50ms\n" +  //
        "    server dead " + dead.address() + " check inter 50ms fall 1\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "dead", AdminState::kMaint, &error)) << error;
  ASSERT_TRUE(has(Event::ADMIN_STATE, "dead"));
  const Event& maint = events_[*find(Event::ADMIN_STATE, "dead")];
  EXPECT_EQ(maint.old_state(), "READY");
  EXPECT_EQ(maint.new_state(), "MAINT");
  EXPECT_EQ(maint.backend(), "be");
  EXPECT_EQ(maint.config_version(), 1u);
  EXPECT_EQ(maint.message(),
            "Server be/dead is going DOWN for maintenance. 1 active and 0 backup servers left. 0 "
            "sessions active, 0 requeued, 0 remaining in queue.");
  EXPECT_FALSE(backend().usable(1));
  EXPECT_EQ(state(1).admin.load(), AdminState::kMaint);
  runFor(400ms);  // eight intervals: no check ran
  EXPECT_FALSE(has(Event::SERVER_STATE, "dead"));
  EXPECT_EQ(state(1).op.load(), OpState::kUp);

  ASSERT_TRUE(checker_.setAdminState("be", "dead", AdminState::kReady, &error));
  const Event& ready = events_.back();
  EXPECT_EQ(ready.type(), Event::ADMIN_STATE);
  EXPECT_EQ(ready.old_state(), "MAINT");
  EXPECT_EQ(ready.new_state(), "READY");
  EXPECT_EQ(ready.message().rfind("Server be/dead is leaving forced maintenance.", 0), 0u);
  // A check runs at once and finds the server dead.
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }, 2s));
  EXPECT_FALSE(backend().usable(1));
}

TEST_F(CheckerTest, DrainTakesNoNewConnectionsAndKeepsChecking) {
  CheckPort up(true), dead(false);
  start("    server up " + up.address() + " check inter 50ms\n" +  //
        "    server dead " + dead.address() + " check inter 50ms fall 1\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "up", AdminState::kDrain, &error));
  EXPECT_EQ(events_.back().new_state(), "DRAIN");
  EXPECT_EQ(events_.back().message(), "Server be/up is entering drain mode: no new connections.");
  EXPECT_FALSE(backend().usable(0));
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
  // Checks go on for drained servers: the other one is found dead; the backend is then empty.
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_DOWN); }));
  ASSERT_TRUE(checker_.setAdminState("be", "up", AdminState::kReady, &error));
  EXPECT_EQ(events_.back().type(), Event::BACKEND_UP);
  EXPECT_TRUE(has(Event::ADMIN_STATE, "up", "READY"));
  EXPECT_EQ(events_[*find(Event::ADMIN_STATE, "up", "READY")].message().rfind(
                "Server be/up is leaving drain mode.", 0),
            0u);
  EXPECT_TRUE(backend().usable(0));
}

TEST_F(CheckerTest, MaintOnTheLastServerIsBackendDown) {
  CheckPort port(true);
  start("    server s " + port.address() + " check inter 10s\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kMaint, &error));
  EXPECT_TRUE(has(Event::BACKEND_DOWN));
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kReady, &error));
  EXPECT_TRUE(has(Event::BACKEND_UP));
}

TEST_F(CheckerTest, AdminStateOfAnUnknownServerIsAnError) {
  CheckPort port(true);
  start("    server s " + port.address() + " check inter 10s\n");
  std::string error;
  EXPECT_FALSE(checker_.setAdminState("be", "nope", AdminState::kMaint, &error));
  EXPECT_EQ(error, "no server 'nope' in backend 'be'");
  EXPECT_FALSE(checker_.setAdminState("other", "s", AdminState::kMaint, &error));
  EXPECT_EQ(error, "no server 's' in backend 'other'");
  EXPECT_TRUE(events_.empty());
}

TEST_F(CheckerTest, SettingTheSameAdminStateAgainIsQuiet) {
  CheckPort port(true);
  start("    server s " + port.address() + " check inter 10s\n");
  std::string error;
  EXPECT_TRUE(checker_.setAdminState("be", "s", AdminState::kReady, &error));
  EXPECT_TRUE(events_.empty());
  EXPECT_TRUE(checker_.setAdminState("be", "s", AdminState::kDrain, &error));
  EXPECT_TRUE(checker_.setAdminState("be", "s", AdminState::kDrain, &error));
  EXPECT_EQ(count(Event::ADMIN_STATE), 1u);
}

TEST_F(CheckerTest, TheLastOfABurstOfChangesAlwaysReachesTheBalancer) {
  // Rebuilds of a backend's balancer are spaced out (each waits a few times as long as the
  // previous one took), so a burst of changes may leave the balancer behind for a moment; the
  // last rebuild must still come and take in every change. Many distinct weights make each
  // rebuild slow enough (milliseconds) that the burst below outruns it.
  constexpr size_t kServers = 300;
  std::string servers;
  std::vector<int> weight(kServers);
  size_t cycle = 0;
  for (size_t i = 0; i < kServers; ++i) {
    weight[i] = 1 + static_cast<int>(i % 256);
    cycle += static_cast<size_t>(weight[i]);
    servers += "    server s" + std::to_string(i) + " 127.0.0.1:1 weight " +
               std::to_string(weight[i]) + " disabled\n";
  }
  start(servers);
  std::string error;
  for (size_t i = 0; i < kServers; ++i) {
    ASSERT_TRUE(checker_.setAdminState("be", "s" + std::to_string(i), AdminState::kReady, &error))
        << error;
  }
  // One cycle of the weighted round robin gives every server its weight in turns.
  auto oneCycle = [&] {
    std::vector<int> picked(kServers, 0);
    for (size_t n = 0; n < cycle; ++n) {
      auto i = backend().balancer->pick(backend(), balance::PickRequest{});
      if (!i) return false;
      ++picked[*i];
    }
    return picked == weight;
  };
  EXPECT_FALSE(oneCycle()) << "the burst did not outrun the rebuilds; nothing was deferred";
  EXPECT_TRUE(runUntil(oneCycle, 5s));
}

// ---- slowstart ----

TEST_F(CheckerTest, SlowstartRampsTheWeightAfterTheServerComesBack) {
  CheckPort port(false);
  start("    server s " + port.address() +
        " check inter 50ms rise 1 fall 1 weight 10 "
        "slowstart 1s\n");
  EXPECT_EQ(state(0).weight.load(), 10u);  // not at startup: only after coming back
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  std::optional<uint32_t> weight_when_up;
  on_event_ = [&](const Event& e) {
    if (e.type() == Event::SERVER_STATE && e.new_state() == "UP") {
      weight_when_up = state(0).weight.load();
    }
  };
  port.listen();
  ASSERT_TRUE(runUntil([&] { return weight_when_up.has_value(); }));
  EXPECT_EQ(*weight_when_up, 1u);
  EXPECT_TRUE(backend().usable(0));  // usable at once, with a small weight
  std::vector<uint32_t> samples;
  auto up_at = Clock::now();
  ASSERT_TRUE(runUntil(
      [&] {
        samples.push_back(state(0).weight.load());
        return samples.back() == 10u;
      },
      5s));
  EXPECT_GE(Clock::now() - up_at, 800ms);  // the ramp takes the slowstart time
  for (size_t i = 1; i < samples.size(); ++i) EXPECT_GE(samples[i], samples[i - 1]);
  EXPECT_TRUE(std::any_of(samples.begin(), samples.end(), [](uint32_t w) {
    return w > 1 && w < 10;
  })) << "the weight jumped instead of ramping";
}

TEST_F(CheckerTest, GoingDownEndsTheRampAndRestoresTheConfiguredWeight) {
  CheckPort port(false);
  start("    server s " + port.address() +
        " check inter 50ms rise 1 fall 1 weight 10 "
        "slowstart 10s\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  port.listen();
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); }));
  EXPECT_LT(state(0).weight.load(), 10u);
  port.close();
  ASSERT_TRUE(runUntil([&] { return count(Event::SERVER_STATE) == 3; }));
  EXPECT_EQ(state(0).weight.load(), 10u);
}

// ---- scheduling ----

TEST_F(CheckerTest, FirstChecksAreSpreadOverTheInterval) {
  CheckPort a(false), b(false), c(false), d(false);
  start("    server a " + a.address() + " check inter 800ms fall 1\n" +  //
        "    server b " + b.address() + " check inter 800ms fall 1\n" +  //
        "    server c " + c.address() + " check inter 800ms fall 1\n" +  //
        "    server d " + d.address() + " check inter 800ms fall 1\n");
  ASSERT_TRUE(runUntil([&] { return count(Event::SERVER_STATE) == 4; }, 5s));
  std::vector<std::string> order;
  for (const auto& e : events_) {
    if (e.type() == Event::SERVER_STATE) order.push_back(e.server());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
  // d's first check is 3/4 of inter after the apply (600 ms); timers never fire early.
  auto d_at = at_[*find(Event::SERVER_STATE, "d")];
  EXPECT_GE(d_at - applied_at_, 550ms);
}

TEST_F(CheckerTest, DowninterSpacesChecksOfADownServer) {
  CheckPort port(false);
  start("    server s " + port.address() + " check inter 20ms downinter 1s rise 2 fall 1\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  auto down = at_[*find(Event::SERVER_STATE, "s", "DOWN")];
  port.listen();
  // The next check is a downinter away: the first success (a CHECK event, 1 of rise 2) cannot
  // come sooner (timers never fire early); then fastinter (unset: inter) brings the second one
  // much sooner than another downinter.
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); }));
  auto turned = at_[*find(Event::CHECK, "s")];
  auto up = at_[*find(Event::SERVER_STATE, "s", "UP")];
  EXPECT_GE(turned - down, 990ms);
  EXPECT_GE(up - turned, 19ms);
  EXPECT_LT(up - turned, 700ms);
}

// ---- applies ----

TEST_F(CheckerTest, ApplyKeepsTheStateOfAServerThatKeepsItsIdentity) {
  CheckPort dead(false);
  std::string line = "    server s " + dead.address() + " check inter 50ms fall 1";
  start(line + "\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  runtime_ = build(line + " rise 5\n", 2);
  checker_.apply(runtime_);
  EXPECT_EQ(state(0).op.load(), OpState::kDown);  // kept, not reset to UP
  EXPECT_FALSE(backend().usable(0));
  runFor(200ms);
  EXPECT_EQ(count(Event::SERVER_STATE), 1u);
  // Without `check` a server is up.
  runtime_ = build("    server s " + dead.address() + "\n", 3);
  checker_.apply(runtime_);
  EXPECT_TRUE(backend().usable(0));
}

TEST_F(CheckerTest, EventsCarryTheConfigVersionInForce) {
  CheckPort up(true), dead(false);
  start("    server up " + up.address() + " check inter 10s\n");
  runtime_ = build("    server up " + up.address() + " check inter 10s\n" +  //
                       "    server dead " + dead.address() + " check inter 50ms fall 1\n",
                   2);
  checker_.apply(runtime_);
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }));
  EXPECT_EQ(events_[*find(Event::SERVER_STATE, "dead")].config_version(), 2u);
}

}  // namespace
}  // namespace lb::health
