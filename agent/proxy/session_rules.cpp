// A session's layer-4 rules: tcp-request connection/session/content, the wait for the client's
// first bytes (inspect-delay), use_backend, use-server and stick rules. Only sessions of
// frontends and backends that have rules come here (Session::rules_ is null otherwise).
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "agent/proxy/session.h"
#include "agent/proxy/session_rules.h"
#include "agent/proxy/socket.h"

namespace lb::proxy {

namespace {

// The most of the client's bytes content rules look at (HAProxy looks at one buffer).
constexpr size_t kMaxInspect = 16384;

}  // namespace

bool Session::runConnectionRules() {
  rules_ = std::make_unique<RuleState>();
  const auto& rules = *frontend_.rules;
  if (rules.connection.empty()) return true;
  rules::Facts facts;
  facts.src = client_endpoint_;
  rules_->destination = localEndpoint(client_.fd);
  facts.dst = *rules_->destination;
  facts.now = now();
  facts.tracked = &rules_->tracked;
  size_t next = 0;
  bool expect_proxy = false;
  switch (rules::runRules(rules.connection, next, facts, &expect_proxy)) {
    case rules::Verdict::kReject:
      deny(false, false, frontend_.state->denied_conn);
      return false;
    case rules::Verdict::kSilentDrop:
      deny(true, false, frontend_.state->denied_conn);
      return false;
    default:
      break;
  }
  if (expect_proxy) accept_proxy_ = true;
  return true;
}

rules::Facts Session::ruleFacts() {
  rules::Facts facts;
  facts.src = client_endpoint_;
  facts.dst = destination();
  facts.payload = rules_->payload;
  facts.now = now();
  facts.tracked = &rules_->tracked;
  return facts;
}

const boost::asio::ip::tcp::endpoint& Session::destination() {
  if (proxied_destination_) return *proxied_destination_;
  if (!rules_->destination) rules_->destination = localEndpoint(client_.fd);
  return *rules_->destination;
}

void Session::deny(bool silent_drop, bool logged, std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
  if (silent_drop && client_.fd >= 0) {
    // A reset, and nothing else: the client learns nothing (HAProxy's silent-drop).
    linger hard{1, 0};
    ::setsockopt(client_.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  }
  unlogged_ = !logged;
  finish('P', 'R');
}

void Session::inspect() {
  if (!rules_) rules_ = std::make_unique<RuleState>();
  RuleState& state = *rules_;
  rules::Facts facts = ruleFacts();

  // tcp-request session: once, with the addresses the PROXY header gave.
  if (!state.session_ran) {
    state.session_ran = true;
    if (frontend_.rules && !frontend_.rules->session.empty()) {
      size_t next = 0;
      switch (rules::runRules(frontend_.rules->session, next, facts, nullptr)) {
        case rules::Verdict::kReject:
          deny(false, false, frontend_.state->denied_sess);
          return;
        case rules::Verdict::kSilentDrop:
          deny(true, false, frontend_.state->denied_sess);
          return;
        default:
          break;
      }
    }
    state.inspect_started = now();
    state.stage = frontend_.rules ? RuleState::Stage::kFrontend : RuleState::Stage::kBackend;
  }

  while (state.stage != RuleState::Stage::kDone) {
    const rules::ProxyRules* rules = state.stage == RuleState::Stage::kFrontend
                                         ? frontend_.rules.get()
                                         : (backend_ ? backend_->rules.get() : nullptr);
    if (rules == nullptr || (rules->content.empty() && rules->use_backend.empty())) {
      state.stage = state.stage == RuleState::Stage::kFrontend ? RuleState::Stage::kBackend
                                                               : RuleState::Stage::kDone;
      state.next_rule = 0;
      continue;
    }
    // The client's bytes so far, when a rule may look at them; `final` when no more will be
    // waited for.
    bool final = !rules->inspect_delay || rules->inspect_delay->count() == 0;
    if (rules->reads_payload && !state.client_closed && state.payload.size() < kMaxInspect) {
      char buffer[kMaxInspect];
      ssize_t n;
      do {
        n = ::recv(client_.fd, buffer, sizeof buffer, MSG_PEEK);
      } while (n < 0 && errno == EINTR);
      if (n > 0) {
        state.payload.assign(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        state.client_closed = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        finish('C', 'R');
        return;
      }
      client_.readable = false;
    }
    // The client said all it will say (FIN): nothing more to wait for.
    if (client_.peer_fin) state.client_closed = true;
    if (state.client_closed || state.payload.size() >= kMaxInspect) final = true;
    if (!final) {
      state.inspect_until = state.inspect_started + *rules->inspect_delay;
      if (now() >= state.inspect_until) final = true;
    }
    facts.payload = state.payload;
    facts.final = final;
    switch (rules::runRules(rules->content, state.next_rule, facts, nullptr)) {
      case rules::Verdict::kWait:
        phase_ = Phase::kInspect;
        armTimer();
        return;  // the client's next bytes or the end of inspect-delay come back here
      case rules::Verdict::kReject:
        deny(false, true, frontend_.state->denied_req);
        return;
      case rules::Verdict::kSilentDrop:
        deny(true, true, frontend_.state->denied_req);
        return;
      case rules::Verdict::kContinue:
        break;
    }
    if (state.stage == RuleState::Stage::kFrontend) {
      // use_backend: the first rule whose condition holds, with what is there now (HAProxy
      // decides switching rules once the content rules are done).
      facts.final = true;
      for (size_t i = 0; i < rules->use_backend.size(); ++i) {
        const auto& rule = rules->use_backend[i];
        if (rule.condition.evaluate(facts) != rules::Tri::kTrue) continue;
        runtime::BackendRuntime* target = frontend_.use_backend_targets[i];
        if (target == nullptr) {
          bool wait = false;
          auto name = rules::renderName(rule.format, facts, wait);
          if (name) target = runtime_->findBackend(*name);
          if (target == nullptr) continue;  // no such backend: the next rule, as HAProxy
        }
        backend_ = target;
        break;
      }
      state.stage = RuleState::Stage::kBackend;
      state.next_rule = 0;
      state.inspect_started = now();
      continue;
    }
    state.stage = RuleState::Stage::kDone;
  }
  route();
}

std::optional<size_t> Session::pickByRules() {
  const rules::ProxyRules* rules = backend_->rules.get();
  if (rules == nullptr) return std::nullopt;
  rules::Facts facts = ruleFacts();
  auto fits = [&](size_t i) { return backend_->usable(i) && !backend_->full(i); };
  for (size_t i = 0; i < rules->use_server.size(); ++i) {
    if (rules->use_server[i].condition.evaluate(facts) != rules::Tri::kTrue) continue;
    size_t server = backend_->use_server_targets[i];
    if (fits(server)) return server;
  }
  for (const auto& rule : rules->stick) {
    if (rule.kind == lb::v1::StickRule::STORE) continue;
    if (rule.condition.evaluate(facts) != rules::Tri::kTrue) continue;
    auto key = rule.table->keyOf(rule.expr.read(facts));
    if (!key) continue;
    auto name = rule.table->server(*key, facts.now);
    if (!name) continue;
    for (size_t i = 0; i < backend_->servers.size(); ++i) {
      if (backend_->servers[i].name == *name && fits(i)) return i;
    }
  }
  return std::nullopt;
}

void Session::storeStickiness(size_t server) {
  const rules::ProxyRules* rules = backend_->rules.get();
  if (rules == nullptr || rules->stick.empty()) return;
  rules::Facts facts = ruleFacts();
  for (const auto& rule : rules->stick) {
    if (rule.kind == lb::v1::StickRule::MATCH) continue;
    if (rule.condition.evaluate(facts) != rules::Tri::kTrue) continue;
    auto key = rule.table->keyOf(rule.expr.read(facts));
    if (!key) continue;
    rule.table->storeServer(*key, backend_->servers[server].name, facts.now);
    return;  // the first store rule that applies, as HAProxy (one store per table)
  }
}

}  // namespace lb::proxy
