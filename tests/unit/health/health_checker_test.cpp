// HealthChecker on simulated time with a fake prober whose results the test supplies: the
// events it publishes (fields, order), what the balancer sees, passive-check actions, admin
// states, slowstart, when checks run, and applies that keep a server. No sockets, no sleeps:
// minutes of checks run in milliseconds, and times are exact.
#include "agent/health/health_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/common/simulated_time.h"
#include "agent/config/loader.h"
#include "agent/runtime/build.h"

namespace lb::health {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using common::MonoTime;
using lb::v1::Event;
using runtime::AdminState;
using runtime::OpState;

// Plays every server's check: each address answers (L4OK) or refuses (L4CON) as the test says,
// after `latency` of simulated time. Records when each check started.
class FakeProber : public Prober {
 public:
  explicit FakeProber(common::TimeSource& time) : time_(time) {}

  void set(uint16_t port, bool up) { up_[port] = up; }
  // Checks of `port` cannot run here (out of descriptors), whatever the server's state.
  void setLocalFailure(uint16_t port, bool failing) { local_[port] = failing; }
  std::chrono::milliseconds latency = 1ms;

  void run(std::shared_ptr<const runtime::CheckSpec>, const ProbeTarget& target,
           ProbeCallback done) override {
    uint16_t port = target.endpoint.port();
    started_[port].push_back(time_.now());
    bool up = up_.count(port) == 0 || up_[port];
    CheckResult result =
        up ? CheckResult{CheckStatus::kL4Ok, true, "", latency}
           : CheckResult{CheckStatus::kL4Con, false, "Connection refused", latency};
    if (local_[port]) {
      result = CheckResult{CheckStatus::kSockErr, false, "Too many open files", latency, true};
    }
    pending_.push_back(time_.makeTimer());
    pending_.back()->armAfter(latency, [done, result] { done(result); });
  }

  // When checks of `port` started.
  const std::vector<MonoTime>& started(uint16_t port) { return started_[port]; }

 private:
  common::TimeSource& time_;
  std::map<uint16_t, bool> up_;
  std::map<uint16_t, bool> local_;
  std::map<uint16_t, std::vector<MonoTime>> started_;
  std::vector<std::unique_ptr<common::Timer>> pending_;
};

// Keeps the events in order, with the simulated time each was published at.
class Recorder : public EventSink {
 public:
  explicit Recorder(common::TimeSource& time) : time_(time) {}
  void publish(Event event) override {
    event.set_sequence(events.size() + 1);
    events.push_back(event);
    at.push_back(time_.now());
    if (on_event) on_event(events.back());
  }
  void clear() {
    events.clear();
    at.clear();
  }
  std::vector<Event> events;
  std::vector<MonoTime> at;
  std::function<void(const Event&)> on_event;

 private:
  common::TimeSource& time_;
};

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() {
    time_.setAfterEach([this] { poll(); });
  }

  // A server address the prober answers for: up (checks pass) or refusing.
  std::string server(bool up) {
    uint16_t port = next_port_++;
    prober_.set(port, up);
    return "127.0.0.1:" + std::to_string(port);
  }
  static uint16_t portOf(const std::string& address) {
    return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  }

  std::shared_ptr<runtime::Runtime> build(const std::string& servers, uint64_t version = 1) {
    std::string text = "backend be\n    mode tcp\n" + servers;
    auto loaded = config::load({config::Source{"test.cfg", text, config::Format::kHaproxy}}, {});
    EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
    auto built = runtime::buildRuntime(loaded.config, {version, &store_, nullptr, &checker_});
    EXPECT_NE(built.runtime, nullptr) << built.error.message;
    return built.runtime;
  }

  void start(const std::string& servers) {
    runtime_ = build(servers);
    applied_at_ = time_.now();
    checker_.apply(runtime_);
  }

