#pragma once

#include <memory>

#include "agent/balance/balancer.h"
#include "agent/balance/group_balancer.h"

namespace lb::balance {

// The Balancer of one backend: the active (non-backup) servers are balanced by the backend's
// algorithm; only when none of them can take a connection does the pick go to the backup
// servers, balanced by `backups` (the same algorithm with `option allbackups`, otherwise
// FirstAvailable: the first usable backup in configuration order).
//
// As in HAProxy, a usable server that is full is not a reason to go down a level: when every
// usable active server is at its maxconn, pick() finds none and the session waits in the
// backend's queue for the first slot to free; backups serve only when no active server is
// usable at all.
//
// Threads: see Balancer. update() refreshes the two groups one after the other; a pick running
// meanwhile may see the new active group with the old backup group, which is harmless since
// every candidate is checked live.
class BackendBalancer : public Balancer {
 public:
  BackendBalancer(std::unique_ptr<GroupBalancer> actives, std::unique_ptr<GroupBalancer> backups);

  void update(const ServerSet& servers) override;
  std::optional<size_t> pick(const ServerSet& servers, const PickRequest& request) override;

 private:
  const std::unique_ptr<GroupBalancer> actives_;
  const std::unique_ptr<GroupBalancer> backups_;
};

}  // namespace lb::balance
