#include "agent/balance/weighted_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::lb::balance::testing::SplitMixRandom;
using ::testing::ElementsAreArray;

std::vector<size_t> allOf(const ServerSet& servers) {
  std::vector<size_t> members(servers.size());
  std::iota(members.begin(), members.end(), 0);
  return members;
}

std::vector<size_t> cycleOf(const WeightedMap& map) {
  std::vector<size_t> cycle;
  for (size_t pos = 0; pos < map.size(); ++pos) cycle.push_back(map.at(pos));
  return cycle;
}

struct CycleCase {
  std::string name;
  std::vector<FakeServer> servers;
  std::vector<size_t> cycle;
};

class WeightedMapCycleTest : public ::testing::TestWithParam<CycleCase> {};

TEST_P(WeightedMapCycleTest, IsOneSmoothCycle) {
  const auto& c = GetParam();
  FakeServerSet servers(c.servers);
  WeightedMap map(servers, allOf(servers));
  EXPECT_THAT(cycleOf(map), ElementsAreArray(c.cycle));
  EXPECT_EQ(map.empty(), c.cycle.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Weights, WeightedMapCycleTest,
    ::testing::Values(
        CycleCase{"Equal", FakeServerSet::weighted({1, 1, 1}), {0, 1, 2}},
        // nginx's documented example: no burst of five to the heavy server.
        CycleCase{"FiveOneOne", FakeServerSet::weighted({5, 1, 1}), {0, 0, 1, 0, 2, 0, 0}},
        CycleCase{"ThreeOne", FakeServerSet::weighted({3, 1}), {0, 0, 1, 0}},
        CycleCase{"OneTwoThree", FakeServerSet::weighted({1, 2, 3}), {2, 1, 0, 2, 1, 2}},
        // Reduced by the gcd: 2:2:2 is 1:1:1, 6:2 is 3:1.
        CycleCase{"EqualNotOne", FakeServerSet::weighted({2, 2, 2}), {0, 1, 2}},
        CycleCase{"ReducedByGcd", FakeServerSet::weighted({6, 2}), {0, 0, 1, 0}},
        CycleCase{"MaxWeights", FakeServerSet::weighted({256, 256}), {0, 1}},
        CycleCase{"WeightZeroLeftOut", FakeServerSet::weighted({0, 1, 0, 1}), {1, 3}},
        CycleCase{
            "UnusableLeftOut", {FakeServer{.usable = false}, FakeServer{}, FakeServer{}}, {1, 2}},
        CycleCase{"NoneUsable", {FakeServer{.usable = false}, FakeServer{.weight = 0}}, {}},
        CycleCase{"NoServers", {}, {}}),
    [](const auto& info) { return info.param.name; });

TEST(WeightedMapTest, EachServerAppearsWeightTimes) {
  FakeServerSet servers(FakeServerSet::weighted({7, 3, 11, 5}));
  WeightedMap map(servers, allOf(servers));
  ASSERT_EQ(map.size(), 26u);
  EXPECT_EQ(map.distinct(), 4u);
  std::vector<int> counts(4, 0);
  for (size_t i : cycleOf(map)) ++counts[i];
  EXPECT_THAT(counts, ElementsAreArray({7, 3, 11, 5}));
}

TEST(WeightedMapTest, OnlyTheGivenMembers) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1}));
  const std::vector<size_t> members = {1, 3};
  WeightedMap map(servers, members);
  EXPECT_THAT(cycleOf(map), ElementsAreArray({1, 3}));
  EXPECT_THAT(map.members(), ElementsAreArray({1, 3}));
}

TEST(WeightedMapTest, FindFromSkipsServersThatCannotTakeAndWraps) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  WeightedMap map(servers, allOf(servers));
  servers.setUsable(1, false);
  servers.setFull(2, true);
  EXPECT_EQ(map.findFrom(servers, 0), 0u);
  EXPECT_EQ(map.findFrom(servers, 1), 0u);
  EXPECT_EQ(map.findFrom(servers, 2), 0u);
  servers.setUsable(0, false);
  EXPECT_EQ(map.findFrom(servers, 0), std::nullopt);
}

// nginx's smooth weighted round-robin step by step over every server: the definition the map
// must reproduce however it computes it.
std::vector<size_t> referenceCycle(const std::vector<uint32_t>& weights) {
  std::vector<size_t> index;
  std::vector<int64_t> weight;
  uint32_t gcd = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == 0) continue;
    index.push_back(i);
    weight.push_back(weights[i]);
    gcd = std::gcd(gcd, weights[i]);
  }
  int64_t total = 0;
  for (auto& w : weight) total += (w /= gcd);
  std::vector<int64_t> current(index.size(), 0);
  std::vector<size_t> cycle;
  for (int64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t k = 0; k < index.size(); ++k) {
      current[k] += weight[k];
      if (current[k] > current[best]) best = k;
    }
    current[best] -= total;
    cycle.push_back(index[best]);
  }
  return cycle;
}

TEST(WeightedMapTest, MatchesSmoothWeightedRoundRobinForManyWeightMixes) {
  SplitMixRandom random(7);
  for (int trial = 0; trial < 200; ++trial) {
    // Few distinct weights over many servers (how large backends look), or many distinct ones.
    const size_t servers = 1 + random.next() % 40;
    const uint64_t distinct = 1 + random.next() % (trial % 2 == 0 ? 3 : 256);
    std::vector<uint32_t> weights;
    std::vector<FakeServer> set;
    for (size_t i = 0; i < servers; ++i) {
      uint32_t w = static_cast<uint32_t>(random.next() % distinct + 1) * (trial % 2 == 0 ? 2 : 1);
      if (random.next() % 10 == 0) w = 0;
      weights.push_back(w);
      set.push_back(FakeServer{.weight = w});
    }
    FakeServerSet fake(set);
    WeightedMap map(fake, allOf(fake));
    ASSERT_THAT(cycleOf(map), ElementsAreArray(referenceCycle(weights)))
        << "trial " << trial << ", " << servers << " servers";
  }
}

TEST(WeightedMapTest, TenThousandServersOfOneWeightTakeTurnsInOrder) {
  std::vector<FakeServer> set(10000);
  set[5].usable = false;
  FakeServerSet fake(set);
  WeightedMap map(fake, allOf(fake));
  ASSERT_EQ(map.size(), 9999u);
  EXPECT_EQ(map.at(4), 4u);
  EXPECT_EQ(map.at(5), 6u);
  EXPECT_EQ(map.at(9998), 9999u);
}

}  // namespace
}  // namespace lb::balance
