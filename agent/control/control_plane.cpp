#include "agent/control/control_plane.h"

#include "agent/config/diff.h"
#include "agent/config/validator.h"
#include "agent/runtime/build.h"

namespace lb::control {

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
      checker_(io, time, prober_,
               health::HealthChecker::Hooks{&events_, [this](const runtime::ServerState* server) {
                                              if (proxy_) proxy_->shutdownSessions(server);
                                            }}) {}

ControlPlane::~ControlPlane() {
  checker_.stop();
  stop();
}

void ControlPlane::apply(config::LoadResult loaded, const ApplyOptions& options, ApplyDone done) {
  ApplyResult result;
  result.previous_version = version_;
  result.version = version_;
  result.diagnostics = std::move(loaded.diagnostics);
  if (options.expected_version != 0 && options.expected_version != version_) {
    result.status = ApplyStatus::kVersionMismatch;
    result.message = "expected version " + std::to_string(options.expected_version) +
                     ", but version " + std::to_string(version_) + " is in force";
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
  result.diff = config::diff(config_, loaded.config);
  if (options.dry_run) {
    result.status = ApplyStatus::kDryRun;
    done(std::move(result));
    return;
  }
  if (runtime_ && config::empty(result.diff)) {
    result.status = ApplyStatus::kUnchanged;
    done(std::move(result));
    return;
  }
  unsigned threads = proxy_ ? proxy_->threads() : options_.threads;
  if (!proxy_ && !options_.threads_from_flag && loaded.config.global().has_nbthread()) {
    threads = loaded.config.global().nbthread();
  }
  auto built = runtime::buildRuntime(
      loaded.config, runtime::BuildContext{version_ + 1, &store_, &resolver_, &checker_,
                                           options_.fd_limit, threads});
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
    event.set_config_version(version_);
    event.set_message(error);
    events_.publish(std::move(event));
    (*finish)(refuse(std::move(result), options));
    return;
  }
  runtime::commitConfiguredState(*next, runtime_.get());
  runtime_ = next;
  config_ = std::move(loaded.config);
  version_ = next->version;
  checker_.apply(next);
  store_.collect();
  result.status = ApplyStatus::kApplied;
  result.version = version_;
  publishApplied(result, options);
  *pending = std::move(result);
}

ApplyResult ControlPlane::refuse(ApplyResult result, const ApplyOptions& options) {
  lb::v1::Event event;
  event.set_type(lb::v1::Event::CONFIG_REFUSED);
  event.set_config_version(version_);
  std::string why = result.message;
  if (why.empty()) {
    why = std::to_string(result.diagnostics.errorCount()) + " error" +
          (result.diagnostics.errorCount() == 1 ? "" : "s");
    for (const auto& d : result.diagnostics.all()) {
      if (d.severity == config::Severity::kError) {
        why += ", first: " + d.toString();
        break;
      }
    }
  }
  event.set_message("configuration refused (" + std::string(toString(result.status)) +
                    (options.origin.empty() ? "" : ", from " + options.origin) + "): " + why);
  events_.publish(std::move(event));
  return result;
}

void ControlPlane::publishApplied(const ApplyResult& result, const ApplyOptions& options) {
  lb::v1::Event event;
  event.set_type(lb::v1::Event::CONFIG_APPLIED);
  event.set_config_version(result.version);
  event.set_message("configuration version " + std::to_string(result.version) + " applied" +
                    (options.origin.empty() ? "" : " (" + options.origin + ")") + ": " +
                    result.diff.summary());
  events_.publish(std::move(event));
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
  if (proxy_) proxy_->stop();
}

}  // namespace lb::control
