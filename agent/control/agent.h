#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/common/time_source.h"
#include "agent/control/control_plane.h"
#include "agent/control/management.h"
#include "agent/control/metrics.h"
#include "agent/control/runtime_api.h"
#include "agent/control/stats_pages.h"
#include "agent/control/tier_health.h"
#include "agent/http/http_server.h"

namespace lb::control {

struct AgentOptions {
  std::vector<std::string> config_files;
  std::string name;
  unsigned threads = 1;  // --threads wins over `nbthread` when given
  bool threads_from_flag = false;
  uint64_t fd_limit = 0;  // RLIMIT_NOFILE, for a maxconn left unset (0: unknown)
  std::string state_dir;  // --state-dir: the last acknowledged configuration is kept there
  ManagementOptions management;
  // --http: tier health (and, next, metrics) on HOST:PORT; empty: not served.
  std::string http_address;
  // Log lines the log output dropped so far.
  std::function<uint64_t()> log_lines_dropped;
};

// The agent process. At start-up it applies the configuration files (-f), or else restores
// what the state directory holds, or else starts empty and waits for an apply; then it serves
// the management API. SIGHUP re-applies the files; SIGTERM / SIGINT stop gracefully (a second
// one stops at once). Every change goes through the control plane's one apply path; this class
// only logs what it says.
//
// Threads: run() runs the control thread's io_context on the calling thread.
class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  ControlPlane& control() { return control_; }

  // Runs until stopped. Returns the process exit code.
  int run();

 private:
  void waitForSignals();
  void applyFiles(const std::string& origin);
  void restore();
  void onApplied(const ApplyResult& result, const std::string& origin);
  void started();
  void fail(const std::string& message);
  void beginStop(bool hard);
  void pollStop();
  void logListeners();
  void logMaxconn();

  AgentOptions options_;
  boost::asio::io_context io_;
  common::AsioTimeSource time_{io_};
  common::SystemResolver resolver_;
  boost::asio::signal_set signals_;
  ControlPlane control_;
  AgentIdentity identity_;  // one start time for the API and /metrics
  ManagementServer management_;
  http::HttpServer http_;
  TierHealth tier_health_;
  Metrics metrics_;
  RuntimeApi runtime_api_;  // HAProxy's Runtime API on the configuration's `stats socket`s
  StatsPages stats_pages_;  // HTTP sections that only serve the statistics page
  std::unique_ptr<common::Timer> stop_timer_;
  bool started_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
  uint32_t logged_maxconn_ = 0;
  std::optional<common::MonoTime> hard_stop_at_;
};

}  // namespace lb::control
