// ServerHealth, HAProxy's per-server check state machine: sequences of check results and
// passive-check actions give exact states, health counters and next intervals. Pure logic: the
// "clock" is the interval the machine asks for, so no time passes in these tests.
#include "agent/health/server_health.h"
#include "agent/health/lateness.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace lb::health {
namespace {

using runtime::OpState;
using std::chrono::milliseconds;

constexpr milliseconds kInter{1000};
constexpr milliseconds kFast{100};
constexpr milliseconds kDown{5000};

HealthSettings settings(uint32_t rise, uint32_t fall, bool fast = true, bool down = true) {
  HealthSettings s;
  s.rise = rise;
  s.fall = fall;
  s.inter = kInter;
  if (fast) s.fastinter = kFast;
  if (down) s.downinter = kDown;
  return s;
}

CheckResult passed() {
  return CheckResult{CheckStatus::kL4Ok, true, "", milliseconds(1)};
}

CheckResult failed() {
  return CheckResult{CheckStatus::kL4Con, false, "Connection refused", milliseconds(1)};
}

// One check result and what the machine must say after it.
struct Step {
  bool pass;
  OpState state;
  uint32_t health;
  milliseconds next;
  bool changed = false;  // the state changed (UP <-> DOWN)
  bool turned = false;   // the result went the other way than the previous one
};

struct Sequence {
  std::string name;
  HealthSettings settings;
  // Right after construction: UP with health = rise.
  uint32_t start_health;
  milliseconds start_next;
  std::vector<Step> steps;
};

// gtest names a failing row by its name, not its bytes.
void PrintTo(const Sequence& row, std::ostream* os) {
  *os << row.name;
}

constexpr auto kUp = OpState::kUp;
constexpr auto kDn = OpState::kDown;

class SequenceTest : public ::testing::TestWithParam<Sequence> {};

TEST_P(SequenceTest, ResultsGiveExactStatesCountersAndIntervals) {
  const Sequence& seq = GetParam();
  ServerHealth health(seq.settings);
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), seq.start_health);
  EXPECT_EQ(health.nextInterval(), seq.start_next);
  for (size_t i = 0; i < seq.steps.size(); ++i) {
    const Step& step = seq.steps[i];
    SCOPED_TRACE("step " + std::to_string(i + 1) + (step.pass ? " (pass)" : " (fail)"));
    Transition t = health.onCheck(step.pass ? passed() : failed());
    EXPECT_EQ(health.state(), step.state);
    EXPECT_EQ(health.health(), step.health);
    EXPECT_EQ(health.nextInterval(), step.next);
    EXPECT_EQ(t.changed(), step.changed);
    EXPECT_EQ(t.to, step.state);
    EXPECT_EQ(t.direction_changed, step.turned);
    EXPECT_EQ(health.lastResult().passed, step.pass);
  }
}

