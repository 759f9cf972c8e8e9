#include "agent/control/control_plane.h"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include <boost/asio/post.hpp>

#include "agent/config/diff.h"
#include "agent/config/suggest.h"
#include "agent/config/validator.h"
#include "agent/runtime/build.h"

namespace lb::control {

namespace asio = boost::asio;

const char* toString(ApplyStatus status) {
  switch (status) {
    case ApplyStatus::kApplied:
      return "applied";
    case ApplyStatus::kUnchanged:
      return "unchanged";
    case ApplyStatus::kDryRun:
      return "dry run";
    case ApplyStatus::kInvalid:
      return "invalid";
    case ApplyStatus::kVersionMismatch:
      return "version mismatch";
    case ApplyStatus::kFailed:
      return "failed";
  }
  return "?";
}

ControlPlane::ControlPlane(boost::asio::io_context& io, common::TimeSource& time,
                           common::Resolver& resolver, ControlPlaneOptions options)
    : io_(io),
      time_(time),
      resolver_(resolver),
      options_(std::move(options)),
      events_(options_.name, options_.event_ring, &time),
      prober_(io, time),
      checker_(
          io, time, prober_,
          health::HealthChecker::Hooks{&events_,
                                       [this](std::shared_ptr<const runtime::ServerState> server) {
                                         if (proxy_) proxy_->shutdownSessions(std::move(server));
                                       }}),
      removed_timer_(time_.makeTimer()),
      loader_guard_(loader_io_.get_executor()),
      loader_([this] { loader_io_.run(); }) {}

ControlPlane::~ControlPlane() {
  checker_.stop();
  stop();
}

void ControlPlane::load(std::function<config::LoadResult(common::Resolver&)> work,
                        std::function<void(config::LoadResult)> then) {
  asio::post(loader_io_, [this, work = std::move(work), then = std::move(then)]() mutable {
    auto names = std::make_shared<common::CachingResolver>(resolver_);
    auto loaded = std::make_shared<config::LoadResult>(work(*names));
    loaded->names = names;
    asio::post(io_, [then = std::move(then), loaded] { then(std::move(*loaded)); });
  });
}

void ControlPlane::apply(config::LoadResult loaded, const ApplyOptions& options, ApplyDone done) {
  // Every outcome is counted with the time it took (metrics), whichever way it ends.
  done = [this, started = time_.now(), done = std::move(done)](ApplyResult result) {
    auto& counter = apply_counters_[static_cast<size_t>(result.status)];
    ++counter.count;
    counter.seconds += std::chrono::duration<double>(time_.now() - started).count();
    done(std::move(result));
  };
  ApplyResult result;
  result.previous_version = applied_.version;
  result.version = applied_.version;
  result.diagnostics = std::move(loaded.diagnostics);
  if (options.expected_version != 0 && options.expected_version != applied_.version) {
    result.status = ApplyStatus::kVersionMismatch;
    result.message = "expected version " + std::to_string(options.expected_version) +
                     ", but version " + std::to_string(applied_.version) + " is in force";
    done(refuse(std::move(result), options));
    return;
  }
  if (!result.diagnostics.hasErrors() && !config::hasListener(loaded.config)) {
    // A truncated file or a push cut off mid-write must not close every listener.
    if (options.allow_no_listener || loaded.config.global().allow_no_listener()) {
      result.diagnostics.warningAt(
          "", "no enabled frontend has a bind: this agent accepts no connection");
    } else {
      result.diagnostics.errorAt(
          "",
          "the configuration has no listener (no enabled frontend with a 'bind'): it would "
          "stop every frontend; write 'allow-no-listener' in the global section (or ask for "
          "it with the apply) if that is meant");
    }
  }
  if (result.diagnostics.hasErrors()) {
    result.status = ApplyStatus::kInvalid;
    done(refuse(std::move(result), options));
    return;
  }
  result.diff = config::diff(applied_.config, loaded.config);
  if (options.dry_run) {
    result.status = ApplyStatus::kDryRun;
    done(std::move(result));
    return;
  }
  const bool unchanged = config::empty(result.diff);
  if (runtime_ && unchanged) {
    result.status = ApplyStatus::kUnchanged;
    done(std::move(result));
    return;
  }
  // The first apply of the configuration a previous run left keeps its version.
  const uint64_t version =
      unchanged && applied_.version > 0 ? applied_.version : applied_.version + 1;
  unsigned threads = proxy_ ? proxy_->threads() : options_.threads;
  if (!proxy_ && !options_.threads_from_flag && loaded.config.global().has_nbthread()) {
    threads = loaded.config.global().nbthread();
  }
  common::Resolver& names = loaded.names ? *loaded.names : resolver_;
  auto built = runtime::buildRuntime(
      loaded.config,
      runtime::BuildContext{version, &store_, &names, &checker_, options_.fd_limit, threads});
  if (!built.runtime) {
    result.diagnostics.errorAt(built.error.path, built.error.message);
    result.diagnostics.locate(loaded.sources);
    result.status = ApplyStatus::kInvalid;
    done(refuse(std::move(result), options));
    return;
  }
  if (!proxy_) {
    proxy_ = std::make_unique<proxy::Proxy>(threads, io_);
  } else if (built.runtime->nbthread && !options_.threads_from_flag &&
             *built.runtime->nbthread != proxy_->threads()) {
    result.diagnostics.warningAt("global.nbthread",
                                 "nbthread " + std::to_string(*built.runtime->nbthread) +
                                     " takes effect at the next start; " +
                                     std::to_string(proxy_->threads()) + " worker threads run now");
    result.diagnostics.locate(loaded.sources);
  }
  std::shared_ptr<const runtime::Runtime> next = built.runtime;
  auto finish = std::make_shared<ApplyDone>(std::move(done));
  auto pending = std::make_shared<ApplyResult>();
  std::string error;
  // The completion is posted to this thread, so it runs after `pending` is filled below.
  if (!proxy_->apply(next, &error, [finish, pending] { (*finish)(std::move(*pending)); })) {
    result.status = ApplyStatus::kFailed;
    result.message = error;
    lb::v1::Event event;
    event.set_type(lb::v1::Event::LISTENER_ERROR);
    event.set_config_version(applied_.version);
    event.set_message(error);
    events_.publish(std::move(event));
    (*finish)(refuse(std::move(result), options));
    return;
  }
  runtime::commitConfiguredState(*next, runtime_.get());
  // Operator changes of servers that are gone, or whose configured weight or `disabled`
  // changed (the configuration says something new about them), are forgotten.
  for (auto it = server_changes_.begin(); it != server_changes_.end();) {
    const auto* be = next->findBackend(it->first.first);
    const runtime::ServerRuntime* kept = nullptr;
    if (be != nullptr) {
      for (const auto& s : be->servers) {
        if (s.name == it->first.second) kept = &s;
      }
    }
    const runtime::ServerRuntime* before = nullptr;
    if (const auto* old_be = runtime_ ? runtime_->findBackend(it->first.first) : nullptr) {
      for (const auto& s : old_be->servers) {
        if (s.name == it->first.second) before = &s;
      }
    }
    bool forget = kept == nullptr || (before != nullptr && before->state != kept->state);
    if (!forget && before != nullptr) {
      if (before->weight != kept->weight) it->second.weight.reset();
      if (before->disabled != kept->disabled) it->second.admin.reset();
      forget = !it->second.weight && !it->second.admin;
    }
    it = forget ? server_changes_.erase(it) : std::next(it);
  }
  if (runtime_) boundRemovedSessions(*runtime_, *next);
  runtime_ = next;
  applied_.config = std::move(loaded.config);
  applied_.version = version;
  applied_.texts = std::move(loaded.texts);
  applied_.at = time_.wallNow();
  applied_.by = options.origin;
  checker_.apply(next);
  store_.collect();
  result.status = ApplyStatus::kApplied;
  result.version = version;
  if (!persist(&error)) {
    result.diagnostics.warningAt("", "the configuration is in force but not saved: " + error +
                                         "; a restart would bring back the previous one");
  }
  publishApplied(result, options);
  *pending = std::move(result);
}

std::string ApplyResult::summary() const {
  if (ok()) return diff.summary();
  if (!message.empty()) return message;
  std::string why = std::to_string(diagnostics.errorCount()) + " error" +
                    (diagnostics.errorCount() == 1 ? "" : "s");
  for (const auto& d : diagnostics.all()) {
    if (d.severity == config::Severity::kError) return why + ", first: " + d.toString();
  }
  return why;
}

void ControlPlane::boundRemovedSessions(const runtime::Runtime& previous,
                                        const runtime::Runtime& next) {
  if (!next.hard_stop_after) return;
  std::unordered_set<uint64_t> kept;
  for (const auto& backend : next.backends) {
    for (const auto& server : backend->servers) kept.insert(server.state->id);
  }
  std::vector<std::shared_ptr<runtime::ServerState>> removed;
  for (const auto& backend : previous.backends) {
    for (const auto& server : backend->servers) {
      if (!kept.contains(server.state->id)) removed.push_back(server.state);
    }
  }
  if (removed.empty()) return;
  removed_.emplace(time_.now() + *next.hard_stop_after, std::move(removed));
  removed_timer_->armAt(removed_.begin()->first, [this] { closeRemovedSessions(); });
}

void ControlPlane::closeRemovedSessions() {
  const common::MonoTime now = time_.now();
  // A server added back meanwhile (same identity, so the same state) is in force again.
  std::unordered_set<uint64_t> in_force;
  for (const auto& backend : runtime_->backends) {
    for (const auto& server : backend->servers) in_force.insert(server.state->id);
  }
  uint32_t closing = 0;
  while (!removed_.empty() && removed_.begin()->first <= now) {
    for (const auto& server : removed_.begin()->second) {
      uint32_t active = server->active.load();
      if (active == 0 || in_force.contains(server->id)) continue;
      closing += active;
      if (proxy_) proxy_->shutdownSessions(server);
    }
    removed_.erase(removed_.begin());
  }
  if (closing > 0) {
    spdlog::info("hard-stop-after: closing {} connection{} to removed servers", closing,
                 closing == 1 ? "" : "s");
  }
  if (!removed_.empty()) {
    removed_timer_->armAt(removed_.begin()->first, [this] { closeRemovedSessions(); });
  }
}

ApplyResult ControlPlane::refuse(ApplyResult result, const ApplyOptions& options) {
  lb::v1::Event event;
  event.set_type(lb::v1::Event::CONFIG_REFUSED);
  event.set_config_version(applied_.version);
  event.set_origin(options.origin);
  event.set_message("configuration refused (" + std::string(toString(result.status)) +
                    (options.origin.empty() ? "" : ", from " + options.origin) +
                    "): " + result.summary());
  events_.publish(std::move(event));
  return result;
}

void ControlPlane::publishApplied(const ApplyResult& result, const ApplyOptions& options) {
  lb::v1::Event event;
  event.set_type(lb::v1::Event::CONFIG_APPLIED);
  event.set_config_version(result.version);
  event.set_origin(options.origin);
  event.set_diff_summary(result.diff.summary());
  event.set_message("configuration version " + std::to_string(result.version) + " applied" +
                    (options.origin.empty() ? "" : " (" + options.origin + ")") + ": " +
                    result.diff.summary());
  events_.publish(std::move(event));
}

ServerChangeResult ControlPlane::changeServer(const std::string& backend, const std::string& server,
                                              const ServerChange& change) {
  ServerChangeResult result;
  const runtime::BackendRuntime* be = runtime_ ? runtime_->findBackend(backend) : nullptr;
  if (be == nullptr) {
    std::vector<std::string> names;
    if (runtime_) {
      for (const auto& b : runtime_->backends) names.push_back(b->name);
    }
    result.code = ServerChangeResult::Code::kNotFound;
    result.message = "no backend '" + backend + "'" + config::didYouMean(backend, names);
    return result;
  }
  std::vector<std::string> names;
  for (const auto& s : be->servers) {
    names.push_back(s.name);
    if (s.name == server) result.server = &s;
  }
  result.backend = be;
  if (result.server == nullptr) {
    result.code = ServerChangeResult::Code::kNotFound;
    result.message = "no server '" + server + "' in backend '" + backend + "'" +
                     config::didYouMean(server, names);
    return result;
  }
  if (change.weight && *change.weight > 256) {
    result.code = ServerChangeResult::Code::kInvalid;
    result.message = "weight " + std::to_string(*change.weight) + " is out of range; use 0 to 256";
    return result;
  }
  std::string error;
  if (change.admin) checker_.setAdminState(backend, server, *change.admin, &error, change.origin);
  if (change.weight) checker_.setWeight(backend, server, *change.weight, &error, change.origin);
  ServerChange& kept = server_changes_[{backend, server}];
  if (change.admin) kept.admin = *change.admin;
  if (change.weight) kept.weight = *change.weight;
  kept.origin = change.origin;
  if (kept.admin == runtime::AdminState::kReady && !kept.weight) {
    server_changes_.erase({backend, server});  // back to what the configuration says
  }
  if (!persist(&error)) {
    spdlog::warn("server {}/{} changed but not saved: {}; a restart would undo it", backend, server,
                 error);
  }
  return result;
}

std::vector<proxy::ListeningAddress> ControlPlane::listening() const {
  if (!proxy_) return {};
  return proxy_->listening();
}

void ControlPlane::stopAccepting(std::function<void()> done) {
  checker_.stop();
  if (!proxy_) {
    done();
    return;
  }
  proxy_->stopAccepting(std::move(done));
}

void ControlPlane::abortSessions(std::function<void()> done) {
  if (!proxy_) {
    done();
    return;
  }
  proxy_->abortSessions(std::move(done));
}

void ControlPlane::stop() {
  loader_guard_.reset();
  loader_io_.stop();
  if (loader_.joinable()) loader_.join();
  if (proxy_) proxy_->stop();
}

}  // namespace lb::control
