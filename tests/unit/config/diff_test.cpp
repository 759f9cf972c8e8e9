// config::diff: what an apply changes, as lbctl and the API show it.
#include "agent/config/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::ElementsAre;

const std::string kBase = R"(
global
    maxconn 100
frontend web
    bind 127.0.0.1:8080
    mode tcp
    timeout client 30s
    default_backend app
backend app
    mode tcp
    timeout connect 5s
    timeout server 30s
    server s1 10.0.0.1:80 check
    server s2 10.0.0.2:80 check
backend old
    mode tcp
    timeout connect 5s
    timeout server 30s
    server o1 10.0.0.9:80
)";

lb::v1::Config configOf(const std::string& text) {
  auto loaded = loadText(text);
  EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
  return loaded.config;
}

std::string edit(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(DiffTest, EqualConfigsHaveNoChanges) {
  auto d = diff(configOf(kBase), configOf(kBase));
  EXPECT_TRUE(empty(d));
  EXPECT_EQ(d.summary(), "no changes");
}

TEST(DiffTest, AddedRemovedAndChangedServersWithTheirFields) {
  std::string next = edit(kBase, "    server s2 10.0.0.2:80 check\n",
                          "    server s2 10.0.0.2:80 check weight 5 inter 4s\n"
                          "    server s3 10.0.0.3:80 check\n");
  next = edit(next, "    server s1 10.0.0.1:80 check\n", "");
  auto d = diff(configOf(kBase), configOf(next));
  EXPECT_THAT(d.servers_added(), ElementsAre("app/s3"));
  EXPECT_THAT(d.servers_removed(), ElementsAre("app/s1"));
  ASSERT_EQ(d.servers_changed_size(), 1);
  EXPECT_EQ(d.servers_changed(0).name(), "app/s2");
  EXPECT_THAT(d.servers_changed(0).fields(), ElementsAre("weight", "inter"));
  EXPECT_EQ(d.backends_changed_size(), 0);  // its servers are reported as servers
  EXPECT_EQ(d.summary(), "+1 server, -1 server, 1 changed");
}

TEST(DiffTest, AServerChangedInPlaceAndAReorderedListAreTold) {
  // Same names in the same order: compared pairwise.
  auto d = diff(configOf(kBase),
                configOf(edit(kBase, "10.0.0.2:80 check", "10.0.0.2:80 check weight 3")));
  ASSERT_EQ(d.servers_changed_size(), 1);
  EXPECT_EQ(d.servers_changed(0).name(), "app/s2");
  EXPECT_THAT(d.servers_changed(0).fields(), ElementsAre("weight"));
  EXPECT_EQ(d.summary(), "1 changed");
  // The same servers in another order: no server changed, but the backend did (the order
  // decides `balance first` and the rotation).
  std::string swapped = edit(kBase, "    server s1 10.0.0.1:80 check\n", "");
  swapped = edit(swapped, "    server s2 10.0.0.2:80 check\n",
                 "    server s2 10.0.0.2:80 check\n    server s1 10.0.0.1:80 check\n");
  d = diff(configOf(kBase), configOf(swapped));
  EXPECT_EQ(d.servers_changed_size(), 0);
  ASSERT_EQ(d.backends_changed_size(), 1);
  EXPECT_EQ(d.backends_changed(0).name(), "app");
  EXPECT_THAT(d.backends_changed(0).fields(), ElementsAre("servers"));
  EXPECT_EQ(d.summary(), "1 changed");
  // A server removed keeps the others' order: not a reorder.
  d = diff(configOf(kBase), configOf(edit(kBase, "    server s1 10.0.0.1:80 check\n", "")));
  EXPECT_EQ(d.backends_changed_size(), 0);
}

TEST(DiffTest, NestedFieldsAreNamedByTheirPath) {
  std::string next = edit(kBase, "    timeout client 30s\n", "    timeout client 1m\n");
  next = edit(next, "    maxconn 100\n", "    maxconn 200\n");
  auto d = diff(configOf(kBase), configOf(next));
  ASSERT_EQ(d.frontends_changed_size(), 1);
  EXPECT_EQ(d.frontends_changed(0).name(), "web");
  EXPECT_THAT(d.frontends_changed(0).fields(), ElementsAre("timeouts.client"));
  EXPECT_THAT(d.global_changed(), ElementsAre("maxconn"));
  EXPECT_EQ(d.summary(), "2 changed");
}

TEST(DiffTest, ProxiesComeAndGoWithTheirServers) {
  std::string next = edit(kBase, "backend old\n", "backend new\n");
  next +=
      "frontend other\n    bind 127.0.0.1:9090\n    mode tcp\n    timeout client 1s\n"
      "    default_backend new\n";
  auto d = diff(configOf(kBase), configOf(next));
  EXPECT_THAT(d.backends_added(), ElementsAre("new"));
  EXPECT_THAT(d.backends_removed(), ElementsAre("old"));
  EXPECT_THAT(d.frontends_added(), ElementsAre("other"));
  EXPECT_EQ(d.servers_added_size(), 0);
  EXPECT_EQ(d.summary(), "+1 frontend, +1 backend, -1 backend");
}

TEST(DiffTest, BindsAndHealthChecksCompareWhole) {
  std::string next = edit(kBase, "    bind 127.0.0.1:8080\n", "    bind 127.0.0.1:8081\n");
  next = edit(next, "backend app\n    mode tcp\n",
              "backend app\n    mode tcp\n    option httpchk GET /health\n");
  auto d = diff(configOf(kBase), configOf(next));
  ASSERT_EQ(d.frontends_changed_size(), 1);
  EXPECT_THAT(d.frontends_changed(0).fields(), ElementsAre("binds"));
  ASSERT_EQ(d.backends_changed_size(), 1);
  EXPECT_THAT(d.backends_changed(0).fields(),
              ElementsAre("health_check.type", "health_check.http"));
}

TEST(DiffTest, FromNothingEverythingIsAdded) {
  auto d = diff(lb::v1::Config(), configOf(kBase));
  EXPECT_EQ(d.summary(), "+1 frontend, +2 backends, 1 changed");  // and the global section
  EXPECT_THAT(d.global_changed(), ElementsAre("maxconn"));
}

}  // namespace
}  // namespace lb::config