INSTANTIATE_TEST_SUITE_P(
    ServerHealth, SequenceTest,
    ::testing::Values(
        // Defaults: rise 2, fall 3, counter 0..4. UP from 2 on.
        Sequence{"DefaultsGoDownAfterFallAndUpAfterRise",
                 settings(2, 3),
                 2,
                 kFast,  // starts at rise, below the top: "transitioning"
                 {
                     {true, kUp, 4, kInter},               // reaching rise jumps to the top
                     {false, kUp, 3, kFast, false, true},  // going down: fastinter
                     {false, kUp, 2, kFast},               //
                     {false, kDn, 0, kDown, true},         // below rise: 0 and DOWN
                     {false, kDn, 0, kDown},               // stays at 0
                     {true, kDn, 1, kFast, false, true},   // going up: fastinter
                     {false, kDn, 0, kDown, false, true},  // a failure below rise: 0
                     {true, kDn, 1, kFast, false, true},   //
                     {true, kUp, 4, kInter, true},         // rise reached: top, UP
                 }},
        // A fresh server starts at health = rise: its first failed check marks it down.
        Sequence{"FreshServerFirstFailureMarksItDown",
                 settings(2, 3),
                 2,
                 kFast,
                 {
                     {false, kDn, 0, kDown, true},
                     {true, kDn, 1, kFast, false, true},
                     {true, kUp, 4, kInter, true},
                 }},
        // HAProxy: a success while UP goes back to the top, so only `fall` *consecutive*
        // failures mark a server down.
        Sequence{"SuccessWhileUpRestoresTheTop",
                 settings(2, 3),
                 2,
                 kFast,
                 {
                     {true, kUp, 4, kInter},
                     {false, kUp, 3, kFast, false, true},
                     {true, kUp, 4, kInter, false, true},
                     {false, kUp, 3, kFast, false, true},
                     {false, kUp, 2, kFast},
                     {true, kUp, 4, kInter, false, true},
                     {false, kUp, 3, kFast, false, true},
                     {false, kUp, 2, kFast},
                     {false, kDn, 0, kDown, true},
                 }},
        // rise 1 / fall 1: the counter is 0..1, every result decides.
        Sequence{"RiseOneFallOne",
                 settings(1, 1),
                 1,
                 kInter,  // health = rise = top
                 {
                     {true, kUp, 1, kInter},
                     {false, kDn, 0, kDown, true, true},
                     {false, kDn, 0, kDown},
                     {true, kUp, 1, kInter, true, true},
                 }},
        // rise 3 / fall 2: counter 0..4, UP from 3 on.
        Sequence{"RiseThreeFallTwo",
                 settings(3, 2),
                 3,
                 kFast,
                 {
                     {true, kUp, 4, kInter},
                     {false, kUp, 3, kFast, false, true},
                     {false, kDn, 0, kDown, true},
                     {true, kDn, 1, kFast, false, true},
                     {true, kDn, 2, kFast},
                     {true, kUp, 4, kInter, true},
                 }},
        // Without fastinter and downinter every interval is inter.
        Sequence{"WithoutFastinterAndDowninterEverythingIsInter",
                 settings(2, 2, false, false),
                 2,
                 kInter,
                 {
                     {false, kDn, 0, kInter, true},
                     {true, kDn, 1, kInter, false, true},
                     {true, kUp, 3, kInter, true},
                     {false, kUp, 2, kInter, false, true},
                 }},
        // downinter only: while DOWN at 0 it applies; while rising, inter (fastinter unset).
        Sequence{"DowninterOnly",
                 settings(2, 2, false, true),
                 2,
                 kInter,
                 {
                     {false, kDn, 0, kDown, true},
                     {true, kDn, 1, kInter, false, true},
                     {false, kDn, 0, kDown, false, true},
                 }},
        // fastinter only: fully down checks at inter.
        Sequence{"FastinterOnly",
                 settings(2, 2, true, false),
                 2,
                 kFast,
                 {
                     {false, kDn, 0, kInter, true},
                     {true, kDn, 1, kFast, false, true},
                     {true, kUp, 3, kInter, true},
                 }}),
    [](const ::testing::TestParamInfo<Sequence>& info) { return info.param.name; });

TEST(ServerHealthTest, ReportedWhenTheCounterMovesOrTheStatusChanges) {
  // What `option log-health-checks` logs: not every check, only news.
  ServerHealth health(settings(2, 3));
  EXPECT_TRUE(health.onCheck(passed()).reported);   // the first result
  EXPECT_FALSE(health.onCheck(passed()).reported);  // at the top, same status
  EXPECT_FALSE(health.onCheck(passed()).reported);
  EXPECT_TRUE(health.onCheck(failed()).reported);   // 4 -> 3
  EXPECT_TRUE(health.onCheck(failed()).reported);   // 3 -> 2
  EXPECT_TRUE(health.onCheck(failed()).reported);   // DOWN
  EXPECT_FALSE(health.onCheck(failed()).reported);  // still 0, same status
  CheckResult timeout{CheckStatus::kL4Tout, false, "", milliseconds(1)};
  EXPECT_TRUE(health.onCheck(timeout).reported);  // still 0, another status
  EXPECT_FALSE(health.onCheck(timeout).reported);
}

// ---- passive checks: on-error actions at error-limit ----

HealthSettings onError(runtime::OnError mode, uint32_t rise, uint32_t fall, bool fast = true) {
  HealthSettings s = settings(rise, fall, fast);
  s.on_error = mode;
  return s;
}