  // Starts with server `s` refusing until it is DOWN, then answering until it is UP again at
  // full health, so what follows starts from a known counter. Forgets those events.
  bool startHealthy(const std::string& address, const std::string& servers) {
    prober_.set(portOf(address), false);
    start(servers);
    if (!runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); })) return false;
    prober_.set(portOf(address), true);
    if (!runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); })) return false;
    recorder_.clear();
    shutdowns_.clear();
    return true;
  }

  runtime::BackendRuntime& backend() { return *runtime_->backends.at(0); }
  runtime::ServerState& state(size_t i) { return *backend().servers.at(i).state; }

  // Runs what was posted to the control thread (cross-thread reports).
  void poll() {
    io_.restart();
    io_.poll();
  }
  // Moves simulated time on, timer by timer, until `done` or `limit` has passed.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 60s) {
    poll();
    return time_.advanceUntil(done, limit);
  }
  void runFor(std::chrono::milliseconds time) {
    poll();
    time_.advance(time);
  }

  std::vector<Event>& events() { return recorder_.events; }
  // The first event of `type` (for `server` when given), and where it is in events().
  std::optional<size_t> find(Event::Type type, const std::string& server = "",
                             const std::string& new_state = "") {
    for (size_t i = 0; i < events().size(); ++i) {
      const Event& e = events()[i];
      if (e.type() == type && (server.empty() || e.server() == server) &&
          (new_state.empty() || e.new_state() == new_state)) {
        return i;
      }
    }
    return std::nullopt;
  }
  bool has(Event::Type type, const std::string& server = "", const std::string& new_state = "") {
    return find(type, server, new_state).has_value();
  }
  size_t count(Event::Type type) {
    return static_cast<size_t>(std::count_if(events().begin(), events().end(),
                                             [&](const Event& e) { return e.type() == type; }));
  }
  MonoTime when(Event::Type type, const std::string& server, const std::string& state = "") {
    auto i = find(type, server, state);
    return i ? recorder_.at[*i] : MonoTime{};
  }

  asio::io_context io_;
  common::SimulatedTimeSource time_;
  FakeProber prober_{time_};
  Recorder recorder_{time_};
  std::vector<const runtime::ServerState*> shutdowns_;
  HealthChecker checker_{
      io_, time_, prober_,
      HealthChecker::Hooks{&recorder_, [this](std::shared_ptr<const runtime::ServerState> s) {
                             shutdowns_.push_back(s.get());
                           }}};
  runtime::StateStore store_;
  std::shared_ptr<runtime::Runtime> runtime_;
  MonoTime applied_at_;
  uint16_t next_port_ = 20000;
};

TEST_F(CheckerTest, RefusedServerGoesDownWithAnEventThatSaysWhy) {
  std::string up = server(true), dead = server(false);
  start("    server up " + up + " check inter 100ms\n" +  //
        "    server dead " + dead + " check inter 100ms rise 2 fall 3\n");
  EXPECT_TRUE(backend().usable(1));  // servers start UP
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }));
  const Event& e = events()[*find(Event::SERVER_STATE, "dead")];
  EXPECT_EQ(e.config_version(), 1u);
  EXPECT_EQ(e.backend(), "be");
  EXPECT_EQ(e.server(), "dead");
  EXPECT_EQ(e.old_state(), "UP");
  EXPECT_EQ(e.new_state(), "DOWN");
  EXPECT_EQ(e.cause().status(), "L4CON");
  EXPECT_EQ(e.cause().description(), "Layer4 connection problem");
  EXPECT_EQ(e.cause().info(), "Connection refused");
  EXPECT_EQ(e.cause().duration().nanos(), 1000000);
  EXPECT_EQ(e.cause().health(), 0u);
  EXPECT_EQ(e.cause().rise(), 2u);
  EXPECT_EQ(e.cause().fall(), 3u);
  EXPECT_FALSE(e.cause().passive());
  EXPECT_EQ(e.message(),
            "Server be/dead is DOWN, reason: Layer4 connection problem, info: \"Connection "
            "refused\", check duration: 1ms. 1 active and 0 backup servers left. 0 sessions "
            "active, 0 requeued, 0 remaining in queue.");
  // A server that starts UP with health = rise goes DOWN at its first failed check (the second
  // of the backend's first checks, spread over the interval: at 50 ms, reported 1 ms later).
  EXPECT_EQ(when(Event::SERVER_STATE, "dead") - applied_at_, 51ms);
  // The balancer sees it at once; the other server is untouched.
  EXPECT_FALSE(backend().usable(1));
  EXPECT_TRUE(backend().usable(0));
  EXPECT_EQ(state(1).op.load(), OpState::kDown);
  EXPECT_EQ(state(1).down_transitions.load(), 1u);
  runFor(1s);
  EXPECT_FALSE(has(Event::SERVER_STATE, "up"));
  EXPECT_FALSE(has(Event::BACKEND_DOWN));
  EXPECT_EQ(count(Event::SERVER_STATE), 1u);  // checks go on, no repeated event
  EXPECT_GE(prober_.started(portOf(dead)).size(), 10u);
}

