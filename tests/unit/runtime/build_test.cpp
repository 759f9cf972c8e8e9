// buildRuntime: a validated Config becomes a typed snapshot (settings, resolved addresses, the
// compiled check spec) that shares live state with the snapshots before it, without changing
// any state a running snapshot can see; commitConfiguredState does that once an apply wins.
#include "agent/runtime/build.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "tests/unit/runtime/runtime_test_util.h"

namespace lb::runtime {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// Resolves the names it was given (to 10.0.0.N, in order) and IP literals; nothing else.
class TableResolver : public common::Resolver {
 public:
  explicit TableResolver(std::map<std::string, std::string> names) : names_(std::move(names)) {}
  std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                  std::string* error) override {
    ++lookups;
    boost::system::error_code ec;
    if (auto literal = boost::asio::ip::make_address(host, ec); !ec) return literal;
    if (auto it = names_.find(host); it != names_.end()) {
      return boost::asio::ip::make_address(it->second);
    }
    *error = "Name or service not known";
    return std::nullopt;
  }
  int lookups = 0;

 private:
  std::map<std::string, std::string> names_;
};

const std::string kGuide = R"(
global
    maxconn 500
    nbthread 3
    spread-checks 5
    hard-stop-after 30s
    nosplice
frontend web-test
    bind 127.0.0.1:8080
    mode tcp
    maxconn 100
    timeout client 30s
    option tcplog
    default_backend web_test
backend web_test
    mode tcp
    balance roundrobin
    timeout connect 5s
    timeout server 30s
    timeout check 2s
    retries 2
    option redispatch
    server server1 10.0.0.11:80 check inter 4s
    server server2 10.0.0.12:80 check inter 4s observe layer4 error-limit 10 on-error mark-down
    server server3 10.0.0.13:80 check port 8080 addr 10.0.0.99 weight 7 maxconn 20 maxqueue 5 backup
)";

TEST(BuildTest, TheSnapshotCarriesTypedSettings) {
  StateStore store;
  auto rt = buildText(kGuide, store, 4);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->version, 4u);
  EXPECT_EQ(rt->maxconn, 500u);
  EXPECT_EQ(rt->nbthread, 3u);
  EXPECT_EQ(rt->spread_checks, 5u);
  EXPECT_EQ(rt->hard_stop_after, 30s);
  EXPECT_FALSE(rt->splice);
  ASSERT_EQ(rt->frontends.size(), 1u);
  const FrontendRuntime& fe = rt->frontends[0];
  EXPECT_EQ(fe.maxconn, 100u);
  EXPECT_EQ(fe.timeout_client, 30s);
  EXPECT_TRUE(fe.tcplog);
  ASSERT_EQ(fe.binds.size(), 1u);
  EXPECT_EQ(fe.binds[0].endpoint.port(), 8080);
  ASSERT_EQ(fe.backend, rt->backends[0].get());
  const BackendRuntime& be = *rt->backends[0];
  EXPECT_EQ(be.timeout_connect, 5s);
  EXPECT_EQ(be.timeout_queue, 5s);  // defaults to timeout connect, as in HAProxy
  EXPECT_EQ(be.timeout_check, 2s);
  EXPECT_EQ(be.retries, 2u);
  EXPECT_TRUE(be.redispatch);
  EXPECT_EQ(be.queue_limit, 0u);  // unbounded: not every server has a maxqueue
  ASSERT_TRUE(be.check_spec);
  EXPECT_EQ(be.check_spec->kind, CheckSpec::Kind::kTcp);
  ASSERT_EQ(be.servers.size(), 3u);
  EXPECT_EQ(be.servers[0].health.inter, 4s);
  EXPECT_TRUE(be.servers[0].check);
  EXPECT_FALSE(be.servers[0].observe_layer4);
  EXPECT_TRUE(be.servers[1].observe_layer4);
  EXPECT_EQ(be.servers[1].health.error_limit, 10u);
  EXPECT_EQ(be.servers[1].health.on_error, OnError::kMarkDown);
  const ServerRuntime& s3 = be.servers[2];
  EXPECT_EQ(s3.endpoint.address().to_string(), "10.0.0.13");
  EXPECT_EQ(s3.check_endpoint.address().to_string(), "10.0.0.99");
  EXPECT_EQ(s3.check_endpoint.port(), 8080);
  EXPECT_EQ(s3.weight, 7u);
  EXPECT_EQ(s3.maxconn, 20u);
  EXPECT_TRUE(s3.backup);
  EXPECT_TRUE(be.backup(2));
  EXPECT_EQ(s3.state->weight.load(), 7u);  // a new server starts with its configured weight
}

