#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/control/control_plane.h"
#include "lb/v1/agent.pb.h"

namespace lb::control {

// What the agent says about itself beyond the control plane.
struct AgentIdentity {
  std::string name;
  common::WallTime started_at{};
  // Log lines the log output dropped so far (0 when unknown).
  std::function<uint64_t()> log_lines_dropped;
  // Where the HTTP endpoints listen, empty when off.
  std::function<std::string()> http_address;
};

// The whole state, as GetStatus answers (`backend` non-empty: only that backend, no
// frontends). Control thread: it reads the snapshot, the checker and the live counters.
lb::v1::GetStatusResponse buildStatus(ControlPlane& control, const AgentIdentity& identity,
                                      const std::string& backend);

// One server now.
lb::v1::ServerStatus serverStatus(ControlPlane& control, const runtime::BackendRuntime& backend,
                                  const runtime::ServerRuntime& server);

// Readings of a ServerStatus shared by /metrics, the Runtime API and the statistics page:
// "MAINT" or "DRAIN" (operator states win), else "UP" or "DOWN"; whether it takes new
// connections (UP, READY, weight > 0); whether a check status passed (L4OK, L7OK, L7OKC...).
const char* stateName(const lb::v1::ServerStatus& server);
bool isUsable(const lb::v1::ServerStatus& server);
bool isPassingCheck(std::string_view status);

// An admin state in the API's terms, and back (nullopt: ADMIN_STATE_UNSPECIFIED or unknown).
lb::v1::ServerStatus::AdminState toProto(runtime::AdminState state);
std::optional<runtime::AdminState> fromProto(lb::v1::ServerStatus::AdminState state);

// "roundrobin", "static-rr", ... as HAProxy spells them.
std::string balanceName(const lb::v1::Balance& balance);

}  // namespace lb::control
