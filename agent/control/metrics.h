#pragma once

#include <string>

#include "agent/control/control_plane.h"
#include "agent/control/status.h"
#include "agent/http/http_server.h"

namespace lb::control {

// /metrics on --http: the agent's status in Prometheus' text format, modelled on HAProxy's own
// exporter (`http-request use-service prometheus-exporter`): the same family names and labels
// (haproxy_frontend_*{proxy}, haproxy_backend_*{proxy}, haproxy_server_*{proxy,server},
// per-state one-hot gauges for status and check status), so dashboards and alerts written for
// HAProxy keep working; plus lb's own lb_* families (configuration version and applies, events,
// the drain switch). Families HAProxy has and lb cannot fill are left out, not sent as zero.
//
// Threads: the control thread (it reads the status as GetStatus does).
class Metrics {
 public:
  Metrics(ControlPlane& control, AgentIdentity identity)
      : control_(control), identity_(std::move(identity)) {}

  void addRoutes(http::HttpServer& server);
  // The whole exposition.
  std::string render() const;

 private:
  ControlPlane& control_;
  AgentIdentity identity_;
};

}  // namespace lb::control
