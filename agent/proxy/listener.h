#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>

#include "agent/proxy/worker.h"
#include "agent/runtime/server_state.h"

namespace lb::proxy {

// One listening socket of one frontend bind on one worker (every worker has its own socket on
// the same address, with SO_REUSEPORT, so the kernel spreads connections without a lock).
// At `maxconn` (global or frontend) it stops accepting and parks itself until a connection
// ends, as HAProxy does: new clients wait in the kernel's backlog instead of being refused.
//
// Threads: created and bound by the control thread, then used on its worker's thread only.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(Worker& worker, std::string frontend, boost::asio::ip::tcp::acceptor acceptor,
           runtime::ConnectionGate& global_gate);

  // Opens, binds and listens a socket for `endpoint` on `worker`'s io_context.
  static std::shared_ptr<Listener> open(Worker& worker, const std::string& frontend,
                                        const boost::asio::ip::tcp::endpoint& endpoint,
                                        const lb::v1::Bind& bind,
                                        runtime::ConnectionGate& global_gate,
                                        boost::system::error_code& ec);

  boost::asio::ip::tcp::endpoint localEndpoint() const;
  Worker& worker() { return worker_; }

  // Worker thread only.
  void start();
  void close();

 private:
  void accept();
  void onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  // Takes a global and a frontend slot; on failure parks the listener on the full gate.
  bool admit(const runtime::FrontendRuntime& frontend, uint32_t global_max);
  void serve(boost::asio::ip::tcp::socket socket, const boost::asio::ip::tcp::endpoint& peer);
  void resume();

  Worker& worker_;
  std::string frontend_;
  boost::asio::ip::tcp::acceptor acceptor_;
  runtime::ConnectionGate& global_gate_;
  boost::asio::steady_timer retry_timer_;
  // The client's address, filled in by accept(2) itself: no getpeername per connection.
  boost::asio::ip::tcp::endpoint peer_;
  std::optional<boost::asio::ip::tcp::socket> held_;  // accepted while at maxconn
  boost::asio::ip::tcp::endpoint held_peer_;
  bool closed_ = false;
};

}  // namespace lb::proxy
