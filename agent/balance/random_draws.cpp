#include "agent/balance/random_draws.h"

#include <algorithm>
#include <atomic>

namespace lb::balance {
namespace {

// splitmix64, per thread: only used when the caller passed no Random.
uint64_t fallbackRandom() {
  static std::atomic<uint64_t> seeds{0x9e3779b97f4a7c15};
  thread_local uint64_t state = seeds.fetch_add(0x6a09e667f3bcc909, std::memory_order_relaxed);
  uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

}  // namespace

RandomDraws::RandomDraws(uint32_t draws) : draws_(std::max<uint32_t>(draws, 1)) {}

void RandomDraws::update(const ServerSet& servers, std::span<const size_t> members) {
  map_.publish(std::make_unique<const WeightedMap>(servers, members));
}

std::optional<size_t> RandomDraws::pick(const ServerSet& servers, const PickRequest& request) {
  const auto map = map_.read();
  if (!map) return std::nullopt;
  auto next = [&request] { return request.random ? request.random->next() : fallbackRandom(); };
  if (map->empty()) {
    // Nobody was usable at the last update(): a member that came back since, if any.
    return firstThatCanTake(servers, map->members(), next());
  }
  std::optional<size_t> best;
  uint64_t best_active = 0;
  uint64_t best_weight = 1;
  for (uint32_t draw = 0; draw < draws_; ++draw) {
    const auto i = map->findFrom(servers, next() % map->size());
    if (!i) break;  // none of the map's servers can take it; no later draw would do better
    const uint64_t active = servers.active(*i);
    const uint64_t weight = servers.weight(*i);
    if (weight == 0) continue;  // set to 0 just now
    if (!best || active * best_weight < best_active * weight) {
      best = i;
      best_active = active;
      best_weight = weight;
    }
  }
  if (best) return best;
  return firstThatCanTake(servers, map->members(), next());
}

}  // namespace lb::balance
