#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "agent/proxy/poller.h"
#include "agent/proxy/slots.h"
#include "agent/proxy/worker.h"
#include "agent/runtime/runtime.h"
#include "agent/runtime/server_state.h"

namespace lb::proxy {

// One listening socket of one frontend bind on one worker (every worker has its own socket on
// the same address, with SO_REUSEPORT, so the kernel spreads connections without a lock).
// It accepts in batches (accept4, non-blocking sockets) when its Poller reports connections.
// At `maxconn` (global or frontend) it stops accepting and parks itself until a connection
// ends, as HAProxy does: new clients wait in the kernel's backlog instead of being refused.
//
// An apply keeps the socket whenever the bind's address and port stay: a new frontend name, a
// new backlog or new limits reach the listener instead of a new socket. A socket that must go
// is drained first: what its accept queue holds is accepted before it closes.
//
// Threads: created and bound by the control thread, then used on its worker's thread only.
class Listener final : public std::enable_shared_from_this<Listener>, private PollHandler {
 public:
  // Takes ownership of `fd`, a listening socket.
  Listener(Worker& worker, std::string frontend, int fd, runtime::ConnectionGate& global_gate);
  ~Listener();

  // Opens, binds and listens a socket for `endpoint`, to be served by `worker`.
  static std::shared_ptr<Listener> open(Worker& worker, const std::string& frontend,
                                        const boost::asio::ip::tcp::endpoint& endpoint,
                                        const runtime::BindRuntime& bind,
                                        runtime::ConnectionGate& global_gate,
                                        boost::system::error_code& ec);

  boost::asio::ip::tcp::endpoint localEndpoint() const;
  Worker& worker() { return worker_; }

  // ---- worker thread only ----
  void start();
  // The frontend it accepts for (a bind moved between frontends keeps its socket), and whether
  // its connections start with a PROXY protocol header (`accept-proxy`).
  void setFrontend(std::string frontend, bool accept_proxy) {
    frontend_ = std::move(frontend);
    accept_proxy_ = accept_proxy;
  }
  // listen(2) again with a new backlog; the accept queue is kept.
  void setBacklog(int backlog);
  // Looks at the gates again (the worker took a new snapshot whose limits may be higher).
  void resume();
  // Closes the socket now (the agent stopping): its accept queue is reset.
  void close();
  // Accepts what the accept queue holds, then closes the socket (the bind is removed or must be
  // replaced). Connections that find the gates full wait, held, for a slot.
  void closeAfterDrain();

 private:
  struct Held {
    int fd;
    boost::asio::ip::tcp::endpoint peer;
  };
  struct Admission {
    GateSlot global;
    GateSlot frontend;
  };

  void onEvents(uint32_t events) override;
  // Accepts what the backlog holds, a batch at a time (all of it when draining).
  void acceptSome(bool drain = false);
  // Serves the connections held at the limit, as long as the gates let them in; true when none
  // is left.
  bool serveHeld();
  // Takes a global and a frontend slot; on failure parks the listener on the full gate.
  std::optional<Admission> admit(const runtime::FrontendRuntime& frontend, uint32_t global_max);
  void serve(int fd, const boost::asio::ip::tcp::endpoint& peer,
             const std::shared_ptr<const runtime::Runtime>& runtime,
             const runtime::FrontendRuntime& frontend, Admission admission);
  void backOff();
  void pauseFor(std::chrono::milliseconds wait);
  void closeSocket();

  Worker& worker_;
  std::string frontend_;
  bool accept_proxy_ = false;
  int fd_;
  runtime::ConnectionGate& global_gate_;
  boost::asio::steady_timer retry_timer_;
  bool readable_ = false;     // connections may be waiting in the backlog
  bool backing_off_ = false;  // accept failed for lack of descriptors or memory
  bool continue_posted_ = false;
  std::deque<Held> held_;  // accepted while at maxconn
  bool closed_ = false;    // the socket is closed (held connections may still wait)
  // A drained listener whose held connections still wait keeps itself alive until they are
  // served.
  std::shared_ptr<Listener> self_;
  // Accept failures are warned about at most once per interval, with a count.
  std::chrono::steady_clock::time_point last_warning_{};
  uint64_t failures_since_warning_ = 0;
};

}  // namespace lb::proxy
