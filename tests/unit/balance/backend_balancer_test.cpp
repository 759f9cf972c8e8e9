#include "agent/balance/backend_balancer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::balanceOf;
using ::lb::balance::testing::countPerServer;
using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::lb::balance::testing::SplitMixRandom;
using ::testing::Each;
using ::testing::ElementsAreArray;
using ::testing::Ne;

// What every algorithm must do the same way: backups, weight 0, full and down servers.
class EveryAlgorithmTest : public ::testing::TestWithParam<lb::v1::Balance::Algorithm> {
 protected:
  std::unique_ptr<Balancer> make(const ServerSet& servers, bool allbackups = false) {
    return makeBalancer(balanceOf(GetParam()), allbackups, servers);
  }

  // `n` picks, each from a different client and with fresh random numbers, so that source and
  // random spread their picks too.
  std::vector<int> picks(Balancer& balancer, const ServerSet& servers, size_t n) {
    std::vector<int> picked;
    for (size_t k = 0; k < n; ++k) {
      auto i = balancer.pick(servers, PickRequest{.client_hash = k, .random = &random_});
      picked.push_back(i ? static_cast<int>(*i) : -1);
    }
    return picked;
  }

  SplitMixRandom random_{42};
};

TEST_P(EveryAlgorithmTest, AllDownIsNullopt) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{.usable = false},
                         FakeServer{.usable = false, .backup = true}});
  auto balancer = make(servers);
  EXPECT_THAT(picks(*balancer, servers, 10), Each(-1));
}

TEST_P(EveryAlgorithmTest, NoServersIsNullopt) {
  FakeServerSet servers(std::vector<FakeServer>{});
  auto balancer = make(servers);
  EXPECT_THAT(picks(*balancer, servers, 3), Each(-1));
}

TEST_P(EveryAlgorithmTest, WeightZeroIsNeverPicked) {
  FakeServerSet servers(FakeServerSet::weighted({0, 1, 0, 1}));
  auto balancer = make(servers);
  auto picked = picks(*balancer, servers, 200);
  EXPECT_THAT(picked, Each(Ne(0)));
  EXPECT_THAT(picked, Each(Ne(2)));
  EXPECT_THAT(picked, Each(Ne(-1)));
}

TEST_P(EveryAlgorithmTest, AllWeightZeroIsNullopt) {
  FakeServerSet servers(FakeServerSet::weighted({0, 0}));
  auto balancer = make(servers);
  EXPECT_THAT(picks(*balancer, servers, 5), Each(-1));
}

TEST_P(EveryAlgorithmTest, DownOrFullSinceUpdateIsNeverPicked) {
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1}));
  auto balancer = make(servers);
  servers.setUsable(0, false);
  servers.setFull(2, true);
  servers.setWeight(3, 0);
  EXPECT_THAT(picks(*balancer, servers, 200), Each(1));
}

TEST_P(EveryAlgorithmTest, BackupsUnusedWhileAnActiveServerIsUp) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{}, FakeServer{.backup = true}});
  auto balancer = make(servers);
  EXPECT_THAT(picks(*balancer, servers, 50), Each(1));
}

TEST_P(EveryAlgorithmTest, FirstUsableBackupWhenAllActivesAreDown) {
  FakeServerSet servers({FakeServer{}, FakeServer{}, FakeServer{.backup = true},
                         FakeServer{.backup = true}, FakeServer{.backup = true}});
  auto balancer = make(servers);
  servers.setUsable(0, false);
  servers.setUsable(1, false);
  EXPECT_THAT(picks(*balancer, servers, 20), Each(2));  // even before update()
  balancer->update(servers);
  EXPECT_THAT(picks(*balancer, servers, 20), Each(2));
  servers.setUsable(2, false);  // the first backup goes down too: the next one
  balancer->update(servers);
  EXPECT_THAT(picks(*balancer, servers, 20), Each(3));
  servers.setFull(3, true);  // the backup in use is full: wait for it (HAProxy), not the next
  EXPECT_THAT(picks(*balancer, servers, 20), Each(-1));
  servers.setFull(3, false);
  servers.setUsable(1, true);  // an active server comes back: backups are left
  balancer->update(servers);
  EXPECT_THAT(picks(*balancer, servers, 20), Each(1));
}

TEST_P(EveryAlgorithmTest, EveryActiveFullMeansWaitingNotBackups) {
  // HAProxy queues the connection on the backend; the backup stays idle while an active server
  // is usable, full or not.
  FakeServerSet servers(
      {FakeServer{.full = true}, FakeServer{.full = true}, FakeServer{.backup = true}});
  auto balancer = make(servers);
  EXPECT_THAT(picks(*balancer, servers, 10), Each(-1));
  servers.setFull(1, false);
  EXPECT_THAT(picks(*balancer, servers, 10), Each(1));
  servers.setUsable(0, false);
  servers.setUsable(1, false);
  EXPECT_THAT(picks(*balancer, servers, 10), Each(2));
}

TEST_P(EveryAlgorithmTest, WithAllbackupsAFullBackupLeavesTheOthers) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{.full = true, .backup = true},
                         FakeServer{.backup = true}});
  auto balancer = make(servers, /*allbackups=*/true);
  EXPECT_THAT(picks(*balancer, servers, 10), Each(2));
}

TEST_P(EveryAlgorithmTest, AllbackupsBalancesOverTheBackups) {
  FakeServerSet servers({FakeServer{.usable = false}, FakeServer{.backup = true},
                         FakeServer{.backup = true}, FakeServer{.backup = true}});
  auto balancer = make(servers, /*allbackups=*/true);
  auto counts = countPerServer(picks(*balancer, servers, 300), 4);
  EXPECT_EQ(counts[0], 0);
  if (GetParam() == lb::v1::Balance::FIRST) {
    // `first` over the backups is still the first one.
    EXPECT_THAT(counts, ElementsAreArray({0, 300, 0, 0}));
  } else {
    EXPECT_GT(counts[1], 50);
    EXPECT_GT(counts[2], 50);
    EXPECT_GT(counts[3], 50);
    EXPECT_EQ(counts[1] + counts[2] + counts[3], 300);
  }
}

TEST_P(EveryAlgorithmTest, AllbackupsUnusedWhileAnActiveServerIsUp) {
  FakeServerSet servers({FakeServer{}, FakeServer{.backup = true}, FakeServer{.backup = true}});
  auto balancer = make(servers, /*allbackups=*/true);
  EXPECT_THAT(picks(*balancer, servers, 30), Each(0));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, EveryAlgorithmTest,
                         ::testing::Values(lb::v1::Balance::ROUNDROBIN, lb::v1::Balance::STATIC_RR,
                                           lb::v1::Balance::LEASTCONN, lb::v1::Balance::FIRST,
                                           lb::v1::Balance::SOURCE, lb::v1::Balance::RANDOM),
                         [](const auto& info) {
                           return lb::v1::Balance::Algorithm_Name(info.param);
                         });

}  // namespace
}  // namespace lb::balance
