#pragma once
// The checker's record of one server, shared by health_checker.cpp and
// health_checker_admin.cpp; not part of the library's interface.

#include <memory>
#include <optional>
#include <string>

#include "agent/health/health_checker.h"

namespace lb::health {

// Proxy names cannot hold a newline, so this key is unambiguous.
inline std::string nameKey(const std::string& backend, const std::string& server) {
  return backend + '\n' + server;
}

// Everything the checker keeps for one server; survives applies that keep its identity.
struct HealthChecker::Task {
  Task(common::TimeSource& time, HealthSettings settings)
      : health(settings),
        timer(time.makeTimer()),
        ramp_timer(time.makeTimer()),
        agent_timer(time.makeTimer()) {}

  std::shared_ptr<runtime::ServerState> state;
  std::string backend;
  // In the current snapshot (which runtime_ keeps alive).
  runtime::BackendRuntime* backend_runtime = nullptr;
  const runtime::ServerRuntime* server = nullptr;
  std::shared_ptr<const runtime::CheckSpec> spec;  // the backend's, shared
  ProbeTarget target;
  ServerHealth health;
  std::unique_ptr<common::Timer> timer;
  std::unique_ptr<common::Timer> ramp_timer;
  bool in_flight = false;
  bool checked = false;     // a check result has been recorded
  uint64_t generation = 0;  // results of a probe started before the last apply are dropped
  std::optional<common::MonoTime> up_since;
  common::MonoTime due;  // when the scheduled check should start
  common::WallTime last_change{};
  // A weight set by an operator; cleared when an apply changes the configured weight.
  std::optional<uint32_t> weight_override;
  uint32_t weight() const { return weight_override.value_or(server->weight); }

  // `http-check disable-on-404`: the last passing check got a 404 (the server is NOLB while UP).
  bool nolb = false;
  // agent-check: its own schedule, and what the agent last said about the server's health.
  std::unique_ptr<common::Timer> agent_timer;
  ProbeTarget agent_target;
  bool agent_in_flight = false;
  bool agent_down = false;  // the agent said down, fail or stopped (until it says up)
  std::optional<CheckResult> agent_last;
};

}  // namespace lb::health