TEST_F(CheckerTest, LastServerDownIsBackendDownAndItsReturnBackendUp) {
  std::string s = server(false);
  start("    server s " + s + " check inter 50ms rise 1 fall 1\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_DOWN); }));
  EXPECT_EQ(events()[*find(Event::BACKEND_DOWN)].message(), "backend be has no server available!");
  EXPECT_EQ(events()[*find(Event::BACKEND_DOWN)].backend(), "be");
  prober_.set(portOf(s), true);
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_UP); }));
  auto down = find(Event::SERVER_STATE, "s", "DOWN");
  auto backend_down = find(Event::BACKEND_DOWN);
  auto up = find(Event::SERVER_STATE, "s", "UP");
  auto backend_up = find(Event::BACKEND_UP);
  ASSERT_TRUE(down && up);
  EXPECT_LT(*down, *backend_down);
  EXPECT_LT(*backend_down, *up);
  EXPECT_LT(*up, *backend_up);
  const Event& e = events()[*up];
  EXPECT_EQ(e.old_state(), "DOWN");
  EXPECT_EQ(e.cause().status(), "L4OK");
  EXPECT_EQ(e.cause().description(), "Layer4 check passed");
  EXPECT_EQ(e.cause().health(), 1u);
  EXPECT_EQ(e.message(),
            "Server be/s is UP, reason: Layer4 check passed, check duration: 1ms. 1 active and 0 "
            "backup servers online. 0 sessions requeued, 0 total in queue.");
  EXPECT_EQ(events()[*backend_up].message(), "backend be has a server available again.");
  EXPECT_TRUE(backend().usable(0));
}

// ---- passive checks ----

TEST_F(CheckerTest, PassiveMarkDownIsImmediateAndShutsTheServersSessions) {
  std::string s = server(true), other = server(true);
  start("    server s " + s +
        " check inter 10s observe layer4 error-limit 5 on-error mark-down "
        "on-marked-down shutdown-sessions\n" +
        "    server other " + other + " check inter 10s\n");
  runFor(100ms);  // the first check passes
  auto reported = time_.now();
  std::thread worker([&] {  // the data plane reports from its own thread
    checker_.reportErrorLimit(backend().servers[0].state, 5, "L4 timeout");
  });
  worker.join();
  poll();
  ASSERT_TRUE(has(Event::SERVER_STATE, "s"));
  EXPECT_EQ(time_.now(), reported);  // at once, not at the next check 10 s away
  const Event& e = events()[*find(Event::SERVER_STATE, "s")];
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
  std::string s = server(true);
  start("    server s " + s + " check inter 10s observe layer4 error-limit 5 on-error mark-down\n");
  runFor(50ms);
  checker_.reportErrorLimit(backend().servers[0].state, 5, "L4 timeout");
  poll();
  ASSERT_TRUE(has(Event::SERVER_STATE, "s"));
  EXPECT_TRUE(shutdowns_.empty());
}

TEST_F(CheckerTest, PassiveFailCheckIsOneFailedCheck) {
  std::string s = server(true);
  ASSERT_TRUE(startHealthy(s, "    server s " + s +
                                  " check inter 10s fastinter 50ms downinter 50ms rise 2 "
                                  "fall 3 observe layer4 error-limit 3 on-error fail-check\n"));
  // health 4 of 0..4
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 unsuccessful connection");
  poll();
  ASSERT_TRUE(has(Event::CHECK, "s"));
  const Event& e = events()[*find(Event::CHECK, "s")];
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
  poll();
  ASSERT_TRUE(has(Event::SERVER_STATE, "s"));
  EXPECT_FALSE(backend().usable(0));
}

