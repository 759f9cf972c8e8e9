#include "agent/control/agent.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "agent/config/address.h"

namespace lb::control {

namespace asio = boost::asio;

namespace {

// Features of the model the data plane does not carry out yet: refused with a clear message
// rather than silently ignored.
std::string unsupported(const lb::v1::Config& config) {
  for (const auto& fe : config.frontends()) {
    for (const auto& bind : fe.binds()) {
      if (bind.accept_proxy()) {
        return "frontend '" + fe.name() + "': 'accept-proxy' is not supported by the data " +
               "plane yet (PROXY protocol arrives with cascaded tiers)";
      }
    }
  }
  for (const auto& be : config.backends()) {
    for (const auto& rule : be.health_check().tcp_check()) {
      if (rule.has_connect() && rule.connect().send_proxy()) {
        return "backend '" + be.name() + "': 'tcp-check connect send-proxy' is not supported " +
               "by the data plane yet (PROXY protocol arrives with cascaded tiers)";
      }
    }
    for (const auto& s : be.servers()) {
      if (s.send_proxy() != lb::v1::Server::PROXY_NONE || s.check_send_proxy()) {
        return "server " + be.name() + "/" + s.name() + ": 'send-proxy' is not supported by " +
               "the data plane yet (PROXY protocol arrives with cascaded tiers)";
      }
    }
  }
  return "";
}

std::string balanceName(const lb::v1::Balance& balance) {
  std::string name = lb::v1::Balance::Algorithm_Name(balance.algorithm());
  for (char& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

constexpr size_t kEventRing = 10000;

Agent::Agent(AgentOptions options)
    : options_(std::move(options)),
      signals_(io_),
      stop_timer_(io_),
      events_(options_.name, kEventRing),
      checker_(io_,
               health::HealthChecker::Hooks{&events_, [this](const runtime::ServerState* server) {
                                              if (proxy_) proxy_->shutdownSessions(server);
                                            }}) {}

Agent::~Agent() = default;

bool Agent::apply(const lb::config::LoadResult& loaded) {
  for (const auto& d : loaded.diagnostics.all()) {
    if (d.severity == lb::config::Severity::kError) {
      spdlog::error("{}", d.toString());
    } else {
      spdlog::warn("{}", d.toString());
    }
  }
  if (!loaded.ok()) {
    spdlog::error("configuration refused ({} error{}); the running configuration is unchanged",
                  loaded.diagnostics.errorCount(), loaded.diagnostics.errorCount() == 1 ? "" : "s");
    return false;
  }
  if (std::string problem = unsupported(loaded.config); !problem.empty()) {
    spdlog::error("{}; the running configuration is unchanged", problem);
    return false;
  }
  std::string error;
  auto runtime = runtime::buildRuntime(loaded.config, version_ + 1, store_, &error);
  if (!runtime) {
    spdlog::error("{}; the running configuration is unchanged", error);
    return false;
  }
  if (!proxy_) {
    unsigned threads = options_.threads;
    if (!options_.threads_from_flag && loaded.config.global().has_nbthread()) {
      threads = loaded.config.global().nbthread();
    }
    proxy_ = std::make_unique<proxy::Proxy>(threads);
    spdlog::info("lb-agent {}started with {} worker thread{}",
                 options_.name.empty() ? "" : "'" + options_.name + "' ", threads,
                 threads == 1 ? "" : "s");
  }
  runtime->observer = &checker_;
  if (!proxy_->apply(runtime, &error)) {
    spdlog::error("{}; the running configuration is unchanged", error);
    lb::v1::Event event;
    event.set_type(lb::v1::Event::LISTENER_ERROR);
    event.set_config_version(version_);
    event.set_message(error);
    events_.publish(std::move(event));
    return false;
  }
  current_ = runtime;
  version_ = runtime->version;
  checker_.apply(runtime);
  store_.collect();
  lb::v1::Event event;
  event.set_type(lb::v1::Event::CONFIG_APPLIED);
  event.set_config_version(version_);
  event.set_message("configuration version " + std::to_string(version_) + " applied");
  events_.publish(std::move(event));
  return true;
}

void Agent::logListeners() {
  for (const auto& address : proxy_->listening()) {
    spdlog::info(
        "frontend '{}' listening on {}", address.frontend,
        config::formatHostPort(address.endpoint.address().to_string(), address.endpoint.port()));
  }
  for (const auto& backend : current_->config.backends()) {
    spdlog::info("backend '{}': {} server{}, balance {}", backend.name(), backend.servers_size(),
                 backend.servers_size() == 1 ? "" : "s", balanceName(backend.balance()));
  }
}

int Agent::run() {
  // Signals are caught from the start and handled once running: a SIGHUP sent as soon as the
  // startup is logged must reload, not kill the agent with the default action.
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  auto loaded = lb::config::loadFiles(options_.config_files, {&resolver_});
  if (!apply(loaded)) return 1;
  logListeners();
  spdlog::info("configuration version {} applied from {}", version_,
               fmt::join(options_.config_files, ", "));
  waitForSignals();
  io_.run();
  proxy_->stop();
  spdlog::info("lb-agent stopped");
  return 0;
}

void Agent::waitForSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (!stopping_) reload();
    } else {
      beginStop(stopping_);  // a second SIGTERM/SIGINT stops at once
    }
    if (!io_.stopped()) waitForSignals();
  });
}

void Agent::reload() {
  spdlog::info("SIGHUP: reloading {}", fmt::join(options_.config_files, ", "));
  auto loaded = lb::config::loadFiles(options_.config_files, {&resolver_});
  if (apply(loaded)) {
    logListeners();
    spdlog::info("configuration version {} applied", version_);
  }
}

void Agent::beginStop(bool hard) {
  if (!stopping_) {
    stopping_ = true;
    checker_.stop();
    const auto& late = checker_.lateness();
    if (late.count() > 0) {
      spdlog::info(
          "health checks: {} run; start lateness p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
          late.count(), late.percentile(0.5), late.percentile(0.9), late.percentile(0.99),
          late.max());
    }
    proxy_->stopAccepting();
    uint32_t running = proxy_->activeSessions();
    if (current_->hard_stop_after) {
      hard_stop_at_ = std::chrono::steady_clock::now() + *current_->hard_stop_after;
    }
    spdlog::info("stopping: listeners closed, waiting for {} running connection{}{}", running,
                 running == 1 ? "" : "s",
                 current_->hard_stop_after ? " (at most hard-stop-after)" : "");
  }
  if (hard) {
    spdlog::info("stopping now: closing running connections");
    proxy_->abortSessions();
  }
  pollStop();
}

void Agent::pollStop() {
  if (proxy_->activeSessions() == 0) {
    io_.stop();
    return;
  }
  if (hard_stop_at_ && std::chrono::steady_clock::now() >= *hard_stop_at_) {
    spdlog::info("hard-stop-after reached: closing {} running connection(s)",
                 proxy_->activeSessions());
    proxy_->abortSessions();
    hard_stop_at_.reset();
  }
  stop_timer_.expires_after(std::chrono::milliseconds(50));
  stop_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) pollStop();
  });
}

}  // namespace lb::control
