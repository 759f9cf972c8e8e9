#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "agent/health/check_result.h"
#include "lb/v1/config.pb.h"

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
};

// Computes the bounds as HAProxy does: with `timeout check`, the connect is bounded by
// min(timeout connect, inter) and `timeout check` bounds the read; without it, inter bounds the
// whole check.
ProbeTarget makeTarget(const boost::asio::ip::tcp::endpoint& endpoint,
                       std::chrono::milliseconds inter,
                       std::optional<std::chrono::milliseconds> timeout_connect,
                       std::optional<std::chrono::milliseconds> timeout_check);

using ProbeCallback = std::function<void(const CheckResult&)>;

// Runs one active check of `spec` against `target` on `io` and calls `done` exactly once, on
// `io`'s thread: a TCP connect, an HTTP request whose answer must match the expect rules (default:
// a 2xx or 3xx status), or the tcp-check rule list. `spec` is shared, not copied: one per
// backend serves all its servers' checks.
void runProbe(boost::asio::io_context& io, std::shared_ptr<const lb::v1::HealthCheck> spec,
              const ProbeTarget& target, ProbeCallback done);

// Matches an HTTP status against a list such as "200", "200-299,302".
bool statusMatches(const std::string& list, unsigned status);

}  // namespace lb::health
