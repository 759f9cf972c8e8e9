#pragma once

#include <vector>

#include "agent/balance/group_balancer.h"
#include "agent/common/published.h"

namespace lb::balance {

// `balance first`: the first server in configuration order that can take a connection, so
// servers with a maxconn fill up one after the other and the last ones can be stopped when
// idle. Weights only matter in that weight 0 is never picked. State is read live at each pick;
// update() only records the members.
//
// Also serves as the backup group's balancer without `option allbackups`: the first usable
// backup takes everything (the next one when it is full).
//
// Threads: see GroupBalancer.
class FirstAvailable : public GroupBalancer {
 public:
  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  common::Published<std::vector<size_t>> members_;
};

}  // namespace lb::balance
