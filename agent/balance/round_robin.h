#pragma once

#include <atomic>
#include <cstdint>

#include "agent/balance/group_balancer.h"
#include "agent/balance/weighted_map.h"
#include "agent/common/published.h"

namespace lb::balance {

// `balance roundrobin` and `balance static-rr`: smooth weighted round-robin. update() builds one
// cycle of the schedule (a WeightedMap) from the weights in force; picks from all threads share
// one atomic position, so they continue a single sequence (equal weights: s1, s2, s3, s1, ...).
//
// The position is kept across update(), so a new schedule is entered wherever the count has got
// to rather than always at its start; frequent updates (slowstart ramps) therefore do not favour
// the first servers of the cycle.
//
// roundrobin vs static-rr: HAProxy's roundrobin follows weight changes at run time (slowstart,
// `set weight`), static-rr does not and ignores slowstart. Here both rebuild at update() from
// ServerSet::weight(), which includes any slowstart ramp, so they behave the same; static-rr
// stays a separate name so that the configuration round-trips and a difference can be added
// where the runtime can tell us the configured weight.
//
// Threads: see GroupBalancer.
class RoundRobin : public GroupBalancer {
 public:
  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  common::Published<WeightedMap> schedule_;
  std::atomic<uint64_t> position_{0};
};

}  // namespace lb::balance