TEST_F(CheckerTest, PassiveFastinterBringsTheNextCheckForward) {
  std::string s = server(true);
  ASSERT_TRUE(startHealthy(s, "    server s " + s +
                                  " check inter 10s fastinter 50ms downinter 50ms rise 1 "
                                  "fall 1 observe layer4 error-limit 3 on-error fastinter\n"));
  // Fully up: the next check is 10 s away.
  prober_.set(portOf(s), false);
  auto reported = time_.now();
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  runFor(20ms);
  EXPECT_TRUE(backend().usable(0));  // the action itself changes nothing
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  // Marked down by the active check that came at fastinter.
  EXPECT_EQ(time_.now() - reported, 51ms);
  const Event& e = events()[*find(Event::SERVER_STATE, "s")];
  EXPECT_EQ(e.cause().status(), "L4CON");
  EXPECT_FALSE(e.cause().passive());
}

TEST_F(CheckerTest, PassiveSuddenDeathLeavesOneCheckToFail) {
  std::string s = server(true);
  ASSERT_TRUE(startHealthy(s, "    server s " + s +
                                  " check inter 10s fastinter 50ms downinter 50ms rise 2 "
                                  "fall 3 observe layer4 error-limit 3 on-error sudden-death\n"));
  uint64_t failed_before = state(0).failed_checks.load();
  // health 4 of 0..4
  prober_.set(portOf(s), false);
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  auto check = find(Event::CHECK, "s");
  ASSERT_TRUE(check);
  EXPECT_EQ(events()[*check].cause().status(), "HANA");
  EXPECT_EQ(events()[*check].cause().health(), 2u);  // = rise: one more failure is fatal
  const Event& down = events()[*find(Event::SERVER_STATE, "s")];
  EXPECT_EQ(down.cause().status(), "L4CON");  // the one active check that failed
  // The simulated failure and that one check.
  EXPECT_EQ(state(0).failed_checks.load() - failed_before, 2u);
}

TEST_F(CheckerTest, PassiveReportsAreIgnoredInMaintenance) {
  std::string s = server(true);
  start("    server s " + s + " check inter 10s observe layer4 error-limit 3 on-error mark-down\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kMaint, &error));
  checker_.reportErrorLimit(backend().servers[0].state, 3, "L4 timeout");
  runFor(100ms);
  EXPECT_FALSE(has(Event::SERVER_STATE));
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
}

// ---- admin states (in-process API) ----

TEST_F(CheckerTest, MaintPausesChecksAndReadyResumesThem) {
  std::string up = server(true), dead = server(false);
  start("    server up " + up + " check inter 50ms\n" +  //
        "    server dead " + dead + " check inter 50ms fall 1\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "dead", AdminState::kMaint, &error)) << error;
  ASSERT_TRUE(has(Event::ADMIN_STATE, "dead"));
  const Event& maint = events()[*find(Event::ADMIN_STATE, "dead")];
  EXPECT_EQ(maint.old_state(), "READY");
  EXPECT_EQ(maint.new_state(), "MAINT");
  EXPECT_EQ(maint.backend(), "be");
  EXPECT_EQ(maint.config_version(), 1u);
  EXPECT_EQ(maint.message(),
            "Server be/dead is going DOWN for maintenance. 1 active and 0 backup servers left. 0 "
            "sessions active, 0 requeued, 0 remaining in queue.");
  EXPECT_FALSE(backend().usable(1));
  EXPECT_EQ(state(1).admin.load(), AdminState::kMaint);
  runFor(10s);  // two hundred intervals: no check ran
  EXPECT_TRUE(prober_.started(portOf(dead)).empty());
  EXPECT_FALSE(has(Event::SERVER_STATE, "dead"));
  EXPECT_EQ(state(1).op.load(), OpState::kUp);

  auto ready_at = time_.now();
  ASSERT_TRUE(checker_.setAdminState("be", "dead", AdminState::kReady, &error));
  const Event& ready = events().back();
  EXPECT_EQ(ready.type(), Event::ADMIN_STATE);
  EXPECT_EQ(ready.old_state(), "MAINT");
  EXPECT_EQ(ready.new_state(), "READY");
  EXPECT_EQ(ready.message().rfind("Server be/dead is leaving forced maintenance.", 0), 0u);
  // A check runs at once and finds the server dead.
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }));
  ASSERT_EQ(prober_.started(portOf(dead)).size(), 1u);
  EXPECT_EQ(prober_.started(portOf(dead))[0], ready_at);
  EXPECT_FALSE(backend().usable(1));
}

