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
// Also serves as the backup group's balancer without `option allbackups` (`first_only`): the
// first usable backup takes everything, and when it is full the connection waits for it in
// the queue, as in HAProxy, rather than going to the next backup.
//
// Threads: see GroupBalancer.
class FirstAvailable : public GroupBalancer {
 public:
  explicit FirstAvailable(bool first_only = false) : first_only_(first_only) {}
  void update(const ServerSet& servers, std::span<const size_t> members) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  const bool first_only_;
  common::Published<std::vector<size_t>> members_;
};

}  // namespace lb::balance
