// What a session reports: bytes to its server's counters, connect errors to passive checks,
// and its line in HAProxy's TCP log format.
#include <spdlog/spdlog.h>

#include "agent/proxy/session.h"
#include "agent/proxy/tcp_log.h"

namespace lb::proxy {

namespace {

long millisBetween(Session::Clock::time_point from, Session::Clock::time_point to) {
  return static_cast<long>(std::chrono::duration_cast<Millis>(to - from).count());
}

}  // namespace

void Session::accountBytes() {
  if (!last_server_) return;
  uint64_t up = relay_.bytes(Relay::Dir::kUp), down = relay_.bytes(Relay::Dir::kDown);
  if (up == accounted_up_ && down == accounted_down_) return;
  auto& state = *backend_->servers[*last_server_].state;
  if (up != accounted_up_) state.bytes_in.fetch_add(up - accounted_up_, std::memory_order_relaxed);
  if (down != accounted_down_) {
    state.bytes_out.fetch_add(down - accounted_down_, std::memory_order_relaxed);
  }
  accounted_up_ = up;
  accounted_down_ = down;
}

// Passive checks (observe layer4): consecutive failures of live traffic are counted on the
// server; the session whose failure reaches error-limit reports it, and does not retry there.
bool Session::observeConnectError(size_t index, bool timed_out) {
  const auto& server = backend_->servers[index];
  if (!server.observe_layer4 || runtime_->observer == nullptr) return false;
  auto& state = *server.state;
  uint32_t errors = state.consecutive_errors.fetch_add(1, std::memory_order_relaxed) + 1;
  if (errors < server.health.error_limit) return false;
  uint32_t expected = errors;
  if (state.consecutive_errors.compare_exchange_strong(expected, 0)) {
    runtime_->observer->reportErrorLimit(server.state, errors,
                                         timed_out ? "L4 timeout" : "L4 unsuccessful connection");
  }
  return true;
}

void Session::log() {
  if (!frontend_.tcplog) return;
  uint64_t up = relay_.bytes(Relay::Dir::kUp), down = relay_.bytes(Relay::Dir::kDown);
  if (frontend_.dontlognull && up == 0 && down == 0) return;
  auto end = Clock::now();
  TcpLogRecord r;
  r.client = client_endpoint_;
  r.accepted = accepted_wall_;
  r.frontend = frontend_.name;
  r.backend = backend_ != nullptr ? backend_->name : "<NOSRV>";
  // A session that ended while queued names no server, as in HAProxy.
  if (last_server_ && (isSet(connected_) || termination_[1] != 'Q')) {
    r.server = backend_->servers[*last_server_].name;
  }
  r.queue_ms =
      isSet(queue_start_) ? millisBetween(queue_start_, isSet(queue_end_) ? queue_end_ : end) : 0;
  r.connect_ms = isSet(connected_)
                     ? millisBetween(isSet(queue_end_) ? queue_end_ : accepted_, connected_)
                     : -1;
  r.total_ms = millisBetween(accepted_, end);
  r.bytes_read = down;
  r.termination[0] = termination_[0];
  r.termination[1] = termination_[1];
  r.actconn = global_slot_.gate() != nullptr ? global_slot_.gate()->active() : 0;
  r.feconn = frontend_.state->gate.active();
  if (backend_ != nullptr) {
    r.beconn = backend_->state->active.load(std::memory_order_relaxed);
    r.backend_queue = backend_->state->queued();
  }
  if (auto index = server_slot_.index())
    r.srv_conn = backend_->servers[*index].state->active.load();
  r.retries = retries_done_;
  r.redispatched = redispatched_;
  std::string line = formatTcpLog(r);
  if (frontend_.log_targets.empty()) {
    spdlog::info("{}", line);  // no syslog target: lb's own log output
    return;
  }
  auto now = std::chrono::system_clock::now();
  for (const auto& target : frontend_.log_targets) target->send(6 /* info */, line, now);
}

}  // namespace lb::proxy
