#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/common/time_source.h"
#include "agent/config/diagnostics.h"
#include "agent/config/loader.h"
#include "agent/control/event_log.h"
#include "agent/health/health_checker.h"
#include "agent/health/probe.h"
#include "agent/proxy/proxy.h"
#include "agent/runtime/runtime.h"
#include "agent/runtime/server_state.h"
#include "lb/v1/config.pb.h"

namespace lb::control {

// How an apply is asked for.
struct ApplyOptions {
  // Validate and compute the diff only; nothing changes.
  bool dry_run = false;
  // Apply only if this is the version in force (optimistic concurrency); 0: don't check.
  uint64_t expected_version = 0;
  // Who asked: "startup", "SIGHUP", a gRPC caller's identity. Carried by the event.
  std::string origin;
  // Apply even a configuration without any listener (also allowed by `allow-no-listener`).
  bool allow_no_listener = false;
};

enum class ApplyStatus {
  kApplied,          // the new configuration is in force
  kUnchanged,        // equal to the running one: nothing done, the version stays
  kDryRun,           // valid; `diff` says what an apply would change
  kInvalid,          // the configuration has errors (diagnostics); nothing changed
  kVersionMismatch,  // expected_version is not the version in force; nothing changed
  kFailed,           // valid, but could not be put in force (a bind failed); nothing changed
};

const char* toString(ApplyStatus status);

struct ApplyResult {
  ApplyStatus status = ApplyStatus::kInvalid;
  // Every error and warning, with file:line for text and field paths for typed input.
  config::Diagnostics diagnostics;
  // The version in force after the call; for a dry run, the one an apply would replace.
  uint64_t version = 0;
  uint64_t previous_version = 0;
  lb::v1::ConfigDiff diff;
  // For kFailed and kVersionMismatch: what went wrong, as a sentence.
  std::string message;
  bool ok() const {
    return status == ApplyStatus::kApplied || status == ApplyStatus::kUnchanged ||
           status == ApplyStatus::kDryRun;
  }
};

struct ControlPlaneOptions {
  std::string name;      // the agent's name, in events
  unsigned threads = 1;  // data-plane workers; `nbthread` wins unless threads_from_flag
  bool threads_from_flag = false;
  size_t event_ring = 10000;  // events kept for readers that ask "what after N?"
  // The descriptor limit (RLIMIT_NOFILE): without a global `maxconn`, the limit is derived
  // from it. 0: unknown.
  uint64_t fd_limit = 0;
};

// The agent's one apply path and what it drives: validated configurations become snapshots,
// the data plane and the health checker take them, every change is an event. Start-up, SIGHUP
// and the management API all call apply(); none of them reach into the parts below.
//
// Threads: the control thread (its io_context runs health checks and apply completions).
class ControlPlane {
 public:
  using ApplyDone = std::function<void(ApplyResult)>;

  ControlPlane(boost::asio::io_context& io, common::TimeSource& time, common::Resolver& resolver,
               ControlPlaneOptions options);
  ~ControlPlane();

  // Applies a loaded configuration (its diagnostics come with it). `done` runs on the control
  // thread with the result: at once when nothing changes, or once every worker has the new
  // snapshot. On any error nothing changes.
  void apply(config::LoadResult loaded, const ApplyOptions& options, ApplyDone done);

  // The configuration in force, its version (0 before the first apply) and its snapshot.
  uint64_t version() const { return version_; }
  const lb::v1::Config& config() const { return config_; }
  const std::shared_ptr<const runtime::Runtime>& runtime() const { return runtime_; }
  std::vector<proxy::ListeningAddress> listening() const;

  EventLog& events() { return events_; }
  health::HealthChecker& checker() { return checker_; }
  // Null before the first apply.
  proxy::Proxy* proxy() { return proxy_.get(); }

  // Graceful stop: checks stop and listeners close; `done` runs once they are closed.
  void stopAccepting(std::function<void()> done);
  uint32_t activeSessions() const { return proxy_ ? proxy_->activeSessions() : 0; }
  void abortSessions(std::function<void()> done);
  // Joins the data plane's threads.
  void stop();

 private:
  ApplyResult refuse(ApplyResult result, const ApplyOptions& options);
  void publishApplied(const ApplyResult& result, const ApplyOptions& options);

  boost::asio::io_context& io_;
  common::TimeSource& time_;
  common::Resolver& resolver_;
  ControlPlaneOptions options_;
  EventLog events_;
  health::AsioProber prober_;
  health::HealthChecker checker_;
  runtime::StateStore store_;
  std::unique_ptr<proxy::Proxy> proxy_;
  lb::v1::Config config_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  uint64_t version_ = 0;
};

}  // namespace lb::control
