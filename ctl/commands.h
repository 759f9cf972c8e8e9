#pragma once
// lbctl's command groups. Each adds its subcommands to the application; the one the command
// line chose sets `run`, which main calls once parsing is done.

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <vector>

#include "ctl/agents.h"

namespace lb::ctl {

// Exit codes: 0 done everywhere, 1 failed somewhere (or, for diff, differences), 2 usage.
constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Cli {
  GlobalOptions global;
  std::function<int()> run;
};

void addApplyCommands(CLI::App& app, Cli& cli);   // apply, diff
void addGetCommand(CLI::App& app, Cli& cli);      // get
void addStatusCommand(CLI::App& app, Cli& cli);   // status
void addEventsCommand(CLI::App& app, Cli& cli);   // events
void addServerCommands(CLI::App& app, Cli& cli);  // server drain|ready|maint|weight
void addConfigCommands(CLI::App& app, Cli& cli);  // config get-contexts|use-context|...
void addVersionCommand(CLI::App& app, Cli& cli);  // version

// `lbctl events` and `lbctl cluster events`: what to show.
struct EventsFlags {
  bool follow = false;
  std::optional<uint64_t> since;
  std::string backend;
  std::vector<std::string> types;
  std::string output = "text";
};
// `follow_names`: "-f,--follow", or "--follow" where -f names a file.
void addEventsFlags(CLI::App* command, EventsFlags& flags, const std::string& follow_names);
// Lists the events the agents `connect` returns hold, merged in time order, then with --follow
// stays connected. `connect` runs after the stop signals are blocked (before gRPC's threads).
int runEvents(const GlobalOptions& global, const EventsFlags& flags,
              const std::function<std::optional<std::vector<AgentConnection>>()>& connect);

void addClusterCommands(CLI::App& app, Cli& cli);  // cluster apply|status|events|drain|ready

// The agents the global options name, connected; nullopt after printing why there are none.
std::optional<std::vector<AgentConnection>> agentsOrSay(const GlobalOptions& options);

}  // namespace lb::ctl
