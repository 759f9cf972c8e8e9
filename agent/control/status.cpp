#include "agent/control/status.h"

#include <unistd.h>

#include "agent/common/host_port.h"
#include "agent/common/proto_time.h"
#include "agent/common/syslog.h"
#include "agent/health/check_result.h"

#ifndef LB_VERSION
#define LB_VERSION "dev"
#endif

namespace lb::control {

namespace {

const lb::v1::Backend* configOf(const lb::v1::Config& config, const std::string& name) {
  for (const auto& be : config.backends()) {
    if (be.name() == name) return &be;
  }
  return nullptr;
}

}  // namespace

const char* stateName(const lb::v1::ServerStatus& server) {
  if (server.admin_state() == lb::v1::ServerStatus::MAINT) return "MAINT";
  if (server.admin_state() == lb::v1::ServerStatus::DRAIN) return "DRAIN";
  if (server.op_state() == lb::v1::ServerStatus::NOLB) return "NOLB";
  return server.op_state() == lb::v1::ServerStatus::UP ? "UP" : "DOWN";
}

bool isUsable(const lb::v1::ServerStatus& server) {
  return server.op_state() == lb::v1::ServerStatus::UP &&
         server.admin_state() == lb::v1::ServerStatus::READY && server.effective_weight() > 0;
}

bool isPassingCheck(std::string_view status) {
  return status.ends_with("OK") || status.ends_with("OKC");
}

lb::v1::ServerStatus::AdminState toProto(runtime::AdminState state) {
  switch (state) {
    case runtime::AdminState::kDrain:
      return lb::v1::ServerStatus::DRAIN;
    case runtime::AdminState::kMaint:
      return lb::v1::ServerStatus::MAINT;
    case runtime::AdminState::kReady:
      break;
  }
  return lb::v1::ServerStatus::READY;
}

std::optional<runtime::AdminState> fromProto(lb::v1::ServerStatus::AdminState state) {
  switch (state) {
    case lb::v1::ServerStatus::READY:
      return runtime::AdminState::kReady;
    case lb::v1::ServerStatus::DRAIN:
      return runtime::AdminState::kDrain;
    case lb::v1::ServerStatus::MAINT:
      return runtime::AdminState::kMaint;
    default:
      return std::nullopt;
  }
}

std::string balanceName(const lb::v1::Balance& balance) {
  std::string name = lb::v1::Balance::Algorithm_Name(balance.algorithm());
  for (char& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  if (balance.algorithm() == lb::v1::Balance::RANDOM && balance.has_random_draws()) {
    name += "(" + std::to_string(balance.random_draws()) + ")";
  }
  return name;
}

lb::v1::ServerStatus serverStatus(ControlPlane& control, const runtime::BackendRuntime& backend,
                                  const runtime::ServerRuntime& server) {
  const runtime::ServerState& state = *server.state;
  lb::v1::ServerStatus out;
  out.set_name(server.name);
  out.set_address(common::formatHostPort(server.address, server.port));
  switch (state.op.load()) {
    case runtime::OpState::kUp:
      out.set_op_state(lb::v1::ServerStatus::UP);
      break;
    case runtime::OpState::kNolb:
      out.set_op_state(lb::v1::ServerStatus::NOLB);
      break;
    case runtime::OpState::kDown:
      out.set_op_state(lb::v1::ServerStatus::DOWN);
      break;
  }
  out.set_admin_state(toProto(state.admin.load()));
  out.set_configured_weight(server.weight);
  out.set_effective_weight(state.weight.load());
  out.set_check_enabled(server.check);
  out.set_backup(server.backup);
  out.set_maxconn(server.maxconn);
  if (auto check = control.checker().status(state)) {
    out.set_health(check->health);
    out.set_rise(check->rise);
    out.set_fall(check->fall);
    if (check->last) {
      auto* last = out.mutable_last_check();
      last->set_status(health::statusName(check->last->status));
      last->set_description(health::statusDescription(check->last->status));
      last->set_info(check->last->info);
      *last->mutable_duration() = common::toProto(
          std::chrono::duration_cast<std::chrono::microseconds>(check->last->duration));
    }
    out.set_agent_enabled(check->agent);
    if (check->agent_last) {
      auto* last = out.mutable_last_agent_check();
      last->set_status(health::statusName(check->agent_last->status));
      last->set_description(health::statusDescription(check->agent_last->status));
      last->set_info(check->agent_last->info);
      *last->mutable_duration() = common::toProto(
          std::chrono::duration_cast<std::chrono::microseconds>(check->agent_last->duration));
    }
    if (check->last_change != common::WallTime{}) {
      *out.mutable_last_change() = common::toProto(check->last_change);
    }
  }
  out.set_current_connections(state.active.load());
  out.set_total_connections(state.total.load());
  out.set_queue(backend.state->queued());
  out.set_bytes_in(state.bytes_in.load());
  out.set_bytes_out(state.bytes_out.load());
  out.set_connect_errors(state.connect_errors.load());
  out.set_retries(state.retries.load());
  out.set_redispatches(state.redispatches.load());
  out.set_failed_checks(state.failed_checks.load());
  out.set_down_transitions(state.down_transitions.load());
  return out;
}

lb::v1::GetStatusResponse buildStatus(ControlPlane& control, const AgentIdentity& identity,
                                      const std::string& backend) {
  lb::v1::GetStatusResponse out;
  const auto& runtime = control.runtime();
  auto* agent = out.mutable_agent();
  agent->set_name(identity.name);
  agent->set_lb_version(LB_VERSION);
  agent->set_pid(::getpid());
  *agent->mutable_started_at() = common::toProto(identity.started_at);
  *agent->mutable_uptime() = common::toProto(std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now() - identity.started_at));
  agent->set_config_version(control.version());
  agent->set_incarnation(control.events().incarnation());
  agent->set_last_event(control.events().lastSequence());
  agent->set_draining(control.draining());
  if (identity.http_address) agent->set_http_address(identity.http_address());
  agent->set_current_connections(control.activeSessions());
  agent->set_checks_not_run(control.checker().localFailures());
  // Lines the log output dropped and lines no syslog target could take.
  uint64_t dropped = common::syslogDropped().load();
  if (identity.log_lines_dropped) dropped += identity.log_lines_dropped();
  agent->set_log_lines_dropped(dropped);
  if (auto* proxy = control.proxy()) agent->set_threads(proxy->threads());
  if (!runtime) return out;
  agent->set_maxconn(runtime->maxconn);
  agent->set_maxconn_derived(runtime->maxconn_derived);
  if (backend.empty()) {
    auto listening = control.listening();
    for (const auto& fe : runtime->frontends) {
      auto* status = out.add_frontends();
      status->set_name(fe.name);
      for (const auto& address : listening) {
        if (address.frontend == fe.name)
          status->add_binds(common::formatEndpoint(address.endpoint));
      }
      status->set_current_connections(fe.state->gate.active());
      status->set_total_connections(fe.state->total.load());
      status->set_rejected(fe.state->rejected.load());
      status->set_denied_connections(fe.state->denied_conn.load());
      status->set_denied_sessions(fe.state->denied_sess.load());
      status->set_denied_requests(fe.state->denied_req.load());
      status->set_bad_proxy_headers(fe.state->bad_proxy_headers.load());
      if (auto client = fe.state->lastProxiedClient()) {
        status->set_last_proxied_client(common::formatEndpoint(*client));
      }
      status->set_maxconn(fe.maxconn);
      status->set_disabled(fe.disabled);
      if (fe.backend != nullptr) status->set_default_backend(fe.backend->name);
    }
  }
  for (const auto& be : runtime->backends) {
    if (!backend.empty() && be->name != backend) continue;
    auto* status = out.add_backends();
    status->set_name(be->name);
    if (const auto* config = configOf(control.config(), be->name)) {
      status->set_balance(balanceName(config->balance()));
    }
    status->set_usable_servers(be->usableCount());
    status->set_total_servers(static_cast<uint32_t>(be->servers.size()));
    status->set_queue(be->state->queued());
    status->set_current_connections(be->state->active.load());
    status->set_total_connections(be->state->total.load());
    status->set_no_server(be->state->no_server.load());
    for (const auto& server : be->servers) {
      *status->add_servers() = serverStatus(control, *be, server);
    }
  }
  return out;
}

}  // namespace lb::control
