#include "agent/balance/round_robin.h"

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
using ::testing::Each;
using ::testing::ElementsAreArray;
using ::testing::Ne;

// roundrobin and static-rr share one implementation; every test runs for both.
class RoundRobinTest : public ::testing::TestWithParam<lb::v1::Balance::Algorithm> {
 protected:
  std::unique_ptr<Balancer> make(const ServerSet& servers) {
    return makeBalancer(balanceOf(GetParam()), /*allbackups=*/false, servers);
  }
};

struct SequenceCase {
  std::string name;
  std::vector<uint32_t> weights;
  std::vector<int> sequence;
};

const SequenceCase kSequences[] = {
    // Three browser windows: backend1, backend2, backend3, and round again.
    {"Equal", {1, 1, 1}, {0, 1, 2, 0, 1, 2, 0}},
    {"EqualHeavy", {10, 10, 10}, {0, 1, 2, 0, 1, 2}},
    {"ThreeOne", {3, 1}, {0, 0, 1, 0, 0, 0, 1, 0}},
    // nginx's smooth sequence, never five in a row.
    {"FiveOneOne", {5, 1, 1}, {0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0}},
    {"Single", {7}, {0, 0, 0}},
};

TEST_P(RoundRobinTest, ExactSequences) {
  for (const auto& c : kSequences) {
    std::vector<FakeServer> list;
    for (uint32_t w : c.weights) list.push_back(FakeServer{.weight = w});
    FakeServerSet servers(list);
    auto balancer = make(servers);
    EXPECT_THAT(pickMany(*balancer, servers, c.sequence.size()), ElementsAreArray(c.sequence))
        << c.name;
  }
}

TEST_P(RoundRobinTest, DistributionFollowsWeightsExactly) {
  FakeServerSet servers(FakeServerSet::weighted({1, 2, 3}));
  auto balancer = make(servers);
  EXPECT_THAT(countPerServer(pickMany(*balancer, servers, 6000), 3),
              ElementsAreArray({1000, 2000, 3000}));
}

TEST_P(RoundRobinTest, WeightZeroIsNeverPicked) {
  FakeServerSet servers(FakeServerSet::weighted({1, 0, 1}));
  auto balancer = make(servers);
  EXPECT_THAT(pickMany(*balancer, servers, 6), ElementsAreArray({0, 2, 0, 2, 0, 2}));
}

TEST_P(RoundRobinTest, ServerDownSinceUpdateLosesItsTurn) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = make(servers);
  servers.setUsable(1, false);  // no update() yet
  EXPECT_THAT(pickMany(*balancer, servers, 6), ElementsAreArray({0, 2, 0, 2, 0, 2}));
}

TEST_P(RoundRobinTest, WeightZeroSinceUpdateIsSkipped) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = make(servers);
  servers.setWeight(2, 0);
  EXPECT_THAT(pickMany(*balancer, servers, 4), ElementsAreArray({0, 1, 0, 1}));
}

TEST_P(RoundRobinTest, FullServerIsSkippedUntilItHasRoom) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = make(servers);
  servers.setFull(0, true);
  EXPECT_THAT(pickMany(*balancer, servers, 4), ElementsAreArray({1, 2, 1, 2}));
  servers.setFull(0, false);
  EXPECT_THAT(pickMany(*balancer, servers, 3), ElementsAreArray({0, 1, 2}));
}

TEST_P(RoundRobinTest, HeavyServerDownStillFindsTheOthers) {
  // Most of the schedule is the heavy server; the bounded retries fall back to a scan.
  FakeServerSet servers(FakeServerSet::weighted({100, 1, 1}));
  auto balancer = make(servers);
  servers.setUsable(0, false);
  auto picked = pickMany(*balancer, servers, 200);
  EXPECT_THAT(picked, Each(Ne(0)));
  EXPECT_THAT(picked, Each(Ne(-1)));
}

TEST_P(RoundRobinTest, AllDownIsNullopt) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  auto balancer = make(servers);
  servers.setUsable(0, false);
  servers.setUsable(1, false);
  EXPECT_EQ(balancer->pick(servers, {}), std::nullopt);
  balancer->update(servers);
  EXPECT_EQ(balancer->pick(servers, {}), std::nullopt);
}

TEST_P(RoundRobinTest, UpdateFollowsWeightChanges) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  auto balancer = make(servers);
  EXPECT_THAT(countPerServer(pickMany(*balancer, servers, 10), 2), ElementsAreArray({5, 5}));
  servers.setWeight(0, 3);  // e.g. the end of a slowstart ramp
  balancer->update(servers);
  EXPECT_THAT(countPerServer(pickMany(*balancer, servers, 400), 2), ElementsAreArray({300, 100}));
}

TEST_P(RoundRobinTest, ServerBackAfterUpdateRejoins) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = make(servers);
  servers.setUsable(1, false);
  balancer->update(servers);
  EXPECT_THAT(countPerServer(pickMany(*balancer, servers, 10), 3), ElementsAreArray({5, 0, 5}));
  servers.setUsable(1, true);
  balancer->update(servers);
  EXPECT_THAT(countPerServer(pickMany(*balancer, servers, 9), 3), ElementsAreArray({3, 3, 3}));
}

TEST_P(RoundRobinTest, ServerBackBeforeUpdateIsUsedWhenNothingElseIs) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  servers.setUsable(0, false);
  servers.setUsable(1, false);
  auto balancer = make(servers);
  servers.setUsable(1, true);  // the control thread has not called update() yet
  EXPECT_THAT(pickMany(*balancer, servers, 3), ElementsAreArray({1, 1, 1}));
}

TEST_P(RoundRobinTest, BackupsFollowTheSameSequenceWithAllbackups) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{.backup = true},
                         FakeServer{.weight = 3, .backup = true}});
  auto balancer = makeBalancer(balanceOf(GetParam()), /*allbackups=*/true, servers);
  EXPECT_THAT(pickMany(*balancer, servers, 8), ElementsAreArray({2, 1, 2, 2, 2, 1, 2, 2}));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, RoundRobinTest,
                         ::testing::Values(lb::v1::Balance::ROUNDROBIN, lb::v1::Balance::STATIC_RR),
                         [](const auto& info) {
                           return lb::v1::Balance::Algorithm_Name(info.param);
                         });

TEST(RoundRobinDefaultTest, UnspecifiedAlgorithmIsRoundRobin) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeBalancer(lb::v1::Balance(), false, servers);
  EXPECT_THAT(pickMany(*balancer, servers, 4), ElementsAreArray({0, 1, 2, 0}));
}

}  // namespace
}  // namespace lb::balance
