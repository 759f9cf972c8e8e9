#include "agent/control/agent.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "agent/common/host_port.h"
#include "agent/control/status.h"

namespace lb::control {

namespace {

ControlPlaneOptions controlOptions(const AgentOptions& options) {
  ControlPlaneOptions out;
  out.name = options.name;
  out.threads = options.threads;
  out.threads_from_flag = options.threads_from_flag;
  out.fd_limit = options.fd_limit;
  return out;
}

AgentIdentity identityOf(const AgentOptions& options, const http::HttpServer& http) {
  AgentIdentity identity;
  identity.name = options.name;
  identity.started_at = std::chrono::system_clock::now();
  identity.log_lines_dropped = options.log_lines_dropped;
  identity.http_address = [&http] { return http.address(); };
  return identity;
}

}  // namespace

Agent::Agent(AgentOptions options)
    : options_(std::move(options)),
      signals_(io_),
      control_(io_, time_, resolver_, controlOptions(options_)),
      identity_(identityOf(options_, http_)),
      management_(control_, io_, identity_),
      http_(io_),
      tier_health_(control_),
      metrics_(control_, identity_),
      runtime_api_(io_, control_, identity_),
      stats_pages_(io_, control_, identity_, metrics_),
      stop_timer_(time_.makeTimer()) {}

Agent::~Agent() = default;

int Agent::run() {
  // Signals are caught from the start and handled once running: a SIGHUP sent as soon as the
  // startup is logged must reload, not kill the agent with the default action.
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  waitForSignals();  // also keeps the io_context running while the first apply completes
  std::string error;
  if (!options_.state_dir.empty() && !control_.useStateDir(options_.state_dir, &error)) {
    spdlog::error("{}", error);
    return 1;
  }
  // Tier health answers from the start (503 until a configuration is in force), and an address
  // that cannot be served stops the start before any frontend listens.
  if (!options_.http_address.empty()) {
    tier_health_.addRoutes(http_);
    metrics_.addRoutes(http_);
    if (!http_.listen(options_.http_address, &error)) {
      spdlog::error("--http: {} (use another address, or --http none)", error);
      return 1;
    }
    spdlog::info("HTTP endpoints listening on {} (/healthz, /healthz/frontend/NAME, /metrics)",
                 http_.address());
  }
  if (control_.draining()) {
    spdlog::warn(
        "this agent is drained (state restored from {}): its tier health answers 503 until "
        "'lbctl cluster ready' or SetAgentDrain(false)",
        options_.state_dir);
  }
  if (!options_.config_files.empty()) {
    applyFiles("startup");
  } else if (control_.persisted() && control_.persisted()->version() > 0) {
    restore();
  } else {
    spdlog::info(
        "lb-agent {}started without a configuration: waiting for one on the "
        "management API",
        options_.name.empty() ? "" : "'" + options_.name + "' ");
    started();
  }
  io_.run();
  runtime_api_.stop();
  stats_pages_.stop();
  http_.stop();
  management_.shutdown();
  control_.stop();
  if (started_) spdlog::info("lb-agent stopped");
  return exit_code_;
}

void Agent::applyFiles(const std::string& origin) {
  control_.load([files = options_.config_files](
                    common::Resolver& names) { return config::loadFiles(files, {&names}); },
                [this, origin](config::LoadResult loaded) {
                  control_.apply(std::move(loaded), ApplyOptions{false, 0, origin, false},
                                 [this, origin](ApplyResult result) { onApplied(result, origin); });
                });
}

// No -f: the configuration the state directory holds, with its version and admin states.
void Agent::restore() {
  const auto& persisted = *control_.persisted();
  spdlog::info("restoring configuration version {} from {}", persisted.version(),
               options_.state_dir);
  control_.load(
      [persisted](common::Resolver& names) {
        config::LoadResult loaded;
        if (persisted.has_sources() && persisted.sources().files_size() > 0) {
          std::vector<config::Source> sources;
          for (const auto& file : persisted.sources().files()) {
            sources.push_back({file.name(), file.content(),
                               config::formatNamed(file.format()).value_or(config::Format::kAuto)});
          }
          loaded = config::load(sources, {&names});
        } else {
          loaded.config = persisted.config();
          loaded.diagnostics = config::check(loaded.config, {&names});
        }
        return loaded;
      },
      [this](config::LoadResult loaded) {
        control_.apply(std::move(loaded), ApplyOptions{false, 0, "restore", true},
                       [this](ApplyResult result) { onApplied(result, "restore"); });
      });
}

void Agent::onApplied(const ApplyResult& result, const std::string& origin) {
  for (const auto& d : result.diagnostics.all()) {
    if (d.severity == config::Severity::kError) {
      spdlog::error("{}", d.toString());
    } else {
      spdlog::warn("{}", d.toString());
    }
  }
  if (!result.ok()) {
    if (result.status == ApplyStatus::kInvalid) {
      int errors = result.diagnostics.errorCount();
      spdlog::error("configuration refused ({} error{}); the running configuration is unchanged",
                    errors, errors == 1 ? "" : "s");
    } else {
      spdlog::error("{}; the running configuration is unchanged", result.message);
    }
    if (!started_) {
      exit_code_ = 1;
      io_.stop();
    }
    return;
  }
  if (!started_) {
    unsigned threads = control_.proxy()->threads();
    spdlog::info("lb-agent {}started with {} worker thread{}",
                 options_.name.empty() ? "" : "'" + options_.name + "' ", threads,
                 threads == 1 ? "" : "s");
    logListeners();
    logMaxconn();
    if (origin == "restore") {
      spdlog::info("configuration version {} applied from {}", result.version, options_.state_dir);
    } else {
      spdlog::info("configuration version {} applied from {}", result.version,
                   fmt::join(options_.config_files, ", "));
    }
    control_.restoreServerChanges();
    // The Runtime API's sockets and the statistics pages open before the agent says it has
    // started (they also follow every later apply through its event).
    runtime_api_.follow(control_.config().global());
    stats_pages_.follow(control_.config());
    started();
    return;
  }
  if (result.status == ApplyStatus::kUnchanged) {
    spdlog::info("{}: configuration unchanged, version {} stays", origin, result.version);
    return;
  }
  logListeners();
  logMaxconn();
  spdlog::info("configuration version {} applied ({})", result.version, result.diff.summary());
  management_.setServing(true);
}

// The configuration (if any) is in force: the management API opens.
void Agent::started() {
  std::string error;
  if (!management_.start(options_.management, &error)) {
    fail(error);
    return;
  }
  started_ = true;
  spdlog::info("management API listening on {}", management_.address());
}

void Agent::fail(const std::string& message) {
  spdlog::error("{}", message);
  exit_code_ = 1;
  io_.stop();
}

void Agent::logMaxconn() {
  const auto& rt = control_.runtime();
  if (!rt->maxconn_derived || rt->maxconn == logged_maxconn_) return;
  logged_maxconn_ = rt->maxconn;
  spdlog::info(
      "no global maxconn: at most {} connections, from the descriptor limit of {} less "
      "{} kept for listeners, checks and the agent itself; set 'maxconn' in the "
      "global section to choose",
      rt->maxconn, options_.fd_limit, rt->fds_reserved);
}

void Agent::logListeners() {
  for (const auto& address : control_.listening()) {
    spdlog::info("frontend '{}' listening on {}", address.frontend,
                 common::formatEndpoint(address.endpoint));
  }
  for (const auto& backend : control_.config().backends()) {
    spdlog::info("backend '{}': {} server{}, balance {}", backend.name(), backend.servers_size(),
                 backend.servers_size() == 1 ? "" : "s", balanceName(backend.balance()));
  }
}

void Agent::waitForSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (!started_) {
      // Still starting: a stop request ends the start; a reload waits for the start.
      if (signal != SIGHUP) io_.stop();
    } else if (signal == SIGHUP) {
      if (stopping_) {
        // no reload while stopping
      } else if (options_.config_files.empty()) {
        spdlog::info(
            "SIGHUP: no configuration files to reload (this agent was started "
            "without -f and takes its configuration from the management API)");
      } else {
        spdlog::info("SIGHUP: reloading {}", fmt::join(options_.config_files, ", "));
        applyFiles("SIGHUP");
      }
    } else {
      beginStop(stopping_);  // a second SIGTERM/SIGINT stops at once
    }
    if (!io_.stopped()) waitForSignals();
  });
}

