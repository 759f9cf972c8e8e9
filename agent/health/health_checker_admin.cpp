// What operators do to one server (SetServerState, later the Runtime API): admin states and
// weights, and the status they read back.
#include <spdlog/spdlog.h>

#include "agent/health/health_checker.h"
#include "agent/health/health_task.h"

namespace lb::health {

using runtime::AdminState;

bool HealthChecker::setAdminState(const std::string& backend, const std::string& server,
                                  AdminState state, std::string* error, const std::string& origin) {
  auto it = by_name_.find(nameKey(backend, server));
  Task* task = it == by_name_.end() ? nullptr : find(it->second);
  if (task == nullptr) {
    *error = "no server '" + server + "' in backend '" + backend + "'";
    return false;
  }
  AdminState old = task->state->admin.exchange(state);
  if (old == state) return true;
  task->last_change = time_.wallNow();
  refreshBalancer(task->backend_runtime);
  const Usable usable = countUsable(*task->backend_runtime);
  std::string who = task->backend + "/" + task->server->name;
  std::string message;
  switch (state) {
    case AdminState::kMaint:
      task->timer->cancel();
      message =
          "Server " + who + " is going DOWN for maintenance. " + serversLeft(*task, false, usable);
      break;
    case AdminState::kDrain:
      message = "Server " + who + " is entering drain mode: no new connections.";
      break;
    case AdminState::kReady:
      message = "Server " + who + " is " +
                (old == AdminState::kMaint ? "leaving forced maintenance" : "leaving drain mode") +
                ". " + serversLeft(*task, true, usable);
      if (old == AdminState::kMaint && task->server->check && !task->in_flight) {
        schedule(*task, Millis(0));
      }
      break;
  }
  spdlog::info("{}", message);
  auto event = makeEvent(lb::v1::Event::ADMIN_STATE, task);
  event.set_old_state(runtime::toString(old));
  event.set_new_state(runtime::toString(state));
  event.set_message(message);
  event.set_origin(origin);
  publish(std::move(event));
  checkBackendAvailability(*task->backend_runtime, usable);
  return true;
}

bool HealthChecker::setWeight(const std::string& backend, const std::string& server,
                              uint32_t weight, std::string* error, const std::string& origin) {
  auto it = by_name_.find(nameKey(backend, server));
  Task* task = it == by_name_.end() ? nullptr : find(it->second);
  if (task == nullptr) {
    *error = "no server '" + server + "' in backend '" + backend + "'";
    return false;
  }
  uint32_t old = task->state->weight.load();
  task->weight_override = weight;
  task->ramp_timer->cancel();
  task->up_since.reset();
  if (old == weight) return true;
  task->state->weight.store(weight);
  refreshBalancer(task->backend_runtime);
  const Usable usable = countUsable(*task->backend_runtime);
  std::string message = "Server " + task->backend + "/" + task->server->name +
                        " weight changed from " + std::to_string(old) + " to " +
                        std::to_string(weight) + ".";
  spdlog::info("{}", message);
  auto event = makeEvent(lb::v1::Event::SERVER_WEIGHT, task);
  event.set_old_state(std::to_string(old));
  event.set_new_state(std::to_string(weight));
  event.set_message(message);
  event.set_origin(origin);
  publish(std::move(event));
  checkBackendAvailability(*task->backend_runtime, usable);
  return true;
}

std::optional<uint32_t> HealthChecker::weightOverride(const runtime::ServerState& server) const {
  auto it = tasks_.find(server.id);
  if (it == tasks_.end()) return std::nullopt;
  return it->second->weight_override;
}

std::optional<ServerCheckStatus> HealthChecker::status(const runtime::ServerState& server) const {
  auto it = tasks_.find(server.id);
  if (it == tasks_.end()) return std::nullopt;
  const Task& task = *it->second;
  ServerCheckStatus out;
  out.check = task.server->check;
  out.state = effectiveState(task);
  out.health = task.health.health();
  out.rise = task.health.settings().rise;
  out.fall = task.health.settings().fall;
  if (task.checked) out.last = task.health.lastResult();
  out.agent = task.server->agent_check;
  out.agent_last = task.agent_last;
  out.last_change = task.last_change;
  return out;
}

}  // namespace lb::health
