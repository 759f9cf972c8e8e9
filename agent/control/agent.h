#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/common/time_source.h"
#include "agent/control/control_plane.h"

namespace lb::control {

struct AgentOptions {
  std::vector<std::string> config_files;
  std::string name;
  unsigned threads = 1;  // --threads wins over `nbthread` when given
  bool threads_from_flag = false;
  uint64_t fd_limit = 0;  // RLIMIT_NOFILE, for a maxconn left unset (0: unknown)
};

// The agent process: applies the configuration files at start-up and on SIGHUP (through the
// control plane's one apply path, logging what it says), and stops gracefully on SIGTERM /
// SIGINT (a second one stops at once). The management service plugs into the same control
// plane.
//
// Threads: run() runs the control thread's io_context on the calling thread.
class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  ControlPlane& control() { return control_; }

  // Applies the configuration files, then runs until stopped. Returns the process exit code.
  int run();

 private:
  void waitForSignals();
  void applyFiles(const std::string& origin);
  void onApplied(const ApplyResult& result, const std::string& origin);
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
  std::unique_ptr<common::Timer> stop_timer_;
  bool started_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
  uint32_t logged_maxconn_ = 0;
  std::optional<common::MonoTime> hard_stop_at_;
};

}  // namespace lb::control