// A server at full health (one passed check).
ServerHealth healthyServer(const HealthSettings& s) {
  ServerHealth health(s);
  health.onCheck(passed());
  EXPECT_EQ(health.health(), health.top());
  return health;
}

TEST(OnErrorTest, FastinterOnlyAsksForTheNextCheckSooner) {
  ServerHealth health = healthyServer(onError(runtime::OnError::kFastinter, 2, 3));
  bool sooner = false;
  Transition t = health.onErrorLimit(10, "L4 timeout", &sooner);
  EXPECT_TRUE(sooner);
  EXPECT_FALSE(t.changed());
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 4u);
  EXPECT_TRUE(health.lastResult().passed);  // no simulated check
}

TEST(OnErrorTest, NoFastinterConfiguredMeansNoSoonerCheck) {
  for (auto mode : {runtime::OnError::kFastinter, runtime::OnError::kFailCheck,
                    runtime::OnError::kSuddenDeath, runtime::OnError::kMarkDown}) {
    ServerHealth health = healthyServer(onError(mode, 2, 3, /*fast=*/false));
    bool sooner = true;
    health.onErrorLimit(10, "L4 timeout", &sooner);
    EXPECT_FALSE(sooner) << static_cast<int>(mode);
  }
}

TEST(OnErrorTest, EveryModeChecksSoonerWhenFastinterIsSet) {
  for (auto mode : {runtime::OnError::kFastinter, runtime::OnError::kFailCheck,
                    runtime::OnError::kSuddenDeath, runtime::OnError::kMarkDown}) {
    ServerHealth health = healthyServer(onError(mode, 2, 3));
    bool sooner = false;
    health.onErrorLimit(10, "L4 timeout", &sooner);
    EXPECT_TRUE(sooner) << static_cast<int>(mode);
  }
}

TEST(OnErrorTest, FailCheckCountsOneFailedCheckWithStatusHana) {
  ServerHealth health = healthyServer(onError(runtime::OnError::kFailCheck, 2, 3));
  bool sooner = false;
  Transition t = health.onErrorLimit(10, "L4 unsuccessful connection", &sooner);
  EXPECT_FALSE(t.changed());
  EXPECT_TRUE(t.direction_changed);
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 3u);
  EXPECT_EQ(health.lastResult().status, CheckStatus::kHana);
  EXPECT_FALSE(health.lastResult().passed);
  EXPECT_EQ(health.lastResult().info,
            "Detected 10 consecutive errors, last one was: L4 unsuccessful connection");
  // Two more and it is down, as with failed checks.
  health.onErrorLimit(10, "L4 timeout", &sooner);
  t = health.onErrorLimit(10, "L4 timeout", &sooner);
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(health.state(), kDn);
  EXPECT_EQ(health.health(), 0u);
  EXPECT_EQ(health.lastResult().info, "Detected 10 consecutive errors, last one was: L4 timeout");
}

TEST(OnErrorTest, SuddenDeathLeavesOneFailedCheckBeforeDown) {
  ServerHealth health = healthyServer(onError(runtime::OnError::kSuddenDeath, 2, 3));
  bool sooner = false;
  Transition t = health.onErrorLimit(10, "L4 timeout", &sooner);
  EXPECT_FALSE(t.changed());
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 2u);  // = rise: the next failure is fatal
  EXPECT_EQ(health.lastResult().status, CheckStatus::kHana);
  EXPECT_EQ(health.nextInterval(), kFast);
  t = health.onCheck(failed());
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(health.state(), kDn);
}

TEST(OnErrorTest, SuddenDeathThenASuccessfulCheckRestoresFullHealth) {
  ServerHealth health = healthyServer(onError(runtime::OnError::kSuddenDeath, 2, 3));
  bool sooner = false;
  health.onErrorLimit(10, "L4 timeout", &sooner);
  health.onCheck(passed());
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 4u);
}

TEST(OnErrorTest, SuddenDeathAtRiseIsDownAtOnce) {
  // fall 1: full health is rise already, so the simulated failure is the fatal one.
  ServerHealth health = healthyServer(onError(runtime::OnError::kSuddenDeath, 2, 1));
  bool sooner = false;
  Transition t = health.onErrorLimit(10, "L4 timeout", &sooner);
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(health.state(), kDn);
}