TEST(BuildTest, HostNamesGoThroughTheResolver) {
  StateStore store;
  TableResolver resolver(std::map<std::string, std::string>{{"web1.internal", "10.0.0.1"}});
  std::string text =
      "frontend fe\n bind 127.0.0.1:0\n mode tcp\n default_backend be\n"
      "backend be\n mode tcp\n server s1 web1.internal:80\n";
  auto rt = buildText(text, store, 1, &resolver);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->backends[0]->servers[0].endpoint.address().to_string(), "10.0.0.1");
  EXPECT_EQ(rt->backends[0]->servers[0].address, "web1.internal");  // as configured
}

TEST(BuildTest, ANameThatNoLongerResolvesFailsWithItsFieldPath) {
  StateStore store;
  TableResolver resolver(std::map<std::string, std::string>{});
  auto config = parse(
      "frontend fe\n bind 127.0.0.1:0\n mode tcp\n default_backend be\n"
      "backend other\n mode tcp\n"
      "backend be\n mode tcp\n server s1 10.0.0.1:80\n server s2 gone.internal:80\n");
  auto built = buildRuntime(config, BuildContext{1, &store, &resolver, nullptr});
  EXPECT_FALSE(built.runtime);
  EXPECT_EQ(built.error.path, "backends[1].servers[1].address");
  EXPECT_EQ(built.error.message,
            "server be/s2: cannot resolve 'gone.internal' (Name or service not known)");
}

TEST(BuildTest, SameIdentitySameStateAndIdsAreNeverReused) {
  StateStore store;
  auto one = buildText(kGuide, store);
  auto two = buildText(kGuide, store);
  EXPECT_EQ(one->backends[0]->servers[0].state, two->backends[0]->servers[0].state);
  EXPECT_EQ(one->frontends[0].state, two->frontends[0].state);
  EXPECT_EQ(one->backends[0]->state, two->backends[0]->state);
  std::set<uint64_t> ids;
  for (const auto& s : one->backends[0]->servers) ids.insert(s.state->id);
  EXPECT_EQ(ids.size(), 3u);
  uint64_t highest = *ids.rbegin();
  // A server whose address changes is another server: new state, new id.
  std::string moved = kGuide;
  moved.replace(moved.find("10.0.0.11:80"), 12, "10.0.0.21:80");
  auto three = buildText(moved, store);
  EXPECT_NE(three->backends[0]->servers[0].state, one->backends[0]->servers[0].state);
  EXPECT_GT(three->backends[0]->servers[0].state->id, highest);
  // Once nothing holds a state, the store forgets it; the id is not given out again.
  one.reset();
  two.reset();
  store.collect();
  auto four = buildText(kGuide, store);
  EXPECT_GT(four->backends[0]->servers[0].state->id, three->backends[0]->servers[0].state->id);
}

TEST(BuildTest, BuildingChangesNoStateARunningSnapshotSees) {
  StateStore store;
  auto running = buildText(kGuide, store);
  auto& s1 = *running->backends[0]->servers[0].state;
  s1.admin.store(AdminState::kDrain);  // an operator's drain
  std::string text = kGuide;
  text.replace(text.find("server server1 10.0.0.11:80 check inter 4s"), 42,
               "server server1 10.0.0.11:80 check inter 4s weight 50 disabled");
  auto next = buildText(text, store, 2);  // a dry run, or an apply whose bind will fail
  EXPECT_EQ(&*next->backends[0]->servers[0].state, &s1);
  EXPECT_EQ(s1.weight.load(), 1u);
  EXPECT_EQ(s1.admin.load(), AdminState::kDrain);
  // The apply wins: what the configuration changed takes effect.
  commitConfiguredState(*next, running.get());
  EXPECT_EQ(s1.weight.load(), 50u);
  EXPECT_EQ(s1.admin.load(), AdminState::kMaint);
}

