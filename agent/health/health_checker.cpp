#include "agent/health/health_checker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "agent/config/duration.h"

namespace lb::health {

namespace asio = boost::asio;
using asio::ip::tcp;
using runtime::AdminState;
using runtime::OpState;
using Clock = std::chrono::steady_clock;

// Everything the checker keeps for one server; survives applies that keep its identity.
struct HealthChecker::Task {
  Task(asio::io_context& io, HealthSettings settings)
      : health(settings), timer(io), ramp_timer(io) {}

  std::shared_ptr<runtime::ServerState> state;
  std::string backend;
  std::string server;
  runtime::BackendRuntime* backend_runtime = nullptr;  // in the current snapshot
  lb::v1::Server config;
  std::shared_ptr<const lb::v1::HealthCheck> spec;  // the backend's, shared
  ProbeTarget target;
  bool log_checks = false;
  ServerHealth health;
  asio::steady_timer timer;
  asio::steady_timer ramp_timer;
  bool in_flight = false;
  uint64_t generation = 0;  // results of a probe started before the last apply are dropped
  std::optional<Clock::time_point> up_since;
  Clock::time_point due;  // when the scheduled check should start
};

HealthChecker::HealthChecker(asio::io_context& control, Hooks hooks)
    : io_(control),
      hooks_(std::move(hooks)),
      rng_(static_cast<uint64_t>(Clock::now().time_since_epoch().count()) | 1) {}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::stop() {
  stopped_ = true;
  for (auto& [key, task] : tasks_) {
    task->timer.cancel();
    task->ramp_timer.cancel();
  }
  refreshes_.clear();
}

void HealthChecker::apply(std::shared_ptr<const runtime::Runtime> runtime) {
  runtime_ = std::move(runtime);
  std::map<runtime::ServerState*, std::unique_ptr<Task>> next;
  std::vector<Task*> fresh;
  ++generation_;
  for (const auto& backend : runtime_->backends) {
    const auto& be_config =
        *std::find_if(runtime_->config.backends().begin(), runtime_->config.backends().end(),
                      [&](const lb::v1::Backend& b) { return b.name() == backend->name; });
    auto spec = std::make_shared<const lb::v1::HealthCheck>(be_config.health_check());
    for (auto& server : backend->servers) {
      runtime::ServerState* key = server.state.get();
      HealthSettings settings = HealthSettings::fromServer(server.config);
      std::unique_ptr<Task> task;
      bool created = false;
      if (auto it = tasks_.find(key); it != tasks_.end()) {
        task = std::move(it->second);
        task->health.reconfigure(settings);
      } else {
        task = std::make_unique<Task>(io_, settings);
        task->state = server.state;
        created = true;
        if (server.config.check()) fresh.push_back(task.get());
      }
      task->backend = backend->name;
      task->server = server.name;
      task->backend_runtime = backend.get();
      task->config = server.config;
      task->spec = spec;
      task->log_checks = be_config.health_check().log_health_checks();
      tcp::endpoint endpoint = server.endpoint;
      if (server.config.has_check_port())
        endpoint.port(static_cast<uint16_t>(server.config.check_port()));
      if (!server.config.check_addr().empty()) {
        boost::system::error_code ec;
        auto address = asio::ip::make_address(server.config.check_addr(), ec);
        if (!ec) endpoint.address(address);
      }
      task->target = makeTarget(endpoint, settings.inter, backend->timeout_connect,
                                be_config.timeouts().has_check()
                                    ? std::optional<Millis>(std::chrono::duration_cast<Millis>(
                                          config::fromProto(be_config.timeouts().check())))
                                    : std::nullopt);
      task->generation = generation_;
      if (!server.config.check()) {
        task->timer.cancel();
        task->in_flight = false;
        // Without checks a server is up (unless an operator says otherwise).
        if (task->state->op.load() == OpState::kDown) {
          task->state->op.store(OpState::kUp);
          task->health = ServerHealth(settings);
        }
      } else if (!task->in_flight && !created && task->timer.expiry() <= Clock::now()) {
        // Check enabled by this apply on a kept server.
        fresh.push_back(task.get());
      }
      next[key] = std::move(task);
    }
  }
  for (auto& [key, task] : tasks_) {
    if (!task) continue;  // kept: moved to `next` above
    task->timer.cancel();
    task->ramp_timer.cancel();
  }
  tasks_ = std::move(next);
  // Spread first checks over the interval (HAProxy spreads them evenly), so that thousands of
  // servers are not checked in the same instant.
  for (size_t i = 0; i < fresh.size(); ++i) {
    Task& task = *fresh[i];
    if (task.state->admin.load() == AdminState::kMaint) continue;
    Millis inter = task.health.settings().inter;
    schedule(task, Millis(inter.count() * static_cast<long>(i) / static_cast<long>(fresh.size())));
  }
  refreshes_.clear();  // they point into the previous snapshot
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
  if (refresh.timer) return;  // a rebuild is already waiting; it will see this change too
  if (Clock::now() >= refresh.not_before) {
    rebuildBalancer(backend);
    return;
  }
  refresh.timer = std::make_unique<asio::steady_timer>(io_, refresh.not_before);
  refresh.timer->async_wait([this, backend](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto it = refreshes_.find(backend);
    if (it == refreshes_.end()) return;
    it->second.timer.reset();  // Asio allows a timer to go in its own completion handler
    rebuildBalancer(backend);
  });
}

void HealthChecker::rebuildBalancer(runtime::BackendRuntime* backend) {
  auto start = Clock::now();
  backend->refreshBalancer();
  auto end = Clock::now();
  refreshes_[backend].not_before = end + 4 * (end - start);
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
  uint32_t spread = runtime_->config.global().spread_checks();
  if (spread > 0 && delay.count() > 0) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    long range = delay.count() * spread / 100;
    delay += Millis(static_cast<long>(rng_ % static_cast<uint64_t>(2 * range + 1)) - range);
  }
  runtime::ServerState* key = task.state.get();
  task.due = Clock::now() + delay;
  task.timer.expires_after(delay);
  task.timer.async_wait([this, key](const boost::system::error_code& ec) {
    if (!ec) runCheck(key);
  });
}