TEST(OnErrorTest, SuddenDeathWithFallTwoKeepsTheServerUp) {
  // top = rise + 1: HAProxy sets the counter to rise + 1 and then fails once: rise, still UP.
  ServerHealth health = healthyServer(onError(runtime::OnError::kSuddenDeath, 3, 2));
  bool sooner = false;
  Transition t = health.onErrorLimit(10, "L4 timeout", &sooner);
  EXPECT_FALSE(t.changed());
  EXPECT_EQ(health.health(), 3u);
}

TEST(OnErrorTest, MarkDownIsDownAtOnceWhateverTheCounter) {
  for (uint32_t fall : {1u, 3u, 10u}) {
    ServerHealth health = healthyServer(onError(runtime::OnError::kMarkDown, 2, fall));
    bool sooner = false;
    Transition t = health.onErrorLimit(7, "L4 timeout", &sooner);
    EXPECT_TRUE(t.changed()) << "fall " << fall;
    EXPECT_EQ(t.from, kUp);
    EXPECT_EQ(t.to, kDn);
    EXPECT_EQ(health.health(), 0u);
    EXPECT_EQ(health.nextInterval(), kDown);
    EXPECT_EQ(health.lastResult().status, CheckStatus::kHana);
    EXPECT_EQ(health.lastResult().info, "Detected 7 consecutive errors, last one was: L4 timeout");
  }
}

TEST(OnErrorTest, OnADownServerEveryFailingModeKeepsItAtZero) {
  for (auto mode : {runtime::OnError::kFailCheck, runtime::OnError::kSuddenDeath,
                    runtime::OnError::kMarkDown}) {
    ServerHealth health(onError(mode, 3, 3));
    health.onCheck(failed());
    health.onCheck(passed());  // rising: 1 of 3
    ASSERT_EQ(health.health(), 1u);
    bool sooner = false;
    Transition t = health.onErrorLimit(10, "L4 timeout", &sooner);
    EXPECT_FALSE(t.changed()) << static_cast<int>(mode);
    EXPECT_EQ(health.state(), kDn);
    EXPECT_EQ(health.health(), 0u);
  }
}

// ---- reconfigure (an apply that keeps the server) ----

TEST(ReconfigureTest, UpServerKeepsItsStateWithTheCounterClampedToTheNewRange) {
  ServerHealth health = healthyServer(settings(2, 3));  // 4 of 0..4
  health.reconfigure(settings(2, 5));                   // 0..6
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 4u);
  EXPECT_EQ(health.top(), 6u);
  health.reconfigure(settings(2, 1));  // 0..2
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 2u);
  EXPECT_EQ(health.nextInterval(), kInter);
  health.reconfigure(settings(5, 1));  // UP needs at least rise: 5
  EXPECT_EQ(health.state(), kUp);
  EXPECT_EQ(health.health(), 5u);
}

TEST(ReconfigureTest, DownServerStaysDownBelowTheNewRise) {
  ServerHealth health(settings(4, 2));
  health.onCheck(failed());
  health.onCheck(passed());
  health.onCheck(passed());
  health.onCheck(passed());
  ASSERT_EQ(health.health(), 3u);
  health.reconfigure(settings(2, 2));  // 3 would be UP under rise 2: clamped to rise - 1
  EXPECT_EQ(health.state(), kDn);
  EXPECT_EQ(health.health(), 1u);
  Transition t = health.onCheck(passed());
  EXPECT_TRUE(t.changed());
  EXPECT_EQ(health.health(), 3u);
}

TEST(ReconfigureTest, NewIntervalsApplyAtOnce) {
  ServerHealth health = healthyServer(settings(2, 3));
  HealthSettings s = settings(2, 3);
  s.inter = milliseconds(30000);
  health.reconfigure(s);
  EXPECT_EQ(health.nextInterval(), milliseconds(30000));
}

// ---- slowstart ----

struct Ramp {
  uint32_t weight;
  milliseconds slowstart;
  milliseconds since_up;
  uint32_t expected;
};

