// lbctl config: the contexts file (named lists of agents), and lbctl version.
#include <iostream>

#include "ctl/commands.h"
#include "ctl/contexts.h"
#include "ctl/output.h"

#ifndef LB_VERSION
#define LB_VERSION "dev"
#endif

namespace lb::ctl {

std::optional<std::vector<AgentConnection>> agentsOrSay(const GlobalOptions& options) {
  std::string error;
  auto targets = findAgents(options, &error);
  if (!targets) {
    std::cerr << "lbctl: " << error << "\n";
    return std::nullopt;
  }
  return connect(*targets, options.timeout);
}

namespace {

// The contexts file; nullopt after saying why it cannot be read.
std::optional<ContextsFile> contextsOrSay(const std::string& path) {
  std::string error;
  auto file = loadContexts(path, &error);
  if (!file) std::cerr << "lbctl: " << error << "\n";
  return file;
}

int getContexts(const GlobalOptions& global) {
  const std::string path = contextsPath();
  auto file = contextsOrSay(path);
  if (!file) return kFailed;
  if (file->contexts.empty()) {
    std::cout << "no contexts in " << path << "\n";
    return kOk;
  }
  Table table({"CURRENT", "NAME", "AGENTS"});
  for (const auto& c : file->contexts) {
    std::string agents;
    for (const auto& a : c.agents) {
      agents += (agents.empty() ? "" : ",") +
                (a.name == a.address ? a.address : a.name + "=" + a.address);
    }
    table.add({{c.name == file->current ? "*" : ""}, {c.name}, {agents}});
  }
  table.print(std::cout, Style(colorWanted(global.no_color)));
  return kOk;
}

int useContext(const std::string& name) {
  const std::string path = contextsPath();
  auto file = contextsOrSay(path);
  if (!file) return kFailed;
  if (file->find(name) == nullptr) {
    std::cerr << "lbctl: no context '" << name << "' in " << path << file->didYouMean(name) << "\n";
    return kFailed;
  }
  std::string error;
  if (!setCurrentContext(path, name, &error)) {
    std::cerr << "lbctl: " << error << "\n";
    return kFailed;
  }
  std::cout << "current context: " << name << "\n";
  return kOk;
}

int currentContext() {
  const std::string path = contextsPath();
  auto file = contextsOrSay(path);
  if (!file) return kFailed;
  if (file->current.empty()) {
    std::cerr << "lbctl: no current context in " << path << "\n";
    return kFailed;
  }
  std::cout << file->current << "\n";
  return kOk;
}

int version(const GlobalOptions& global) {
  std::cout << "lbctl " << LB_VERSION << "\n";
  std::string error;
  auto targets = findAgents(global, &error);
  if (!targets) return kOk;  // no agents configured: lbctl's own version is the answer
  auto agents = connect(*targets, global.timeout);
  struct Answer {
    grpc::Status status;
    lb::v1::GetStatusResponse response;
  };
  auto answers = forEachAgent<Answer>(agents, [](AgentConnection& agent) {
    Answer answer;
    answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.GetStatus(context, lb::v1::GetStatusRequest(), &answer.response);
    });
    return answer;
  });
  bool failed = false;
  for (size_t i = 0; i < answers.size(); ++i) {
    std::cout << agents[i].name() << ": ";
    if (!answers[i].status.ok()) {
      failed = true;
      std::cout << describe(answers[i].status, agents[i].timeout()) << "\n";
      continue;
    }
    const auto& a = answers[i].response.agent();
    std::cout << "lb-agent " << a.lb_version() << (a.name().empty() ? "" : " '" + a.name() + "'")
              << ", pid " << a.pid() << "\n";
  }
  return failed ? kFailed : kOk;
}

}  // namespace

void addConfigCommands(CLI::App& app, Cli& cli) {
  auto* config = app.add_subcommand(
      "config", "Contexts: named lists of agents (" +
                    std::string("$LBCTL_CONFIG or ~/.config/lbctl/config.yaml)"));
  config->require_subcommand(1);
  config->footer(
      "Example of the file:\n"
      "  current-context: prod\n"
      "  contexts:\n"
      "    - name: prod\n"
      "      agents: [lb1.example:9901, {name: lb2, address: lb2.example:9901}]\n"
      "      tls: {ca: /etc/lbctl/ca.crt, cert: /etc/lbctl/ops.crt, key: /etc/lbctl/ops.key}\n"
      "      token-file: ~/.config/lbctl/prod.token");
  auto* get = config->add_subcommand("get-contexts", "List the contexts; * marks the current one");
  get->footer("Example:\n  lbctl config get-contexts");
  get->callback([&cli] { cli.run = [&cli] { return getContexts(cli.global); }; });
  auto name = std::make_shared<std::string>();
  auto* use = config->add_subcommand("use-context", "Make a context the current one");
  use->add_option("name", *name, "the context's name")->required();
  use->footer("Example:\n  lbctl config use-context staging");
  use->callback([&cli, name] { cli.run = [name] { return useContext(*name); }; });
  auto* current = config->add_subcommand("current-context", "Print the current context's name");
  current->footer("Example:\n  lbctl config current-context");
  current->callback([&cli] { cli.run = [] { return currentContext(); }; });
}

void addVersionCommand(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand("version", "lbctl's version and each agent's");
  cmd->footer("Example:\n  lbctl version");
  cmd->callback([&cli] { cli.run = [&cli] { return version(cli.global); }; });
}

}  // namespace lb::ctl
