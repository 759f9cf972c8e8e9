#pragma once

#include <cstdint>

#include "agent/balance/group_balancer.h"
#include "agent/balance/weighted_map.h"
#include "agent/common/published.h"

namespace lb::balance {

// `balance random(N)` ("power of N random choices"): draws N servers at random, each with a
// probability proportional to its weight (an index into the weighted map built by update()),
// and takes the least loaded of them, the load being active connections relative to weight as
// HAProxy compares it (a beats b when active_a * weight_b < active_b * weight_a; on a tie the
// first drawn). N = 1 is plain weighted random; `balance random` means N = 2.
//
// A draw that lands on a server that cannot take connections since the last update() moves on
// to the next entries of the map, so every draw yields a server when any can take one.
//
// PickRequest::random must not be null; when it is, a per-thread generator is used so that a
// wiring mistake degrades randomness, not availability.
//
// Threads: see GroupBalancer.
class RandomDraws : public GroupBalancer {
 public:
  // `draws` < 1 is taken as 1.
  explicit RandomDraws(uint32_t draws);

  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  const uint32_t draws_;
  common::Published<WeightedMap> map_;
};

}  // namespace lb::balance
