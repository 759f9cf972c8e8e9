#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "agent/proxy/deadlines.h"
#include "agent/proxy/poller.h"
#include "agent/proxy/relay.h"
#include "agent/proxy/slots.h"
#include "agent/proxy/worker.h"
#include "agent/runtime/runtime.h"

namespace lb::proxy {

// One client connection from accept to close, as a sequence of phases with one handler per
// transition (HAProxy's back_handle_st_* are the model):
//
//   start ─> assign ─┬─> connect ─┬─> relay ─> finish
//                    │     ^      └─> connect failed ─> turnaround ─┐
//                    │     └────────────────────────────────────────┘ (retries, redispatch)
//                    └─> queue ─> (woken) assign
//
// assign picks a server (OK), finds every usable one full (queue, `timeout queue`) or none
// usable (close, <NOSRV>); connect has `timeout connect`, `retries` and `option redispatch`;
// the relay (relay.h) moves the bytes and the deadline rules (deadlines.h) say when a side was
// idle too long. Accounting is held in RAII slots (slots.h), given back once whatever the path.
//
// The two sockets are plain non-blocking descriptors in the worker's Poller (see there why not
// Asio sockets); the deadline is one Asio timer, armed lazily.
//
// Threads: lives on one worker from start to end. A wake-up from the backend queue is posted
// to that worker as a weak pointer and locked there, so a session is only ever destroyed on
// its own worker.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes ownership of `client_fd`, an accepted non-blocking socket, and of the global and
  // frontend `maxconn` slots the listener took for it.
  Session(Worker& worker, int client_fd, const boost::asio::ip::tcp::endpoint& client_endpoint,
          std::shared_ptr<const runtime::Runtime> runtime, const runtime::FrontendRuntime& frontend,
          GateSlot global_slot, GateSlot frontend_slot, bool accept_proxy = false);
  ~Session();

  void start();
  // Closes the session now (hard stop, or its server was marked down with
  // on-marked-down shutdown-sessions).
  void abort();
  // The server this session is connected or connecting to, or null.
  const runtime::ServerState* serverState() const;

 private:
  friend class Worker;  // worker_slot_
  enum class Phase : uint8_t {
    kProxyHeader,
    kInspect,
    kQueue,
    kConnect,
    kTurnaround,
    kRelay,
    kClosed
  };
  struct RuleState;                             // session_rules.cpp
  enum class Assign { kOk, kFull, kNoServer };  // HAProxy's assign_server results

  // One of the two sockets, as the Poller sees it.
  struct Side final : RelayEnd, PollHandler {
    Session* session = nullptr;
    bool client = false;
    void onEvents(uint32_t events) override { session->onEvents(*this, events); }
  };

  // ---- transitions ----
  void onEvents(Side& side, uint32_t events);
  // accept-proxy: the PROXY protocol header, peeked until whole, then consumed.
  void readProxyHeader();
  // After the header (if any): the client's first bytes, then a server.
  void proceed();
  // ---- layer-4 rules (session_rules.cpp) ----
  // `tcp-request connection` rules at accept; false when they closed the connection.
  bool runConnectionRules();
  // `tcp-request session` and `content` rules (waiting for the client's bytes up to
  // inspect-delay), then use_backend; ends in route() or a close.
  void inspect();
  // The backend is chosen: connect to one of its servers.
  void route();
  // use-server and `stick match` rules: the server they pick, if usable.
  std::optional<size_t> pickByRules();
  // `stick on` / `stick store-request`: remember the server this client got.
  void storeStickiness(size_t server);
  // What the rules' fetches read about this connection (rules_ set).
  rules::Facts ruleFacts();
  // What the client connected to, as rules see it (found once per connection).
  const boost::asio::ip::tcp::endpoint& destination();
  // Closes on a rule's reject or silent-drop; `logged` as HAProxy logs it or not.
  void deny(bool silent_drop, bool logged, std::atomic<uint64_t>& counter);
  void assign(std::optional<size_t> avoid);
  Assign assignServer(std::optional<size_t> avoid);
  void enqueue();
  bool onQueueWake();
  void connect();
  void onConnected();
  void onConnectFailed(bool timed_out);
  void retry();
  void onRelayStep(const Relay::Step& step);
  void onTimer(const boost::system::error_code& ec);
  void finish(char who, char phase);

  // ---- helpers ----
  // Makes the timer fire no later than deadline(). A later deadline leaves it as it is: when it
  // fires early it re-arms itself, which is cheaper than cancelling on every change.
  void armTimer();
  std::optional<Clock::time_point> deadline() const;
  bool anyUsableServerFull() const;
  // Counts a failed connect for passive checks (`observe layer4`); true when it reached the
  // server's error-limit (the retry then avoids that server).
  bool observeConnectError(size_t server, bool timed_out);
  // Adds the bytes relayed since the last time to the server's counters (status pages and
  // metrics see long connections' traffic as it flows).
  void accountBytes();
  Clock::time_point now() const { return worker_.poller().now(); }
  // The timeouts of an established session (built when needed: a session is kept small).
  RelayTimeouts timeouts() const;
  // Times below use the clock's epoch for "not yet".
  static bool isSet(Clock::time_point t) { return t != Clock::time_point{}; }
  void log();
  static void closeSide(Side& side);

  Worker& worker_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  const runtime::FrontendRuntime& frontend_;
  runtime::BackendRuntime* backend_;
  Side client_;
  Side server_;
  Relay relay_;
  boost::asio::steady_timer timer_;
  Clock::time_point armed_at_{};                    // when timer_ fires, if it is waiting
  boost::asio::ip::tcp::endpoint client_endpoint_;  // from the PROXY header, with accept-proxy
  // What the client connected to, as the PROXY header said (send-proxy passes it on); null
  // without one (then it is the client socket's local address).
  std::unique_ptr<boost::asio::ip::tcp::endpoint> proxied_destination_;

  GateSlot global_slot_;
  GateSlot frontend_slot_;
  BackendSlot backend_slot_;
  ServerSlot server_slot_;
  std::shared_ptr<runtime::QueuedConnection> waiter_;
  // Only for frontends and backends with rules.
  std::unique_ptr<RuleState> rules_;

  Phase phase_ = Phase::kConnect;
  bool closed_ = false;
  bool accept_proxy_ = false;
  size_t worker_slot_ = 0;
  std::optional<size_t> last_server_;  // the server of the last connect attempt
  uint32_t retries_done_ = 0;
  uint64_t accounted_up_ = 0;
  uint64_t accounted_down_ = 0;
  bool redispatched_ = false;
  bool redispatch_next_ = false;
  bool avoid_last_server_ = false;  // its failure tripped the passive error-limit
  bool unlogged_ = false;           // closed by a connection/session rule: no log line

  std::chrono::system_clock::time_point accepted_wall_;
  Clock::time_point accepted_;
  Clock::time_point phase_start_;
  Clock::time_point turnaround_until_;
  Clock::time_point queue_start_{};
  Clock::time_point queue_end_{};
  Clock::time_point connected_{};
  char termination_[2] = {'-', '-'};
};

}  // namespace lb::proxy
