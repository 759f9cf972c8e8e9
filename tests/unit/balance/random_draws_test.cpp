#include "agent/balance/random_draws.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::balanceOf;
using ::lb::balance::testing::countPerServer;
using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::lb::balance::testing::pickMany;
using ::lb::balance::testing::SequenceRandom;
using ::lb::balance::testing::SplitMixRandom;
using ::testing::Each;
using ::testing::ElementsAreArray;
using ::testing::Ne;

std::unique_ptr<Balancer> makeRandom(const ServerSet& servers,
                                     std::optional<uint32_t> draws = std::nullopt) {
  return makeBalancer(balanceOf(lb::v1::Balance::RANDOM, draws), /*allbackups=*/false, servers);
}

struct DrawCase {
  std::string name;
  std::vector<FakeServer> servers;
  uint32_t draws;
  // What the fake Random returns, in turn; each draw is map[value % map size].
  std::vector<uint64_t> randoms;
  std::vector<int> chosen;
};

class RandomDrawTest : public ::testing::TestWithParam<DrawCase> {};

TEST_P(RandomDrawTest, PicksTheLeastLoadedOfTheDraws) {
  const auto& c = GetParam();
  FakeServerSet servers(c.servers);
  auto balancer = makeRandom(servers, c.draws);
  SequenceRandom random(c.randoms);
  EXPECT_THAT(pickMany(*balancer, servers, c.chosen.size(), PickRequest{.random = &random}),
              ElementsAreArray(c.chosen));
  EXPECT_EQ(random.calls(), c.chosen.size() * c.draws);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RandomDrawTest,
    ::testing::Values(
        // One draw: plain weighted random over the map.
        DrawCase{
            "OneDraw", FakeServerSet::weighted({1, 1, 1}), 1, {0, 1, 2, 5, 7}, {0, 1, 2, 2, 1}},
        DrawCase{"OneDrawWeighted", FakeServerSet::weighted({3, 1}), 1, {0, 1, 2, 3}, {0, 0, 1, 0}},
        // Two draws: the one with fewer connections.
        DrawCase{"TwoDrawsLeastActive",
                 {FakeServer{.active = 5}, FakeServer{.active = 1}, FakeServer{.active = 3}},
                 2,
                 {0, 1, 2, 0, 0, 0},
                 {1, 2, 0}},
        // Equal load: the first drawn.
        DrawCase{"TwoDrawsTieFirstDrawn", FakeServerSet::weighted({1, 1, 1}), 2, {2, 0}, {2}},
        DrawCase{"ThreeDraws",
                 {FakeServer{.active = 5}, FakeServer{.active = 4}, FakeServer{.active = 3}},
                 3,
                 {0, 1, 2},
                 {2}},
        // Load is relative to weight, as HAProxy compares it: 2 on weight 3 beats 1 on weight 1.
        DrawCase{"RelativeToWeight",
                 {FakeServer{.weight = 1, .active = 1}, FakeServer{.weight = 3, .active = 2}},
                 2,
                 {1, 0},
                 {1}}),
    [](const auto& info) { return info.param.name; });

TEST(RandomDrawsTest, DefaultIsTwoDraws) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  auto balancer = makeRandom(servers);
  SequenceRandom random({0, 1});
  balancer->pick(servers, PickRequest{.random = &random});
  EXPECT_EQ(random.calls(), 2u);
}

TEST(RandomDrawsTest, ZeroDrawsMeansOne) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  auto balancer = makeRandom(servers, 0);
  SequenceRandom random({1});
  EXPECT_EQ(balancer->pick(servers, PickRequest{.random = &random}), 1u);
  EXPECT_EQ(random.calls(), 1u);
}

TEST(RandomDrawsTest, ServerDownSinceUpdateIsNeverPicked) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeRandom(servers, 1);
  servers.setUsable(0, false);
  SequenceRandom random({0, 1, 2, 3});
  EXPECT_THAT(pickMany(*balancer, servers, 4, PickRequest{.random = &random}),
              ElementsAreArray({1, 1, 2, 1}));
}

struct DistributionCase {
  std::string name;
  uint32_t draws;
};

class RandomDistributionTest : public ::testing::TestWithParam<DistributionCase> {};

TEST_P(RandomDistributionTest, FollowsWeightsWithinTwoPercent) {
  // Connections are not counted here, so draws tie and the first drawn wins: the distribution
  // is the weighted one whatever N.
  FakeServerSet servers(FakeServerSet::weighted({1, 2, 3}));
  auto balancer = makeRandom(servers, GetParam().draws);
  SplitMixRandom random(7);
  const int picks = 60000;
  auto counts =
      countPerServer(pickMany(*balancer, servers, picks, PickRequest{.random = &random}), 3);
  EXPECT_NEAR(counts[0], picks / 6, picks / 6 * 0.02);
  EXPECT_NEAR(counts[1], picks / 3, picks / 3 * 0.02);
  EXPECT_NEAR(counts[2], picks / 2, picks / 2 * 0.02);
}

INSTANTIATE_TEST_SUITE_P(Draws, RandomDistributionTest,
                         ::testing::Values(DistributionCase{"One", 1}, DistributionCase{"Two", 2},
                                           DistributionCase{"Five", 5}),
                         [](const auto& info) { return info.param.name; });

TEST(RandomDrawsTest, TwoDrawsEvenOutLoad) {
  // The runtime counts a connection as soon as it is picked; simulate that. Power of two
  // choices keeps the servers much closer than plain random would.
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1}));
  auto balancer = makeRandom(servers, 2);
  SplitMixRandom random(11);
  for (int k = 0; k < 4000; ++k) {
    auto i = balancer->pick(servers, PickRequest{.random = &random});
    ASSERT_TRUE(i.has_value());
    servers.setActive(*i, servers.active(*i) + 1);
  }
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(servers.active(i), 1000, 10) << i;
}

TEST(RandomDrawsTest, WithoutRandomStillPicksAValidServer) {
  FakeServerSet servers(FakeServerSet::weighted({1, 0, 1}));
  auto balancer = makeRandom(servers);
  auto picked = pickMany(*balancer, servers, 100, PickRequest{});
  EXPECT_THAT(picked, Each(Ne(1)));
  EXPECT_THAT(picked, Each(Ne(-1)));
}

TEST(RandomDrawsTest, AllDownIsNullopt) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  auto balancer = makeRandom(servers);
  servers.setUsable(0, false);
  servers.setFull(1, true);
  SplitMixRandom random(1);
  EXPECT_EQ(balancer->pick(servers, PickRequest{.random = &random}), std::nullopt);
}

}  // namespace
}  // namespace lb::balance
