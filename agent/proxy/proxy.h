#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/proxy/listener.h"
#include "agent/proxy/worker.h"
#include "agent/runtime/runtime.h"

namespace lb::proxy {

// A frontend address being listened on.
struct ListeningAddress {
  std::string frontend;
  boost::asio::ip::tcp::endpoint endpoint;
};

// The data plane: N workers and the listeners of every frontend bind on each of them.
//
// Threads: every public method is called from the control thread; work reaches the workers
// through post().
class Proxy {
 public:
  explicit Proxy(unsigned threads);
  ~Proxy();

  // Makes `runtime` the snapshot for new connections. Listeners whose bind did not change keep
  // their sockets (no refused connection during an apply); new binds are opened first, so a
  // bind that fails leaves everything as it was and returns false with *error set.
  bool apply(std::shared_ptr<const runtime::Runtime> runtime, std::string* error);

  std::vector<ListeningAddress> listening() const;

  // Graceful stop, step 1: close every listener (returns once they are closed); running
  // sessions go on.
  void stopAccepting();
  // Connections currently held (accepted and not yet closed).
  uint32_t activeSessions() const { return global_gate_.active(); }
  // Closes every running session now.
  void abortSessions();
  // Closes the running sessions of one server on every worker (on-marked-down
  // shutdown-sessions). Returns at once.
  void shutdownSessions(const runtime::ServerState* server);
  // Stops and joins the workers.
  void stop();

 private:
  // The listeners of one bind of one frontend, one per worker.
  struct ListenerGroup {
    std::string frontend;
    boost::asio::ip::tcp::endpoint endpoint;  // as bound (port 0 resolved)
    std::vector<std::shared_ptr<Listener>> listeners;
  };

  std::shared_ptr<ListenerGroup> openGroup(const runtime::FrontendRuntime& frontend,
                                           const runtime::BindRuntime& bind, std::string* error);
  void closeGroup(ListenerGroup& group);

  std::vector<std::unique_ptr<Worker>> workers_;
  runtime::ConnectionGate global_gate_;
  std::map<std::string, std::shared_ptr<ListenerGroup>> groups_;  // by frontend + bind key
};

}  // namespace lb::proxy
