#include "agent/proxy/listener.h"

#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include "agent/proxy/session.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

Listener::Listener(Worker& worker, std::string frontend, tcp::acceptor acceptor,
                   runtime::ConnectionGate& global_gate)
    : worker_(worker),
      frontend_(std::move(frontend)),
      acceptor_(std::move(acceptor)),
      global_gate_(global_gate),
      retry_timer_(worker.io()) {}

std::shared_ptr<Listener> Listener::open(Worker& worker, const std::string& frontend,
                                         const tcp::endpoint& endpoint, const lb::v1::Bind& bind,
                                         runtime::ConnectionGate& global_gate, error_code& ec) {
  tcp::acceptor acceptor(worker.io());
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return nullptr;
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  int one = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    ec = error_code(errno, boost::system::system_category());
    return nullptr;
  }
  if (endpoint.address().is_v6() && (bind.v6only() || bind.v4v6())) {
    acceptor.set_option(asio::ip::v6_only(bind.v6only()), ec);
    if (ec) return nullptr;
  }
  if (!bind.interface().empty()) {
    const std::string& name = bind.interface();
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                     static_cast<socklen_t>(name.size())) != 0) {
      ec = error_code(errno, boost::system::system_category());
      return nullptr;
    }
  }
  acceptor.bind(endpoint, ec);
  if (ec) return nullptr;
  acceptor.listen(bind.has_backlog() ? static_cast<int>(bind.backlog())
                                     : asio::socket_base::max_listen_connections,
                  ec);
  if (ec) return nullptr;
  return std::make_shared<Listener>(worker, frontend, std::move(acceptor), global_gate);
}

tcp::endpoint Listener::localEndpoint() const {
  error_code ec;
  return acceptor_.local_endpoint(ec);
}

void Listener::start() {
  accept();
}

void Listener::close() {
  closed_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  held_.reset();
}

void Listener::accept() {
  if (closed_) return;
  acceptor_.async_accept(worker_.io(), peer_,
                         [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                           self->onAccept(ec, std::move(socket));
                         });
}

void Listener::onAccept(const error_code& ec, tcp::socket socket) {
  if (closed_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of file descriptors or memory: back off briefly instead of spinning.
    spdlog::warn("frontend {}: accept failed: {}", frontend_, ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](const error_code& error) {
      if (!error) self->accept();
    });
    return;
  }
  const auto& runtime = worker_.runtime();
  const runtime::FrontendRuntime* frontend = runtime ? runtime->findFrontend(frontend_) : nullptr;
  if (frontend == nullptr || frontend->backend == nullptr) {
    accept();  // the frontend is going away; the socket closes here
    return;
  }
  if (!admit(*frontend, runtime->maxconn)) {
    held_.emplace(std::move(socket));
    held_peer_ = peer_;
    return;  // parked: resume() continues
  }
  serve(std::move(socket), peer_);
  accept();
}

bool Listener::admit(const runtime::FrontendRuntime& frontend, uint32_t global_max) {
  std::weak_ptr<Listener> weak = shared_from_this();
  asio::io_context& io = worker_.io();
  auto wake = [weak, &io] {
    asio::post(io, [weak] {
      if (auto self = weak.lock()) self->resume();
    });
  };
  if (!global_gate_.tryAcquire(global_max)) {
    global_gate_.park(global_max, wake);
    return false;
  }
  if (!frontend.state->gate.tryAcquire(frontend.maxconn)) {
    global_gate_.release();
    frontend.state->gate.park(frontend.maxconn, wake);
    return false;
  }
  return true;
}

void Listener::serve(tcp::socket socket, const tcp::endpoint& peer) {
  auto session =
      std::make_shared<Session>(worker_, std::move(socket), peer, worker_.runtime(),
                                *worker_.runtime()->findFrontend(frontend_), global_gate_);
  session->start();
}

void Listener::resume() {
  if (closed_) return;
  if (held_) {
    const auto& runtime = worker_.runtime();
    const runtime::FrontendRuntime* frontend = runtime->findFrontend(frontend_);
    if (frontend == nullptr || frontend->backend == nullptr) {
      held_.reset();
    } else {
      if (!admit(*frontend, runtime->maxconn)) return;
      tcp::socket socket = std::move(*held_);
      held_.reset();
      serve(std::move(socket), held_peer_);
    }
  }
  accept();
}

}  // namespace lb::proxy
