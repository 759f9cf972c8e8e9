#include "agent/balance/balancer.h"

#include "agent/balance/backend_balancer.h"
#include "agent/balance/first_available.h"
#include "agent/balance/least_conn.h"
#include "agent/balance/random_draws.h"
#include "agent/balance/round_robin.h"
#include "agent/balance/source_hash.h"

namespace lb::balance {
namespace {

// `balance random` without (N) draws twice, as in HAProxy.
constexpr uint32_t kDefaultRandomDraws = 2;

std::unique_ptr<GroupBalancer> makeGroupBalancer(const lb::v1::Balance& balance) {
  switch (balance.algorithm()) {
    case lb::v1::Balance::LEASTCONN:
      return std::make_unique<LeastConn>();
    case lb::v1::Balance::FIRST:
      return std::make_unique<FirstAvailable>();
    case lb::v1::Balance::SOURCE:
      return std::make_unique<SourceHash>();
    case lb::v1::Balance::RANDOM:
      return std::make_unique<RandomDraws>(balance.has_random_draws() ? balance.random_draws()
                                                                      : kDefaultRandomDraws);
    case lb::v1::Balance::ROUNDROBIN:
    case lb::v1::Balance::STATIC_RR:  // see RoundRobin for how the two differ
    default:                          // unspecified: HAProxy's default, roundrobin
      return std::make_unique<RoundRobin>();
  }
}

}  // namespace

std::unique_ptr<Balancer> makeBalancer(const lb::v1::Balance& balance, bool allbackups,
                                       const ServerSet& servers) {
  std::unique_ptr<GroupBalancer> backups =
      allbackups ? makeGroupBalancer(balance) : std::make_unique<FirstAvailable>(true);
  auto balancer = std::make_unique<BackendBalancer>(makeGroupBalancer(balance), std::move(backups));
  balancer->update(servers);
  return balancer;
}

}  // namespace lb::balance
