#include "agent/proxy/session.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "agent/proxy/socket.h"
#include "agent/proxy/tcp_log.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Millis = std::chrono::milliseconds;

namespace {

constexpr Millis kTurnaround{1000};  // HAProxy waits min(1s, timeout connect) between retries
// Reads relayed in one go before a busy direction lets the worker's other sessions run.
constexpr int kBurst = 16;
// Bytes moved per splice(2): a pipe's default capacity (16 pages).
constexpr size_t kSpliceChunk = 64 * 1024;

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

long millisBetween(Session::Clock::time_point from, Session::Clock::time_point to) {
  return static_cast<long>(std::chrono::duration_cast<Millis>(to - from).count());
}

}  // namespace

Session::Session(Worker& worker, int client_fd, const tcp::endpoint& client_endpoint,
                 std::shared_ptr<const runtime::Runtime> runtime,
                 const runtime::FrontendRuntime& frontend, runtime::ConnectionGate& global_gate)
    : worker_(worker),
      runtime_(std::move(runtime)),
      frontend_(frontend),
      backend_(frontend.backend),
      global_gate_(global_gate),
      timer_(worker.io()),
      client_endpoint_(client_endpoint) {
  client_.session = this;
  client_.fd = client_fd;
  client_.client = true;
  server_.session = this;
  size_t size = runtime_->bufsize;
  up_ = Direction{&client_, &server_, nullptr, size, true};
  down_ = Direction{&server_, &client_, nullptr, size, false};
}

Session::~Session() {
  closeSide(client_);
  closeSide(server_);
  // A session that ended through finish() gave its pipes back; one destroyed with its worker
  // (the agent stopping) still holds them.
  worker_.pipes().release(up_.pipe, false);
  worker_.pipes().release(down_.pipe, false);
}

void Session::start() {
  worker_.add(shared_from_this());
  accepted_wall_ = std::chrono::system_clock::now();
  accepted_ = Clock::now();
  frontend_.state->total.fetch_add(1, std::memory_order_relaxed);
  // TCP_NODELAY comes from the listening socket (accepted sockets inherit it).
  if (!worker_.poller().add(client_.fd, &client_)) {
    spdlog::error("frontend {}: cannot watch a client connection: {}", frontend_.name,
                  std::strerror(errno));
    finish('R', 'C');
    return;
  }
  if (frontend_.smart_accept) {
    // The ACK of the client's first bytes waits (the delayed-ACK timeout) to ride on the answer.
    int zero = 0;
    ::setsockopt(client_.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  }
  if (backend_ == nullptr) {
    finish('P', 'C');
    return;
  }
  counted_in_backend_ = true;
  backend_->state->active.fetch_add(1, std::memory_order_relaxed);
  backend_->state->total.fetch_add(1, std::memory_order_relaxed);
  pickServer(std::nullopt);
}

void Session::abort() {
  finish('K', phase_ == Phase::kData ? 'D' : 'C');
}

const runtime::ServerState* Session::serverState() const {
  if (!server_index_) return nullptr;
  return backend_->servers[*server_index_].state.get();
}

void Session::onEvents(Side& side, uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) side.readable = true;
  if (events & EPOLLRDHUP) side.peer_fin = true;
  if (!side.client && phase_ == Phase::kConnect) {
    if (events & (EPOLLERR | EPOLLHUP)) {
      connectFailed(false);
    } else if (events & EPOLLOUT) {
      onConnected();
    }
    return;
  }
  // Before the relay starts, what the client sends waits in its socket (readable says so).
  if (phase_ != Phase::kData) return;
  // The direction that writes to this socket finishes its chunk, then reads on.
  Direction& to_side = side.client ? down_ : up_;
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && to_side.writing) {
    if (writeRest(to_side)) pump(to_side);
    if (closed_) return;
  }
  Direction& from_side = side.client ? up_ : down_;
  if (side.readable && !from_side.writing && !from_side.done) pump(from_side);
}

