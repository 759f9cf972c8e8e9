// agent-check: a second probe per server, to an agent whose one-line answer sets the server's
// state and weight. What the agent says goes through the operators' paths (setAdminState,
// setWeight: the same events, with origin "agent-check"); its up/down combine with the health
// checks' verdict (effectiveState).
#include <spdlog/spdlog.h>

#include "agent/health/agent_reply.h"
#include "agent/health/health_checker.h"
#include "agent/health/health_task.h"

namespace lb::health {

namespace {
constexpr const char* kOrigin = "agent-check";
}  // namespace

using runtime::OpState;

void HealthChecker::scheduleAgent(Task& task, Millis delay) {
  if (stopped_) return;
  TaskId id = task.state->id;
  task.agent_timer->armAfter(delay, [this, id] { runAgent(id); });
}

void HealthChecker::runAgent(TaskId id) {
  Task* task = find(id);
  if (task == nullptr || !task->server->agent_check || task->agent_in_flight) return;
  // Agent checks go on in MAINT: only the agent can take back a `maint` it sent.
  task->agent_in_flight = true;
  uint64_t generation = task->generation;
  prober_.run(
      task->server->agent_spec, task->agent_target,
      [this, id, generation](const CheckResult& result) { onAgentResult(id, generation, result); });
}

void HealthChecker::onAgentResult(TaskId id, uint64_t generation, const CheckResult& result) {
  Task* task = find(id);
  if (task == nullptr) return;
  task->agent_in_flight = false;
  if (!task->server->agent_check) return;
  scheduleAgent(*task, task->server->agent_inter);
  if (generation != task->generation) return;
  task->agent_last = result;
  // An agent that cannot be reached, or says nothing whole, changes nothing (HAProxy: the
  // regular check tests connectivity).
  if (!result.passed) return;
  const std::string backend = task->backend;
  const std::string server = task->server->name;
  AgentReply reply = parseAgentReply(result.reply);
  std::string error;
  if (reply.admin) setAdminState(backend, server, *reply.admin, &error, kOrigin);
  std::string warning;
  if (reply.weight) {
    // Relative to the configured weight, as HAProxy's initial weight.
    if (auto weight = agentWeight(*reply.weight, task->server->weight, &warning)) {
      setWeight(backend, server, *weight, &error, kOrigin);
    }
  }
  if (reply.maxconn) warning = "maxconn:" + *reply.maxconn + " is not applied by lb";
  // setAdminState/setWeight may have rebuilt nothing that moves tasks; find it again anyway.
  task = find(id);
  if (task == nullptr) return;
  CheckResult verdict = result;
  if (reply.up) {
    task->agent_down = !*reply.up;
    verdict.status = *reply.up ? CheckStatus::kL7Ok : CheckStatus::kL7Sts;
    verdict.passed = *reply.up;
    std::string why = reply.description;
    if (why.empty() || *reply.up) why = !reply.error.empty() ? reply.error : warning;
    verdict.info = "via agent : " + reply.health_word + (why.empty() ? "" : " (" + why + ")");
  } else if (!reply.error.empty()) {
    verdict.info = "agent reports an error : " + reply.error;
  } else if (!warning.empty()) {
    verdict.info = "agent warns : " + warning;
  } else {
    verdict.info = "";
  }
  task->agent_last = verdict;
  if (!verdict.info.empty() && !reply.up)
    spdlog::info("Agent check for server {}/{}: {}", backend, server, verdict.info);
  OpState before = task->state->op.load();
  OpState after = effectiveState(*task);
  if (before != after) changeState(*task, before, after, verdict, false);
}

}  // namespace lb::health
