#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
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
// Threads: created and bound by the control thread, then used on its worker's thread only.
class Listener : public std::enable_shared_from_this<Listener>, private PollHandler {
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

  // Worker thread only.
  void start();
  void close();

 private:
  void onEvents(uint32_t events) override;
  // Accepts what the backlog holds, a batch at a time.
  void acceptSome();
  // Takes a global and a frontend slot; on failure parks the listener on the full gate.
  struct Admission {
    GateSlot global;
    GateSlot frontend;
  };
  std::optional<Admission> admit(const runtime::FrontendRuntime& frontend, uint32_t global_max);
  void serve(int fd, const boost::asio::ip::tcp::endpoint& peer,
             const std::shared_ptr<const runtime::Runtime>& runtime,
             const runtime::FrontendRuntime& frontend, Admission admission);
  void resume();

  Worker& worker_;
  std::string frontend_;
  int fd_;
  runtime::ConnectionGate& global_gate_;
  boost::asio::steady_timer retry_timer_;
  bool readable_ = false;     // connections may be waiting in the backlog
  bool backing_off_ = false;  // accept failed for lack of descriptors or memory
  bool continue_posted_ = false;
  std::optional<int> held_;  // accepted while at maxconn
  boost::asio::ip::tcp::endpoint held_peer_;
  bool closed_ = false;
};

}  // namespace lb::proxy
