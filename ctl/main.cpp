// lbctl: one command line over many lb agents. Parses the command line and runs the command
// (lb::ctl); the commands live in ctl/cmd_*.cpp, one file per group.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <string>

#include "ctl/commands.h"

int main(int argc, char** argv) {
  lb::ctl::Cli cli;
  CLI::App app{"lbctl: manage lb agents over their gRPC API, many at once", "lbctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the command too
  std::string timeout = "5s";
  app.add_option("--agent", cli.global.agents,
                 "an agent's API address (host:port or unix:PATH); repeatable. Else "
                 "$LBCTL_AGENTS (comma-separated), else the current context");
  app.add_option("--context", cli.global.context,
                 "use this context of the contexts file instead of the current one");
  app.add_option("--timeout", timeout, "deadline of every call (default 5s)");
  app.add_option("--tls-ca", cli.global.credentials.ca,
                 "PEM CA that signed the agents' certificates: speak TLS (for --agent)");
  app.add_option("--tls-cert", cli.global.credentials.cert,
                 "PEM client certificate, for agents that ask for one (mutual TLS)");
  app.add_option("--tls-key", cli.global.credentials.key, "PEM private key of --tls-cert");
  app.add_option("--token-file", cli.global.credentials.token_file,
                 "file whose first line is the bearer token to present");
  app.add_flag("--no-color", cli.global.no_color, "no colours, even on a terminal");
  app.footer(
      "Examples:\n"
      "  lbctl --agent 127.0.0.1:9901 status\n"
      "  LBCTL_AGENTS=10.0.0.11:9901,10.0.0.12:9901 lbctl apply -f haproxy.cfg\n"
      "  lbctl events --follow\n\n"
      "Run 'lbctl COMMAND --help' for a command's flags and an example.");
  lb::ctl::addApplyCommands(app, cli);
  lb::ctl::addGetCommand(app, cli);
  lb::ctl::addStatusCommand(app, cli);
  lb::ctl::addEventsCommand(app, cli);
  lb::ctl::addServerCommands(app, cli);
  lb::ctl::addConfigCommands(app, cli);
  lb::ctl::addVersionCommand(app, cli);
  lb::ctl::addClusterCommands(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every usage error: one line, exit 2.
    std::cerr << "lbctl: " << e.what() << " (see 'lbctl --help' or 'lbctl COMMAND --help')\n";
    return lb::ctl::kUsage;
  }
  std::string error;
  auto deadline = lb::ctl::parseDuration(timeout, &error);
  if (!deadline) {
    std::cerr << "lbctl: --timeout: " << error << "\n";
    return lb::ctl::kUsage;
  }
  cli.global.timeout = *deadline;
  std::signal(SIGPIPE, SIG_IGN);  // `lbctl events -f | head` ends with a write error, not a signal
  return cli.run ? cli.run() : lb::ctl::kUsage;
}
