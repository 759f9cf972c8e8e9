#include "agent/health/health_checker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "agent/common/proto_time.h"
#include "agent/health/health_task.h"

namespace lb::health {

namespace asio = boost::asio;
using runtime::AdminState;

// At most one warning per interval about checks that could not run.
constexpr std::chrono::seconds kLocalWarningInterval{10};
using runtime::OpState;

HealthChecker::HealthChecker(asio::io_context& control, common::TimeSource& time, Prober& prober,
                             Hooks hooks)
    : io_(control),
      time_(time),
      prober_(prober),
      hooks_(std::move(hooks)),
      rng_(static_cast<uint64_t>(time.now().time_since_epoch().count()) | 1) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::stop() {
  stopped_ = true;
  for (auto& [id, task] : tasks_) {
    task->timer->cancel();
    task->ramp_timer->cancel();
    task->agent_timer->cancel();
  }
  refreshes_.clear();
}

HealthChecker::Task* HealthChecker::find(TaskId id) {
  if (stopped_) return nullptr;
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second.get();
}

void HealthChecker::apply(std::shared_ptr<const runtime::Runtime> runtime) {
  // Kept until the end: the tasks point into it until they are moved to the new one.
  std::shared_ptr<const runtime::Runtime> previous = std::move(runtime_);
  runtime_ = std::move(runtime);
  std::unordered_map<TaskId, std::unique_ptr<Task>> next;
  next.reserve(tasks_.size());
  std::vector<Task*> fresh;
  std::vector<Task*> fresh_agents;
  std::vector<Task*> agent_removed;
  ++generation_;
  by_name_.clear();
  by_name_.reserve(tasks_.size());
  for (const auto& backend : runtime_->backends) {
    for (const auto& server : backend->servers) {
      const TaskId id = server.state->id;
      std::unique_ptr<Task> task;
      bool created = false;
      if (auto it = tasks_.find(id); it != tasks_.end()) {
        task = std::move(it->second);
        task->health.reconfigure(server.health);
        if (task->server->weight != server.weight) task->weight_override.reset();
      } else {
        task = std::make_unique<Task>(time_, server.health);
        task->state = server.state;
        created = true;
        if (server.check) fresh.push_back(task.get());
      }
      task->backend = backend->name;
      task->backend_runtime = backend.get();
      task->server = &server;
      task->spec = backend->check_spec;
      task->target = makeTarget(server.check_endpoint, server.health.inter,
                                backend->timeout_connect, backend->timeout_check);
      task->target.preamble = common::proxyHeaderLocal(server.check_send_proxy);
      if (server.send_proxy == common::ProxyVersion::kV2) {
        task->target.step_proxy = common::ProxyVersion::kV2;
      }
      task->generation = generation_;
      if (server.agent_check) {
        task->agent_target = makeTarget(server.agent_endpoint, server.agent_inter,
                                        backend->timeout_connect, backend->timeout_check);
        if (created || (!task->agent_in_flight && !task->agent_timer->armed())) {
          fresh_agents.push_back(task.get());
        }
      } else {
        task->agent_timer->cancel();
        task->agent_in_flight = false;
        task->agent_last.reset();
        if (task->agent_down) agent_removed.push_back(task.get());
      }
      if (!server.check) {
        task->timer->cancel();
        task->in_flight = false;
        task->nolb = false;
        // Without checks a server is up (unless an operator says otherwise).
        if (task->state->op.load() != OpState::kUp && !task->agent_down) {
          task->state->op.store(OpState::kUp);
          task->health = ServerHealth(server.health);
        }
      } else if (!task->in_flight && !created && !task->timer->armed()) {
        // Check enabled by this apply on a kept server.
        fresh.push_back(task.get());
      }
      by_name_[nameKey(backend->name, server.name)] = id;
      next[id] = std::move(task);
    }
  }
  for (auto& [id, task] : tasks_) {
    if (!task) continue;  // kept: moved to `next` above
    task->timer->cancel();
    task->ramp_timer->cancel();
    task->agent_timer->cancel();
  }
  tasks_ = std::move(next);
  for (size_t i = 0; i < fresh_agents.size(); ++i) {
    Task& task = *fresh_agents[i];
    Millis inter = task.server->agent_inter;
    scheduleAgent(task, Millis(inter.count() * static_cast<long>(i) /
                               static_cast<long>(fresh_agents.size())));
  }
  // Spread first checks over the interval (HAProxy spreads them evenly), so that thousands of
  // servers are not checked in the same instant.
  for (size_t i = 0; i < fresh.size(); ++i) {
    Task& task = *fresh[i];
    if (task.state->admin.load() == AdminState::kMaint) continue;
    Millis inter = task.health.settings().inter;
    schedule(task, Millis(inter.count() * static_cast<long>(i) / static_cast<long>(fresh.size())));
  }
  refreshes_.clear();  // they point into the previous snapshot
  // A server the agent held DOWN whose agent-check this apply removed: the checks decide alone.
  for (Task* task : agent_removed) {
    task->agent_down = false;
    OpState now = effectiveState(*task);
    if (now != task->state->op.load()) {
      CheckResult result{CheckStatus::kL7Ok, true, "agent-check removed", Millis(0)};
      changeState(*task, task->state->op.load(), now, result, false);
    }
  }
  for (const auto& backend : runtime_->backends) {
    rebuildBalancer(backend.get());
    Usable usable = countUsable(*backend);
    if (backend_available_.find(backend->name) == backend_available_.end()) {
      backend_available_[backend->name] = usable.active + usable.backup > 0;
    } else {
      checkBackendAvailability(*backend, usable);
    }
  }
}

void HealthChecker::refreshBalancer(runtime::BackendRuntime* backend) {
  Refresh& refresh = refreshes_[backend];
  if (refresh.timer && refresh.timer->armed()) return;  // a waiting rebuild sees this change too
  if (time_.now() >= refresh.not_before) {
    rebuildBalancer(backend);
    return;
  }
  if (!refresh.timer) refresh.timer = time_.makeTimer();
  refresh.timer->armAt(refresh.not_before, [this, backend] { rebuildBalancer(backend); });
}

void HealthChecker::rebuildBalancer(runtime::BackendRuntime* backend) {
  // The spacing follows the real cost of a rebuild (CPU time spent), whatever the clock.
  auto start = std::chrono::steady_clock::now();
  backend->refreshBalancer();
  auto took = std::chrono::steady_clock::now() - start;
  refreshes_[backend].not_before = time_.now() + 4 * took;
}

HealthChecker::Usable HealthChecker::countUsable(const runtime::BackendRuntime& backend) {
  Usable usable;
  for (size_t i = 0; i < backend.size(); ++i) {
    if (backend.usable(i)) ++(backend.backup(i) ? usable.backup : usable.active);
  }
  return usable;
}

void HealthChecker::schedule(Task& task, Millis delay) {
  if (stopped_) return;
  // spread-checks: a random +/- percentage on every interval.
  uint32_t spread = runtime_->spread_checks;
  if (spread > 0 && delay.count() > 0) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    long range = delay.count() * spread / 100;
    delay += Millis(static_cast<long>(rng_ % static_cast<uint64_t>(2 * range + 1)) - range);
  }
  TaskId id = task.state->id;
  task.due = time_.now() + delay;
  task.timer->armAt(task.due, [this, id] { runCheck(id); });
}

