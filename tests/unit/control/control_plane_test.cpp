// ControlPlane::apply, the one apply path: what it returns for each kind of input and that a
// refused or dry-run apply changes nothing. A real data plane (one worker, binds on loopback
// ports the kernel chooses) runs under it.
#include "agent/control/control_plane.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

namespace lb::control {
namespace {

using namespace std::chrono_literals;
using lb::v1::Event;

std::string configText(const std::string& bind = "127.0.0.1:0", const std::string& extra = "") {
  return "frontend fe\n    bind " + bind +
         "\n    mode tcp\n    timeout client 5s\n    default_backend be\n"
         "backend be\n    mode tcp\n    timeout connect 1s\n    timeout server 5s\n"
         "    server s1 127.0.0.1:1\n" +
         extra;
}

class ControlPlaneTest : public ::testing::Test {
 protected:
  ControlPlaneTest() {
    control_.events().subscribe([this](const Event& e) { events_.push_back(e); });
  }
  ~ControlPlaneTest() override { control_.stop(); }

  ApplyResult apply(const std::string& text, ApplyOptions options = {}) {
    auto loaded = config::load({config::Source{"lb.cfg", text, config::Format::kHaproxy}},
                               {&resolver_});
    std::optional<ApplyResult> result;
    control_.apply(std::move(loaded), options, [&](ApplyResult r) { result = std::move(r); });
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!result && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(100ms);
    }
    EXPECT_TRUE(result) << "the apply never completed";
    return result.value_or(ApplyResult{});
  }

  size_t count(Event::Type type) const {
    size_t n = 0;
    for (const auto& e : events_) n += e.type() == type ? 1 : 0;
    return n;
  }

  boost::asio::io_context io_;
  common::AsioTimeSource time_{io_};
  common::SystemResolver resolver_;
  ControlPlane control_{io_, time_, resolver_, ControlPlaneOptions{"test", 1, true, 100}};
  std::vector<Event> events_;
};

TEST_F(ControlPlaneTest, AFirstApplyPutsTheConfigInForce) {
  ApplyResult r = apply(configText());
  ASSERT_EQ(r.status, ApplyStatus::kApplied) << r.diagnostics.format() << r.message;
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(r.previous_version, 0u);
  EXPECT_EQ(r.diff.summary(), "+1 frontend, +1 backend");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(control_.config().frontends(0).name(), "fe");
  ASSERT_EQ(control_.listening().size(), 1u);
  EXPECT_NE(control_.listening()[0].endpoint.port(), 0);
  ASSERT_EQ(count(Event::CONFIG_APPLIED), 1u);
  EXPECT_EQ(events_.back().config_version(), 1u);
  EXPECT_EQ(events_.back().message(), "configuration version 1 applied: +1 frontend, +1 backend");
}

TEST_F(ControlPlaneTest, TheSameConfigAgainIsUnchangedAndKeepsTheVersion) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  ApplyResult r = apply(configText());
  EXPECT_EQ(r.status, ApplyStatus::kUnchanged);
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(r.diff.summary(), "no changes");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(count(Event::CONFIG_APPLIED), 1u);
}

TEST_F(ControlPlaneTest, ADryRunSaysWhatWouldChangeAndChangesNothing) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  auto runtime = control_.runtime();
  ApplyResult r = apply(configText("127.0.0.1:0", "    server s2 127.0.0.1:2\n"),
                        ApplyOptions{.dry_run = true, .expected_version = 0, .origin = ""});
  EXPECT_EQ(r.status, ApplyStatus::kDryRun);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.version, 1u);
  EXPECT_EQ(r.diff.summary(), "+1 server");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(control_.runtime(), runtime);
  EXPECT_EQ(control_.config().backends(0).servers_size(), 1);
  EXPECT_EQ(events_.size(), 1u);
}

TEST_F(ControlPlaneTest, AVersionConflictNamesBothVersionsAndChangesNothing) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  ApplyResult r = apply(configText("127.0.0.1:0", "    server s2 127.0.0.1:2\n"),
                        ApplyOptions{.dry_run = false, .expected_version = 7, .origin = "test client"});
  EXPECT_EQ(r.status, ApplyStatus::kVersionMismatch);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.message, "expected version 7, but version 1 is in force");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(control_.config().backends(0).servers_size(), 1);
  ASSERT_EQ(count(Event::CONFIG_REFUSED), 1u);
  EXPECT_EQ(events_.back().message(),
            "configuration refused (version mismatch, from test client): expected version 7, "
            "but version 1 is in force");
  // The right version applies.
  EXPECT_EQ(apply(configText("127.0.0.1:0", "    server s2 127.0.0.1:2\n"),
                  ApplyOptions{.dry_run = false, .expected_version = 1, .origin = ""})
                .status,
            ApplyStatus::kApplied);
  EXPECT_EQ(control_.version(), 2u);
}

TEST_F(ControlPlaneTest, AnInvalidConfigIsRefusedWithItsDiagnostics) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  std::string text = configText();
  text.replace(text.find("default_backend be"), 18, "default_backend bee");
  ApplyResult r = apply(text);
  EXPECT_EQ(r.status, ApplyStatus::kInvalid);
  ASSERT_EQ(r.diagnostics.errorCount(), 1);
  EXPECT_EQ(r.diagnostics.all()[0].toString(),
            "lb.cfg:5: error: default_backend 'bee' of frontend 'fe' not found; did you mean "
            "'be'?");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(control_.config().frontends(0).default_backend(), "be");
  EXPECT_EQ(count(Event::CONFIG_REFUSED), 1u);
}

TEST_F(ControlPlaneTest, ABindThatCannotBeOpenedFailsTheWholeApply) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  auto runtime = control_.runtime();
  auto before = control_.listening();
  // A port held by a socket without SO_REUSEPORT: lb's listener cannot share it.
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t length = sizeof a;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&a), &length);
  std::string taken = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::string text = configText() + "frontend other\n    bind " + taken +
                     "\n    mode tcp\n    timeout client 5s\n    default_backend be\n";
  ApplyResult r = apply(text);
  ::close(holder);
  EXPECT_EQ(r.status, ApplyStatus::kFailed);
  EXPECT_EQ(r.message, "frontend 'other': cannot bind " + taken + ": Address already in use");
  EXPECT_EQ(control_.version(), 1u);
  EXPECT_EQ(control_.runtime(), runtime);
  ASSERT_EQ(control_.listening().size(), before.size());
  EXPECT_EQ(control_.listening()[0].endpoint, before[0].endpoint);
  EXPECT_EQ(count(Event::LISTENER_ERROR), 1u);
  EXPECT_EQ(count(Event::CONFIG_REFUSED), 1u);
}

TEST_F(ControlPlaneTest, AKeptServerKeepsItsLiveState) {
  ASSERT_EQ(apply(configText()).status, ApplyStatus::kApplied);
  auto state = control_.runtime()->backends[0]->servers[0].state;
  state->total.store(42);
  std::string text = configText();
  text.replace(text.find("timeout server 5s"), 17, "timeout server 9s");
  ApplyResult r = apply(text);
  ASSERT_EQ(r.status, ApplyStatus::kApplied);
  EXPECT_EQ(r.diff.summary(), "1 changed");
  EXPECT_EQ(control_.runtime()->backends[0]->servers[0].state, state);
  EXPECT_EQ(state->total.load(), 42u);
}

}  // namespace
}  // namespace lb::control
