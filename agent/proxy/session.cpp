#include "agent/proxy/session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "agent/common/proxy_protocol.h"
#include "agent/proxy/session_rules.h"
#include "agent/proxy/socket.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr Millis kTurnaround{1000};  // HAProxy waits min(1s, timeout connect) between retries

uint64_t addressHash(const tcp::endpoint& endpoint) {
  // FNV-1a over the address bytes: stable across runs, so `balance source` is sticky.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const unsigned char* bytes, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      hash ^= bytes[i];
      hash *= 1099511628211ull;
    }
  };
  if (endpoint.address().is_v4()) {
    auto bytes = endpoint.address().to_v4().to_bytes();
    mix(bytes.data(), bytes.size());
  } else {
    auto bytes = endpoint.address().to_v6().to_bytes();
    mix(bytes.data(), bytes.size());
  }
  return hash;
}

}  // namespace

Session::Session(Worker& worker, int client_fd, const tcp::endpoint& client_endpoint,
                 std::shared_ptr<const runtime::Runtime> runtime,
                 const runtime::FrontendRuntime& frontend, GateSlot global_slot,
                 GateSlot frontend_slot, bool accept_proxy)
    : worker_(worker),
      runtime_(std::move(runtime)),
      frontend_(frontend),
      backend_(frontend.backend),
      relay_(worker.relayPools(), runtime_->bufsize, runtime_->splice, client_, server_),
      timer_(worker.io()),
      client_endpoint_(client_endpoint),
      global_slot_(std::move(global_slot)),
      frontend_slot_(std::move(frontend_slot)),
      accept_proxy_(accept_proxy) {
  client_.session = this;
  client_.fd = client_fd;
  client_.client = true;
  server_.session = this;
}

Session::~Session() {
  closeSide(client_);
  closeSide(server_);
}

// ---- transitions ----