void HealthChecker::runCheck(TaskId id) {
  Task* task = find(id);
  if (task == nullptr || !task->server->check || task->in_flight) return;
  if (task->state->admin.load() == AdminState::kMaint) return;  // checks pause in MAINT
  task->in_flight = true;
  lateness_.add(std::chrono::duration_cast<Millis>(time_.now() - task->due));
  uint64_t generation = task->generation;
  prober_.run(task->spec, task->target, [this, id, generation](const CheckResult& result) {
    onResult(id, generation, result);
  });
}

void HealthChecker::onResult(TaskId id, uint64_t generation, const CheckResult& result) {
  Task* task = find(id);
  if (task == nullptr) return;
  task->in_flight = false;
  if (result.local) {
    // Not the server's fault: no verdict, no count toward fall; the next check comes as usual.
    onLocalFailure(*task, result);
  } else if (generation == task->generation && task->server->check) {
    task->checked = true;
    if (result.passed) {
      task->state->consecutive_errors.store(0, std::memory_order_relaxed);
      task->nolb = result.status == CheckStatus::kL7Okc;
    } else {
      task->state->failed_checks.fetch_add(1, std::memory_order_relaxed);
    }
    handle(*task, task->health.onCheck(result), false);
  }
  if (task->server->check) schedule(*task, task->health.nextInterval());
}