void HealthChecker::runCheck(runtime::ServerState* key) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || stopped_) return;
  Task& task = *it->second;
  if (!task.config.check() || task.in_flight) return;
  if (task.state->admin.load() == AdminState::kMaint) return;  // checks pause in MAINT
  task.in_flight = true;
  lateness_.add(std::chrono::duration_cast<Millis>(Clock::now() - task.due));
  uint64_t generation = task.generation;
  runProbe(io_, task.spec, task.target, [this, key, generation](const CheckResult& result) {
    onResult(key, generation, result);
  });
}

void HealthChecker::onResult(runtime::ServerState* key, uint64_t generation,
                             const CheckResult& result) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || stopped_) return;
  Task& task = *it->second;
  task.in_flight = false;
  if (generation == task.generation && task.config.check()) {
    if (result.passed) {
      task.state->consecutive_errors.store(0, std::memory_order_relaxed);
    } else {
      task.state->failed_checks.fetch_add(1, std::memory_order_relaxed);
    }
    handle(task, task.health.onCheck(result), false);
  }
  if (task.config.check()) schedule(task, task.health.nextInterval());
}

void HealthChecker::reportErrorLimit(std::shared_ptr<runtime::ServerState> state, uint32_t errors,
                                     std::string last_error) {
  asio::post(io_, [this, state = std::move(state), errors, last_error = std::move(last_error)] {
    onErrorLimit(state.get(), errors, last_error);
  });
}

void HealthChecker::onErrorLimit(runtime::ServerState* key, uint32_t errors,
                                 const std::string& last_error) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || stopped_) return;
  Task& task = *it->second;
  if (!task.config.check() || task.state->admin.load() == AdminState::kMaint) return;
  bool sooner = false;
  Transition t = task.health.onErrorLimit(errors, last_error, &sooner);
  task.state->failed_checks.fetch_add(1, std::memory_order_relaxed);
  handle(task, t, true);
  if (sooner && task.health.settings().fastinter && !task.in_flight) {
    auto at = Clock::now() + *task.health.settings().fastinter;
    if (at < task.timer.expiry()) schedule(task, *task.health.settings().fastinter);
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
    event.set_server(task->server);
  }
  return event;
}

