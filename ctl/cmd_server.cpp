// lbctl server drain|ready|maint|weight: one server's administrative state or weight on every
// agent at once; --wait follows a drain until no agent holds a connection to it.
#include <iostream>
#include <map>
#include <thread>

#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

using lb::v1::ServerStatus;

struct ServerFlags {
  std::string target;  // BACKEND/SERVER
  std::optional<uint32_t> weight;
  bool wait = false;
  std::string wait_timeout = "5m";
};

struct Answer {
  grpc::Status status;
  ServerStatus server;
};

std::string connections(uint32_t n) {
  return std::to_string(n) + " connection" + (n == 1 ? "" : "s");
}

// Polls the backend on every agent until none holds a connection to the server, or the time
// is up; prints the count as it goes down.
int waitForZero(std::vector<AgentConnection>& agents, const std::string& backend,
                const std::string& server, Millis limit, const Style& style) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string last_line;
  std::map<std::string, uint32_t> left;
  while (true) {
    auto answers = forEachAgent<Answer>(agents, [&](AgentConnection& agent) {
      Answer answer;
      lb::v1::GetStatusRequest request;
      request.set_backend(backend);
      lb::v1::GetStatusResponse response;
      answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.GetStatus(context, request, &response);
      });
      for (const auto& b : response.backends()) {
        for (const auto& s : b.servers()) {
          if (s.name() == server) answer.server = s;
        }
      }
      return answer;
    });
    left.clear();
    uint32_t total = 0;
    std::string line;
    for (size_t i = 0; i < answers.size(); ++i) {
      // An agent that does not answer may still hold connections: it counts as not done.
      std::string count =
          answers[i].status.ok() ? std::to_string(answers[i].server.current_connections()) : "?";
      if (!answers[i].status.ok() || answers[i].server.current_connections() > 0) {
        left[agents[i].name()] =
            answers[i].status.ok() ? answers[i].server.current_connections() : 0;
        total += answers[i].status.ok() ? answers[i].server.current_connections() : 0;
      }
      line += (line.empty() ? "" : ", ") + agents[i].name() + " " + count;
    }
    if (left.empty()) {
      std::cout << style.paint(backend + "/" + server + ": no connection left on any agent",
                               Color::kGreen)
                << "\n";
      return kOk;
    }
    if (line != last_line) {
      std::cout << "waiting: " << connections(total) << " (" << line << ")" << std::endl;
      last_line = line;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::string still;
  for (const auto& [name, n] : left) {
    still +=
        (still.empty() ? "" : ", ") + name + (n > 0 ? " (" + connections(n) + ")" : " (no answer)");
  }
  std::cout << style.paint(
                   "still holding connections after " + formatDuration(limit) + ": " + still,
                   Color::kRed)
            << "\n";
  return kFailed;
}

int run(const GlobalOptions& global, const ServerFlags& flags, ServerStatus::AdminState state) {
  auto slash = flags.target.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == flags.target.size()) {
    std::cerr << "lbctl server: name the server as BACKEND/SERVER (e.g. web_test/server2), not '"
              << flags.target << "'\n";
    return kUsage;
  }
  std::string error;
  auto limit = parseDuration(flags.wait_timeout, &error);
  if (!limit) {
    std::cerr << "lbctl server: --wait-timeout: " << error << "\n";
    return kUsage;
  }
  const std::string backend = flags.target.substr(0, slash);
  const std::string server = flags.target.substr(slash + 1);
  auto agents = agentsOrSay(global);
  if (!agents) return kUsage;
  lb::v1::SetServerStateRequest request;
  request.set_backend(backend);
  request.set_server(server);
  request.set_admin_state(state);
  if (flags.weight) request.set_weight(*flags.weight);
  auto answers = forEachAgent<Answer>(*agents, [&](AgentConnection& agent) {
    Answer answer;
    lb::v1::SetServerStateResponse response;
    answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.SetServerState(context, request, &response);
    });
    answer.server = response.server();
    return answer;
  });
  Style style(colorWanted(global.no_color));
  bool failed = false;
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& agent = (*agents)[i];
    const auto& [status, s] = answers[i];
    std::cout << agent.name() << ": ";
    if (!status.ok()) {
      failed = true;
      std::cout << style.paint(describe(status, agent.timeout()), Color::kRed) << "\n";
      continue;
    }
    std::string admin = ServerStatus::AdminState_Name(s.admin_state());
    std::string op = ServerStatus::OpState_Name(s.op_state());
    std::cout << backend << "/" << server << " " << style.paint(admin, stateColor(admin)) << ", "
              << style.paint(op, stateColor(op)) << ", weight " << s.effective_weight() << ", "
              << connections(s.current_connections()) << "\n";
  }
  if (failed) return kFailed;
  if (flags.wait) return waitForZero(*agents, backend, server, *limit, style);
  return kOk;
}

}  // namespace

void addServerCommands(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand(
      "server", "Drain, ready, maintain or weigh one server on every agent at once");
  group->require_subcommand(1);
  group->footer(
      "Examples:\n"
      "  lbctl server drain web_test/server2 --wait     # until its connections are gone\n"
      "  lbctl server ready web_test/server2\n"
      "  lbctl server weight web_test/server2 50");
  struct Verb {
    const char* name;
    const char* help;
    ServerStatus::AdminState state;
  };
  for (const Verb& verb :
       {Verb{"drain", "take no new connections; running ones go on; checks go on",
             ServerStatus::DRAIN},
        Verb{"maint", "take nothing new; running ones go on; checks pause", ServerStatus::MAINT},
        Verb{"ready", "take connections again", ServerStatus::READY}}) {
    auto flags = std::make_shared<ServerFlags>();
    auto* cmd = group->add_subcommand(verb.name, verb.help);
    cmd->add_option("server", flags->target, "BACKEND/SERVER")->required();
    cmd->add_option("--weight", flags->weight, "also set the weight in force (0 to 256)")
        ->check(CLI::Range(0, 256));
    if (verb.state != ServerStatus::READY) {
      cmd->add_flag("--wait", flags->wait,
                    "wait until no agent holds a connection to the server, showing the count");
      cmd->add_option("--wait-timeout", flags->wait_timeout,
                      "how long --wait waits (default 5m); then it names the agents still "
                      "holding connections and exits 1");
    }
    cmd->footer(std::string("Example:\n  lbctl server ") + verb.name + " web_test/server2" +
                (verb.state == ServerStatus::DRAIN ? " --wait --wait-timeout 2m" : ""));
    cmd->callback([&cli, flags, state = verb.state] {
      cli.run = [&cli, flags, state] { return run(cli.global, *flags, state); };
    });
  }
  auto flags = std::make_shared<ServerFlags>();
  auto* weight = group->add_subcommand("weight", "set the weight in force (0 to 256)");
  weight->add_option("server", flags->target, "BACKEND/SERVER")->required();
  weight->add_option("weight", flags->weight, "0 to 256; 0 takes no new connections")
      ->required()
      ->check(CLI::Range(0, 256));
  weight->footer("Example:\n  lbctl server weight web_test/server2 50");
  weight->callback([&cli, flags] {
    cli.run = [&cli, flags] {
      return run(cli.global, *flags, ServerStatus::ADMIN_STATE_UNSPECIFIED);
    };
  });
}

}  // namespace lb::ctl
