#pragma once

#include "agent/balance/group_balancer.h"
#include "agent/balance/weighted_map.h"
#include "agent/common/published.h"

namespace lb::balance {

// `balance source` with HAProxy's default `hash-type map-based`: update() builds the weighted
// map of the usable servers, and a client goes to map[client_hash % map size]. The same client
// keeps the same server as long as the map is unchanged; when the set of usable servers or
// their weights change, most clients move (that is the price of map-based hashing; consistent
// hashing is not implemented). If the client's server can no longer take connections since the
// last update(), the next entries of the map are tried, so only that server's clients move
// until the next update().
//
// PickRequest::client_hash must already be well mixed (e.g. a 64-bit hash of the address);
// it is used as is.
//
// Threads: see GroupBalancer.
class SourceHash : public GroupBalancer {
 public:
  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  common::Published<WeightedMap> map_;
};

}  // namespace lb::balance
