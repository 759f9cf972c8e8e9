#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "lb/v1/config.pb.h"

namespace lb::balance {

// What balancing reads about the servers of one backend. The runtime implements it over the
// servers' atomics; tests implement it over plain vectors. Indexes are the servers' positions in
// the backend's configuration, and stay valid for the lifetime of the Balancer.
class ServerSet {
 public:
  virtual ~ServerSet() = default;
  virtual size_t size() const = 0;
  // May take new connections: operationally UP, administratively READY and weight > 0.
  virtual bool usable(size_t i) const = 0;
  // The weight in force now (0 - 256); with slowstart it ramps up after the server came back.
  virtual uint32_t weight(size_t i) const = 0;
  // Connections currently established or being established to the server.
  virtual uint32_t active(size_t i) const = 0;
  // True when the server's maxconn is reached (never when it has no maxconn).
  virtual bool full(size_t i) const = 0;
  virtual bool backup(size_t i) const = 0;
};

// A source of random numbers; injected so tests are deterministic.
class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next() = 0;
};

struct PickRequest {
  // Hash of the client's address (for `balance source`).
  uint64_t client_hash = 0;
  // Used by `balance random`; must not be null for it.
  Random* random = nullptr;
};

// Chooses the server for each new connection of one backend, with HAProxy's semantics:
// active servers first; only when no active server is usable, the first usable backup server
// (or all usable backups, balanced, with `option allbackups`). A server that is not usable, has
// weight 0 or is full is never picked.
//
// Threads: pick() runs concurrently on every data-plane worker and takes no lock; update() runs
// on the control thread whenever a server's usability or weight changed, while picks go on.
class Balancer {
 public:
  virtual ~Balancer() = default;

  // Recomputes whatever the algorithm precomputes (schedules, maps) from the servers' current
  // usability and weights.
  virtual void update(const ServerSet& servers) = 0;

  // The index of the server for a new connection, or nullopt when no server can take one now
  // (all down, drained, weight 0 or full).
  virtual std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) = 0;
};

// Builds the balancer for `balance` (roundrobin, static-rr, leastconn, first, source, random(N))
// and calls update(servers) once.
std::unique_ptr<Balancer> makeBalancer(const lb::v1::Balance& balance, bool allbackups,
                                       const ServerSet& servers);

}  // namespace lb::balance