void Session::start() {
  worker_.add(shared_from_this());
  accepted_wall_ = std::chrono::system_clock::now();
  accepted_ = now();
  frontend_.state->total.fetch_add(1, std::memory_order_relaxed);
  // TCP_NODELAY comes from the listening socket (accepted sockets inherit it).
  if (!worker_.poller().add(client_.fd, &client_)) {
    spdlog::error("frontend {}: cannot watch a client connection: {}", frontend_.name,
                  std::strerror(errno));
    finish('R', 'C');
    return;
  }
  if (frontend_.tcpka) {
    int one = 1;
    ::setsockopt(client_.fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  }
  if (frontend_.smart_accept) {
    // The ACK of the client's first bytes waits (the delayed-ACK timeout) to ride on the answer.
    int zero = 0;
    ::setsockopt(client_.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  }
  if (frontend_.rules && !runConnectionRules()) return;
  if (accept_proxy_) {
    phase_ = Phase::kProxyHeader;
    phase_start_ = accepted_;
    armTimer();
    readProxyHeader();
    return;
  }
  proceed();
}

void Session::proceed() {
  if (frontend_.rules || (backend_ != nullptr && backend_->rules)) {
    inspect();
    return;
  }
  route();
}

void Session::route() {
  if (backend_ == nullptr) {
    finish('P', 'C');
    return;
  }
  // What the client sent with its connection is read now, to go with the connect. A client
  // that is already gone (reset) gets no server connection (HAProxy's CR).
  if (relay_.readEarly() == Relay::EarlyRead::kError) {
    finish('C', 'R');
    return;
  }
  backend_slot_.take(*backend_->state);
  assign(std::nullopt);
}

void Session::abort() {
  finish('K', phase_ == Phase::kRelay ? 'D' : 'C');
}

const runtime::ServerState* Session::serverState() const {
  auto index = server_slot_.index();
  return index ? backend_->servers[*index].state.get() : nullptr;
}

void Session::onEvents(Side& side, uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) side.readable = true;
  if (events & EPOLLRDHUP) side.peer_fin = true;
  switch (phase_) {
    case Phase::kConnect:
      if (side.client) return;  // what the client sends waits in its socket (readable says so)
      if (events & (EPOLLERR | EPOLLHUP)) {
        onConnectFailed(false);
      } else if (events & EPOLLOUT) {
        onConnected();
      }
      return;
    case Phase::kRelay:
      onRelayStep(relay_.onEvents(side.client, events, now()));
      return;
    case Phase::kProxyHeader:
      if (side.client && side.readable) readProxyHeader();
      return;
    case Phase::kInspect:
      if (side.client && side.readable) inspect();
      return;
    default:
      return;
  }
}

// Picks a server; with every usable one full, waits in the backend's queue; with none usable,
// closes the client (<NOSRV>).
void Session::assign(std::optional<size_t> avoid) {
  switch (assignServer(avoid)) {
    case Assign::kOk:
      connect();
      return;
    case Assign::kFull:
      enqueue();
      return;
    case Assign::kNoServer:
      backend_->state->no_server.fetch_add(1, std::memory_order_relaxed);
      finish('S', 'C');
      return;
  }
}

Session::Assign Session::assignServer(std::optional<size_t> avoid) {
  if (rules_ && !avoid) {
    if (auto picked = pickByRules()) {
      server_slot_.take(*backend_, *picked, true);
      last_server_ = picked;
      return Assign::kOk;
    }
  }
  balance::PickRequest request{addressHash(client_endpoint_), &worker_.random()};
  auto index = backend_->balancer->pick(*backend_, request);
  if (index && avoid && *index == *avoid) {
    // Redispatch: another server if there is one.
    if (auto other = backend_->balancer->pick(*backend_, request)) index = other;
  }
  if (!index) return anyUsableServerFull() ? Assign::kFull : Assign::kNoServer;
  server_slot_.take(*backend_, *index, true);
  last_server_ = index;
  return Assign::kOk;
}

void Session::enqueue() {
  if (!isSet(queue_start_)) queue_start_ = now();
  phase_ = Phase::kQueue;
  waiter_ = std::make_shared<runtime::QueuedConnection>();
  // The releasing thread only posts; the weak pointer is locked on this session's worker. A
  // wake-up this session cannot use any more is passed on to the next waiter.
  waiter_->wake = [weak = weak_from_this(), &io = worker_.io(), backend = backend_->state] {
    asio::post(io, [weak, backend] {
      auto self = weak.lock();
      if (!self || !self->onQueueWake()) backend->slotReleased();
    });
  };
  if (!backend_->state->enqueue(waiter_, backend_->queue_limit)) {
    waiter_.reset();
    finish('P', 'Q');  // the queue is full
    return;
  }
  // A slot may have been freed between the failed pick and the enqueue, with nobody left to
  // wake this session: try once more now that it is in the queue.
  if (assignServer(std::nullopt) == Assign::kOk) {
    backend_->state->remove(waiter_);
    waiter_.reset();
    connect();
    return;
  }
  armTimer();
}

bool Session::onQueueWake() {
  if (closed_ || phase_ != Phase::kQueue) return false;
  waiter_.reset();
  assign(std::nullopt);
  return true;
}

void Session::connect() {
  auto at = now();
  if (isSet(queue_start_) && !isSet(queue_end_)) queue_end_ = at;
  phase_ = Phase::kConnect;
  phase_start_ = at;
  const auto& server = backend_->servers[*server_slot_.index()];
  tcp::endpoint endpoint = server.endpoint;
  if (endpoint.port() == 0 || server.send_proxy != common::ProxyVersion::kNone) {
    // What the client connected to (as the tier in front said, with accept-proxy).
    const tcp::endpoint destination =
        proxied_destination_ ? *proxied_destination_ : localEndpoint(client_.fd);
    // `server name addr` without a port: the port the client connected to.
    if (endpoint.port() == 0) {
      endpoint.port(static_cast<uint16_t>(destination.port() + server.port_offset));
    }
    relay_.setPreamble(common::proxyHeader(server.send_proxy, client_endpoint_, destination));
  } else {
    relay_.setPreamble({});
  }
  closeSide(server_);
  server_.readable = server_.peer_fin = false;
  server_.fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        IPPROTO_TCP);
  if (server_.fd < 0) {
    // Out of descriptors or memory here: not the server's fault, so no connect error and no
    // passive-check error against it; the client is closed (HAProxy's 'R' termination).
    if (errno == EMFILE || errno == ENFILE) worker_.pipes().shrink();
    server_slot_.reset();
    finish('R', 'C');
    return;
  }
  int one = 1;
  ::setsockopt(server_.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (backend_->tcpka) ::setsockopt(server_.fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (backend_->smart_connect && relay_.hasEarlyBytes()) {
    // Data is in hand and goes right after connect(): the kernel may keep the handshake's last
    // ACK and send it with the data, one packet fewer (HAProxy's tcp-smart-connect, but only
    // when it cannot delay anything).
    int zero = 0;
    ::setsockopt(server_.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  }
  armTimer();
  if (::connect(server_.fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 &&
      errno != EINPROGRESS) {
    onConnectFailed(false);  // refused at once, no route, ...
    return;
  }
  // Added only now: an unconnected socket reads as writable, which would look like a connect.
  // The first event reports the connect's outcome even if it has already happened.
  if (!worker_.poller().add(server_.fd, &server_)) {
    spdlog::error("cannot watch a connection to server {}/{}: {}", backend_->name, server.name,
                  std::strerror(errno));
    onConnectFailed(false);
    return;
  }
  // On loopback and a fast LAN the handshake is over by now: the bytes read early go at once.
  switch (relay_.sendEarly()) {
    case Relay::EarlySend::kSent:
      onConnected();
      return;
    case Relay::EarlySend::kFailed:
      onConnectFailed(false);  // refused, unreachable, reset
      return;
    case Relay::EarlySend::kNothing:
    case Relay::EarlySend::kWouldBlock:
      return;  // EPOLLOUT will say when connected
  }
}

void Session::onConnected() {
  auto& state = *backend_->servers[*server_slot_.index()].state;
  if (state.consecutive_errors.load(std::memory_order_relaxed) != 0) {
    state.consecutive_errors.store(0, std::memory_order_relaxed);  // passive checks: a success
  }
  connected_ = now();
  if (rules_) storeStickiness(*server_slot_.index());
  phase_ = Phase::kRelay;
  onRelayStep(relay_.start(connected_));
}

void Session::onConnectFailed(bool timed_out) {
  size_t failed = *server_slot_.index();
  auto& state = *backend_->servers[failed].state;
  state.connect_errors.fetch_add(1, std::memory_order_relaxed);
  avoid_last_server_ = observeConnectError(failed, timed_out);
  closeSide(server_);
  server_slot_.reset();
  if (retries_done_ >= backend_->retries) {
    finish(timed_out ? 's' : 'S', 'C');
    return;
  }
  ++retries_done_;
  state.retries.fetch_add(1, std::memory_order_relaxed);
  redispatch_next_ = backend_->redispatch && retries_done_ == backend_->retries;
  Millis delay{0};
  if (!timed_out) delay = std::min(kTurnaround, backend_->timeout_connect.value_or(kTurnaround));
  if (delay.count() == 0) {
    retry();
    return;
  }
  phase_ = Phase::kTurnaround;
  turnaround_until_ = now() + delay;
  armTimer();
}

void Session::retry() {
  // A server that went down, into maintenance or drain since (or because of) this failure gets
  // no new connection: the retry goes to another server.
  if (redispatch_next_ || avoid_last_server_ || !backend_->usable(*last_server_)) {
    redispatched_ = true;
    backend_->servers[*last_server_].state->redispatches.fetch_add(1, std::memory_order_relaxed);
    assign(last_server_);
    return;
  }
  server_slot_.take(*backend_, *last_server_, false);
  connect();
}

void Session::onRelayStep(const Relay::Step& step) {
  accountBytes();
  switch (step.end) {
    case Relay::End::kRunning:
      break;
    case Relay::End::kClosed:
      finish('-', '-');  // closing the sockets sends the last FIN, after the accounting
      return;
    case Relay::End::kReadError:
    case Relay::End::kWriteError:
      finish(step.client_culprit ? 'C' : 'S', 'D');
      return;
  }
  if (step.rearm) armTimer();
  // More may be waiting in a direction that yielded, and no new event will say so: continue
  // after the worker's other work.
  for (auto [yield, dir] :
       {std::pair{step.yield_up, Relay::Dir::kUp}, std::pair{step.yield_down, Relay::Dir::kDown}}) {
    if (!yield) continue;
    asio::post(worker_.io(), [self = shared_from_this(), dir = dir] {
      if (!self->closed_) self->onRelayStep(self->relay_.pump(dir, self->now()));
    });
  }
}

void Session::finish(char who, char phase) {
  if (closed_) return;
  closed_ = true;
  phase_ = Phase::kClosed;
  termination_[0] = who;
  termination_[1] = phase;
  if (who == 'P') frontend_.state->rejected.fetch_add(1, std::memory_order_relaxed);
  timer_.cancel();
  if (waiter_) {
    backend_->state->remove(waiter_);
    waiter_.reset();
  }
  accountBytes();
  if (!unlogged_) log();
  if (rules_) {
    rules_->tracked.setBytes(relay_.bytes(Relay::Dir::kUp), relay_.bytes(Relay::Dir::kDown));
  }
  // The sockets close after the counts are given back: a client that reconnects as soon as it
  // sees the close is balanced on up-to-date counts (leastconn, first, maxconn).
  server_slot_.reset();
  backend_slot_.reset();
  closeSide(client_);
  closeSide(server_);
  relay_.release();
  frontend_slot_.reset();
  global_slot_.reset();
  rules_.reset();  // tracked stick-table entries are given back (conn_cur, bytes)
  worker_.remove(this);
}

// ---- helpers ----

bool Session::anyUsableServerFull() const {
  for (size_t i = 0; i < backend_->size(); ++i) {
    if (backend_->usable(i) && backend_->full(i)) return true;
  }
  return false;
}

void Session::closeSide(Side& side) {
  if (side.fd < 0) return;
  ::close(side.fd);  // also leaves the Poller's set
  side.fd = -1;
}

}  // namespace lb::proxy