TEST(BuildTest, AnOperatorsStateSurvivesAnApplyThatDoesNotTouchTheServer) {
  StateStore store;
  auto running = buildText(kGuide, store);
  auto& s2 = *running->backends[0]->servers[1].state;
  s2.admin.store(AdminState::kDrain);
  s2.weight.store(3);  // set at run time
  std::string text = kGuide;
  text.replace(text.find("timeout server 30s"), 18, "timeout server 40s");
  auto next = buildText(text, store, 2);
  commitConfiguredState(*next, running.get());
  EXPECT_EQ(s2.admin.load(), AdminState::kDrain);
  EXPECT_EQ(s2.weight.load(), 3u);
}

TEST(BuildTest, ADisabledServerStartsInMaintenance) {
  StateStore store;
  std::string text = kGuide;
  text.replace(text.find("check inter 4s\n"), 15, "check inter 4s disabled\n");
  auto rt = buildText(text, store);
  EXPECT_EQ(rt->backends[0]->servers[0].state->admin.load(), AdminState::kMaint);
  EXPECT_FALSE(rt->backends[0]->usable(0));
  EXPECT_TRUE(rt->backends[0]->usable(1));
}

TEST(BuildTest, QueueLimitIsTheSumOfMaxqueuesWhenEveryServerHasOne) {
  StateStore store;
  auto rt = buildText(
      "backend be\n mode tcp\n server a 10.0.0.1:80 maxconn 1 maxqueue 3\n"
      " server b 10.0.0.2:80 maxconn 1 maxqueue 4\n",
      store);
  EXPECT_EQ(rt->backends[0]->queue_limit, 7u);
}

TEST(BuildTest, BindKeysTellWhichSocketsAnApplyKeeps) {
  StateStore store;
  auto rt = buildText(
      "frontend fe\n mode tcp\n bind 127.0.0.1:80\n bind :::81 v6only\n default_backend be\n"
      "backend be\n mode tcp\n",
      store);
  ASSERT_EQ(rt->frontends[0].binds.size(), 2u);
  EXPECT_EQ(rt->frontends[0].binds[0].key(), "127.0.0.1|80");
  EXPECT_EQ(rt->frontends[0].binds[1].key(), "::|81");
  EXPECT_EQ(rt->frontends[0].binds[0].socketOptions(), "||");
  EXPECT_EQ(rt->frontends[0].binds[1].socketOptions(), "|v6only|");
  // Port 0: a port from the kernel, kept by its frontend and position.
  auto zero = buildText(
      "frontend a\n mode tcp\n bind 127.0.0.1:0\n bind 127.0.0.1:0\n default_backend be\n"
      "backend be\n mode tcp\n",
      store);
  EXPECT_EQ(zero->frontends[0].binds[0].port0Key(), "a#0|127.0.0.1");
  EXPECT_EQ(zero->frontends[0].binds[1].port0Key(), "a#1|127.0.0.1");
}

TEST(BuildTest, HealthSettingsReadTheModelAndKeepValuesUsable) {
  lb::v1::Server server;
  server.set_rise(0);
  server.set_fall(5);
  server.mutable_inter()->set_seconds(4);
  server.mutable_fastinter()->set_nanos(250000000);
  server.set_error_limit(0);
  HealthSettings s = healthSettings(server);
  EXPECT_EQ(s.rise, 1u);  // at least 1
  EXPECT_EQ(s.fall, 5u);
  EXPECT_EQ(s.inter, milliseconds(4000));
  ASSERT_TRUE(s.fastinter.has_value());
  EXPECT_EQ(*s.fastinter, milliseconds(250));
  EXPECT_FALSE(s.downinter.has_value());
  EXPECT_EQ(s.error_limit, 1u);
  EXPECT_EQ(s.on_error, OnError::kFailCheck);

  server.set_on_error(lb::v1::Server::SUDDEN_DEATH);
  server.mutable_downinter()->set_seconds(0);  // 0 would spin: at least 1 ms
  EXPECT_EQ(healthSettings(server).on_error, OnError::kSuddenDeath);
  EXPECT_EQ(*healthSettings(server).downinter, milliseconds(1));
}

}  // namespace
}  // namespace lb::runtime
