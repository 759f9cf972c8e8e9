#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/health/event_sink.h"
#include "agent/health/lateness.h"
#include "agent/health/probe.h"
#include "agent/health/server_health.h"
#include "agent/runtime/runtime.h"

namespace lb::health {

// Runs every server's active checks, takes passive-check reports from the workers, applies
// administrative states, and turns every change into server state (which the balancers read at
// once), a log line in HAProxy's words and an event.
//
// Threads: lives on the control thread's io_context. reportErrorLimit() may be called from any
// thread (it posts); everything else from the control thread.
class HealthChecker : public runtime::PassiveObserver {
 public:
  struct Hooks {
    EventSink* events = nullptr;
    // Closes the running sessions of a server (on-marked-down shutdown-sessions).
    std::function<void(const runtime::ServerState*)> shutdown_sessions;
  };

  HealthChecker(boost::asio::io_context& control, Hooks hooks);
  ~HealthChecker() override;

  // Takes over the servers of a new snapshot: servers that keep their identity keep their
  // health; new ones start UP with their first check spread over their interval.
  void apply(std::shared_ptr<const runtime::Runtime> runtime);

  // PassiveObserver: a server reached its error-limit on live traffic (any thread).
  void reportErrorLimit(std::shared_ptr<runtime::ServerState> state, uint32_t errors,
                        std::string last_error) override;

  // READY / DRAIN / MAINT for BACKEND/SERVER; false with *error when there is no such server.
  bool setAdminState(const std::string& backend, const std::string& server,
                     runtime::AdminState state, std::string* error);

  void stop();

  // How late active checks started against their schedule, since the agent started.
  const Lateness& lateness() const { return lateness_; }

 private:
  struct Task;

  void schedule(Task& task, Millis delay);
  void runCheck(runtime::ServerState* key);
  void onResult(runtime::ServerState* key, uint64_t generation, const CheckResult& result);
  void onErrorLimit(runtime::ServerState* key, uint32_t errors, const std::string& last_error);
  void handle(Task& task, const Transition& t, bool passive);
  void startSlowstart(Task& task);
  void rampWeight(runtime::ServerState* key);
  void checkBackendAvailability(const std::string& backend);
  lb::v1::Event makeEvent(lb::v1::Event::Type type, const Task* task) const;
  std::string serversLeft(const Task& task, bool going_up) const;

  boost::asio::io_context& io_;
  Hooks hooks_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  std::map<runtime::ServerState*, std::unique_ptr<Task>> tasks_;
  std::map<std::string, bool> backend_available_;
  uint64_t generation_ = 0;
  uint64_t rng_;
  bool stopped_ = false;
  Lateness lateness_;
};

}  // namespace lb::health