void HealthChecker::handle(Task& task, const Transition& t, bool passive) {
  const CheckResult& result = task.health.lastResult();
  const HealthSettings& settings = task.health.settings();
  std::string reason = std::string(statusDescription(result.status));
  std::string info = result.info.empty() ? "" : ", info: \"" + result.info + "\"";
  std::string duration = ", check duration: " + std::to_string(result.duration.count()) + "ms";
  auto fill = [&](lb::v1::Event& event) {
    auto* cause = event.mutable_cause();
    cause->set_status(statusName(result.status));
    cause->set_description(reason);
    cause->set_info(result.info);
    *cause->mutable_duration() =
        config::toProto(std::chrono::duration_cast<std::chrono::microseconds>(result.duration));
    cause->set_health(task.health.health());
    cause->set_rise(settings.rise);
    cause->set_fall(settings.fall);
    cause->set_passive(passive);
  };
  if (t.changed()) {
    task.state->op.store(t.to);
    bool up = t.to == OpState::kUp;
    if (up && task.config.has_slowstart()) {
      startSlowstart(task);
    } else {
      task.ramp_timer.cancel();
      task.up_since.reset();
      task.state->weight.store(task.config.weight());
    }
    if (!up) task.state->down_transitions.fetch_add(1, std::memory_order_relaxed);
    refreshBalancer(task.backend_runtime);
    const Usable usable = countUsable(*task.backend_runtime);
    std::string message = "Server " + task.backend + "/" + task.server + " is " +
                          (up ? "UP" : "DOWN") + ", reason: " + reason + info + duration + ". " +
                          serversLeft(task, up, usable);
    if (up) {
      spdlog::info("{}", message);
    } else {
      spdlog::warn("{}", message);
    }
    auto event = makeEvent(lb::v1::Event::SERVER_STATE, &task);
    event.set_old_state(runtime::toString(t.from));
    event.set_new_state(runtime::toString(t.to));
    event.set_message(message);
    fill(event);
    if (hooks_.events) hooks_.events->publish(std::move(event));
    if (!up && task.config.on_marked_down() == lb::v1::Server::SHUTDOWN_SESSIONS &&
        hooks_.shutdown_sessions) {
      hooks_.shutdown_sessions(task.state.get());
    }
    checkBackendAvailability(*task.backend_runtime, usable);
    return;
  }
  if (t.direction_changed || (task.log_checks && t.reported)) {
    bool up = task.health.state() == OpState::kUp;
    uint32_t shown = up ? task.health.health() - settings.rise + 1 : task.health.health();
    uint32_t of = up ? settings.fall : settings.rise;
    std::string message = "Health check for " + std::string(passive ? "passive " : "") + "server " +
                          task.backend + "/" + task.server + " " +
                          (result.passed ? "succeeded" : "failed") + ", reason: " + reason + info +
                          duration + ", status: " + std::to_string(shown) + "/" +
                          std::to_string(of) + " " + (up ? "UP" : "DOWN") + ".";
    if (task.log_checks) spdlog::info("{}", message);
    if (t.direction_changed) {
      auto event = makeEvent(lb::v1::Event::CHECK, &task);
      event.set_old_state(runtime::toString(t.from));
      event.set_new_state(runtime::toString(t.to));
      event.set_message(message);
      fill(event);
      if (hooks_.events) hooks_.events->publish(std::move(event));
    }
  }
}

void HealthChecker::startSlowstart(Task& task) {
  task.up_since = Clock::now();
  task.state->weight.store(std::min<uint32_t>(1, task.config.weight()));
  rampWeight(task.state.get());
}

void HealthChecker::rampWeight(runtime::ServerState* key) {
  auto it = tasks_.find(key);
  if (it == tasks_.end() || stopped_) return;
  Task& task = *it->second;
  if (!task.up_since) return;
  Millis slowstart = std::chrono::duration_cast<Millis>(config::fromProto(task.config.slowstart()));
  Millis since = std::chrono::duration_cast<Millis>(Clock::now() - *task.up_since);
  uint32_t weight = slowstartWeight(task.config.weight(), slowstart, since);
  task.state->weight.store(weight);
  refreshBalancer(task.backend_runtime);
  if (weight >= task.config.weight()) {
    task.up_since.reset();
    return;
  }
  // About twenty steps over the ramp, at most one per 50 ms.
  Millis step = std::max(Millis(50), slowstart / 20);
  task.ramp_timer.expires_after(step);
  task.ramp_timer.async_wait([this, key](const boost::system::error_code& ec) {
    if (!ec) rampWeight(key);
  });
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
  if (hooks_.events) hooks_.events->publish(std::move(event));
}

bool HealthChecker::setAdminState(const std::string& backend, const std::string& server,
                                  AdminState state, std::string* error) {
  Task* task = nullptr;
  for (auto& [key, t] : tasks_) {
    if (t->backend == backend && t->server == server) task = t.get();
  }
  if (task == nullptr) {
    *error = "no server '" + server + "' in backend '" + backend + "'";
    return false;
  }
  AdminState old = task->state->admin.exchange(state);
  if (old == state) return true;
  refreshBalancer(task->backend_runtime);
  const Usable usable = countUsable(*task->backend_runtime);
  std::string who = task->backend + "/" + task->server;
  std::string message;
  switch (state) {
    case AdminState::kMaint:
      task->timer.cancel();
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
      if (old == AdminState::kMaint && task->config.check() && !task->in_flight) {
        schedule(*task, Millis(0));
      }
      break;
  }
  spdlog::info("{}", message);
  auto event = makeEvent(lb::v1::Event::ADMIN_STATE, task);
  event.set_old_state(runtime::toString(old));
  event.set_new_state(runtime::toString(state));
  event.set_message(message);
  if (hooks_.events) hooks_.events->publish(std::move(event));
  checkBackendAvailability(*task->backend_runtime, usable);
  return true;
}

}  // namespace lb::health
