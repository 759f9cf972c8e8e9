#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "agent/proxy/poller.h"
#include "agent/proxy/worker.h"
#include "agent/runtime/runtime.h"

namespace lb::proxy {

// One client connection from accept to close: choose a server (or wait in the backend's queue),
// connect with `timeout connect`, `retries` and `option redispatch`, then relay both directions
// until both are closed. Half-closes are passed on (FIN after the buffered data), an RST is
// passed on as an RST, and every phase has a deadline.
//
// The two sockets are plain non-blocking descriptors in the worker's Poller (see there why not
// Asio sockets); the deadline is one Asio timer, armed lazily.
//
// Threads: lives on one worker from start to end; only wake-ups from the backend queue come
// from other threads, through post().
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes ownership of `client_fd`, an accepted non-blocking socket.
  Session(Worker& worker, int client_fd, const boost::asio::ip::tcp::endpoint& client_endpoint,
          std::shared_ptr<const runtime::Runtime> runtime, const runtime::FrontendRuntime& frontend,
          runtime::ConnectionGate& global_gate);
  ~Session();

  // The caller has taken one slot of the frontend's and the global gate; the session gives
  // them back when it ends.
  void start();
  // Closes the session now (hard stop, or its server was marked down with
  // on-marked-down shutdown-sessions).
  void abort();
  // The server this session is connected or connecting to, or null.
  const runtime::ServerState* serverState() const;

 private:
  friend class Worker;  // worker_slot_
  enum class Phase { kQueue, kConnect, kTurnaround, kData, kClosed };

  // One of the two sockets, as the Poller sees it. What its events said is kept, since they
  // are edge-triggered: `readable` until a read finds nothing more, `peer_fin` for good.
  struct Side final : PollHandler {
    Session* session = nullptr;
    int fd = -1;
    bool client = false;
    bool readable = false;  // data, a FIN or an error may be waiting
    bool peer_fin = false;  // the peer's FIN has arrived (EPOLLRDHUP)
    void onEvents(uint32_t events) override { session->onEvents(*this, events); }
  };

  // One direction of the relay: read from `from`, write to `to`, through one buffer that is
  // held (from the worker's pool) only while bytes are in flight. Once a read fills the whole
  // buffer (a bulk transfer, not a request), the direction moves its bytes with splice(2)
  // through a pipe instead, held the same way: no copy through user space.
  struct Direction {
    Side* from = nullptr;
    Side* to = nullptr;
    std::unique_ptr<char[]> buffer;
    size_t size = 0;
    bool from_client = false;
    bool splicing = false;
    Pipe pipe{};
    bool done = false;             // EOF read from `from` and passed on as a shutdown of `to`
    bool writing = false;          // `to` took part of a chunk; the rest waits for EPOLLOUT
    bool eof_after_write = false;  // the chunk being written ends at `from`'s FIN
    size_t pending_offset = 0;     // of the unwritten rest of the chunk, while writing
    size_t pending_size = 0;       // unwritten bytes (in the buffer, or in the pipe)
    uint64_t bytes = 0;
  };

  void onEvents(Side& side, uint32_t events);
  void pickServer(std::optional<size_t> avoid);
  bool anyServerFullOnly() const;
  void enqueue();
  void onWake();
  void connect();
  void onConnected();
  void connectFailed(bool timed_out);
  void retryNow();
  void startRelay();
  void readEarly();
  void sendEarly();
  void pump(Direction& d);
  // One read from `from` into the buffer or the pipe (EINTR retried): what recv or splice
  // returned, with errno. A chunk read becomes the pending chunk, and a short read updates
  // what `from` is known to hold (nothing more, or its FIN next: eof_after_write).
  ssize_t readChunk(Direction& d);
  // One write of the pending chunk to `to` (EINTR retried): what send or splice returned.
  ssize_t writeChunk(Direction& d);
  // Writes the chunk's rest; true when it is all written (false: waiting, or the session
  // ended on a write error).
  bool writeRest(Direction& d);
  void onReadEnd(Direction& d);
  void onReadError(Direction& d);
  void onWriteError(Direction& d);
  void releaseBuffer(Direction& d);
  void touch(bool client_side);
  // Makes the timer fire no later than deadline(). A later deadline leaves it as it is: when it
  // fires early it re-arms itself, which is cheaper than cancelling on every change.
  void armTimer();
  void onTimer(const boost::system::error_code& ec);
  std::optional<Clock::time_point> deadline() const;
  std::optional<Clock::time_point> sideDeadline(bool client_side) const;
  void releaseServer();
  void finish(char who, char phase);
  void log();
  static void closeSide(Side& side);
  // Closes with an RST (SO_LINGER 0) instead of a FIN.
  static void reset(Side& side);

  Worker& worker_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  const runtime::FrontendRuntime& frontend_;
  runtime::BackendRuntime* backend_;
  runtime::ConnectionGate& global_gate_;
  Side client_;
  Side server_;
  boost::asio::steady_timer timer_;
  std::optional<Clock::time_point> armed_at_;  // when timer_ fires, if it is waiting
  boost::asio::ip::tcp::endpoint client_endpoint_;
  Direction up_;    // client -> server
  Direction down_;  // server -> client

  Phase phase_ = Phase::kConnect;
  std::atomic<bool> closed_{false};
  size_t worker_slot_ = 0;
  std::optional<size_t> server_index_;  // into backend_->servers, while it holds a slot
  std::optional<size_t> last_server_;
  std::shared_ptr<runtime::QueuedConnection> waiter_;
  uint32_t retries_done_ = 0;
  bool redispatched_ = false;
  bool redispatch_next_ = false;
  bool avoid_last_server_ = false;  // its failure tripped the passive error-limit
  bool counted_in_backend_ = false;
  bool read_early_ = false;  // readEarly() has read from the client

  std::chrono::system_clock::time_point accepted_wall_;
  Clock::time_point accepted_;
  Clock::time_point phase_start_;
  std::optional<Clock::time_point> queue_end_;
  Clock::time_point turnaround_until_;
  std::optional<Clock::time_point> queue_start_;
  std::optional<Clock::time_point> connected_;
  Clock::time_point last_client_io_;
  Clock::time_point last_server_io_;
  char termination_[2] = {'-', '-'};
};

}  // namespace lb::proxy
