#pragma once

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent/common/resolver.h"
#include "agent/common/time_source.h"
#include "agent/config/diagnostics.h"
#include "agent/config/loader.h"
#include "agent/control/event_log.h"
#include "agent/control/state_file.h"
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
constexpr size_t kApplyStatuses = 6;

// How many applies ended with a status, and the time they took in all (start to result).
struct ApplyCounter {
  uint64_t count = 0;
  double seconds = 0;
};

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
  // One phrase for logs and events: the diff's summary, or why it was refused ("2 errors,
  // first: lb.cfg:12: ...").
  std::string summary() const;
};

// The configuration in force and where it came from.
struct Applied {
  lb::v1::Config config;
  uint64_t version = 0;
  std::vector<config::Source> texts;  // empty when it came as a typed Config
  common::WallTime at{};
  std::string by;
};

// An operator's change of one server (SetServerState, and later the Runtime API).
struct ServerChange {
  std::optional<runtime::AdminState> admin;
  std::optional<uint32_t> weight;
  std::string origin;
};

struct ServerChangeResult {
  enum class Code { kOk, kNotFound, kInvalid };
  Code code = Code::kOk;
  std::string message;  // for kNotFound and kInvalid, a sentence (with a did-you-mean)
  const runtime::BackendRuntime* backend = nullptr;
  const runtime::ServerRuntime* server = nullptr;
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
// the data plane and the health checker take them, every change is an event, and with a state
// directory every acknowledged change is on disk first. Start-up, SIGHUP and the management
// API all go through here; none of them reach into the parts below.
//
// Threads: the control thread (its io_context runs health checks and apply completions), and a
// loader thread of its own where configurations are parsed and names resolved (work that may
// block must not stall health checks).
class ControlPlane {
 public:
  using ApplyDone = std::function<void(ApplyResult)>;

  ControlPlane(boost::asio::io_context& io, common::TimeSource& time, common::Resolver& resolver,
               ControlPlaneOptions options);
  ~ControlPlane();

  // Runs `work` (parse and validate, resolving names through the resolver it is given) on the
  // loader thread, then `then` with its result on the control thread. The names it resolved
  // travel with the result, so that the apply builds from the same answers.
  void load(std::function<config::LoadResult(common::Resolver&)> work,
            std::function<void(config::LoadResult)> then);

  // Applies a loaded configuration (its diagnostics come with it). `done` runs on the control
  // thread with the result: at once when nothing changes, or once every worker has the new
  // snapshot. On any error nothing changes.
  void apply(config::LoadResult loaded, const ApplyOptions& options, ApplyDone done);

  // Sets an operator's admin state and/or weight on a server of the configuration in force;
  // persisted with a state directory. Control thread.
  ServerChangeResult changeServer(const std::string& backend, const std::string& server,
                                  const ServerChange& change);

  // ---- the agent-wide drain switch ----
  // While on, tier health (TierHealth) answers 503 so that upper tiers send no new connections
  // here; traffic that still arrives is served. Persisted with a state directory; an
  // AGENT_DRAIN event when it turns. Returns whether it turned. Control thread.
  bool setDraining(bool draining, const std::string& origin);
  bool draining() const { return draining_; }

  // ---- the state directory ----
  // Reads what a previous run left there (error: unreadable); from now on every acknowledged
  // change is written there. Call before the first apply.
  bool useStateDir(const std::string& dir, std::string* error);
  // What the previous run left (its configuration, version, admin states), if anything.
  const std::optional<lb::v1::PersistedState>& persisted() const { return persisted_; }
  // After the first apply: the operator's admin states and weights the previous run had, for
  // the servers that are still there.
  void restoreServerChanges();

  // ---- what is in force ----
  uint64_t version() const { return applied_.version; }
  const lb::v1::Config& config() const { return applied_.config; }
  const Applied& applied() const { return applied_; }
  const std::shared_ptr<const runtime::Runtime>& runtime() const { return runtime_; }
  std::vector<proxy::ListeningAddress> listening() const;
  // The operator's changes of servers in force (backend, server) -> change.
  const std::map<std::pair<std::string, std::string>, ServerChange>& serverChanges() const {
    return server_changes_;
  }

  EventLog& events() { return events_; }
  // Applies by how they ended (indexed by ApplyStatus), since the start.
  const std::array<ApplyCounter, kApplyStatuses>& applyCounters() const { return apply_counters_; }
  health::HealthChecker& checker() { return checker_; }
  // Null before the first apply.
  proxy::Proxy* proxy() { return proxy_.get(); }
  const ControlPlaneOptions& options() const { return options_; }

  // Graceful stop: checks stop and listeners close; `done` runs once they are closed.
  void stopAccepting(std::function<void()> done);
  uint32_t activeSessions() const { return proxy_ ? proxy_->activeSessions() : 0; }
  void abortSessions(std::function<void()> done);
  // Joins the data plane's and the loader's threads.
  void stop();

 private:
  ApplyResult refuse(ApplyResult result, const ApplyOptions& options);
  void publishApplied(const ApplyResult& result, const ApplyOptions& options);
  // Writes the state file (with a state directory); false with *error when it could not.
  bool persist(std::string* error);
  uint64_t reserveSequences(uint64_t next);
  // With hard-stop-after, the connections of servers an apply removed are closed that long
  // after it (as HAProxy's old process is stopped after a reload).
  void boundRemovedSessions(const runtime::Runtime& previous, const runtime::Runtime& next);
  void closeRemovedSessions();

  boost::asio::io_context& io_;
  common::TimeSource& time_;
  common::Resolver& resolver_;
  ControlPlaneOptions options_;
  EventLog events_;
  health::AsioProber prober_;
  health::HealthChecker checker_;
  runtime::StateStore store_;
  std::unique_ptr<proxy::Proxy> proxy_;
  Applied applied_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  std::map<std::pair<std::string, std::string>, ServerChange> server_changes_;
  bool draining_ = false;
  std::array<ApplyCounter, kApplyStatuses> apply_counters_{};
  std::unique_ptr<StateFile> state_file_;
  std::optional<lb::v1::PersistedState> persisted_;
  uint64_t sequences_reserved_ = 0;
  // Removed servers whose connections close at a time (hard-stop-after), and the timer.
  std::multimap<common::MonoTime, std::vector<std::shared_ptr<runtime::ServerState>>> removed_;
  std::unique_ptr<common::Timer> removed_timer_;

  boost::asio::io_context loader_io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> loader_guard_;
  std::thread loader_;
};

}  // namespace lb::control
