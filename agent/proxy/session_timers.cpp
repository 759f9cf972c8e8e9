// A session's deadlines: which one applies in each phase (the relay's come from the deadline
// rules), the one timer that waits for it, and what its expiry does.
#include "agent/proxy/session.h"
#include "agent/proxy/session_rules.h"

namespace lb::proxy {

using boost::system::error_code;

namespace {
// How long an accept-proxy connection may take to send its PROXY header without a timeout client.
constexpr Millis kProxyHeaderTimeout{5000};
}  // namespace

void Session::onTimer(const error_code& ec) {
  if (ec || closed_) return;
  armed_at_ = {};
  auto at = deadline();
  if (!at) return;
  auto current = Clock::now();
  if (current < *at) {
    armTimer();
    return;
  }
  switch (phase_) {
    case Phase::kProxyHeader:
      // The header did not come in time: closed and counted like a bad one.
      frontend_.state->bad_proxy_headers.fetch_add(1, std::memory_order_relaxed);
      finish('c', 'R');
      return;
    case Phase::kInspect:
      inspect();  // inspect-delay is over: the rules decide with what came
      return;
    case Phase::kQueue:
      finish('s', 'Q');
      return;
    case Phase::kConnect:
      onConnectFailed(true);
      return;
    case Phase::kTurnaround:
      retry();
      return;
    case Phase::kRelay: {
      auto expired = relayDeadline(relay_.clocks(), timeouts());
      finish(expired && expired->client ? 'c' : 's', 'D');
      return;
    }
    case Phase::kClosed:
      return;
  }
}

RelayTimeouts Session::timeouts() const {
  RelayTimeouts t;
  t.client = frontend_.timeout_client;
  t.client_fin = frontend_.timeout_client_fin;
  t.server = backend_->timeout_server;
  t.server_fin = backend_->timeout_server_fin;
  t.tunnel = backend_->timeout_tunnel;
  return t;
}

std::optional<Session::Clock::time_point> Session::deadline() const {
  switch (phase_) {
    case Phase::kProxyHeader:
      // HAProxy waits for the header as long as `timeout client`; lb bounds it without one too.
      return phase_start_ + frontend_.timeout_client.value_or(kProxyHeaderTimeout);
    case Phase::kInspect:
      return rules_->inspect_until;
    case Phase::kQueue:
      if (!backend_->timeout_queue) return std::nullopt;
      return queue_start_ + *backend_->timeout_queue;
    case Phase::kConnect:
      if (!backend_->timeout_connect) return std::nullopt;
      return phase_start_ + *backend_->timeout_connect;
    case Phase::kTurnaround:
      return turnaround_until_;
    case Phase::kRelay: {
      auto at = relayDeadline(relay_.clocks(), timeouts());
      if (!at) return std::nullopt;
      return at->at;
    }
    case Phase::kClosed:
      return std::nullopt;
  }
  return std::nullopt;
}

void Session::armTimer() {
  auto at = deadline();
  if (!at || (isSet(armed_at_) && armed_at_ <= *at)) return;
  armed_at_ = *at;
  timer_.expires_at(*at);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->onTimer(ec); });
}

}  // namespace lb::proxy
