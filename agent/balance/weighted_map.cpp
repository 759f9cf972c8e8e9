#include "agent/balance/weighted_map.h"

#include <numeric>

#include "agent/balance/group_balancer.h"

namespace lb::balance {

WeightedMap::WeightedMap(const ServerSet& servers, std::span<const size_t> members)
    : members_(members.begin(), members.end()) {
  // Read each weight once: with slowstart it may change while we build.
  std::vector<size_t> index;
  std::vector<int64_t> weight;
  uint32_t gcd = 0;
  for (size_t i : members) {
    if (!servers.usable(i)) continue;
    const uint32_t w = servers.weight(i);
    if (w == 0) continue;
    index.push_back(i);
    weight.push_back(w);
    gcd = std::gcd(gcd, w);
  }
  distinct_ = index.size();
  if (index.empty()) return;

  int64_t total = 0;
  for (auto& w : weight) {
    w /= gcd;
    total += w;
  }
  entries_.reserve(total);
  // nginx's smooth weighted round-robin: every server gains its weight, the one with the most
  // (the first in configuration order on a tie) is chosen and pays back the total. After
  // `total` steps every `current` is back to zero, so this is exactly one cycle.
  std::vector<int64_t> current(index.size(), 0);
  for (int64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t k = 0; k < index.size(); ++k) {
      current[k] += weight[k];
      if (current[k] > current[best]) best = k;
    }
    current[best] -= total;
    entries_.push_back(static_cast<uint32_t>(index[best]));
  }
}

std::optional<size_t> WeightedMap::findFrom(const ServerSet& servers, uint64_t pos) const {
  const size_t n = entries_.size();
  size_t rejected = SIZE_MAX;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = at(pos + k);
    if (i == rejected) continue;
    if (canTake(servers, i)) return i;
    rejected = i;
  }
  return std::nullopt;
}

}  // namespace lb::balance
