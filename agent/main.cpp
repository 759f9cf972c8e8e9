// lb-agent: flags, then wiring of the libraries. Today it checks configurations (-c); the data
// plane, health checks and gRPC management arrive with their own libraries.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/loader.h"

namespace {

struct Flags {
  std::vector<std::string> files;
  bool check_only = false;
  std::string name;
  std::string grpc = "127.0.0.1:9901";
  std::string http = "127.0.0.1:9902";
  std::string state_dir;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string log_level = "info";
  bool quiet = false;
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

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"lb-agent: a TCP load balancer that reads HAProxy configuration"};
  app.add_option("-f,--config", flags.files, "configuration file (HAProxy syntax, YAML or JSON); "
                                             "repeat to read several in order")
      ->check(CLI::ExistingFile);
  app.add_flag("-c,--check", flags.check_only, "check the configuration and exit");
  app.add_flag("-q,--quiet", flags.quiet, "with -c, print nothing when the configuration is valid");
  app.add_option("--name", flags.name, "agent name shown in events and status (default: hostname)");
  app.add_option("--grpc", flags.grpc, "management gRPC address")->capture_default_str();
  app.add_option("--http", flags.http, "metrics and monitor HTTP address")->capture_default_str();
  app.add_option("--state-dir", flags.state_dir, "where the last applied config is kept");
  app.add_option("--threads", flags.threads, "data-plane worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warning, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error"}));
  CLI11_PARSE(app, argc, argv);

  if (flags.files.empty()) {
    std::cerr << "lb-agent: no configuration given; use -f FILE (see --help)\n";
    return 2;
  }
  lb::config::SystemResolver resolver;
  lb::config::LoadOptions options;
  options.resolver = &resolver;
  auto result = lb::config::loadFiles(flags.files, options);
  if (flags.check_only) return reportCheck(result, flags);

  std::fputs(result.diagnostics.format().c_str(), stderr);
  if (!result.ok()) return 1;
  std::cerr << "lb-agent: configuration is valid, but the data plane is not built yet; "
               "use -c to check a configuration\n";
  return 3;
}
