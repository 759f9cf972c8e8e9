#include "agent/balance/weighted_map.h"

#include <algorithm>
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
  //
  // Servers of equal weight gain alike, so among them the one chosen least often leads, the
  // first of those on a tie: within a weight they take turns in configuration order. Each step
  // therefore compares one candidate per distinct weight, not every server: O(total x distinct
  // weights) rather than O(total x servers), which is what keeps a backend of 10,000 servers
  // of one weight cheap to rebuild when one of them changes state.
  struct Group {
    int64_t weight;
    std::vector<size_t> servers;  // positions in `index`, configuration order
    int64_t chosen = 0;
  };
  std::vector<Group> groups;
  for (size_t k = 0; k < index.size(); ++k) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.weight == weight[k]; });
    if (it == groups.end()) {
      groups.push_back(Group{weight[k], {}});
      it = groups.end() - 1;
    }
    it->servers.push_back(k);
  }
  for (int64_t step = 1; step <= total; ++step) {
    Group* best = nullptr;
    int64_t best_current = 0;
    size_t best_k = 0;
    for (Group& g : groups) {
      const int64_t n = static_cast<int64_t>(g.servers.size());
      // The group's next server was chosen chosen / n times so far, hence its current.
      const int64_t current = step * g.weight - total * (g.chosen / n);
      const size_t k = g.servers[static_cast<size_t>(g.chosen % n)];
      if (best == nullptr || current > best_current || (current == best_current && k < best_k)) {
        best = &g;
        best_current = current;
        best_k = k;
      }
    }
    ++best->chosen;
    entries_.push_back(static_cast<uint32_t>(index[best_k]));
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
