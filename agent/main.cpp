// lb-agent: parses flags, sets up logging, and hands over to the control thread (lb::control).
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/loader.h"
#include "agent/control/agent.h"

namespace {

struct Flags {
  std::vector<std::string> files;
  bool check_only = false;
  bool quiet = false;
  std::string name;
  std::string grpc = "127.0.0.1:9901";
  std::string http = "127.0.0.1:9902";
  std::string state_dir;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string log_level = "info";
  std::string log_file;
};

// Prints every diagnostic, then a summary line like `haproxy -c`. Returns the exit code.
int reportCheck(const lb::config::LoadResult& result, const Flags& flags) {
  const auto& diag = result.diagnostics;
  std::fputs(diag.format().c_str(), stderr);
  if (!result.ok()) {
    std::fprintf(stderr, "Fatal errors found in configuration (%d error%s, %d warning%s).\n",
                 diag.errorCount(), diag.errorCount() == 1 ? "" : "s", diag.warningCount(),
                 diag.warningCount() == 1 ? "" : "s");
    return 1;
  }
  if (!flags.quiet) {
    std::printf("Configuration file is valid");
    if (diag.warningCount() > 0) {
      std::printf(" (%d warning%s)", diag.warningCount(), diag.warningCount() == 1 ? "" : "s");
    }
    std::printf("\n");
  }
  return 0;
}

void setUpLogging(const Flags& flags) {
  std::shared_ptr<spdlog::logger> logger;
  if (flags.log_file.empty()) {
    logger = spdlog::stderr_logger_mt("lb");
  } else {
    logger = spdlog::basic_logger_mt("lb", flags.log_file);
  }
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
  logger->set_level(
      spdlog::level::from_str(flags.log_level == "warning" ? "warn" : flags.log_level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"lb-agent: a TCP load balancer that reads HAProxy configuration"};
  app.add_option("-f,--config", flags.files,
                 "configuration file (HAProxy syntax, YAML or JSON); repeat to read several in "
                 "order")
      ->check(CLI::ExistingFile);
  app.add_flag("-c,--check", flags.check_only, "check the configuration and exit");
  app.add_flag("-q,--quiet", flags.quiet, "with -c, print nothing when the configuration is valid");
  app.add_option("--name", flags.name, "agent name shown in logs, events and status");
  app.add_option("--grpc", flags.grpc, "management gRPC address (not served yet)")
      ->capture_default_str();
  app.add_option("--http", flags.http, "metrics and monitor HTTP address (not served yet)")
      ->capture_default_str();
  app.add_option("--state-dir", flags.state_dir,
                 "where the last applied config is kept "
                 "(not used yet)");
  auto* threads = app.add_option("--threads", flags.threads,
                                 "data-plane worker threads (default: nbthread, else cores)")
                      ->check(CLI::Range(1u, 1024u));
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warning (or warn), error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error"}));
  app.add_option("--log-file", flags.log_file, "write logs to this file instead of stderr");
  CLI11_PARSE(app, argc, argv);

  if (flags.files.empty()) {
    std::cerr << "lb-agent: no configuration given; use -f FILE (see --help)\n";
    return 2;
  }
  if (flags.check_only) {
    lb::common::SystemResolver resolver;
    return reportCheck(lb::config::loadFiles(flags.files, {&resolver}), flags);
  }
  setUpLogging(flags);
  // A write to a connection its peer has closed must fail with EPIPE, not kill the agent:
  // send() says so with MSG_NOSIGNAL, but splice(2) has no such flag.
  std::signal(SIGPIPE, SIG_IGN);
  lb::control::AgentOptions options;
  options.config_files = flags.files;
  options.name = flags.name;
  options.threads = flags.threads;
  options.threads_from_flag = threads->count() > 0;
  lb::control::Agent agent(std::move(options));
  return agent.run();
}