TEST_F(CheckerTest, DrainTakesNoNewConnectionsAndKeepsChecking) {
  std::string up = server(true), dead = server(false);
  start("    server up " + up + " check inter 50ms\n" +  //
        "    server dead " + dead + " check inter 50ms fall 1\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "up", AdminState::kDrain, &error));
  EXPECT_EQ(events().back().new_state(), "DRAIN");
  EXPECT_EQ(events().back().message(), "Server be/up is entering drain mode: no new connections.");
  EXPECT_FALSE(backend().usable(0));
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
  // Checks go on for drained servers: the other one is found dead; the backend is then empty.
  ASSERT_TRUE(runUntil([&] { return has(Event::BACKEND_DOWN); }));
  EXPECT_FALSE(prober_.started(portOf(up)).empty());
  ASSERT_TRUE(checker_.setAdminState("be", "up", AdminState::kReady, &error));
  EXPECT_EQ(events().back().type(), Event::BACKEND_UP);
  EXPECT_TRUE(has(Event::ADMIN_STATE, "up", "READY"));
  EXPECT_EQ(events()[*find(Event::ADMIN_STATE, "up", "READY")].message().rfind(
                "Server be/up is leaving drain mode.", 0),
            0u);
  EXPECT_TRUE(backend().usable(0));
}

TEST_F(CheckerTest, MaintOnTheLastServerIsBackendDown) {
  start("    server s " + server(true) + " check inter 10s\n");
  std::string error;
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kMaint, &error));
  EXPECT_TRUE(has(Event::BACKEND_DOWN));
  ASSERT_TRUE(checker_.setAdminState("be", "s", AdminState::kReady, &error));
  EXPECT_TRUE(has(Event::BACKEND_UP));
}

TEST_F(CheckerTest, AdminStateOfAnUnknownServerIsAnError) {
  start("    server s " + server(true) + " check inter 10s\n");
  std::string error;
  EXPECT_FALSE(checker_.setAdminState("be", "nope", AdminState::kMaint, &error));
  EXPECT_EQ(error, "no server 'nope' in backend 'be'");
  EXPECT_FALSE(checker_.setAdminState("other", "s", AdminState::kMaint, &error));
  EXPECT_EQ(error, "no server 's' in backend 'other'");
  EXPECT_TRUE(events().empty());
}

TEST_F(CheckerTest, SettingTheSameAdminStateAgainIsQuiet) {
  start("    server s " + server(true) + " check inter 10s\n");
  std::string error;
  EXPECT_TRUE(checker_.setAdminState("be", "s", AdminState::kReady, &error));
  EXPECT_TRUE(events().empty());
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
  std::string s = server(false);
  start("    server s " + s + " check inter 50ms rise 1 fall 1 weight 10 slowstart 1s\n");
  EXPECT_EQ(state(0).weight.load(), 10u);  // not at startup: only after coming back
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  std::optional<uint32_t> weight_when_up;
  recorder_.on_event = [&](const Event& e) {
    if (e.type() == Event::SERVER_STATE && e.new_state() == "UP") {
      weight_when_up = state(0).weight.load();
    }
  };
  prober_.set(portOf(s), true);
  ASSERT_TRUE(runUntil([&] { return weight_when_up.has_value(); }));
  EXPECT_EQ(*weight_when_up, 1u);
  EXPECT_TRUE(backend().usable(0));  // usable at once, with a small weight
  std::vector<uint32_t> samples;
  auto up_at = time_.now();
  ASSERT_TRUE(runUntil([&] {
    samples.push_back(state(0).weight.load());
    return samples.back() == 10u;
  }));
  // The ramp takes the slowstart time, in 50 ms steps: full weight at the first step past 9/10.
  EXPECT_EQ(time_.now() - up_at, 950ms);
  for (size_t i = 1; i < samples.size(); ++i) EXPECT_GE(samples[i], samples[i - 1]);
  EXPECT_TRUE(std::any_of(samples.begin(), samples.end(), [](uint32_t w) {
    return w > 1 && w < 10;
  })) << "the weight jumped instead of ramping";
}

