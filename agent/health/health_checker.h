#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "agent/common/time_source.h"
#include "agent/health/event_sink.h"
#include "agent/health/lateness.h"
#include "agent/health/probe.h"
#include "agent/health/server_health.h"
#include "agent/runtime/runtime.h"

namespace lb::health {

// What the checker knows of one server right now (status pages, the management API).
struct ServerCheckStatus {
  bool check = false;  // active checks configured
  runtime::OpState state = runtime::OpState::kUp;
  uint32_t health = 0;  // the health counter, 0 .. rise+fall-1
  uint32_t rise = 0;
  uint32_t fall = 0;
  std::optional<CheckResult> last;        // the last check's result, if one ran
  bool agent = false;                     // an agent-check runs
  std::optional<CheckResult> agent_last;  // the agent's last answer (status, its line)
  common::WallTime last_change{};         // the last UP/DOWN or admin change (epoch: none yet)
};

// Runs every server's active checks, takes passive-check reports from the workers, applies
// administrative states, and turns every change into server state (which the balancers read at
// once), a log line in HAProxy's words and an event.
//
// Threads: lives on the control thread: its io_context carries cross-thread reports, `time`
// schedules checks and `prober` runs them. reportErrorLimit() may be called from any thread
// (it posts); everything else from the control thread.
class HealthChecker : public runtime::PassiveObserver {
 public:
  struct Hooks {
    EventSink* events = nullptr;
    // Closes the running sessions of a server (on-marked-down shutdown-sessions).
    std::function<void(std::shared_ptr<const runtime::ServerState>)> shutdown_sessions;
  };

  HealthChecker(boost::asio::io_context& control, common::TimeSource& time, Prober& prober,
                Hooks hooks);
  ~HealthChecker() override;

  // Takes over the servers of a new snapshot: servers that keep their identity keep their
  // health; new ones start UP with their first check spread over their interval.
  void apply(std::shared_ptr<const runtime::Runtime> runtime);

  // PassiveObserver: a server reached its error-limit on live traffic (any thread).
  void reportErrorLimit(std::shared_ptr<runtime::ServerState> state, uint32_t errors,
                        std::string last_error) override;

  // READY / DRAIN / MAINT for BACKEND/SERVER; false with *error when there is no such server.
  // `origin` (who asked: a gRPC caller, a stats socket) is carried by the event.
  bool setAdminState(const std::string& backend, const std::string& server,
                     runtime::AdminState state, std::string* error, const std::string& origin = "");
  // The weight in force for BACKEND/SERVER, set by an operator (HAProxy's `set weight`): it
  // stays across UP/DOWN changes (a slowstart ramps to it) until an apply changes the server's
  // configured weight. False with *error when there is no such server.
  bool setWeight(const std::string& backend, const std::string& server, uint32_t weight,
                 std::string* error, const std::string& origin = "");
  // The operator's weight of a server, if one was set.
  std::optional<uint32_t> weightOverride(const runtime::ServerState& server) const;

  std::optional<ServerCheckStatus> status(const runtime::ServerState& server) const;

  void stop();

  // How late active checks started against their schedule, since the agent started.
  const Lateness& lateness() const { return lateness_; }
  // Checks that could not run for a reason of this host (out of descriptors...).
  uint64_t localFailures() const { return local_failures_; }

 private:
  struct Task;
  using TaskId = uint64_t;  // ServerState::id: never reused, unlike a pointer

  void schedule(Task& task, Millis delay);
  void runCheck(TaskId id);
  void onResult(TaskId id, uint64_t generation, const CheckResult& result);
  void onErrorLimit(TaskId id, uint32_t errors, const std::string& last_error);
  void onLocalFailure(const Task& task, const CheckResult& result);
  void handle(Task& task, const Transition& t, bool passive);
  // The operational state the checks and the agent together give (DOWN if either says so,
  // NOLB after a 404 with disable-on-404), and the change to it with its log line and event.
  static runtime::OpState effectiveState(const Task& task);
  // "Layer4 connection problem, info: \"...\", check duration: 3ms" (HAProxy's wording).
  static std::string checkReason(const CheckResult& result);
  // The event's cause: the check's status, its text, health counters.
  static void fillCause(lb::v1::Event& event, const Task& task, const CheckResult& result,
                        bool passive);
  void changeState(Task& task, runtime::OpState from, runtime::OpState to,
                   const CheckResult& result, bool passive);
  // agent-check (health_checker_agent.cpp)
  void scheduleAgent(Task& task, Millis delay);
  void runAgent(TaskId id);
  void onAgentResult(TaskId id, uint64_t generation, const CheckResult& result);
  void startSlowstart(Task& task);
  void rampWeight(TaskId id);
  Task* find(TaskId id);
  // Rebuilds the balancer of `backend` now, or as soon as its spacing allows: see Refresh.
  void refreshBalancer(runtime::BackendRuntime* backend);
  void rebuildBalancer(runtime::BackendRuntime* backend);
  struct Usable {
    uint32_t active = 0;
    uint32_t backup = 0;
  };
  static Usable countUsable(const runtime::BackendRuntime& backend);
  void checkBackendAvailability(const runtime::BackendRuntime& backend, const Usable& usable);
  lb::v1::Event makeEvent(lb::v1::Event::Type type, const Task* task) const;
  std::string serversLeft(const Task& task, bool going_up, const Usable& usable) const;
  void publish(lb::v1::Event event);

  boost::asio::io_context& io_;
  common::TimeSource& time_;
  Prober& prober_;
  Hooks hooks_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  std::unordered_map<TaskId, std::unique_ptr<Task>> tasks_;
  // BACKEND/SERVER -> task, for admin commands by name.
  std::unordered_map<std::string, TaskId> by_name_;  // nameKey(backend, server)
  std::map<std::string, bool> backend_available_;
  // A balancer rebuild costs O(servers) (a weighted map over every server); a backend of
  // thousands of servers whose servers all change state at once (a rack lost, a network split
  // healed) would spend the control thread on rebuilds. So after each rebuild of a backend the
  // next waits four times as long as that one took: immediate for small backends (a few us),
  // and at most a fifth of the control thread for big ones. The data plane is safe meanwhile:
  // a pick skips a server that went down since the last rebuild.
  struct Refresh {
    common::MonoTime not_before{};
    std::unique_ptr<common::Timer> timer;  // set while a rebuild waits
  };
  std::map<const runtime::BackendRuntime*, Refresh> refreshes_;
  uint64_t generation_ = 0;
  uint64_t rng_;
  bool stopped_ = false;
  Lateness lateness_;
  uint64_t local_failures_ = 0;
  common::MonoTime last_local_warning_{};
};

}  // namespace lb::health