void HealthChecker::onLocalFailure(const Task& task, const CheckResult& result) {
  ++local_failures_;
  auto now = time_.now();
  if (now - last_local_warning_ < kLocalWarningInterval && local_failures_ > 1) return;
  spdlog::warn(
      "Health check for server {}/{} could not run: {} (a limit of this host, not the "
      "server's fault; not counted). {} such check{} since the start.",
      task.backend, task.server->name, result.info, local_failures_,
      local_failures_ == 1 ? "" : "s");
  last_local_warning_ = now;
}

void HealthChecker::reportErrorLimit(std::shared_ptr<runtime::ServerState> state, uint32_t errors,
                                     std::string last_error) {
  asio::post(io_, [this, id = state->id, errors, last_error = std::move(last_error)] {
    onErrorLimit(id, errors, last_error);
  });
}

void HealthChecker::onErrorLimit(TaskId id, uint32_t errors, const std::string& last_error) {
  Task* task = find(id);
  if (task == nullptr) return;
  if (!task->server->check || task->state->admin.load() == AdminState::kMaint) return;
  bool sooner = false;
  Transition t = task->health.onErrorLimit(errors, last_error, &sooner);
  task->state->failed_checks.fetch_add(1, std::memory_order_relaxed);
  task->checked = true;
  handle(*task, t, true);
  const auto& fastinter = task->health.settings().fastinter;
  if (sooner && fastinter && !task->in_flight) {
    if (!task->timer->armed() || time_.now() + *fastinter < task->timer->expiry()) {
      schedule(*task, *fastinter);
    }
  }
}

std::string HealthChecker::serversLeft(const Task& task, bool going_up,
                                       const Usable& usable) const {
  uint32_t active = usable.active, backup = usable.backup;
  uint32_t queued = task.backend_runtime->state->queued();
  if (going_up) {
    return std::to_string(active) + " active and " + std::to_string(backup) +
           " backup servers online. 0 sessions requeued, " + std::to_string(queued) +
           " total in queue.";
  }
  return std::to_string(active) + " active and " + std::to_string(backup) +
         " backup servers left. " + std::to_string(task.state->active.load()) +
         " sessions active, 0 requeued, " + std::to_string(queued) + " remaining in queue.";
}

lb::v1::Event HealthChecker::makeEvent(lb::v1::Event::Type type, const Task* task) const {
  lb::v1::Event event;
  event.set_type(type);
  event.set_config_version(runtime_ ? runtime_->version : 0);
  if (task != nullptr) {
    event.set_backend(task->backend);
    event.set_server(task->server->name);
  }
  return event;
}

void HealthChecker::publish(lb::v1::Event event) {
  if (hooks_.events) hooks_.events->publish(std::move(event));
}

void HealthChecker::handle(Task& task, const Transition& t, bool passive) {
  const CheckResult& result = task.health.lastResult();
  const HealthSettings& settings = task.health.settings();
  const std::string who = task.backend + "/" + task.server->name;
  const OpState before = task.state->op.load();
  const OpState after = effectiveState(task);
  if (before != after) {
    changeState(task, before, after, result, passive);
    return;
  }
  const bool log_checks = task.spec->log_health_checks;
  if (t.direction_changed || (log_checks && t.reported)) {
    bool up = task.health.state() == OpState::kUp;
    uint32_t shown = up ? task.health.health() - settings.rise + 1 : task.health.health();
    uint32_t of = up ? settings.fall : settings.rise;
    std::string message = "Health check for " + std::string(passive ? "passive " : "") + "server " +
                          who + " " + (result.passed ? "succeeded" : "failed") +
                          ", reason: " + checkReason(result) +
                          ", status: " + std::to_string(shown) + "/" + std::to_string(of) + " " +
                          (up ? "UP" : "DOWN") + ".";
    if (log_checks) spdlog::info("{}", message);
    if (t.direction_changed) {
      auto event = makeEvent(lb::v1::Event::CHECK, &task);
      event.set_old_state(runtime::toString(t.from));
      event.set_new_state(runtime::toString(t.to));
      event.set_message(message);
      fillCause(event, task, result, passive);
      publish(std::move(event));
    }
  }
}

std::string HealthChecker::checkReason(const CheckResult& result) {
  std::string out = statusDescription(result.status);
  if (!result.info.empty()) out += ", info: \"" + result.info + "\"";
  return out + ", check duration: " + std::to_string(result.duration.count()) + "ms";
}