class SlowstartTest : public ::testing::TestWithParam<Ramp> {};

TEST_P(SlowstartTest, WeightGrowsInProportionToTheTimeSinceUp) {
  const Ramp& r = GetParam();
  EXPECT_EQ(slowstartWeight(r.weight, r.slowstart, r.since_up), r.expected)
      << "weight " << r.weight << ", slowstart " << r.slowstart.count() << "ms, "
      << r.since_up.count() << "ms after UP";
}

INSTANTIATE_TEST_SUITE_P(
    ServerHealth, SlowstartTest,
    ::testing::Values(Ramp{10, milliseconds(10000), milliseconds(0), 1},  // never 0 while ramping
                      Ramp{10, milliseconds(10000), milliseconds(1), 1},
                      Ramp{10, milliseconds(10000), milliseconds(1000), 1},
                      Ramp{10, milliseconds(10000), milliseconds(1001), 2},  // rounded up
                      Ramp{10, milliseconds(10000), milliseconds(5000), 5},
                      Ramp{10, milliseconds(10000), milliseconds(9999), 10},
                      Ramp{10, milliseconds(10000), milliseconds(10000), 10},
                      Ramp{10, milliseconds(10000), milliseconds(60000), 10},
                      Ramp{256, milliseconds(1000), milliseconds(500), 128},
                      Ramp{1, milliseconds(1000), milliseconds(10), 1},
                      Ramp{0, milliseconds(1000), milliseconds(500), 0},  // weight 0 stays 0
                      Ramp{100, milliseconds(0), milliseconds(0), 100}));

TEST(SlowstartTest, RampNeverGoesDownAndEndsAtTheFullWeight) {
  uint32_t previous = 0;
  for (int ms = 0; ms <= 2000; ms += 7) {
    uint32_t w = slowstartWeight(50, milliseconds(2000), milliseconds(ms));
    EXPECT_GE(w, previous);
    EXPECT_GE(w, 1u);
    EXPECT_LE(w, 50u);
    previous = w;
  }
  EXPECT_EQ(previous, 50u);
}

// ---- status names ----

TEST(CheckStatusTest, NamesAndDescriptionsAreHaproxys) {
  struct Row {
    CheckStatus status;
    const char* name;
    const char* description;
  };
  for (const Row& row : {
           Row{CheckStatus::kL4Ok, "L4OK", "Layer4 check passed"},
           Row{CheckStatus::kL4Tout, "L4TOUT", "Layer4 timeout"},
           Row{CheckStatus::kL4Con, "L4CON", "Layer4 connection problem"},
           Row{CheckStatus::kL7Ok, "L7OK", "Layer7 check passed"},
           Row{CheckStatus::kL7Tout, "L7TOUT", "Layer7 timeout"},
           Row{CheckStatus::kL7Rsp, "L7RSP", "Layer7 invalid response"},
           Row{CheckStatus::kL7Sts, "L7STS", "Layer7 wrong status"},
           Row{CheckStatus::kHana, "HANA", "Health analyze"},
           Row{CheckStatus::kSockErr, "SOCKERR", "Socket error"},
       }) {
    EXPECT_STREQ(statusName(row.status), row.name);
    EXPECT_STREQ(statusDescription(row.status), row.description);
  }
}

}  // namespace
}  // namespace lb::health

namespace lb::health {
namespace {

TEST(LatenessTest, PercentilesOverOneMillisecondBuckets) {
  Lateness late;
  EXPECT_EQ(late.percentile(0.5), 0);
  for (int ms = 1; ms <= 100; ++ms) late.add(std::chrono::milliseconds(ms));
  late.add(std::chrono::milliseconds(-5));     // early counts as on time
  late.add(std::chrono::milliseconds(60000));  // beyond the last bucket
  EXPECT_EQ(late.count(), 102u);
  EXPECT_EQ(late.percentile(0.5), 51);
  EXPECT_EQ(late.percentile(0.9), 91);
  EXPECT_EQ(late.percentile(1.0), 10000);
  EXPECT_EQ(late.max(), 60000);
}

}  // namespace
}  // namespace lb::health