void Agent::beginStop(bool hard) {
  if (!stopping_) {
    stopping_ = true;
    tier_health_.setStopping();
    const auto& late = control_.checker().lateness();
    if (late.count() > 0) {
      spdlog::info(
          "health checks: {} run; start lateness p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
          late.count(), late.percentile(0.5), late.percentile(0.9), late.percentile(0.99),
          late.max());
    }
    const auto& runtime = control_.runtime();
    std::optional<runtime::Millis> hard_stop_after;
    if (runtime) hard_stop_after = runtime->hard_stop_after;
    if (hard_stop_after) hard_stop_at_ = time_.now() + *hard_stop_after;
    control_.stopAccepting([this, bounded = hard_stop_after.has_value()] {
      uint32_t running = control_.activeSessions();
      spdlog::info("stopping: listeners closed, waiting for {} running connection{}{}", running,
                   running == 1 ? "" : "s", bounded ? " (at most hard-stop-after)" : "");
      pollStop();
    });
  }
  if (hard) {
    spdlog::info("stopping now: closing running connections");
    control_.abortSessions([this] { pollStop(); });
  }
}

void Agent::pollStop() {
  if (control_.activeSessions() == 0) {
    io_.stop();
    return;
  }
  if (hard_stop_at_ && time_.now() >= *hard_stop_at_) {
    spdlog::info("hard-stop-after reached: closing {} running connection(s)",
                 control_.activeSessions());
    hard_stop_at_.reset();
    control_.abortSessions([this] { pollStop(); });
    return;
  }
  stop_timer_->armAfter(std::chrono::milliseconds(50), [this] { pollStop(); });
}

}  // namespace lb::control
