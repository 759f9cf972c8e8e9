#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/balance/balancer.h"
#include "agent/common/proxy_protocol.h"
#include "agent/common/syslog.h"
#include "agent/rules/rule_set.h"
#include "agent/rules/stick_table.h"
#include "agent/runtime/check_spec.h"
#include "agent/runtime/server_state.h"

namespace lb::runtime {

using Millis = std::chrono::milliseconds;

// What a server's passive checks do when `error-limit` is reached (`on-error`).
enum class OnError { kFastinter, kFailCheck, kSuddenDeath, kMarkDown };

// A server's check timing and thresholds, in the units the state machine uses.
struct HealthSettings {
  uint32_t rise = 2;
  uint32_t fall = 3;
  Millis inter{2000};
  std::optional<Millis> fastinter;  // unset: inter
  std::optional<Millis> downinter;  // unset: inter
  uint32_t error_limit = 10;
  OnError on_error = OnError::kFailCheck;
};

// One server of a snapshot, typed: what the data plane and the checker need, read from the
// Config once when the snapshot is built.
struct ServerRuntime {
  std::string name;
  // As configured (the identity the live state is kept under, and what status shows).
  std::string address;
  uint32_t port = 0;
  // Port 0: connect to the port the client connected to, plus `port_offset` (`ADDR:+N`).
  boost::asio::ip::tcp::endpoint endpoint;
  int32_t port_offset = 0;
  uint32_t weight = 1;   // configured; the weight in force is in `state`
  uint32_t maxconn = 0;  // 0: unlimited
  uint32_t maxqueue = 0;
  bool backup = false;
  bool disabled = false;  // starts in MAINT
  // Active checks (`check`), where they go (`addr`, `port`) and their timing.
  bool check = false;
  boost::asio::ip::tcp::endpoint check_endpoint;
  // A PROXY protocol header first on each connection to it (send-proxy, send-proxy-v2), and
  // on each check (check-send-proxy, or send-proxy without a check port or address).
  common::ProxyVersion send_proxy = common::ProxyVersion::kNone;
  common::ProxyVersion check_send_proxy = common::ProxyVersion::kNone;
  HealthSettings health;
  // `agent-check`: where the agent listens (agent-addr, agent-port), what the probe sends
  // (agent-send) and how often (agent-inter, default 2s).
  bool agent_check = false;
  boost::asio::ip::tcp::endpoint agent_endpoint;
  std::shared_ptr<const CheckSpec> agent_spec;
  Millis agent_inter{2000};
  // Passive checks (`observe layer4`) and what a DOWN does to running sessions.
  bool observe_layer4 = false;
  bool shutdown_sessions_on_down = false;  // `on-marked-down shutdown-sessions`
  std::optional<Millis> slowstart;
  std::shared_ptr<ServerState> state;
};

// One backend of a snapshot: its servers, their balancer and its settings. The ServerSet view
// reads the servers' live state, so the balancer sees health and admin changes at once.
class BackendRuntime : public balance::ServerSet {
 public:
  std::string name;
  std::vector<ServerRuntime> servers;
  std::shared_ptr<BackendState> state;
  std::unique_ptr<balance::Balancer> balancer;
  std::optional<Millis> timeout_connect;
  std::optional<Millis> timeout_server;
  std::optional<Millis> timeout_server_fin;
  std::optional<Millis> timeout_tunnel;
  std::optional<Millis> timeout_queue;  // defaults to timeout connect, as in HAProxy
  std::optional<Millis> timeout_check;
  uint32_t retries = 3;
  bool redispatch = false;
  // Send the connect handshake's last ACK with the client's first bytes when they are already
  // there (`no option tcp-smart-connect` turns it off).
  bool smart_connect = true;
  bool tcpka = false;  // `option srvtcpka`: SO_KEEPALIVE on server connections
  // Connections that may wait for a slot: the sum of the servers' maxqueue, 0 for unlimited.
  uint32_t queue_limit = 0;
  // The backend's active checks, shared by its servers.
  std::shared_ptr<const CheckSpec> check_spec;
  // Its layer-4 rules (tcp-request content, use-server, stick), null without any; the server
  // index each use-server rule names.
  std::shared_ptr<const rules::ProxyRules> rules;
  std::vector<size_t> use_server_targets;
  // Its `stick-table`, if it declares one (live: kept across applies by the StateStore).
  std::shared_ptr<rules::StickTable> table;

