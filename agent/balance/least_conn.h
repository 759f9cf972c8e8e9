#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "agent/balance/group_balancer.h"
#include "agent/common/published.h"

namespace lb::balance {

// `balance leastconn`: the server with the fewest active connections relative to its weight,
// compared as HAProxy does: a beats b when (active_a + 1) * weight_b < (active_b + 1) * weight_a.
// Connections and weights are read live at each pick, so update() only records the members.
// Ties are broken round-robin: each pick starts its scan one server further (a shared atomic
// counter) and keeps the first of equals, so idle servers get connections in turn.
//
// Threads: see GroupBalancer. A pick scans every member of the group (O(servers)).
class LeastConn : public GroupBalancer {
 public:
  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  common::Published<std::vector<size_t>> members_;
  std::atomic<uint64_t> rotor_{0};
};

}  // namespace lb::balance
