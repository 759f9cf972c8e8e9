#include "agent/balance/group_balancer.h"

namespace lb::balance {

bool canTake(const ServerSet& servers, size_t i) {
  return servers.usable(i) && servers.weight(i) > 0 && !servers.full(i);
}

std::optional<size_t> firstThatCanTake(const ServerSet& servers, std::span<const size_t> members,
                                       size_t start) {
  const size_t n = members.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = members[(start + k) % n];
    if (canTake(servers, i)) return i;
  }
  return std::nullopt;
}

}  // namespace lb::balance
