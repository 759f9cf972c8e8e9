#include "agent/balance/least_conn.h"

namespace lb::balance {

void LeastConn::update(const ServerSet&, std::span<const size_t> members) {
  members_.publish(std::make_unique<const std::vector<size_t>>(members.begin(), members.end()));
}

std::optional<size_t> LeastConn::pick(const ServerSet& servers, const PickRequest&) {
  const auto members = members_.read();
  if (!members || members->empty()) return std::nullopt;
  const size_t n = members->size();
  const uint64_t start = rotor_.fetch_add(1, std::memory_order_relaxed);
  std::optional<size_t> best;
  uint64_t best_load = 0;    // active + 1 of the best so far
  uint64_t best_weight = 1;  // its weight
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (*members)[(start + k) % n];
    if (!servers.usable(i) || servers.full(i)) continue;
    const uint64_t weight = servers.weight(i);
    if (weight == 0) continue;
    const uint64_t load = uint64_t{servers.active(i)} + 1;
    // load / weight < best_load / best_weight, without division.
    if (!best || load * best_weight < best_load * weight) {
      best = i;
      best_load = load;
      best_weight = weight;
    }
  }
  return best;
}

}  // namespace lb::balance
