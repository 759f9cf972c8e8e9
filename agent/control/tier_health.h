#pragma once

#include <string_view>

#include "agent/control/control_plane.h"
#include "agent/http/http_server.h"

namespace lb::control {

// The tier-health endpoints on --http, for upper tiers' checks and for container health:
//   /healthz                 200 while a configuration is in force (alive and loaded);
//                            503 before the first one and once stopping.
//   /healthz/frontend/NAME   200 while that frontend's default backend has a usable server
//                            (HAProxy's `monitor fail` idea), 503 when it has none, when the
//                            agent-wide drain switch is on, or when the agent is stopping;
//                            404 for a frontend the configuration does not have.
// An upper tier's `option httpchk GET /healthz/frontend/web` + `check port 9902` thus takes an
// inner agent out when its own servers are gone or when it is drained. Every answer's body
// says why, in one line.
//
// Threads: the control thread (the HTTP server runs there).
class TierHealth {
 public:
  explicit TierHealth(ControlPlane& control) : control_(control) {}

  void addRoutes(http::HttpServer& server);
  // From the first SIGTERM on, every answer is 503.
  void setStopping() { stopping_ = true; }

  http::Response agent() const;
  http::Response frontend(std::string_view name) const;

 private:
  ControlPlane& control_;
  bool stopping_ = false;
};

}  // namespace lb::control
