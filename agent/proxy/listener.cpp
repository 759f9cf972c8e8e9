#include "agent/proxy/listener.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "agent/proxy/accept_rate.h"
#include "agent/proxy/session.h"
#include "agent/proxy/socket.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// Connections accepted per wake-up before the worker's sessions get a turn.
constexpr int kAcceptBatch = 32;
// A socket about to close accepts all its queue holds (at most this many, against a flood).
constexpr int kDrainLimit = 65536;
// At most one warning per interval about failing accepts.
constexpr std::chrono::seconds kWarningInterval{10};

error_code lastError() {
  return error_code(errno, boost::system::system_category());
}

bool setOption(int fd, int level, int name, int value, error_code& ec) {
  if (::setsockopt(fd, level, name, &value, sizeof value) == 0) return true;
  ec = lastError();
  return false;
}

}  // namespace

Listener::Listener(Worker& worker, std::string frontend, int fd,
                   runtime::ConnectionGate& global_gate)
    : worker_(worker),
      frontend_(std::move(frontend)),
      fd_(fd),
      global_gate_(global_gate),
      retry_timer_(worker.io()) {}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
  for (const Held& held : held_) ::close(held.fd);
}

std::shared_ptr<Listener> Listener::open(Worker& worker, const std::string& frontend,
                                         const tcp::endpoint& endpoint,
                                         const runtime::BindRuntime& bind,
                                         runtime::ConnectionGate& global_gate, error_code& ec) {
  int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    IPPROTO_TCP);
  if (fd < 0) {
    ec = lastError();
    return nullptr;
  }
  auto fail = [&] {
    ::close(fd);
    return nullptr;
  };
  if (!setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, ec)) return fail();
  if (!setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, ec)) return fail();
  // Accepted sockets inherit it: no setsockopt per connection.
  if (!setOption(fd, IPPROTO_TCP, TCP_NODELAY, 1, ec)) return fail();
  if (endpoint.address().is_v6() && (bind.v6only || bind.v4v6)) {
    if (!setOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, bind.v6only ? 1 : 0, ec)) return fail();
  }
  if (!bind.interface.empty()) {
    const std::string& name = bind.interface;
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                     static_cast<socklen_t>(name.size())) != 0) {
      ec = lastError();
      return fail();
    }
  }
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    ec = lastError();
    return fail();
  }
  int backlog = bind.backlog ? static_cast<int>(*bind.backlog) : SOMAXCONN;
  // `tfo`: the queue of pending Fast Open requests is as long as the backlog, as in HAProxy.
  if (bind.tfo && !setOption(fd, IPPROTO_TCP, TCP_FASTOPEN, backlog, ec)) return fail();
  if (::listen(fd, backlog) != 0) {
    ec = lastError();
    return fail();
  }
  auto listener = std::make_shared<Listener>(worker, frontend, fd, global_gate);
  listener->accept_proxy_ = bind.accept_proxy;  // not yet started: no other thread sees it
  return listener;
}

tcp::endpoint Listener::localEndpoint() const {
  return proxy::localEndpoint(fd_);
}

void Listener::start() {
  if (closed_) return;
  // The first event reports connections already in the backlog.
  if (!worker_.poller().add(fd_, this)) {
    spdlog::error("frontend {}: cannot watch its listening socket: {}", frontend_,
                  std::strerror(errno));
  }
}

void Listener::setBacklog(int backlog) {
  if (fd_ >= 0 && ::listen(fd_, backlog) != 0) {
    spdlog::warn("frontend {}: cannot change the backlog to {}: {}", frontend_, backlog,
                 std::strerror(errno));
  }
}

void Listener::closeSocket() {
  if (closed_) return;
  closed_ = true;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  retry_timer_.cancel();
  worker_.poller().retire(shared_from_this());  // an event for it may be in the current batch
}

void Listener::close() {
  closeSocket();
  for (const Held& held : held_) ::close(held.fd);
  held_.clear();
  self_.reset();
}

void Listener::closeAfterDrain() {
  if (closed_) return;
  readable_ = true;
  backing_off_ = false;
  acceptSome(/*drain=*/true);
  closeSocket();
  if (!held_.empty()) self_ = shared_from_this();  // until a slot lets them in
}

void Listener::onEvents(uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) readable_ = true;
  acceptSome();
}

