#include "agent/balance/first_available.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::balanceOf;
using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::lb::balance::testing::pickMany;
using ::testing::Each;
using ::testing::ElementsAreArray;

std::unique_ptr<Balancer> makeFirst(const ServerSet& servers) {
  return makeBalancer(balanceOf(lb::v1::Balance::FIRST), /*allbackups=*/false, servers);
}

struct ChoiceCase {
  std::string name;
  std::vector<FakeServer> servers;
  int chosen;
};

class FirstChoiceTest : public ::testing::TestWithParam<ChoiceCase> {};

TEST_P(FirstChoiceTest, PicksTheFirstThatCanTake) {
  const auto& c = GetParam();
  FakeServerSet servers(c.servers);
  auto balancer = makeFirst(servers);
  EXPECT_THAT(pickMany(*balancer, servers, 3), Each(c.chosen));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FirstChoiceTest,
    ::testing::Values(
        // Load and weight do not matter, only the order.
        ChoiceCase{"FirstEvenIfBusy",
                   {FakeServer{.weight = 1, .active = 50}, FakeServer{.weight = 100}},
                   0},
        ChoiceCase{
            "FirstFullThenSecond", {FakeServer{.full = true}, FakeServer{}, FakeServer{}}, 1},
        ChoiceCase{
            "FirstTwoFull", {FakeServer{.full = true}, FakeServer{.full = true}, FakeServer{}}, 2},
        ChoiceCase{"FirstDown", {FakeServer{.usable = false}, FakeServer{}}, 1},
        ChoiceCase{"FirstWeightZero", {FakeServer{.weight = 0}, FakeServer{}}, 1},
        ChoiceCase{"AllFull", {FakeServer{.full = true}, FakeServer{.full = true}}, -1}),
    [](const auto& info) { return info.param.name; });

TEST(FirstTest, ServersFillUpOneAfterTheOther) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1}));
  auto balancer = makeFirst(servers);
  EXPECT_THAT(pickMany(*balancer, servers, 2), ElementsAreArray({0, 0}));
  servers.setFull(0, true);  // maxconn reached
  EXPECT_THAT(pickMany(*balancer, servers, 2), ElementsAreArray({1, 1}));
  servers.setFull(1, true);
  EXPECT_THAT(pickMany(*balancer, servers, 2), ElementsAreArray({2, 2}));
  servers.setFull(0, false);  // a connection closed on the first
  EXPECT_THAT(pickMany(*balancer, servers, 2), ElementsAreArray({0, 0}));
}

TEST(FirstTest, ServerBackIsFirstAgainWithoutWaitingForUpdate) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1}));
  servers.setUsable(0, false);
  auto balancer = makeFirst(servers);
  EXPECT_EQ(balancer->pick(servers, {}), 1u);
  servers.setUsable(0, true);
  EXPECT_EQ(balancer->pick(servers, {}), 0u);
}

}  // namespace
}  // namespace lb::balance
