#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
// through post(), and completions come back to the control thread's io_context: the control
// thread never waits for a worker.
class Proxy {
 public:
  using Done = std::function<void()>;

  Proxy(unsigned threads, boost::asio::io_context& control);
  ~Proxy();

  // Makes `runtime` the snapshot for new connections. Listeners whose bind did not change keep
  // their sockets (no refused connection during an apply); new binds are opened first, so a
  // bind that fails leaves everything as it was and returns false with *error set. Otherwise
  // every worker takes the snapshot before its new listeners start accepting, removed
  // listeners close, and `on_switched` runs on the control thread once all workers have it.
  bool apply(std::shared_ptr<const runtime::Runtime> runtime, std::string* error, Done on_switched);

  std::vector<ListeningAddress> listening() const;
  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

  // Graceful stop, step 1: closes every listener; `done` runs once all are closed (from then
  // on a new connection is refused); running sessions go on.
  void stopAccepting(Done done);
  // Connections currently held (accepted and not yet closed).
  uint32_t activeSessions() const { return global_gate_.active(); }
  // Closes every running session now; `done` runs once every worker did.
  void abortSessions(Done done);
  // Closes the running sessions of one server on every worker (on-marked-down
  // shutdown-sessions). Returns at once.
  void shutdownSessions(std::shared_ptr<const runtime::ServerState> server);
  // Stops and joins the workers.
  void stop();

 private:
  // The listeners of one bind address, one per worker.
  struct ListenerGroup {
    std::string frontend;
    boost::asio::ip::tcp::endpoint endpoint;  // as bound (port 0 resolved)
    std::string options;                      // BindRuntime::socketOptions()
    std::string port0_key;  // BindRuntime::port0Key() when opened for a bind on port 0
    std::optional<uint32_t> backlog;
    std::vector<std::shared_ptr<Listener>> listeners;
  };

  std::shared_ptr<ListenerGroup> openGroup(const runtime::FrontendRuntime& frontend,
                                           const runtime::BindRuntime& bind, std::string* error);
  // Closes at once (a failed apply: nothing was accepted yet).
  void closeGroup(ListenerGroup& group);
  // Closes after accepting what the sockets' queues hold (a removed or replaced bind).
  void drainGroup(ListenerGroup& group);
  // The group already bound for `bind`, and its key; none when it needs a new socket.
  std::map<std::string, std::shared_ptr<ListenerGroup>>::iterator findGroup(
      const runtime::BindRuntime& bind);
  static std::string boundKey(const ListenerGroup& group);
  // Runs `work` on every worker, then `done` on the control thread.
  void onEveryWorker(std::function<void(Worker&)> work, Done done);

  boost::asio::io_context& control_;
  std::vector<std::unique_ptr<Worker>> workers_;
  runtime::ConnectionGate global_gate_;
  // By the address and port they are bound to.
  std::map<std::string, std::shared_ptr<ListenerGroup>> groups_;
};

}  // namespace lb::proxy
