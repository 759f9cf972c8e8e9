#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "agent/balance/balancer.h"

namespace lb::balance::testing {

// The state of one fake server; defaults to an idle, usable active server of weight 1.
struct FakeServer {
  bool usable = true;
  uint32_t weight = 1;
  uint32_t active = 0;
  bool full = false;
  bool backup = false;
};

// A ServerSet over plain values. Every field is an atomic, so a test may change servers from
// one thread while others pick.
class FakeServerSet : public ServerSet {
 public:
  explicit FakeServerSet(const std::vector<FakeServer>& servers) : slots_(servers.size()) {
    for (size_t i = 0; i < servers.size(); ++i) {
      setUsable(i, servers[i].usable);
      setWeight(i, servers[i].weight);
      setActive(i, servers[i].active);
      setFull(i, servers[i].full);
      slots_[i].backup = servers[i].backup;
    }
  }

  // Usable active servers with these weights.
  static std::vector<FakeServer> weighted(std::initializer_list<uint32_t> weights) {
    std::vector<FakeServer> servers;
    for (uint32_t w : weights) servers.push_back(FakeServer{.weight = w});
    return servers;
  }

  size_t size() const override { return slots_.size(); }
  bool usable(size_t i) const override { return slots_.at(i).usable.load(); }
  uint32_t weight(size_t i) const override { return slots_.at(i).weight.load(); }
  uint32_t active(size_t i) const override { return slots_.at(i).active.load(); }
  bool full(size_t i) const override { return slots_.at(i).full.load(); }
  bool backup(size_t i) const override { return slots_.at(i).backup; }

  void setUsable(size_t i, bool usable) { slots_.at(i).usable = usable; }
  void setWeight(size_t i, uint32_t weight) { slots_.at(i).weight = weight; }
  void setActive(size_t i, uint32_t active) { slots_.at(i).active = active; }
  void setFull(size_t i, bool full) { slots_.at(i).full = full; }

 private:
  struct Slot {
    std::atomic<bool> usable{true};
    std::atomic<uint32_t> weight{1};
    std::atomic<uint32_t> active{0};
    std::atomic<bool> full{false};
    bool backup = false;
  };
  std::vector<Slot> slots_;
};

// Returns the given values in turn, over and over, and counts the calls.
class SequenceRandom : public Random {
 public:
  explicit SequenceRandom(std::vector<uint64_t> values) : values_(std::move(values)) {}
  uint64_t next() override { return values_[calls_++ % values_.size()]; }
  size_t calls() const { return calls_; }

 private:
  std::vector<uint64_t> values_;
  size_t calls_ = 0;
};

// splitmix64 from a fixed seed: well spread, and the same on every run.
class SplitMixRandom : public Random {
 public:
  explicit SplitMixRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() override {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

inline lb::v1::Balance balanceOf(lb::v1::Balance::Algorithm algorithm,
                                 std::optional<uint32_t> random_draws = std::nullopt) {
  lb::v1::Balance balance;
  balance.set_algorithm(algorithm);
  if (random_draws) balance.set_random_draws(*random_draws);
  return balance;
}

// `n` picks in a row; -1 stands for nullopt.
inline std::vector<int> pickMany(Balancer& balancer, const ServerSet& servers, size_t n,
                                 const PickRequest& request = {}) {
  std::vector<int> picked;
  for (size_t k = 0; k < n; ++k) {
    auto i = balancer.pick(servers, request);
    picked.push_back(i ? static_cast<int>(*i) : -1);
  }
  return picked;
}

// How many of `picked` went to each of `size` servers; nullopt picks are not counted.
inline std::vector<int> countPerServer(const std::vector<int>& picked, size_t size) {
  std::vector<int> counts(size, 0);
  for (int i : picked) {
    if (i >= 0) ++counts.at(i);
  }
  return counts;
}

}  // namespace lb::balance::testing
