#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/control/control_plane.h"
#include "agent/control/status.h"
#include "lb/v1/agent.pb.h"

namespace lb::control {

// A Runtime API session's privileges, as HAProxy's `stats socket ... level`.
enum class CliLevel { kUser = 1, kOperator = 2, kAdmin = 3 };
const char* toString(CliLevel level);

// What one Runtime API connection carries from command to command.
struct CliSession {
  CliLevel level = CliLevel::kOperator;
  bool prompt = false;  // interactive mode: "> " after each answer, the connection stays
  bool quit = false;    // close once this command is answered (nothing is sent for it)
  std::optional<std::chrono::seconds> timeout;  // `set timeout cli`
  std::string origin;  // who changes things: "stats socket /run/lb/admin.sock"
};

// HAProxy's Runtime API commands over the control plane: HAProxy's words, output formats and
// error texts (captured from HAProxy 2.6), so that socat scripts, hatop and the Prometheus
// HAProxy exporter work unchanged. Server changes go through the same path as SetServerState
// (events, persistence). What lb cannot do is said in one line, never silently ignored.
//
// Threads: the control thread.
class RuntimeCommands {
 public:
  RuntimeCommands(ControlPlane& control, const AgentIdentity& identity)
      : control_(control), identity_(identity) {}

  // Runs one command (its words, as splitCliLine gives them) and returns the answer's body,
  // without the terminator the connection adds.
  std::string run(const std::vector<std::string>& words, CliSession& session);

 private:
  std::string help(const std::string& title) const;
  std::string unknown(const std::vector<std::string>& words) const;
  std::string showInfo() const;
  std::string showStat(const std::vector<std::string>& words) const;
  std::string showServersState(const std::vector<std::string>& words) const;
  std::string showBackend() const;
  // `show table [NAME]`, `clear table NAME [key K]`.
  std::string table(const std::vector<std::string>& words) const;
  std::string showSess() const;
  std::string showEvents() const;
  std::string getWeight(const std::vector<std::string>& words) const;
  std::string setWeight(const std::string& target, const std::string& value,
                        const CliSession& session);
  std::string setState(const std::string& target, const std::string& state,
                       const CliSession& session);
  std::string enableServer(const std::string& target, bool enable, const CliSession& session);
  std::string clearCounters(bool all);

  // Finds "backend/server" in the configuration in force; nullptr with *error (HAProxy's text).
  struct Target {
    const runtime::BackendRuntime* backend = nullptr;
    const runtime::ServerRuntime* server = nullptr;
  };
  std::optional<Target> find(const std::string& target, std::string* error) const;

  ControlPlane& control_;
  const AgentIdentity& identity_;
};

}  // namespace lb::control
