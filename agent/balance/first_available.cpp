#include "agent/balance/first_available.h"

namespace lb::balance {

void FirstAvailable::update(const ServerSet&, std::span<const size_t> members) {
  members_.publish(std::make_unique<const std::vector<size_t>>(members.begin(), members.end()));
}

std::optional<size_t> FirstAvailable::pick(const ServerSet& servers, const PickRequest&) {
  const auto members = members_.read();
  if (!members) return std::nullopt;
  if (first_only_) {
    for (size_t i : *members) {
      if (servers.usable(i)) return canTake(servers, i) ? std::optional<size_t>(i) : std::nullopt;
    }
    return std::nullopt;
  }
  return firstThatCanTake(servers, *members, 0);
}

}  // namespace lb::balance
