#include "agent/balance/round_robin.h"

namespace lb::balance {

void RoundRobin::update(const ServerSet& servers, std::span<const size_t> members) {
  schedule_.publish(std::make_unique<const WeightedMap>(servers, members));
}

std::optional<size_t> RoundRobin::pick(const ServerSet& servers, const PickRequest&) {
  const auto schedule = schedule_.read();
  if (!schedule) return std::nullopt;
  // A server that cannot take the connection (down or full since the last update) loses its
  // turn, and the next turn is taken from the shared sequence, so the others keep their order.
  // Bounded by the number of servers in the schedule, not its length, so a pick stays cheap
  // when much of the schedule went down before the next update().
  for (size_t attempt = 0; attempt < schedule->distinct(); ++attempt) {
    const size_t i = schedule->at(position_.fetch_add(1, std::memory_order_relaxed));
    if (canTake(servers, i)) return i;
  }
  // The schedule is out of date: any member that can take it, from a rotating starting point.
  return firstThatCanTake(servers, schedule->members(),
                          position_.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace lb::balance