TEST_F(CheckerTest, GoingDownEndsTheRampAndRestoresTheConfiguredWeight) {
  std::string s = server(false);
  start("    server s " + s + " check inter 50ms rise 1 fall 1 weight 10 slowstart 10s\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  prober_.set(portOf(s), true);
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); }));
  EXPECT_LT(state(0).weight.load(), 10u);
  prober_.set(portOf(s), false);
  ASSERT_TRUE(runUntil([&] { return count(Event::SERVER_STATE) == 3; }));
  EXPECT_EQ(state(0).weight.load(), 10u);
  runFor(20s);  // the ramp's timer does not come back
  EXPECT_EQ(state(0).weight.load(), 10u);
}

// ---- scheduling ----

TEST_F(CheckerTest, FirstChecksAreSpreadOverTheInterval) {
  std::vector<std::string> servers{server(false), server(false), server(false), server(false)};
  start("    server a " + servers[0] + " check inter 800ms fall 1\n" +  //
        "    server b " + servers[1] + " check inter 800ms fall 1\n" +  //
        "    server c " + servers[2] + " check inter 800ms fall 1\n" +  //
        "    server d " + servers[3] + " check inter 800ms fall 1\n");
  runFor(2s);
  // Evenly over the interval, in configuration order, then every inter.
  for (size_t i = 0; i < servers.size(); ++i) {
    const auto& started = prober_.started(portOf(servers[i]));
    ASSERT_GE(started.size(), 2u) << i;
    EXPECT_EQ(started[0] - applied_at_, i * 200ms) << i;
    EXPECT_EQ(started[1] - started[0], 801ms) << i;  // inter after the 1 ms result
  }
}

TEST_F(CheckerTest, SpreadChecksVariesEveryIntervalWithinItsPercentage) {
  std::string s = server(true);
  runtime_ = [&] {
    std::string text = "global\n    spread-checks 10\nbackend be\n    mode tcp\n    server s " + s +
                       " check inter 1s\n";
    auto loaded = config::load({config::Source{"test.cfg", text, config::Format::kHaproxy}}, {});
    EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
    return runtime::buildRuntime(loaded.config, {1, &store_, nullptr, &checker_}).runtime;
  }();
  checker_.apply(runtime_);
  runFor(60s);
  const auto& started = prober_.started(portOf(s));
  ASSERT_GE(started.size(), 50u);
  std::set<std::chrono::nanoseconds> gaps;
  for (size_t i = 1; i < started.size(); ++i) {
    auto gap = started[i] - started[i - 1] - 1ms;  // less the result's latency
    EXPECT_GE(gap, 900ms);
    EXPECT_LE(gap, 1100ms);
    gaps.insert(gap);
  }
  EXPECT_GT(gaps.size(), 10u) << "the intervals did not vary";
}

TEST_F(CheckerTest, DowninterSpacesChecksOfADownServer) {
  std::string s = server(false);
  start("    server s " + s + " check inter 20ms downinter 1s rise 2 fall 1\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  prober_.set(portOf(s), true);
  // The next check is a downinter away: the first success (a CHECK event, 1 of rise 2) comes
  // then; fastinter (unset: inter) brings the second one an inter later.
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "UP"); }));
  auto down = when(Event::SERVER_STATE, "s", "DOWN");
  auto turned = when(Event::CHECK, "s");
  auto up = when(Event::SERVER_STATE, "s", "UP");
  EXPECT_EQ(turned - down, 1001ms);
  EXPECT_EQ(up - turned, 21ms);
}

TEST_F(CheckerTest, AChecksThatCannotRunHereDoNotCountAgainstTheServer) {
  // Out of descriptors on this host: not the server's fault. No verdict, no event, no count
  // toward fall; checks go on and count again once the shortage ends.
  std::string s = server(true);
  start("    server s " + s + " check inter 100ms rise 1 fall 1\n");
  prober_.setLocalFailure(portOf(s), true);
  runFor(2s);
  EXPECT_GE(prober_.started(portOf(s)).size(), 15u);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
  EXPECT_EQ(state(0).failed_checks.load(), 0u);
  EXPECT_GE(checker_.localFailures(), 15u);
  prober_.setLocalFailure(portOf(s), false);
  prober_.set(portOf(s), false);
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }, 1s));
}