bool Session::anyServerFullOnly() const {
  for (size_t i = 0; i < backend_->size(); ++i) {
    if (backend_->usable(i) && backend_->full(i)) return true;
  }
  return false;
}

void Session::pickServer(std::optional<size_t> avoid) {
  balance::PickRequest request{addressHash(client_endpoint_), &worker_.random()};
  auto index = backend_->balancer->pick(*backend_, request);
  if (index && avoid && *index == *avoid) {
    // Redispatch: another server if there is one.
    if (auto other = backend_->balancer->pick(*backend_, request)) index = other;
  }
  if (!index) {
    if (anyServerFullOnly()) {
      enqueue();
      return;
    }
    backend_->state->no_server.fetch_add(1, std::memory_order_relaxed);
    finish('S', 'C');
    return;
  }
  server_index_ = index;
  last_server_ = index;
  auto& state = *backend_->servers[*index].state;
  state.active.fetch_add(1, std::memory_order_relaxed);
  state.total.fetch_add(1, std::memory_order_relaxed);
  connect();
}

void Session::enqueue() {
  if (!queue_start_) queue_start_ = Clock::now();
  phase_ = Phase::kQueue;
  waiter_ = std::make_shared<runtime::QueuedConnection>();
  std::weak_ptr<Session> weak = shared_from_this();
  asio::io_context& io = worker_.io();
  waiter_->wake = [weak, &io] {
    auto self = weak.lock();
    if (!self || self->closed_.load(std::memory_order_acquire)) return false;
    asio::post(io, [self] { self->onWake(); });
    return true;
  };
  if (!backend_->state->enqueue(waiter_, backend_->queue_limit)) {
    waiter_.reset();
    finish('P', 'Q');  // the queue is full
    return;
  }
  // A slot may have been freed between the failed pick and the enqueue.
  for (size_t i = 0; i < backend_->size(); ++i) {
    if (backend_->usable(i) && !backend_->full(i)) {
      backend_->state->remove(waiter_);
      waiter_.reset();
      pickServer(std::nullopt);
      return;
    }
  }
  armTimer();
}

void Session::onWake() {
  if (closed_ || phase_ != Phase::kQueue) return;
  waiter_.reset();
  pickServer(std::nullopt);
}

