#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "agent/health/check_result.h"
#include "agent/runtime/runtime.h"
#include "agent/runtime/server_state.h"

namespace lb::health {

using Millis = std::chrono::milliseconds;

// The check settings of one server (built with the snapshot).
using runtime::HealthSettings;

// What a check result or a passive-check action did to a server.
struct Transition {
  runtime::OpState from = runtime::OpState::kUp;
  runtime::OpState to = runtime::OpState::kUp;
  bool changed() const { return from != to; }
  // The result went the other way than the previous one (success after failure or the
  // reverse): the health counter turned around.
  bool direction_changed = false;
  // The counter moved or the check status changed: what `option log-health-checks` logs (as
  // HAProxy does; a server checked at full health again and again logs nothing).
  bool reported = false;
};

// HAProxy's per-server check state machine. A health counter runs from 0 to rise+fall-1: the
// server is UP from `rise` up, DOWN below. A success counts up and, on reaching `rise` (or
// while UP), marks the server UP and jumps to the top; a failure while UP counts down, and a
// failure at `rise` marks it DOWN and drops to 0; a failure while DOWN drops to 0. A server
// starts UP with health = rise, so the first failed check marks it down, as in HAProxy.
//
// Pure logic, no I/O and no clock: the checker feeds it results and asks when to check next.
class ServerHealth {
 public:
  explicit ServerHealth(HealthSettings settings);

  // New settings after an apply; the state is kept, the counter clamped to the new range.
  void reconfigure(HealthSettings settings);

  Transition onCheck(const CheckResult& result);

  // Passive checks reached `error_limit` consecutive errors: runs `on_error` as HAProxy does
  // (fastinter: only check sooner; fail-check: one simulated failed check, status HANA;
  // sudden-death: as if all but one of the failures had happened; mark-down: down now).
  // Returns the transition; `check_sooner` is set when the next check should come at fastinter.
  Transition onErrorLimit(uint32_t errors, const std::string& last_error, bool* check_sooner);

  // When to check next: inter when fully up, downinter (else inter) when fully down, fastinter
  // (else inter) while changing state.
  Millis nextInterval() const;

  runtime::OpState state() const { return state_; }
  uint32_t health() const { return health_; }
  uint32_t top() const { return settings_.rise + settings_.fall - 1; }
  const HealthSettings& settings() const { return settings_; }
  const CheckResult& lastResult() const { return last_; }

 private:
  Transition succeed(const CheckResult& result);
  Transition fail(const CheckResult& result);

  HealthSettings settings_;
  runtime::OpState state_ = runtime::OpState::kUp;
  uint32_t health_;
  std::optional<bool> last_passed_;
  CheckResult last_;
};

// The weight in force `since_up` after a server came back, with `slowstart`: it grows in
// proportion to the time elapsed, from 1 to the full weight (never 0 while ramping).
uint32_t slowstartWeight(uint32_t weight, Millis slowstart, Millis since_up);

}  // namespace lb::health