TEST_F(CheckerTest, ALateCheckIsCountedInTheLateness) {
  std::string s = server(true);
  start("    server s " + s + " check inter 100ms\n");
  runFor(1s);
  EXPECT_GE(checker_.lateness().count(), 9u);
  EXPECT_EQ(checker_.lateness().max(), 0);  // simulated timers are never late
}

// ---- applies ----

TEST_F(CheckerTest, ApplyKeepsTheStateOfAServerThatKeepsItsIdentity) {
  std::string dead = server(false);
  std::string line = "    server s " + dead + " check inter 50ms fall 1";
  start(line + "\n");
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s", "DOWN"); }));
  runtime_ = build(line + " rise 5\n", 2);
  checker_.apply(runtime_);
  EXPECT_EQ(state(0).op.load(), OpState::kDown);  // kept, not reset to UP
  EXPECT_FALSE(backend().usable(0));
  runFor(1s);
  EXPECT_EQ(count(Event::SERVER_STATE), 1u);
  // Without `check` a server is up.
  runtime_ = build("    server s " + dead + "\n", 3);
  checker_.apply(runtime_);
  EXPECT_TRUE(backend().usable(0));
}

TEST_F(CheckerTest, AResultInFlightAcrossAppliesLandsOnNoOtherServer) {
  // A check of s1 is running when an apply removes s1 (its state is freed) and the next one
  // adds s2, whose state may take the freed memory. s1's result, arriving after both, must not
  // touch s2: not its state, not its schedule (no extra check).
  std::string s1 = server(false), s2 = server(true);
  prober_.latency = 500ms;
  start("    server s1 " + s1 + " check inter 1s fall 1\n");
  runFor(10ms);  // s1's first check started at 0 and reports at 500 ms
  ASSERT_EQ(prober_.started(portOf(s1)).size(), 1u);
  runtime_ = build("", 2);
  checker_.apply(runtime_);
  runtime_ = build("    server s2 " + s2 + " check inter 1s fall 1\n", 3);
  auto applied = time_.now();
  checker_.apply(runtime_);
  runFor(4s);
  EXPECT_FALSE(has(Event::SERVER_STATE));
  EXPECT_EQ(state(0).op.load(), OpState::kUp);
  EXPECT_EQ(state(0).failed_checks.load(), 0u);
  // s2: at once, then every inter after each 500 ms answer.
  std::vector<std::chrono::nanoseconds> offsets;
  for (auto at : prober_.started(portOf(s2))) offsets.push_back(at - applied);
  EXPECT_EQ(offsets, (std::vector<std::chrono::nanoseconds>{0ms, 1500ms, 3000ms}));
}

TEST_F(CheckerTest, EventsCarryTheConfigVersionInForce) {
  std::string up = server(true), dead = server(false);
  start("    server up " + up + " check inter 10s\n");
  runtime_ = build("    server up " + up + " check inter 10s\n" +  //
                       "    server dead " + dead + " check inter 50ms fall 1\n",
                   2);
  checker_.apply(runtime_);
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "dead"); }));
  EXPECT_EQ(events()[*find(Event::SERVER_STATE, "dead")].config_version(), 2u);
}

TEST_F(CheckerTest, StatusTellsTheLastCheckAndTheCounter) {
  std::string s = server(false);
  start("    server s " + s + " check inter 100ms rise 2 fall 3\n");
  auto before = checker_.status(state(0));
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->check);
  EXPECT_FALSE(before->last.has_value());
  ASSERT_TRUE(runUntil([&] { return has(Event::SERVER_STATE, "s"); }));
  auto after = checker_.status(state(0));
  ASSERT_TRUE(after && after->last);
  EXPECT_EQ(after->state, OpState::kDown);
  EXPECT_EQ(after->health, 0u);
  EXPECT_EQ(after->rise, 2u);
  EXPECT_EQ(after->last->status, CheckStatus::kL4Con);
  EXPECT_EQ(after->last_change, time_.wallNow());
}

}  // namespace
}  // namespace lb::health
