// lb-agent: parses flags, sets up logging, and hands over to the control thread (lb::control).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "agent/common/async_log.h"
#include "agent/config/loader.h"
#include "agent/config/validator.h"
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
  std::string grpc_tls_cert;
  std::string grpc_tls_key;
  std::string grpc_client_ca;
  std::string grpc_tokens;
  bool grpc_insecure = false;
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
  if (!lb::config::hasListener(result.config) && !result.config.global().allow_no_listener()) {
    // HAProxy's words and exit status for a valid file that would listen on nothing.
    std::fprintf(stderr,
                 "Configuration file has no error but will not start (no listener): no enabled "
                 "frontend has a 'bind' line (write 'allow-no-listener' in the global section "
                 "if that is meant).\n");
    return 2;
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

// Every log line goes through a sink that never blocks the thread that logs (a stalled log
// reader must not stall traffic): see AsyncLogSink. Returns null, with a message, when the log
// file cannot be opened.
std::shared_ptr<lb::common::AsyncLogSink> setUpLogging(const Flags& flags) {
  int fd = STDERR_FILENO;
  if (!flags.log_file.empty()) {
    fd = ::open(flags.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::fprintf(stderr, "lb-agent: cannot open log file %s: %s\n", flags.log_file.c_str(),
                   std::strerror(errno));
      return nullptr;
    }
  }
  auto sink = std::make_shared<lb::common::AsyncLogSink>(fd);
  auto logger = std::make_shared<spdlog::logger>("lb", sink);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
  logger->set_level(
      spdlog::level::from_str(flags.log_level == "warning" ? "warn" : flags.log_level));
  spdlog::set_default_logger(logger);
  return sink;
}

// The descriptor limit, raised first to the hard limit (systemd's default soft limit is 1024):
// a global maxconn left unset is derived from it, as in HAProxy.
uint64_t descriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    // An unlimited hard limit is not a number to size by: stop at a million.
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(limit.rlim_cur, 1 << 20)
                                                      : limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? 0 : limit.rlim_cur;
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
  app.add_option("--grpc", flags.grpc,
                 "management API address: HOST:PORT or unix:PATH (loopback by default)")
      ->capture_default_str();
  app.add_option("--grpc-tls-cert", flags.grpc_tls_cert, "PEM certificate: the API speaks TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--grpc-tls-key", flags.grpc_tls_key, "PEM private key of --grpc-tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("--grpc-client-ca", flags.grpc_client_ca,
                 "PEM CA: API clients must present a certificate it signed (mutual TLS)")
      ->check(CLI::ExistingFile);
  app.add_option("--grpc-tokens", flags.grpc_tokens,
                 "bearer tokens file: lines 'NAME ROLE SHA256HEX', ROLE read or admin")
      ->check(CLI::ExistingFile);
  app.add_flag("--grpc-insecure", flags.grpc_insecure,
               "serve a non-loopback --grpc address without TLS, or with TLS but "
               "no tokens or client CA, anyway");
  app.add_option("--http", flags.http,
                 "tier health HTTP address: HOST:PORT (loopback by default), or 'none'")
      ->check([](const std::string& value) -> std::string {
        static const std::regex form(R"(^(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*):([0-9]{1,5})$)");
        std::smatch m;
        if (value == "none") return "";
        if (!std::regex_match(value, m, form) || std::stoul(m[2]) > 65535) {
          return "'" + value + "' is not HOST:PORT (e.g. 127.0.0.1:9902, [::1]:9902) or 'none'";
        }
        return "";
      })
      ->capture_default_str();
  app.add_option("--state-dir", flags.state_dir,
                 "keep the last applied configuration, its version and admin states here; "
                 "without -f the agent restores them");
  auto* threads = app.add_option("--threads", flags.threads,
                                 "data-plane worker threads (default: nbthread, else cores)")
                      ->check(CLI::Range(1u, 1024u));
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warning (or warn), error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error"}));
  app.add_option("--log-file", flags.log_file, "write logs to this file instead of stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as docs/operations.md says.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (flags.check_only) {
    if (flags.files.empty()) {
      std::cerr << "lb-agent: nothing to check; use -c -f FILE (see --help)\n";
      return 2;
    }
    lb::common::SystemResolver resolver;
    return reportCheck(lb::config::loadFiles(flags.files, {&resolver}), flags);
  }
  auto log = setUpLogging(flags);
  if (!log) return 2;
  // A write to a connection its peer has closed must fail with EPIPE, not kill the agent:
  // send() says so with MSG_NOSIGNAL, but splice(2) has no such flag.
  std::signal(SIGPIPE, SIG_IGN);
  lb::control::AgentOptions options;
  options.config_files = flags.files;
  options.name = flags.name;
  options.threads = flags.threads;
  options.threads_from_flag = threads->count() > 0;
  options.fd_limit = descriptorLimit();
  options.state_dir = flags.state_dir;
  if (flags.http != "none") options.http_address = flags.http;
  options.management.address = flags.grpc;
  options.management.tls_cert = flags.grpc_tls_cert;
  options.management.tls_key = flags.grpc_tls_key;
  options.management.client_ca = flags.grpc_client_ca;
  options.management.tokens_file = flags.grpc_tokens;
  options.management.insecure = flags.grpc_insecure;
  options.log_lines_dropped = [log] { return log->dropped(); };
  int code;
  {
    lb::control::Agent agent(std::move(options));
    code = agent.run();
  }
  log->stop();  // what was logged is written (a stalled output holds the exit for 2 s at most)
  return code;
}
