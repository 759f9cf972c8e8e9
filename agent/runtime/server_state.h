#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/rules/stick_table.h"

namespace lb::runtime {

// Operational state, decided by health checks. kNolb is HAProxy's "stopping" (NOLB): alive, but
// `http-check disable-on-404` got a 404, so the server takes no new connections.
enum class OpState : uint8_t { kUp, kDown, kNolb };
// Administrative state, decided by an operator: READY takes traffic, DRAIN keeps running
// sessions but takes no new ones, MAINT takes nothing and pauses checks.
enum class AdminState : uint8_t { kReady, kDrain, kMaint };

const char* toString(OpState state);
const char* toString(AdminState state);

// The live state of one server. It lives outside the immutable Runtime snapshot and is kept
// across applies for as long as the server's identity (backend, name, address, port) stays, so
// a reload loses neither health state nor counters.
//
// Threads: counters are atomics updated by every worker; states are written by the control
// thread and read by workers.
struct ServerState {
  explicit ServerState(uint64_t id = 0) : id(id) {}
  // Unique for the agent's life, never reused (unlike the object's address): what health-check
  // tasks and in-flight results are keyed by.
  const uint64_t id;
  std::atomic<OpState> op{OpState::kUp};
  std::atomic<AdminState> admin{AdminState::kReady};
  // Weight in force (slowstart ramps it); set from the config on build.
  std::atomic<uint32_t> weight{1};

  std::atomic<uint32_t> active{0};  // connections established or being established
  std::atomic<uint64_t> total{0};   // connections sent to this server
  std::atomic<uint64_t> connect_errors{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> redispatches{0};
  std::atomic<uint64_t> bytes_in{0};   // client -> server
  std::atomic<uint64_t> bytes_out{0};  // server -> client
  // Consecutive failed connections from live traffic (passive checks, `observe layer4`).
  std::atomic<uint32_t> consecutive_errors{0};
  std::atomic<uint64_t> failed_checks{0};
  std::atomic<uint64_t> down_transitions{0};
};

// A connection waiting for a server slot of its backend (maxconn reached everywhere).
struct QueuedConnection {
  // Called by the thread that released a slot, with the queue's lock released. It only posts
  // to the waiting session's worker; there the session takes the slot, or passes the wake-up
  // on (slotReleased()) when it stopped waiting meanwhile, so no wake-up is ever lost.
  std::function<void()> wake;
};

// Live state of a backend kept across applies: its wait queue and counters.
class BackendState {
 public:
  std::atomic<uint32_t> active{0};
  std::atomic<uint64_t> total{0};
  std::atomic<uint64_t> no_server{0};  // connections closed because no server was usable

  // Queue handling; `limit` 0 means unlimited. Returns false when the queue is full.
  bool enqueue(std::shared_ptr<QueuedConnection> waiter, uint32_t limit);
  void remove(const std::shared_ptr<QueuedConnection>& waiter);
  // A server slot was released: wake the oldest waiter.
  void slotReleased();
  uint32_t queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  std::mutex mutex_;
  std::deque<std::shared_ptr<QueuedConnection>> queue_;
  std::atomic<uint32_t> queued_{0};
};

// A connection limit (global or frontend `maxconn`) that pauses accepting instead of refusing:
// a listener that cannot acquire a slot parks itself, and a release wakes the parked ones.
//
// Threads: acquire/release from any worker; parking takes a mutex, but only at the limit.
class ConnectionGate {
 public:
  // Takes a slot if fewer than `max` are taken (max 0: unlimited).
  bool tryAcquire(uint32_t max);
  void release();
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }
  // Runs `resume` once, after the next release, or at once if a slot under `max` freed up
  // meanwhile (the callback posts to its own worker).
  void park(uint32_t max, std::function<void()> resume);

 private:
  std::atomic<uint32_t> active_{0};
  std::atomic<bool> has_parked_{false};
  std::mutex mutex_;
  std::vector<std::function<void()>> parked_;
};

// Live state of a frontend kept across applies.
struct FrontendState {
  ConnectionGate gate;
  std::atomic<uint64_t> total{0};
  // Connections lb closed itself (termination P: no backend, the backend's queue full).
  std::atomic<uint64_t> rejected{0};
  // Connections on an accept-proxy bind without a valid PROXY protocol header.
  std::atomic<uint64_t> bad_proxy_headers{0};
  // Connections closed by rules: `tcp-request connection` (denied_conn), `session`
  // (denied_sess) and `content` (denied_req) reject or silent-drop, as HAProxy counts them.
  std::atomic<uint64_t> denied_conn{0};
  std::atomic<uint64_t> denied_sess{0};
  std::atomic<uint64_t> denied_req{0};

  // The original client of the last connection a PROXY header introduced (status shows
  // what the tier above passed on). Written once per such connection, under the lock.
  void setLastProxiedClient(const boost::asio::ip::tcp::endpoint& client) {
    std::lock_guard lock(last_proxied_mutex_);
    last_proxied_client_ = client;
  }
  std::optional<boost::asio::ip::tcp::endpoint> lastProxiedClient() const {
    std::lock_guard lock(last_proxied_mutex_);
    return last_proxied_client_;
  }

 private:
  mutable std::mutex last_proxied_mutex_;
  std::optional<boost::asio::ip::tcp::endpoint> last_proxied_client_;
};

// Owns the live state objects and hands the same ones to every snapshot that keeps the
// identity. Used by the control thread only (snapshot building).
class StateStore {
 public:
  // `*created` says whether the state is new (nobody holds it yet).
  std::shared_ptr<ServerState> server(const std::string& backend, const std::string& name,
                                      const std::string& address, uint32_t port,
                                      bool* created = nullptr);
  std::shared_ptr<BackendState> backend(const std::string& name);
  std::shared_ptr<FrontendState> frontend(const std::string& name);
  // The stick table of proxy `name`: the live one when its key type still fits `spec` (its
  // entries survive the apply), a new one otherwise.
  std::shared_ptr<rules::StickTable> stickTable(const std::string& name,
                                                const lb::v1::StickTable& spec);
  // Drops state no longer referenced by any snapshot or session.
  void collect();

 private:
  std::unordered_map<std::string, std::weak_ptr<ServerState>> servers_;
  uint64_t next_server_id_ = 1;
  std::map<std::string, std::weak_ptr<BackendState>> backends_;
  std::map<std::string, std::weak_ptr<rules::StickTable>> tables_;
  std::map<std::string, std::weak_ptr<FrontendState>> frontends_;
};

}  // namespace lb::runtime
