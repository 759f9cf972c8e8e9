#include "agent/balance/source_hash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::balanceOf;
using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::testing::ElementsAreArray;

std::unique_ptr<Balancer> makeSource(const ServerSet& servers) {
  return makeBalancer(balanceOf(lb::v1::Balance::SOURCE), /*allbackups=*/false, servers);
}

int pickFor(Balancer& balancer, const ServerSet& servers, uint64_t client_hash) {
  auto i = balancer.pick(servers, PickRequest{.client_hash = client_hash});
  return i ? static_cast<int>(*i) : -1;
}

// The server of each client hash 0 .. n-1.
std::vector<int> serversFor(Balancer& balancer, const ServerSet& servers, uint64_t n) {
  std::vector<int> chosen;
  for (uint64_t h = 0; h < n; ++h) chosen.push_back(pickFor(balancer, servers, h));
  return chosen;
}

struct MapCase {
  std::string name;
  std::vector<uint32_t> weights;
  // The server for client hashes 0, 1, 2, ...: map[hash % map size].
  std::vector<int> chosen;
};

class SourceMapTest : public ::testing::TestWithParam<MapCase> {};

TEST_P(SourceMapTest, HashIndexesTheWeightedMap) {
  const auto& c = GetParam();
  std::vector<FakeServer> list;
  for (uint32_t w : c.weights) list.push_back(FakeServer{.weight = w});
  FakeServerSet servers(list);
  auto balancer = makeSource(servers);
  EXPECT_THAT(serversFor(*balancer, servers, c.chosen.size()), ElementsAreArray(c.chosen));
}

INSTANTIATE_TEST_SUITE_P(Weights, SourceMapTest,
                         ::testing::Values(MapCase{"Equal", {1, 1, 1}, {0, 1, 2, 0, 1, 2}},
                                           // The map is the smooth cycle 0 0 1 0.
                                           MapCase{"ThreeOne", {3, 1}, {0, 0, 1, 0, 0, 0, 1, 0}},
                                           MapCase{"WeightZeroLeftOut", {1, 0, 1}, {0, 2, 0, 2}}),
                         [](const auto& info) { return info.param.name; });

TEST(SourceHashTest, SameClientSameServer) {
  FakeServerSet servers(FakeServerSet::weighted({1, 2, 3, 1}));
  auto balancer = makeSource(servers);
  const uint64_t hashes[] = {0, 1, 6, 0x9e3779b97f4a7c15, UINT64_MAX, 123456789};
  for (uint64_t h : hashes) {
    const int first = pickFor(*balancer, servers, h);
    for (int k = 0; k < 10; ++k) EXPECT_EQ(pickFor(*balancer, servers, h), first) << h;
    balancer->update(servers);  // nothing changed: still the same
    EXPECT_EQ(pickFor(*balancer, servers, h), first) << h;
  }
}

TEST(SourceHashTest, DistributionFollowsWeights) {
  FakeServerSet servers(FakeServerSet::weighted({1, 2, 3}));
  auto balancer = makeSource(servers);
  std::vector<int> counts(3, 0);
  for (int i : serversFor(*balancer, servers, 6000)) ++counts.at(i);
  EXPECT_THAT(counts, ElementsAreArray({1000, 2000, 3000}));
}

TEST(SourceHashTest, OnlyTheDownServersClientsMoveBeforeUpdate) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1}));
  auto balancer = makeSource(servers);
  const auto before = serversFor(*balancer, servers, 400);
  servers.setUsable(1, false);
  const auto after = serversFor(*balancer, servers, 400);
  for (uint64_t h = 0; h < 400; ++h) {
    if (before[h] == 1) {
      // The next entry of the map.
      EXPECT_EQ(after[h], 2) << h;
    } else {
      EXPECT_EQ(after[h], before[h]) << h;
    }
  }
}

TEST(SourceHashTest, RemapsAfterUpdateAndComesBack) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeSource(servers);
  const auto before = serversFor(*balancer, servers, 30);
  servers.setUsable(2, false);
  balancer->update(servers);
  // Map-based: the map is now 0 1, so the hash is taken modulo 2.
  const auto down = serversFor(*balancer, servers, 30);
  for (uint64_t h = 0; h < 30; ++h) EXPECT_EQ(down[h], static_cast<int>(h % 2)) << h;
  servers.setUsable(2, true);
  balancer->update(servers);
  EXPECT_EQ(serversFor(*balancer, servers, 30), before);
}

TEST(SourceHashTest, FullServerSendsItsClientsToTheNextEntry) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeSource(servers);
  servers.setFull(0, true);
  EXPECT_THAT(serversFor(*balancer, servers, 6), ElementsAreArray({1, 1, 2, 1, 1, 2}));
}

TEST(SourceHashTest, AllDownIsNullopt) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{.weight = 0}});
  auto balancer = makeSource(servers);
  EXPECT_EQ(pickFor(*balancer, servers, 42), -1);
}

}  // namespace
}  // namespace lb::balance
