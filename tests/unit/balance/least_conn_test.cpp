#include "agent/balance/least_conn.h"

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
using ::testing::ElementsAreArray;

std::unique_ptr<Balancer> makeLeastConn(const ServerSet& servers) {
  return makeBalancer(balanceOf(lb::v1::Balance::LEASTCONN), /*allbackups=*/false, servers);
}

struct ChoiceCase {
  std::string name;
  std::vector<FakeServer> servers;
  int chosen;
};

class LeastConnChoiceTest : public ::testing::TestWithParam<ChoiceCase> {};

TEST_P(LeastConnChoiceTest, PicksTheLeastLoaded) {
  const auto& c = GetParam();
  FakeServerSet servers(c.servers);
  auto balancer = makeLeastConn(servers);
  // The counts do not change between picks here, so every pick agrees.
  EXPECT_THAT(pickMany(*balancer, servers, 5), ::testing::Each(c.chosen));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LeastConnChoiceTest,
    ::testing::Values(
        ChoiceCase{"FewestActive",
                   {FakeServer{.active = 5}, FakeServer{.active = 2}, FakeServer{.active = 7}},
                   1},
        // Relative to weight: 3 connections on weight 3 beat 2 on weight 1.
        ChoiceCase{"RelativeToWeight",
                   {FakeServer{.weight = 1, .active = 2}, FakeServer{.weight = 3, .active = 3}},
                   1},
        // HAProxy's (active + 1) / weight: an idle light server (1/1) loses to a heavy one with
        // one connection (2/4).
        ChoiceCase{"PlusOneLikeHaproxy",
                   {FakeServer{.weight = 1, .active = 0}, FakeServer{.weight = 4, .active = 1}},
                   1},
        ChoiceCase{
            "DownSkipped", {FakeServer{.usable = false, .active = 0}, FakeServer{.active = 9}}, 1},
        ChoiceCase{"FullSkipped", {FakeServer{.full = true}, FakeServer{.active = 9}}, 1},
        ChoiceCase{"WeightZeroSkipped", {FakeServer{.weight = 0}, FakeServer{.active = 9}}, 1},
        ChoiceCase{"AllDown",
                   {FakeServer{.usable = false}, FakeServer{.full = true}, FakeServer{.weight = 0}},
                   -1}),
    [](const auto& info) { return info.param.name; });

TEST(LeastConnTest, TiesGoRoundRobin) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeLeastConn(servers);
  EXPECT_THAT(pickMany(*balancer, servers, 7), ElementsAreArray({0, 1, 2, 0, 1, 2, 0}));
}

TEST(LeastConnTest, TiesAmongSomeAreShared) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1}));
  servers.setActive(1, 4);
  auto balancer = makeLeastConn(servers);
  auto counts = countPerServer(pickMany(*balancer, servers, 400), 4);
  EXPECT_EQ(counts[1], 0);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[2], 0);
  EXPECT_GT(counts[3], 0);
}

TEST(LeastConnTest, FollowsConnectionsAsTheyChange) {
  // The runtime counts a connection as soon as it is picked; simulate that.
  FakeServerSet servers(FakeServerSet::weighted({1, 2}));
  auto balancer = makeLeastConn(servers);
  for (int k = 0; k < 300; ++k) {
    auto i = balancer->pick(servers, {});
    ASSERT_TRUE(i.has_value());
    servers.setActive(*i, servers.active(*i) + 1);
  }
  // Filled in proportion to the weights.
  EXPECT_EQ(servers.active(0), 100u);
  EXPECT_EQ(servers.active(1), 200u);
}

TEST(LeastConnTest, ServerDownSinceUpdateIsSkipped) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeLeastConn(servers);
  servers.setUsable(0, false);
  auto counts = countPerServer(pickMany(*balancer, servers, 30), 3);
  EXPECT_EQ(counts[0], 0);
  EXPECT_EQ(counts[1] + counts[2], 30);
}

TEST(LeastConnTest, WeightsAreReadAtPickTime) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  servers.setActive(0, 2);
  servers.setActive(1, 1);
  auto balancer = makeLeastConn(servers);
  EXPECT_EQ(balancer->pick(servers, {}), 1u);
  servers.setWeight(0, 4);  // (2+1)/4 < (1+1)/1
  EXPECT_EQ(balancer->pick(servers, {}), 0u);
}

}  // namespace
}  // namespace lb::balance
