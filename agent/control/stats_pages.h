#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "agent/control/control_plane.h"
#include "agent/control/metrics.h"
#include "agent/control/status.h"
#include "agent/http/http_server.h"

namespace lb::control {

// HAProxy's statistics sections (`listen stats` with `mode http`, `stats enable`, `stats uri`,
// `stats auth`, `stats refresh`, `http-request use-service prometheus-exporter`) served on
// their own binds: the page (an HTML table, or `show stat`'s CSV when the URI ends in ";csv"),
// and the metrics. Such a section does nothing else, so it is not a data-plane frontend. The
// servers follow the configuration in force (every CONFIG_APPLIED event).
//
// Threads: the control thread.
class StatsPages {
 public:
  StatsPages(boost::asio::io_context& io, ControlPlane& control, const AgentIdentity& identity,
             Metrics& metrics);
  ~StatsPages();

  void follow(const lb::v1::Config& config);
  void stop();

 private:
  http::Response page(const lb::v1::StatsPage& page, const http::Request& request) const;

  boost::asio::io_context& io_;
  ControlPlane& control_;
  const AgentIdentity& identity_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<http::HttpServer>> servers_;
  std::string serving_;  // the sections served now, serialized: unchanged ones stay open
  uint64_t subscription_ = 0;
};

}  // namespace lb::control
