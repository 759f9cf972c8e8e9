#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "agent/common/proxy_protocol.h"
#include "agent/common/time_source.h"
#include "agent/health/check_result.h"
#include "agent/runtime/check_spec.h"

namespace lb::health {

// Where and how long one active check may take.
struct ProbeTarget {
  boost::asio::ip::tcp::endpoint endpoint;
  // Bound on establishing the connection.
  std::chrono::milliseconds connect_timeout{2000};
  // Bound on waiting for answers once connected (`timeout check`); without it the whole check
  // is bounded by `total_timeout`.
  std::optional<std::chrono::milliseconds> read_timeout;
  std::chrono::milliseconds total_timeout{2000};
  // Sent first on the connection to the server (a PROXY protocol header, check-send-proxy).
  std::string preamble;
  // The version a `tcp-check connect send-proxy` step sends (the server's send-proxy-v2, else 1).
  common::ProxyVersion step_proxy = common::ProxyVersion::kV1;
};

// Computes the bounds as HAProxy does: with `timeout check`, the connect is bounded by
// min(timeout connect, inter) and `timeout check` bounds the read; without it, inter bounds the
// whole check.
ProbeTarget makeTarget(const boost::asio::ip::tcp::endpoint& endpoint,
                       std::chrono::milliseconds inter,
                       std::optional<std::chrono::milliseconds> timeout_connect,
                       std::optional<std::chrono::milliseconds> timeout_check);

using ProbeCallback = std::function<void(const CheckResult&)>;

// Runs active checks: the seam between the health checker and the network, so that the
// checker's tests supply results instead of sockets.
class Prober {
 public:
  virtual ~Prober() = default;
  // Runs one check of `spec` against `target` and calls `done` exactly once, on the control
  // thread (possibly before run() returns, when the check cannot even start). `spec` is shared, not
  // copied: one per backend serves all its servers' checks.
  virtual void run(std::shared_ptr<const runtime::CheckSpec> spec, const ProbeTarget& target,
                   ProbeCallback done) = 0;
};

// The real checks, with Asio sockets on `io` and deadlines on `time`'s timers: a TCP connect,
// an HTTP request whose answer must match the expect rules (default: a 2xx or 3xx status), or
// the tcp-check steps.
class AsioProber : public Prober {
 public:
  AsioProber(boost::asio::io_context& io, common::TimeSource& time) : io_(io), time_(time) {}
  void run(std::shared_ptr<const runtime::CheckSpec> spec, const ProbeTarget& target,
           ProbeCallback done) override;

 private:
  boost::asio::io_context& io_;
  common::TimeSource& time_;
};

}  // namespace lb::health
