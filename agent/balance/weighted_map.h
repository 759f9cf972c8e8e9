#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "agent/balance/balancer.h"

namespace lb::balance {

// One cycle of smooth weighted round-robin (nginx's algorithm) over the servers of a group that
// were usable with weight > 0 when it was built. Weights are divided by their gcd, so the cycle
// has sum(weight / gcd) entries and each server appears weight / gcd times, spread out rather
// than in bursts: weights 5:1:1 give a a b a c a a, 3:1 gives a a b a, equal weights give the
// configuration order.
//
// roundrobin and static-rr walk it in turn; source and random index into it (it plays the part
// of HAProxy's server map, which HAProxy also fills in this interleaved way). Interleaving
// matters for them too: when the entry a hash lands on is a server that went down, the next
// entry is usually another server, so that server's clients spread over the others.
//
// Building costs O(entries x distinct weights): one pass per entry over the weights in use
// (a backend of one weight is linear). Immutable once built, so any number of threads may read
// it.
class WeightedMap {
 public:
  // `members`: the group's servers in configuration order, whatever their state.
  WeightedMap(const ServerSet& servers, std::span<const size_t> members);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // The server at position `pos` of the endless repetition of the cycle. Requires !empty().
  size_t at(uint64_t pos) const { return entries_[pos % entries_.size()]; }
  // Number of different servers in the cycle.
  size_t distinct() const { return distinct_; }
  // All members of the group, usable or not when the map was built, in configuration order.
  std::span<const size_t> members() const { return members_; }

  // The first entry at `pos` or after it (wrapping, at most one cycle) whose server can take a
  // connection now; nullopt when none of the cycle's servers can.
  std::optional<size_t> findFrom(const ServerSet& servers, uint64_t pos) const;

 private:
  std::vector<uint32_t> entries_;
  std::vector<size_t> members_;
  size_t distinct_ = 0;
};

}  // namespace lb::balance
