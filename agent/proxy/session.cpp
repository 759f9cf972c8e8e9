#include "agent/proxy/session.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

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

Session::Session(Worker& worker, tcp::socket client, const tcp::endpoint& client_endpoint,
                 std::shared_ptr<const runtime::Runtime> runtime,
                 const runtime::FrontendRuntime& frontend, runtime::ConnectionGate& global_gate)
    : worker_(worker),
      runtime_(std::move(runtime)),
      frontend_(frontend),
      backend_(frontend.backend),
      global_gate_(global_gate),
      client_(std::move(client)),
      server_(worker.io()),
      timer_(worker.io()),
      client_endpoint_(client_endpoint) {}

Session::~Session() = default;

void Session::start() {
  worker_.add(shared_from_this());
  accepted_wall_ = std::chrono::system_clock::now();
  accepted_ = Clock::now();
  frontend_.state->total.fetch_add(1, std::memory_order_relaxed);
  error_code ec;
  client_.set_option(tcp::no_delay(true), ec);
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
  connect_timed_out_ = false;
  const auto& server = backend_->servers[*server_index_];
  tcp::endpoint endpoint = server.endpoint;
  error_code ec;
  if (endpoint.port() == 0) endpoint.port(client_.local_endpoint(ec).port());
  server_ = tcp::socket(worker_.io());
  server_.open(endpoint.protocol(), ec);
  if (ec) {
    spdlog::error("cannot open a socket to server {}/{}: {}", backend_->name, server.name,
                  ec.message());
    connectFailed(false);
    return;
  }
  int one = 1;
  // Source port chosen at connect time, not bind time: no ephemeral-port exhaustion from
  // bind(0) when many connections go to few servers.
  ::setsockopt(server_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  server_.set_option(tcp::no_delay(true), ec);
  armTimer();
  server_.async_connect(
      endpoint, [self = shared_from_this()](const error_code& error) { self->onConnect(error); });
}

void Session::onConnect(const error_code& ec) {
  if (closed_) return;
  if (connect_timed_out_) {
    connectFailed(true);
    return;
  }
  if (ec) {
    connectFailed(false);
    return;
  }
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
  error_code ignored;
  server_.close(ignored);
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
  size_t size = runtime_->bufsize;
  up_ = Direction{&client_, &server_, nullptr, size, true};
  down_ = Direction{&server_, &client_, nullptr, size, false};
  // The relay reads and writes directly while the sockets take it, and goes through the
  // reactor only when one would block: fewer handler round trips per byte.
  error_code ignored;
  client_.non_blocking(true, ignored);
  server_.non_blocking(true, ignored);
  last_client_io_ = last_server_io_ = Clock::now();
  armTimer();
  // Bytes may have arrived already (a client's first request, a server's banner) and the
  // reactor's readiness edge for them is spent: read first, wait only after a read found none.
  pump(up_);
  if (!closed_) pump(down_);
}

// Relays what `from` has until a read would block (then waits for readability), a write would
// block (then finishes it asynchronously) or a burst is done (then yields to the worker's
// other sessions). Callers hold a reference to the session.
void Session::pump(Direction& d) {
  for (int burst = 0; burst < kBurst; ++burst) {
    if (d.buffer == nullptr) d.buffer = worker_.buffers().acquire(d.size);
    error_code ec;
    size_t n = d.from->read_some(asio::buffer(d.buffer.get(), d.size), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      releaseBuffer(d);  // idle: no buffer held while waiting
      waitReadable(d);
      return;
    }
    if (ec) {
      releaseBuffer(d);
      onReadEnd(d, ec);
      return;
    }
    touch(d.from_client);
    // A write starts the receiving side's write timeout, as in HAProxy; after that side's own
    // FIN this is the only timeout it has, which may be earlier than the timer.
    touch(!d.from_client);
    d.bytes += n;
    if ((d.from_client ? down_ : up_).done) armTimerIfEarlier();
    size_t written = d.to->write_some(asio::buffer(d.buffer.get(), n), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      written = 0;
    }
    if (ec) {
      releaseBuffer(d);
      reset(*d.from);
      finish(d.from_client ? 'S' : 'C', 'D');
      return;
    }
    if (written < n) {
      d.writing = true;
      asio::async_write(*d.to, asio::buffer(d.buffer.get() + written, n - written),
                        [self = shared_from_this(), &d](const error_code& error, size_t) {
                          self->onWrite(d, error);
                        });
      return;
    }
  }
  releaseBuffer(d);
  // More may be waiting, but no new readiness edge will say so: continue from the queue.
  asio::post(worker_.io(), [self = shared_from_this(), &d] {
    if (!self->closed_) self->pump(d);
  });
}

void Session::waitReadable(Direction& d) {
  d.from->async_wait(tcp::socket::wait_read, [self = shared_from_this(), &d](const error_code& ec) {
    self->onReadable(d, ec);
  });
}

void Session::onReadable(Direction& d, const error_code& ec) {
  if (closed_) return;
  if (ec) {
    onReadEnd(d, ec);
    return;
  }
  pump(d);
}

void Session::onReadEnd(Direction& d, const error_code& ec) {
  if (ec == asio::error::eof) {
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
    error_code ignored;
    d.to->shutdown(tcp::socket::shutdown_send, ignored);
    armTimer();  // client-fin / server-fin may apply from now on
    return;
  }
  if (ec == asio::error::operation_aborted) return;
  // A reset (or another error) on one side is passed on as a reset of the other.
  reset(*d.to);
  finish(d.from_client ? 'C' : 'S', 'D');
}

void Session::onWrite(Direction& d, const error_code& ec) {
  if (closed_) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    releaseBuffer(d);
    reset(*d.from);
    finish(d.from_client ? 'S' : 'C', 'D');
    return;
  }
  d.writing = false;
  touch(!d.from_client);
  pump(d);
}

void Session::releaseBuffer(Direction& d) {
  worker_.buffers().release(std::move(d.buffer), d.size);
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

void Session::armTimerIfEarlier() {
  auto at = deadline();
  if (at && (!armed_at_ || *at < *armed_at_)) armTimer();
}

void Session::armTimer() {
  auto at = deadline();
  armed_at_ = at;
  if (!at) {
    timer_.cancel();
    return;
  }
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
    case Phase::kConnect: {
      connect_timed_out_ = true;
      error_code ignored;
      server_.close(ignored);  // completes the pending connect with operation_aborted
      return;
    }
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

void Session::reset(tcp::socket& socket) {
  error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
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
  error_code ignored;
  client_.close(ignored);
  server_.close(ignored);
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