  size_t size() const override { return servers.size(); }
  bool usable(size_t i) const override;
  // How many servers are usable now (status, tier health).
  uint32_t usableCount() const;
  uint32_t weight(size_t i) const override;
  uint32_t active(size_t i) const override;
  bool full(size_t i) const override;
  bool backup(size_t i) const override { return servers[i].backup; }
  // Recomputes the balancer after a server's state or weight changed (control thread).
  void refreshBalancer() { balancer->update(*this); }
};

struct BindRuntime {
  boost::asio::ip::tcp::endpoint endpoint;
  // Where it was written: a bind on port 0 (a port from the kernel) is told apart by them.
  std::string frontend;
  size_t index = 0;
  bool v4v6 = false;
  bool v6only = false;
  std::string interface;
  // Connections start with a PROXY protocol header (v1 or v2) saying whose they are.
  bool accept_proxy = false;
  std::optional<uint32_t> backlog;
  bool tfo = false;  // `tfo`: TCP_FASTOPEN on the listening socket
  // The address and port: an apply keeps the listening socket bound there, whatever its
  // frontend or other settings. Port 0 asks the kernel for a port: such a bind keeps the socket
  // it had at the same frontend and position (port0Key()).
  std::string key() const;
  std::string port0Key() const;
  // What a bound socket cannot change: equal keys with different options need a new socket.
  std::string socketOptions() const;
};

struct FrontendRuntime {
  std::string name;
  std::vector<BindRuntime> binds;
  BackendRuntime* backend = nullptr;  // null when disabled
  uint32_t maxconn = 0;               // 0: unlimited
  std::optional<Millis> timeout_client;
  std::optional<Millis> timeout_client_fin;
  bool tcplog = false;
  bool dontlognull = false;
  // Where its log lines go (`log global`, its own `log` lines); empty: lb's own log output.
  std::vector<std::shared_ptr<common::SyslogTarget>> log_targets;
  bool smart_accept = false;  // `option tcp-smart-accept`
  bool tcpka = false;         // `option clitcpka`: SO_KEEPALIVE on client connections
  // `disabled`: it listens nowhere (`backend` may be null for an enabled frontend that routes
  // with use_backend rules only).
  bool disabled = false;
  // Its layer-4 rules (acl, tcp-request, use_backend), null without any; the backend of each
  // static use_backend rule (null for a dynamic name, found when the rule matches).
  std::shared_ptr<const rules::ProxyRules> rules;
  std::vector<BackendRuntime*> use_backend_targets;
  std::shared_ptr<rules::StickTable> table;
  std::shared_ptr<FrontendState> state;
};

// Receives passive-check reports from the data plane (the health checker implements it).
class PassiveObserver {
 public:
  virtual ~PassiveObserver() = default;
  // `state` reached its error-limit of consecutive connection errors. Any thread.
  virtual void reportErrorLimit(std::shared_ptr<ServerState> state, uint32_t errors,
                                std::string last_error) = 0;
};

// An immutable snapshot of everything the data plane and the checker need, built from a
// validated Config (build.h). Workers use the snapshot that was current when a connection
// arrived for that connection's whole life; a new apply builds a new snapshot and swaps it in
// for new connections. Nothing here is changed after the build (the balancers' precomputed
// schedules and the live state objects are the only moving parts, and they have their own
// thread contracts).
struct Runtime {
  uint64_t version = 0;
  std::vector<std::unique_ptr<BackendRuntime>> backends;
  std::vector<FrontendRuntime> frontends;
  uint32_t bufsize = 16384;
  // Bulk transfers move bytes with splice(2) (global `nosplice` turns it off).
  bool splice = true;
  // Worker threads run SCHED_BATCH (global `tune.sched-policy normal`: SCHED_OTHER).
  bool sched_batch = true;
  uint32_t maxconn = 0;      // global; 0: unlimited
  uint32_t maxconnrate = 0;  // `maxconnrate`: accepted connections per second; 0: unlimited
  // No `maxconn` was configured: it was derived from the descriptor limit, which set aside
  // `fds_reserved` descriptors for the agent's own needs.
  bool maxconn_derived = false;
  uint64_t fds_reserved = 0;
  std::optional<uint32_t> nbthread;
  uint32_t spread_checks = 0;  // percent
  std::optional<Millis> hard_stop_after;
  // Where sessions report passive-check errors; null when nothing observes.
  PassiveObserver* observer = nullptr;

  // Every stick table of the snapshot (frontends' and backends'), for `show table`.
  std::vector<std::shared_ptr<rules::StickTable>> tables;

  const FrontendRuntime* findFrontend(const std::string& name) const;
  BackendRuntime* findBackend(const std::string& name) const;
};

}  // namespace lb::runtime
