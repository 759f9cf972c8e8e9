#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>

#include "agent/control/control_plane.h"
#include "agent/control/runtime_commands.h"
#include "agent/control/status.h"
#include "lb/v1/config.pb.h"

namespace lb::control {

// HAProxy's Runtime API on every `stats socket` of the configuration in force: UNIX sockets
// and TCP addresses, HAProxy's framing (one line of `;`-separated commands per connection and
// the connection closes, or `prompt` mode with "> " after each answer), its levels, and the
// `stats timeout` idle limit. The sockets follow the configuration: an apply that adds, removes
// or changes a `stats socket` opens or closes it.
//
// Threads: the control thread.
class RuntimeApi {
 public:
  RuntimeApi(boost::asio::io_context& io, ControlPlane& control, const AgentIdentity& identity);
  ~RuntimeApi();

  // Opens and closes sockets to match the configuration in force.
  void follow(const lb::v1::Global& global);
  // Closes every socket and connection (UNIX socket files are removed).
  void stop();

 private:
  class Listener;
  template <typename Protocol>
  class Connection;

  boost::asio::io_context& io_;
  ControlPlane& control_;
  RuntimeCommands commands_;
  std::map<std::string, std::unique_ptr<Listener>> listeners_;  // by their configuration line
  uint64_t subscription_ = 0;
};

}  // namespace lb::control
