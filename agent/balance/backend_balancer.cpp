#include "agent/balance/backend_balancer.h"

#include <vector>

namespace lb::balance {

BackendBalancer::BackendBalancer(std::unique_ptr<GroupBalancer> actives,
                                 std::unique_ptr<GroupBalancer> backups)
    : actives_(std::move(actives)), backups_(std::move(backups)) {}

void BackendBalancer::update(const ServerSet& servers) {
  std::vector<size_t> actives;
  std::vector<size_t> backups;
  for (size_t i = 0; i < servers.size(); ++i) {
    (servers.backup(i) ? backups : actives).push_back(i);
  }
  actives_->update(servers, actives);
  backups_->update(servers, backups);
}

std::optional<size_t> BackendBalancer::pick(const ServerSet& servers, const PickRequest& request) {
  if (auto i = actives_->pick(servers, request)) return i;
  // Only reached when no active server can take one: are they all down, or only full?
  for (size_t i = 0; i < servers.size(); ++i) {
    if (!servers.backup(i) && servers.usable(i)) return std::nullopt;  // full: the queue waits
  }
  return backups_->pick(servers, request);
}

}  // namespace lb::balance