void Session::connect() {
  auto now = Clock::now();
  if (queue_start_ && !queue_end_) queue_end_ = now;
  phase_ = Phase::kConnect;
  phase_start_ = now;
  const auto& server = backend_->servers[*server_index_];
  tcp::endpoint endpoint = server.endpoint;
  if (endpoint.port() == 0) {
    // `server name addr` without a port: the port the client connected to.
    endpoint.port(localEndpoint(client_.fd).port());
  }
  closeSide(server_);
  server_.readable = server_.peer_fin = false;
  server_.fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        IPPROTO_TCP);
  if (server_.fd < 0) {
    spdlog::error("cannot open a socket to server {}/{}: {}", backend_->name, server.name,
                  std::strerror(errno));
    connectFailed(false);
    return;
  }
  int one = 1;
  ::setsockopt(server_.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!read_early_ && !up_.done) readEarly();
  if (backend_->smart_connect && up_.writing && up_.pending_size > 0) {
    // Data is in hand and goes right after connect(): the kernel may keep the handshake's last
    // ACK and send it with the data, one packet fewer (HAProxy's tcp-smart-connect, but only
    // when it cannot delay anything).
    int zero = 0;
    ::setsockopt(server_.fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
  }
  armTimer();
  if (::connect(server_.fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 &&
      errno != EINPROGRESS) {
    connectFailed(false);  // refused at once, no route, ...
    return;
  }
  // Added only now: an unconnected socket reads as writable, which would look like a connect.
  // The first event (EPOLLOUT, or EPOLLERR | EPOLLHUP) says how the connect went; on loopback
  // it has already happened.
  if (!worker_.poller().add(server_.fd, &server_)) {
    spdlog::error("cannot watch a connection to server {}/{}: {}", backend_->name, server.name,
                  std::strerror(errno));
    connectFailed(false);
    return;
  }
  sendEarly();
}

void Session::onConnected() {
  auto& state = *backend_->servers[*server_index_].state;
  if (state.consecutive_errors.load(std::memory_order_relaxed) != 0) {
    state.consecutive_errors.store(0, std::memory_order_relaxed);  // passive checks: a success
  }
  connected_ = Clock::now();
  phase_ = Phase::kData;
  startRelay();
}

void Session::connectFailed(bool timed_out) {
  size_t failed = *server_index_;
  const auto& server = backend_->servers[failed];
  auto& state = *server.state;
  state.connect_errors.fetch_add(1, std::memory_order_relaxed);
  // Passive checks (observe layer4): count consecutive failures of live traffic; the session
  // whose failure reaches error-limit reports it, and does not retry that server.
  avoid_last_server_ = false;
  if (server.config.observe() == lb::v1::Server::LAYER4 && runtime_->observer != nullptr) {
    uint32_t errors = state.consecutive_errors.fetch_add(1, std::memory_order_relaxed) + 1;
    if (errors >= server.config.error_limit()) {
      avoid_last_server_ = true;
      uint32_t expected = errors;
      if (state.consecutive_errors.compare_exchange_strong(expected, 0)) {
        runtime_->observer->reportErrorLimit(
            server.state, errors, timed_out ? "L4 timeout" : "L4 unsuccessful connection");
      }
    }
  }
  closeSide(server_);
  releaseServer();
  if (retries_done_ >= backend_->retries) {
    finish(timed_out ? 's' : 'S', 'C');
    return;
  }
  ++retries_done_;
  state.retries.fetch_add(1, std::memory_order_relaxed);
  redispatch_next_ = backend_->redispatch && retries_done_ == backend_->retries;
  last_server_ = failed;
  Millis delay{0};
  if (!timed_out) delay = std::min(kTurnaround, backend_->timeout_connect.value_or(kTurnaround));
  if (delay.count() == 0) {
    retryNow();
    return;
  }
  phase_ = Phase::kTurnaround;
  turnaround_until_ = Clock::now() + delay;
  armTimer();
}

void Session::retryNow() {
  // A server that went down, into maintenance or drain since (or because of) this failure gets
  // no new connection: the retry goes to another server.
  if (redispatch_next_ || avoid_last_server_ || !backend_->usable(*last_server_)) {
    redispatched_ = true;
    backend_->servers[*last_server_].state->redispatches.fetch_add(1, std::memory_order_relaxed);
    pickServer(last_server_);
    return;
  }
  server_index_ = last_server_;
  backend_->servers[*server_index_].state->active.fetch_add(1, std::memory_order_relaxed);
  connect();
}

void Session::startRelay() {
  last_client_io_ = last_server_io_ = Clock::now();
  armTimer();
  // First what was read while connecting, then what arrived meanwhile (a client's request, a
  // server's banner), which events have announced already.
  if (!up_.writing || writeRest(up_)) {
    if (!closed_ && !up_.done && !up_.writing) pump(up_);
  }
  if (!closed_ && !down_.done) pump(down_);
}

// Before the first connect: the client's first bytes are usually there already (a request
// arrives with its connection), so one read takes them, to be sent as soon as the connect
// returns instead of after the next round of events (HAProxy does the same). The chunk is
// held until a server takes it, across retries. A client that closed already has its FIN
// passed on once connected: a shutdown now would abort the connect.
void Session::readEarly() {
  read_early_ = true;
  ssize_t n = readChunk(up_);
  if (n < 0) {
    releaseBuffer(up_);
    if (errno != EAGAIN && errno != EWOULDBLOCK) client_.readable = true;  // the error waits
    return;
  }
  up_.writing = true;  // held until a server takes it
  if (n == 0) {
    up_.eof_after_write = true;
    releaseBuffer(up_);
  }
}

// Right after connect(): on loopback and on a fast LAN the handshake is over by now, and the
// held chunk goes at once (carrying the handshake's last ACK, see connect()). A send that finds
// the socket still connecting leaves it for EPOLLOUT; one that fails is a failed connect, and
// the chunk waits for the retry.
void Session::sendEarly() {
  if (!up_.writing || up_.pending_size == 0) return;  // EPOLLOUT will say when connected
  if (writeChunk(up_) < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // still connecting
    // Refused, unreachable, reset.
    connectFailed(false);
    return;
  }
  onConnected();
}

// Relays what `from` has until a read finds no more (then waits for the next event), a write
// would block (then waits for EPOLLOUT on `to`) or a burst is done (then yields to the
// worker's other sessions).
void Session::pump(Direction& d) {
  for (int burst = 0; burst < kBurst; ++burst) {
    if (!d.from->readable) {
      releaseBuffer(d);  // idle: no buffer held while waiting (one may be left from readEarly)
      return;
    }
    ssize_t n = readChunk(d);
    if (n < 0) {
      releaseBuffer(d);
      if (errno != EAGAIN && errno != EWOULDBLOCK) onReadError(d);
      return;
    }
    if (n == 0) {
      releaseBuffer(d);
      onReadEnd(d);
      return;
    }
    bool drained = !d.from->readable || d.eof_after_write;
    touch(d.from_client);
    // A write starts the receiving side's write timeout, as in HAProxy; after that side's own
    // FIN this is the only timeout it has, which may be earlier than the timer.
    touch(!d.from_client);
    if ((d.from_client ? down_ : up_).done) armTimer();
    if (!writeRest(d)) return;
    if (drained) {
      releaseBuffer(d);
      return;
    }
    if (!d.splicing && runtime_->splice) {
      d.splicing = true;  // a full buffer: more is coming, let the kernel move it
      releaseBuffer(d);
    }
  }
  releaseBuffer(d);
  // More may be waiting, but no new event will say so: continue from the queue.
  asio::post(worker_.io(), [self = shared_from_this(), &d] {
    if (!self->closed_ && !d.writing && !d.done) self->pump(d);
  });
}

ssize_t Session::readChunk(Direction& d) {
  if (d.splicing && !d.pipe.valid()) {
    d.pipe = worker_.pipes().acquire();
    if (!d.pipe.valid()) d.splicing = false;  // no descriptor for a pipe: copy instead
  }
  size_t want = d.splicing ? kSpliceChunk : d.size;
  if (!d.splicing && d.buffer == nullptr) d.buffer = worker_.buffers().acquire(d.size);
  ssize_t n;
  do {
    n = d.splicing ? ::splice(d.from->fd, nullptr, d.pipe.write_end, nullptr, want,
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
                   : ::recv(d.from->fd, d.buffer.get(), want, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) d.from->readable = false;
    return n;
  }
  if (n == 0) return 0;
  // A short read emptied the socket. If the peer's FIN had arrived before it, the FIN is next,
  // and no event will say so again: it is passed on after this chunk.
  if (static_cast<size_t>(n) == want) {
    d.from->readable = true;  // more may be waiting
  } else if (d.from->peer_fin) {
    d.eof_after_write = true;
  } else {
    d.from->readable = false;
  }
  d.bytes += static_cast<uint64_t>(n);
  d.pending_offset = 0;
  d.pending_size = static_cast<size_t>(n);
  return n;
}

// When the source's FIN is known to follow this chunk, the chunk goes "more to come" and the
// shutdown right after it puts the FIN in the same segment (HAProxy does the same): an answer
// followed by the server's close reaches the client as one segment, acknowledged once.
ssize_t Session::writeChunk(Direction& d) {
  const bool fin_next = d.eof_after_write;
  ssize_t written;
  do {
    written = d.pipe.valid()
                  ? ::splice(d.pipe.read_end, nullptr, d.to->fd, nullptr, d.pending_size,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (fin_next ? SPLICE_F_MORE : 0))
                  : ::send(d.to->fd, d.buffer.get() + d.pending_offset, d.pending_size,
                           MSG_NOSIGNAL | MSG_DONTWAIT | (fin_next ? MSG_MORE : 0));
  } while (written < 0 && errno == EINTR);
  if (written > 0) {
    d.pending_offset += static_cast<size_t>(written);
    d.pending_size -= static_cast<size_t>(written);
  }
  return written;
}

bool Session::writeRest(Direction& d) {
  while (d.pending_size > 0) {
    if (writeChunk(d) < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        d.writing = true;  // the rest goes when `to` reports EPOLLOUT
        return false;
      }
      onWriteError(d);
      return false;
    }
  }
  if (d.writing) {
    d.writing = false;
    touch(!d.from_client);
  }
  if (d.eof_after_write) {
    d.eof_after_write = false;
    releaseBuffer(d);
    onReadEnd(d);
    return false;  // the direction is done
  }
  return true;
}

void Session::onReadEnd(Direction& d) {
  // A FIN: everything read so far has been written; pass the FIN on and keep relaying the
  // other direction.
  d.done = true;
  if (up_.done && down_.done) {
    finish('-', '-');  // closing `to` sends its FIN, after the server slot is given back
    return;
  }
  touch(d.from_client);
  // client-fin / server-fin count from the FIN passed on, as HAProxy's do.
  if (d.from_client ? backend_->timeout_server_fin : frontend_.timeout_client_fin) {
    touch(!d.from_client);
  }
  ::shutdown(d.to->fd, SHUT_WR);
  armTimer();  // client-fin / server-fin may apply from now on
}

void Session::onReadError(Direction& d) {
  // A reset (or another error) on one side is passed on as a reset of the other.
  reset(*d.to);
  finish(d.from_client ? 'C' : 'S', 'D');
}

void Session::onWriteError(Direction& d) {
  releaseBuffer(d);
  reset(*d.from);
  finish(d.from_client ? 'S' : 'C', 'D');
}

void Session::releaseBuffer(Direction& d) {
  worker_.buffers().release(std::move(d.buffer), d.size);
  worker_.pipes().release(d.pipe, d.pending_size == 0);
}

void Session::touch(bool client_side) {
  (client_side ? last_client_io_ : last_server_io_) = Clock::now();
}

std::optional<Session::Clock::time_point> Session::deadline() const {
  switch (phase_) {
    case Phase::kQueue:
      if (!backend_->timeout_queue) return std::nullopt;
      return *queue_start_ + *backend_->timeout_queue;
    case Phase::kConnect:
      if (!backend_->timeout_connect) return std::nullopt;
      return phase_start_ + *backend_->timeout_connect;
    case Phase::kTurnaround:
      return turnaround_until_;
    case Phase::kData: {
      auto client = sideDeadline(true);
      auto server = sideDeadline(false);
      if (client && server) return std::min(*client, *server);
      return client ? client : server;
    }
    case Phase::kClosed:
      return std::nullopt;
  }
  return std::nullopt;
}

// HAProxy's rules for one side of an established session: its inactivity timeout (`timeout
// tunnel` replaces client and server) runs while something is expected from that side (it has
// not sent its FIN) or a write to it is in progress. Once the other side's FIN was passed on to
// it, `timeout client-fin` / `server-fin` replaces it (in tunnel mode, also for writes after its
// own FIN).
std::optional<Session::Clock::time_point> Session::sideDeadline(bool client_side) const {
  const Direction& sends = client_side ? up_ : down_;
  const Direction& receives = client_side ? down_ : up_;
  if (sends.done && !receives.writing) return std::nullopt;
  const auto& tunnel = backend_->timeout_tunnel;
  auto timeout = client_side ? frontend_.timeout_client : backend_->timeout_server;
  if (tunnel) timeout = tunnel;
  const auto& fin = client_side ? frontend_.timeout_client_fin : backend_->timeout_server_fin;
  if (fin && (receives.done || (tunnel && sends.done))) timeout = fin;
  if (!timeout) return std::nullopt;
  return (client_side ? last_client_io_ : last_server_io_) + *timeout;
}

void Session::armTimer() {
  auto at = deadline();
  if (!at || (armed_at_ && *armed_at_ <= *at)) return;
  armed_at_ = at;
  timer_.expires_at(*at);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->onTimer(ec); });
}

