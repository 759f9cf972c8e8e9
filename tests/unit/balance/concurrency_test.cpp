#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "agent/balance/balancer.h"
#include "tests/unit/balance/fake_server_set.h"

namespace lb::balance {
namespace {

using ::lb::balance::testing::balanceOf;
using ::lb::balance::testing::FakeServer;
using ::lb::balance::testing::FakeServerSet;
using ::lb::balance::testing::SplitMixRandom;
using ::testing::Each;
using ::testing::ElementsAreArray;

constexpr int kPickers = 4;
constexpr int kPicksPerThread = 10000;

// Runs kPickers threads of kPicksPerThread picks each; returns how many picks each server got
// (index size() counts nullopt). `meanwhile` runs on one more thread until the pickers are done.
template <typename Meanwhile>
std::vector<int> pickFromThreads(Balancer& balancer, const ServerSet& servers,
                                 Meanwhile meanwhile) {
  std::vector<std::vector<int>> counts(kPickers, std::vector<int>(servers.size() + 1, 0));
  std::atomic<bool> done{false};
  std::thread other([&] {
    while (!done.load()) meanwhile();
  });
  std::vector<std::thread> pickers;
  for (int t = 0; t < kPickers; ++t) {
    pickers.emplace_back([&, t] {
      SplitMixRandom random(t);
      for (int k = 0; k < kPicksPerThread; ++k) {
        auto i = balancer.pick(servers, PickRequest{.client_hash = uint64_t(k), .random = &random});
        ++counts[t][i && *i < servers.size() ? *i : servers.size()];
      }
    });
  }
  for (auto& p : pickers) p.join();
  done = true;
  other.join();
  std::vector<int> total(servers.size() + 1, 0);
  for (const auto& c : counts) {
    for (size_t i = 0; i < c.size(); ++i) total[i] += c[i];
  }
  return total;
}

class ConcurrencyTest : public ::testing::TestWithParam<lb::v1::Balance::Algorithm> {};

TEST_P(ConcurrencyTest, PicksStayValidWhileUpdatesRun) {
  // 0 and 1 are always up; 2 flaps and changes weight; 3 is always down; 4 always weight 0;
  // 5 is a backup and must never be used since 0 and 1 are up.
  FakeServerSet servers({FakeServer{.weight = 2}, FakeServer{}, FakeServer{},
                         FakeServer{.usable = false}, FakeServer{.weight = 0},
                         FakeServer{.backup = true}});
  auto balancer = makeBalancer(balanceOf(GetParam()), /*allbackups=*/true, servers);
  uint32_t round = 0;
  auto counts = pickFromThreads(*balancer, servers, [&] {
    ++round;
    servers.setUsable(2, round % 3 != 0);
    servers.setWeight(2, 1 + round % 5);  // like a slowstart ramp
    balancer->update(servers);
  });
  EXPECT_EQ(counts[3], 0);
  EXPECT_EQ(counts[4], 0);
  EXPECT_EQ(counts[5], 0);
  EXPECT_EQ(counts[6], 0) << "nullopt although servers were up";
  EXPECT_EQ(counts[0] + counts[1] + counts[2], kPickers * kPicksPerThread);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ConcurrencyTest,
                         ::testing::Values(lb::v1::Balance::ROUNDROBIN, lb::v1::Balance::STATIC_RR,
                                           lb::v1::Balance::LEASTCONN, lb::v1::Balance::FIRST,
                                           lb::v1::Balance::SOURCE, lb::v1::Balance::RANDOM),
                         [](const auto& info) {
                           return lb::v1::Balance::Algorithm_Name(info.param);
                         });

TEST(RoundRobinConcurrencyTest, ThreadsShareOneSequence) {
  // Equal weights, no updates: whatever the interleaving, each server gets exactly its turn.
  FakeServerSet servers(FakeServerSet::weighted({1, 1, 1, 1, 1}));
  auto balancer = makeBalancer(balanceOf(lb::v1::Balance::ROUNDROBIN), false, servers);
  auto counts = pickFromThreads(*balancer, servers, [] { std::this_thread::yield(); });
  const int each = kPickers * kPicksPerThread / 5;
  EXPECT_THAT(counts, ElementsAreArray({each, each, each, each, each, 0}));
}

TEST(RoundRobinConcurrencyTest, WeightedSequenceIsSharedToo) {
  FakeServerSet servers(FakeServerSet::weighted({1, 3}));
  auto balancer = makeBalancer(balanceOf(lb::v1::Balance::ROUNDROBIN), false, servers);
  auto counts = pickFromThreads(*balancer, servers, [] { std::this_thread::yield(); });
  const int total = kPickers * kPicksPerThread;
  EXPECT_THAT(counts, ElementsAreArray({total / 4, total * 3 / 4, 0}));
}

}  // namespace
}  // namespace lb::balance