void HealthChecker::fillCause(lb::v1::Event& event, const Task& task, const CheckResult& result,
                              bool passive) {
  const HealthSettings& settings = task.health.settings();
  auto* cause = event.mutable_cause();
  cause->set_status(statusName(result.status));
  cause->set_description(statusDescription(result.status));
  cause->set_info(result.info);
  *cause->mutable_duration() =
      common::toProto(std::chrono::duration_cast<std::chrono::microseconds>(result.duration));
  cause->set_health(task.health.health());
  cause->set_rise(settings.rise);
  cause->set_fall(settings.fall);
  cause->set_passive(passive);
}

OpState HealthChecker::effectiveState(const Task& task) {
  if (task.health.state() == OpState::kDown || task.agent_down) return OpState::kDown;
  return task.nolb ? OpState::kNolb : OpState::kUp;
}

void HealthChecker::changeState(Task& task, OpState from, OpState to, const CheckResult& result,
                                bool passive) {
  const std::string who = task.backend + "/" + task.server->name;
  task.state->op.store(to);
  task.last_change = time_.wallNow();
  const bool up = to == OpState::kUp;
  if (up && from == OpState::kDown && task.server->slowstart) {
    startSlowstart(task);
  } else if (to != OpState::kNolb) {
    task.ramp_timer->cancel();
    task.up_since.reset();
    task.state->weight.store(task.weight());
  }
  if (to == OpState::kDown) task.state->down_transitions.fetch_add(1, std::memory_order_relaxed);
  refreshBalancer(task.backend_runtime);
  const Usable usable = countUsable(*task.backend_runtime);
  // HAProxy's words: "is UP", "is DOWN", and "is stopping" for NOLB.
  const char* what = up ? "UP" : to == OpState::kNolb ? "stopping" : "DOWN";
  std::string message = "Server " + who + " is " + what + ", reason: " + checkReason(result) +
                        ". " + serversLeft(task, up, usable);
  if (up) {
    spdlog::info("{}", message);
  } else {
    spdlog::warn("{}", message);
  }
  auto event = makeEvent(lb::v1::Event::SERVER_STATE, &task);
  event.set_old_state(runtime::toString(from));
  event.set_new_state(runtime::toString(to));
  event.set_message(message);
  fillCause(event, task, result, passive);
  publish(std::move(event));
  if (to == OpState::kDown && task.server->shutdown_sessions_on_down && hooks_.shutdown_sessions) {
    hooks_.shutdown_sessions(task.state);
  }
  checkBackendAvailability(*task.backend_runtime, usable);
}

void HealthChecker::startSlowstart(Task& task) {
  task.up_since = time_.now();
  task.state->weight.store(std::min<uint32_t>(1, task.weight()));
  rampWeight(task.state->id);
}

void HealthChecker::rampWeight(TaskId id) {
  Task* task = find(id);
  if (task == nullptr || !task->up_since || !task->server->slowstart) return;
  Millis slowstart = *task->server->slowstart;
  Millis since = std::chrono::duration_cast<Millis>(time_.now() - *task->up_since);
  uint32_t weight = slowstartWeight(task->weight(), slowstart, since);
  task->state->weight.store(weight);
  refreshBalancer(task->backend_runtime);
  if (weight >= task->weight()) {
    task->up_since.reset();
    return;
  }
  // About twenty steps over the ramp, at most one per 50 ms.
  Millis step = std::max(Millis(50), slowstart / 20);
  task->ramp_timer->armAfter(step, [this, id] { rampWeight(id); });
}

void HealthChecker::checkBackendAvailability(const runtime::BackendRuntime& backend,
                                             const Usable& usable) {
  const std::string& name = backend.name;
  bool any = usable.active + usable.backup > 0;
  bool& was = backend_available_[name];
  if (any == was) return;
  was = any;
  auto event = makeEvent(any ? lb::v1::Event::BACKEND_UP : lb::v1::Event::BACKEND_DOWN, nullptr);
  event.set_backend(name);
  if (any) {
    event.set_message("backend " + name + " has a server available again.");
    spdlog::info("{}", event.message());
  } else {
    event.set_message("backend " + name + " has no server available!");
    spdlog::error("{}", event.message());
  }
  publish(std::move(event));
}

}  // namespace lb::health
