#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "agent/proxy/worker.h"
#include "agent/runtime/runtime.h"

namespace lb::proxy {

// One client connection from accept to close: choose a server (or wait in the backend's queue),
// connect with `timeout connect`, `retries` and `option redispatch`, then relay both directions
// until both are closed. Half-closes are passed on (FIN after the buffered data), an RST is
// passed on as an RST, and every phase has a deadline.
//
// Threads: lives on one worker from start to end; only wake-ups from the backend queue come
// from other threads, through post().
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  Session(Worker& worker, boost::asio::ip::tcp::socket client,
          const boost::asio::ip::tcp::endpoint& client_endpoint,
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
  enum class Phase { kQueue, kConnect, kTurnaround, kData, kClosed };

  // One direction of the relay: read from `from`, write to `to`, through one buffer that is
  // held (from the worker's pool) only while bytes are in flight.
  struct Direction {
    boost::asio::ip::tcp::socket* from = nullptr;
    boost::asio::ip::tcp::socket* to = nullptr;
    std::unique_ptr<char[]> buffer;
    size_t size = 0;
    bool from_client = false;
    bool done = false;     // EOF read from `from` and passed on as a shutdown of `to`
    bool writing = false;  // a write to `to` is in progress
    uint64_t bytes = 0;
  };

  void pickServer(std::optional<size_t> avoid);
  bool anyServerFullOnly() const;
  void enqueue();
  void onWake();
  void connect();
  void onConnect(const boost::system::error_code& ec);
  void connectFailed(bool timed_out);
  void retryNow();
  void startRelay();
  void pump(Direction& d);
  void waitReadable(Direction& d);
  void onReadable(Direction& d, const boost::system::error_code& ec);
  void onReadEnd(Direction& d, const boost::system::error_code& ec);
  void onWrite(Direction& d, const boost::system::error_code& ec);
  void releaseBuffer(Direction& d);
  void touch(bool client_side);
  void armTimer();
  void armTimerIfEarlier();
  void onTimer(const boost::system::error_code& ec);
  std::optional<Clock::time_point> deadline() const;
  std::optional<Clock::time_point> sideDeadline(bool client_side) const;
  void releaseServer();
  void finish(char who, char phase);
  void log();
  static void reset(boost::asio::ip::tcp::socket& socket);

  Worker& worker_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  const runtime::FrontendRuntime& frontend_;
  runtime::BackendRuntime* backend_;
  runtime::ConnectionGate& global_gate_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket server_;
  boost::asio::steady_timer timer_;
  std::optional<Clock::time_point> armed_at_;  // when timer_ fires, if it is waiting
  boost::asio::ip::tcp::endpoint client_endpoint_;
  Direction up_;    // client -> server
  Direction down_;  // server -> client

  Phase phase_ = Phase::kConnect;
  std::atomic<bool> closed_{false};
  std::optional<size_t> server_index_;  // into backend_->servers, while it holds a slot
  std::optional<size_t> last_server_;
  std::shared_ptr<runtime::QueuedConnection> waiter_;
  uint32_t retries_done_ = 0;
  bool redispatched_ = false;
  bool connect_timed_out_ = false;
  bool redispatch_next_ = false;
  bool avoid_last_server_ = false;  // its failure tripped the passive error-limit
  bool counted_in_backend_ = false;

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
