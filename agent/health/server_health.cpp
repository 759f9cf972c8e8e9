#include "agent/health/server_health.h"

#include <algorithm>

namespace lb::health {

using runtime::OpState;

ServerHealth::ServerHealth(HealthSettings settings) : settings_(settings), health_(settings.rise) {}

void ServerHealth::reconfigure(HealthSettings settings) {
  settings_ = settings;
  if (state_ == OpState::kUp) {
    health_ = std::clamp(health_, settings_.rise, top());
  } else {
    health_ = std::min(health_, settings_.rise - 1);
  }
}

Transition ServerHealth::onCheck(const CheckResult& result) {
  return result.passed ? succeed(result) : fail(result);
}

Transition ServerHealth::succeed(const CheckResult& result) {
  Transition t{state_, state_, last_passed_.has_value() && !*last_passed_};
  uint32_t before = health_;
  t.reported = !last_passed_.has_value() || result.status != last_.status;
  last_passed_ = true;
  last_ = result;
  // As HAProxy: any success that brings the counter to `rise` or above jumps to the top, so an
  // UP server that failed a check is back at full health after one success.
  if (health_ < top()) ++health_;
  if (health_ >= settings_.rise) {
    state_ = OpState::kUp;
    health_ = top();
  }
  t.to = state_;
  t.reported = t.reported || health_ != before;
  return t;
}

Transition ServerHealth::fail(const CheckResult& result) {
  Transition t{state_, state_, last_passed_.has_value() && *last_passed_};
  uint32_t before = health_;
  t.reported = !last_passed_.has_value() || result.status != last_.status;
  last_passed_ = false;
  last_ = result;
  if (state_ == OpState::kUp && health_ > settings_.rise) {
    --health_;
  } else {
    state_ = OpState::kDown;
    health_ = 0;
  }
  t.to = state_;
  t.reported = t.reported || health_ != before;
  return t;
}

Transition ServerHealth::onErrorLimit(uint32_t errors, const std::string& last_error,
                                      bool* check_sooner) {
  *check_sooner = settings_.fastinter.has_value();
  CheckResult simulated;
  simulated.status = CheckStatus::kHana;
  simulated.passed = false;
  simulated.info =
      "Detected " + std::to_string(errors) + " consecutive errors, last one was: " + last_error;
  switch (settings_.on_error) {
    case runtime::OnError::kFastinter:
      return Transition{state_, state_, false};
    case runtime::OnError::kSuddenDeath:
      // A pre-fatal failure: one more failed check marks the server down.
      if (state_ == OpState::kUp && health_ > settings_.rise) health_ = settings_.rise + 1;
      return fail(simulated);
    case runtime::OnError::kMarkDown:
      if (state_ == OpState::kUp) health_ = settings_.rise;
      return fail(simulated);
    case runtime::OnError::kFailCheck:
      break;
  }
  return fail(simulated);
}

Millis ServerHealth::nextInterval() const {
  if (state_ == OpState::kUp && health_ == top()) return settings_.inter;
  if (state_ == OpState::kDown && health_ == 0)
    return settings_.downinter.value_or(settings_.inter);
  return settings_.fastinter.value_or(settings_.inter);
}

uint32_t slowstartWeight(uint32_t weight, Millis slowstart, Millis since_up) {
  if (weight == 0 || slowstart.count() <= 0 || since_up >= slowstart) return weight;
  if (since_up.count() <= 0) return 1;
  uint64_t ramped = (static_cast<uint64_t>(weight) * since_up.count() + slowstart.count() - 1) /
                    slowstart.count();
  return static_cast<uint32_t>(std::clamp<uint64_t>(ramped, 1, weight));
}

}  // namespace lb::health
