#include "agent/balance/source_hash.h"

namespace lb::balance {

void SourceHash::update(const ServerSet& servers, std::span<const size_t> members) {
  map_.publish(std::make_unique<const WeightedMap>(servers, members));
}

std::optional<size_t> SourceHash::pick(const ServerSet& servers, const PickRequest& request) {
  const auto map = map_.read();
  if (!map) return std::nullopt;
  if (!map->empty()) {
    if (auto i = map->findFrom(servers, request.client_hash % map->size())) return i;
  }
  // Nothing in the map can take it: a member that came back since the last update(), chosen
  // by the hash so that a client still sticks to it.
  return firstThatCanTake(servers, map->members(), request.client_hash);
}

}  // namespace lb::balance
