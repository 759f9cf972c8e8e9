#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "agent/balance/balancer.h"

namespace lb::balance {

// One algorithm balancing over one group of a backend's servers: its active servers, or its
// backup servers. BackendBalancer owns one per group and decides which group serves a pick.
//
// Threads: same contract as Balancer. pick() runs on any worker thread, concurrently, and takes
// no lock; update() runs on the control thread while picks go on, and publishes what it
// precomputes as an immutable snapshot.
class GroupBalancer {
 public:
  virtual ~GroupBalancer() = default;

  // `members`: the indexes of the group's servers, in configuration order, whatever their
  // state. The algorithm reads their current usability and weights from `servers`.
  virtual void update(const ServerSet& servers, std::span<const size_t> members) = 0;

  // A server of the group that can take a new connection now, or nullopt.
  virtual std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) = 0;
};

// Whether server `i` can take a new connection right now: usable, weight > 0 and not full.
// Checked at every pick, because state may have changed since the last update().
bool canTake(const ServerSet& servers, size_t i);

// The first member that can take a connection, looking at members[start % size], then the
// following ones (wrapping around); nullopt when none can. The last resort of every algorithm
// when what it precomputed is out of date.
std::optional<size_t> firstThatCanTake(const ServerSet& servers, std::span<const size_t> members,
                                       size_t start);

}  // namespace lb::balance