void Session::onTimer(const error_code& ec) {
  if (ec || closed_) return;
  auto at = deadline();
  armed_at_.reset();
  if (!at) return;
  auto now = Clock::now();
  if (now < *at) {
    armTimer();
    return;
  }
  switch (phase_) {
    case Phase::kQueue:
      finish('s', 'Q');
      return;
    case Phase::kConnect:
      connectFailed(true);
      return;
    case Phase::kTurnaround:
      retryNow();
      return;
    case Phase::kData: {
      // Which side was idle too long: the one whose own deadline has passed.
      auto client = sideDeadline(true);
      finish(client && *client <= now ? 'c' : 's', 'D');
      return;
    }
    case Phase::kClosed:
      return;
  }
}

void Session::releaseServer() {
  if (!server_index_) return;
  backend_->servers[*server_index_].state->active.fetch_sub(1, std::memory_order_relaxed);
  server_index_.reset();
  backend_->state->slotReleased();
}

void Session::closeSide(Side& side) {
  if (side.fd < 0) return;
  ::close(side.fd);  // also leaves the Poller's set
  side.fd = -1;
}

void Session::reset(Side& side) {
  if (side.fd < 0) return;
  linger option{1, 0};
  ::setsockopt(side.fd, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  closeSide(side);
}

void Session::finish(char who, char phase) {
  if (closed_.exchange(true)) return;
  Phase was = phase_;
  phase_ = Phase::kClosed;
  termination_[0] = who;
  termination_[1] = phase;
  timer_.cancel();
  if (waiter_) {
    backend_->state->remove(waiter_);
    waiter_.reset();
  }
  if (last_server_) {
    auto& state = *backend_->servers[*last_server_].state;
    state.bytes_in.fetch_add(up_.bytes, std::memory_order_relaxed);
    state.bytes_out.fetch_add(down_.bytes, std::memory_order_relaxed);
  }
  log();
  releaseServer();
  // A woken session that ends before using its wake-up passes it on.
  if (was == Phase::kQueue) backend_->state->slotReleased();
  if (counted_in_backend_) backend_->state->active.fetch_sub(1, std::memory_order_relaxed);
  // The sockets close after the counts are given back: a client that reconnects as soon as it
  // sees the close is balanced on up-to-date counts (leastconn, first, maxconn).
  closeSide(client_);
  closeSide(server_);
  releaseBuffer(up_);
  releaseBuffer(down_);
  frontend_.state->gate.release();
  global_gate_.release();
  worker_.remove(this);
}

void Session::log() {
  if (!frontend_.tcplog) return;
  if (frontend_.dontlognull && up_.bytes == 0 && down_.bytes == 0) return;
  auto now = Clock::now();
  TcpLogRecord r;
  r.client = client_endpoint_;
  r.accepted = accepted_wall_;
  r.frontend = frontend_.name;
  r.backend = backend_ != nullptr ? backend_->name : "<NOSRV>";
  // A session that ended while queued names no server, as in HAProxy.
  if (last_server_ && (connected_ || termination_[1] != 'Q')) {
    r.server = backend_->servers[*last_server_].name;
  }
  r.queue_ms = queue_start_ ? millisBetween(*queue_start_, queue_end_.value_or(now)) : 0;
  r.connect_ms = connected_ ? millisBetween(queue_end_.value_or(accepted_), *connected_) : -1;
  r.total_ms = millisBetween(accepted_, now);
  r.bytes_read = down_.bytes;
  r.termination[0] = termination_[0];
  r.termination[1] = termination_[1];
  r.actconn = global_gate_.active();
  r.feconn = frontend_.state->gate.active();
  if (backend_ != nullptr) {
    r.beconn = backend_->state->active.load(std::memory_order_relaxed);
    r.backend_queue = backend_->state->queued();
  }
  if (server_index_) r.srv_conn = backend_->servers[*server_index_].state->active.load();
  r.retries = retries_done_;
  r.redispatched = redispatched_;
  spdlog::info("{}", formatTcpLog(r));
}

}  // namespace lb::proxy
