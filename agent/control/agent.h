#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/loader.h"
#include "agent/control/event_log.h"
#include "agent/health/health_checker.h"
#include "agent/proxy/proxy.h"
#include "agent/runtime/server_state.h"

namespace lb::control {

struct AgentOptions {
  std::vector<std::string> config_files;
  std::string name;
  unsigned threads = 1;  // --threads wins over `nbthread` when given
  bool threads_from_flag = false;
};

// The agent's control thread: loads and applies configurations (startup, SIGHUP), owns the
// live state store and the data plane, and stops gracefully on SIGTERM/SIGINT. The gRPC
// management service will drive apply() from here too.
class Agent {
 public:
  explicit Agent(AgentOptions options);
  ~Agent();

  EventLog& events() { return events_; }
  health::HealthChecker& checker() { return checker_; }

  // Loads the configuration files, starts the data plane and runs until stopped. Returns the
  // process exit code.
  int run();

  // Validates and applies a configuration; on any error nothing changes and the diagnostics
  // say why. Control thread only.
  bool apply(const lb::config::LoadResult& loaded);

 private:
  void waitForSignals();
  void reload();
  void beginStop(bool hard);
  void pollStop();
  void logListeners();

  AgentOptions options_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer stop_timer_;
  runtime::StateStore store_;
  EventLog events_;
  std::unique_ptr<proxy::Proxy> proxy_;
  health::HealthChecker checker_;
  std::shared_ptr<const runtime::Runtime> current_;
  uint64_t version_ = 0;
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> hard_stop_at_;
  lb::config::SystemResolver resolver_;
};

}  // namespace lb::control