void Listener::acceptSome(bool drain) {
  if (closed_ || backing_off_ || !readable_) return;
  if (!held_.empty() && !drain) return;  // parked: resume() continues
  const auto& runtime = worker_.runtime();
  for (int i = 0; i < (drain ? kDrainLimit : kAcceptBatch); ++i) {
    // `maxconnrate`: past the second's share, pause (a socket being drained takes all).
    const uint32_t rate_limit = runtime && !drain ? runtime->maxconnrate : 0;
    if (rate_limit > 0) {
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now().time_since_epoch());
      auto wait = AcceptRate::process().admit(now, rate_limit);
      if (wait.count() > 0) {
        pauseFor(wait);
        return;
      }
    }
    tcp::endpoint peer;  // filled in by accept4 itself: no getpeername per connection
    socklen_t length = static_cast<socklen_t>(peer.capacity());
    int fd = ::accept4(fd_, peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (rate_limit > 0) AcceptRate::process().giveBack();
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        readable_ = false;
        return;
      }
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO || errno == EPERM) {
        continue;  // that connection went away; others may wait
      }
      backOff();
      return;
    }
    peer.resize(length);
    const runtime::FrontendRuntime* frontend = runtime ? runtime->findFrontend(frontend_) : nullptr;
    if (frontend == nullptr || frontend->disabled) {
      ::close(fd);  // the frontend is going away
      continue;
    }
    if (!held_.empty()) {
      held_.push_back({fd, peer});  // draining behind connections that wait already
      continue;
    }
    auto admission = admit(*frontend, runtime->maxconn);
    if (!admission) {
      held_.push_back({fd, peer});
      if (drain) continue;
      return;  // parked: resume() continues
    }
    serve(fd, peer, runtime, *frontend, std::move(*admission));
  }
  // A full batch: more may wait, and no new event will say so. Continue after the worker's
  // other work.
  if (continue_posted_) return;
  continue_posted_ = true;
  asio::post(worker_.io(), [self = shared_from_this()] {
    self->continue_posted_ = false;
    self->acceptSome();
  });
}

// Out of file descriptors or memory: back off briefly instead of spinning, and say so at most
// once per interval (a flood of identical warnings would only add to the trouble).
void Listener::backOff() {
  int error = errno;
  if (error == EMFILE || error == ENFILE) worker_.pipes().shrink();
  ++failures_since_warning_;
  auto now = std::chrono::steady_clock::now();
  if (now - last_warning_ >= kWarningInterval) {
    spdlog::warn(
        "frontend {}: accept failed: {} ({} time{} in the last {} s); new clients wait "
        "in the backlog",
        frontend_, std::strerror(error), failures_since_warning_,
        failures_since_warning_ == 1 ? "" : "s",
        std::chrono::duration_cast<std::chrono::seconds>(kWarningInterval).count());
    last_warning_ = now;
    failures_since_warning_ = 0;
  }
  backing_off_ = true;
  retry_timer_.expires_after(std::chrono::milliseconds(100));
  retry_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->backing_off_ = false;
    if (!ec) self->acceptSome();
  });
}

// At `maxconnrate`: accept again when the next second starts; meanwhile clients wait in the
// backlog, as with HAProxy's paused listeners.
void Listener::pauseFor(std::chrono::milliseconds wait) {
  backing_off_ = true;
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    self->backing_off_ = false;
    if (!ec) self->acceptSome();
  });
}

std::optional<Listener::Admission> Listener::admit(const runtime::FrontendRuntime& frontend,
                                                   uint32_t global_max) {
  std::weak_ptr<Listener> weak = shared_from_this();
  asio::io_context& io = worker_.io();
  auto wake = [weak, &io] {
    asio::post(io, [weak] {
      if (auto self = weak.lock()) self->resume();
    });
  };
  if (!global_gate_.tryAcquire(global_max)) {
    global_gate_.park(global_max, wake);
    return std::nullopt;
  }
  GateSlot global(global_gate_);
  if (!frontend.state->gate.tryAcquire(frontend.maxconn)) {
    global.reset();
    frontend.state->gate.park(frontend.maxconn, wake);
    return std::nullopt;
  }
  return Admission{std::move(global), GateSlot(frontend.state->gate)};
}

void Listener::serve(int fd, const tcp::endpoint& peer,
                     const std::shared_ptr<const runtime::Runtime>& runtime,
                     const runtime::FrontendRuntime& frontend, Admission admission) {
  auto session =
      std::make_shared<Session>(worker_, fd, peer, runtime, frontend, std::move(admission.global),
                                std::move(admission.frontend), accept_proxy_);
  session->start();
}

bool Listener::serveHeld() {
  const auto& runtime = worker_.runtime();
  while (!held_.empty()) {
    const runtime::FrontendRuntime* frontend = runtime ? runtime->findFrontend(frontend_) : nullptr;
    Held next = held_.front();
    if (frontend == nullptr || frontend->disabled) {
      ::close(next.fd);  // the frontend is gone
      held_.pop_front();
      continue;
    }
    auto admission = admit(*frontend, runtime->maxconn);
    if (!admission) return false;
    held_.pop_front();
    serve(next.fd, next.peer, runtime, *frontend, std::move(*admission));
  }
  return true;
}

void Listener::resume() {
  auto keep = shared_from_this();  // serving may release self_
  if (!serveHeld()) return;
  self_.reset();
  acceptSome();
}

}  // namespace lb::proxy
