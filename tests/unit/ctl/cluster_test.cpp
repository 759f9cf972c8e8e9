// The cluster file of `lbctl cluster` and the plan made from it: what each agent is sent, and
// the errors a user gets before anything is sent.
#include "ctl/cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace lb::ctl {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kDefaults =
    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
    "    timeout server 5s\n";

class ClusterFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lbctl-cluster-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    write("edge.cfg", kDefaults +
                          "frontend web\n    bind :80\n    default_backend inner\n"
                          "backend inner\n    balance roundrobin\n\n"
                          "backend other\n    server o1 10.0.0.9:80\n");
    write("inner.cfg", kDefaults +
                           "frontend web\n    bind :8080 accept-proxy\n"
                           "    default_backend servers\nbackend servers\n"
                           "    server s1 10.0.1.1:80 check\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string cluster(const std::string& upstream_extra = "", const std::string& inner_extra = "") {
    return write("cluster.yaml",
                 "tiers:\n"
                 "  - name: edge\n"
                 "    config: edge.cfg\n"
                 "    agents:\n"
                 "      - {name: edge-1, address: 10.0.0.10:9901}\n"
                 "    upstream: {backend: inner, frontend: web" +
                     upstream_extra +
                     "}\n"
                     "  - name: inner\n"
                     "    config: inner.cfg\n"
                     "    agents:\n"
                     "      - {name: inner-1, address: 10.0.0.11:9901}\n"
                     "      - {name: inner-2, address: 10.0.0.12:9901, http: 10.0.0.99:9999" +
                     inner_extra + "}\n");
  }

  fs::path dir_;
};

TEST_F(ClusterFileTest, TheTierAboveGetsOneCheckedProxyServerPerAgentBelow) {
  std::string error;
  auto loaded = loadCluster(cluster(), &error);
  ASSERT_TRUE(loaded) << error;
  ASSERT_EQ(loaded->tiers.size(), 2u);
  EXPECT_EQ(loaded->tiers[1].agents[0].config, (dir_ / "inner.cfg").string());
  std::vector<std::string> errors;
  auto plan = planCluster(*loaded, &errors);
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors);
  const std::string& edge = (*plan)[0][0].source.text;
  EXPECT_THAT(edge, HasSubstr("    option httpchk GET /healthz/frontend/web\n"
                              "    server inner-1 10.0.0.11:8080 send-proxy-v2 check port 9902 "
                              "inter 2s fall 2 rise 2\n"
                              "    server inner-2 10.0.0.12:8080 send-proxy-v2 check port 9999 "
                              "addr 10.0.0.99 inter 2s fall 2 rise 2\n"));
  // Filled at the end of its own section: the next section and the user's lines are intact.
  EXPECT_LT(edge.find("server inner-2"), edge.find("backend other"));
  EXPECT_THAT(edge, HasSubstr("backend other\n    server o1 10.0.0.9:80\n"));
  // The inner tier runs its file as written.
  EXPECT_EQ((*plan)[1][0].source.text, (*plan)[1][1].source.text);
  EXPECT_EQ((*plan)[1][1].traffic, "10.0.0.12:8080");
}

TEST_F(ClusterFileTest, AnHttpCheckOfTheUsersOwnIsKept) {
  write("edge.cfg",
        "defaults base\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        "frontend web from base\n    bind :80\n    default_backend inner\n"
        "backend inner from base  # filled by lbctl\n"
        "    option httpchk GET /healthz/frontend/web\n");
  std::string error;
  auto loaded = loadCluster(cluster(", server-options: \"inter 1s weight 10\""), &error);
  ASSERT_TRUE(loaded) << error;
  std::vector<std::string> errors;
  auto plan = planCluster(*loaded, &errors);
  ASSERT_TRUE(plan) << ::testing::PrintToString(errors);
  const std::string& edge = (*plan)[0][0].source.text;
  EXPECT_EQ(edge.find("option httpchk"), edge.rfind("option httpchk"));
  EXPECT_THAT(edge, HasSubstr("check port 9902 inter 1s weight 10\n"));
}

TEST_F(ClusterFileTest, MistakesAreNamedWithTheirFileAndLine) {
  std::string error;
  EXPECT_FALSE(loadCluster(write("a.yaml", "tiers:\n  - name: edge\n    agnets: []\n"), &error));
  EXPECT_THAT(error, HasSubstr("a.yaml:3: unknown key 'agnets' in tier 'edge'; did you mean "
                               "'agents'?"));
  EXPECT_FALSE(loadCluster(write("d.yaml",
                                 "tiers:\n  - name: one\n    config: inner.cfg\n    agents:\n"
                                 "      - {name: a, address: 127.0.0.1:1}\n"
                                 "      - {name: a, address: 127.0.0.1:2}\n"),
                           &error));
  EXPECT_THAT(error, HasSubstr("d.yaml:6: agent 'a' is named twice"));
  EXPECT_FALSE(loadCluster(write("b.yaml",
                                 "tiers:\n  - name: only\n    config: inner.cfg\n    agents:\n"
                                 "      - {name: a, address: 127.0.0.1:1}\n"
                                 "    upstream: {backend: x, frontend: y}\n"),
                           &error));
  EXPECT_THAT(error, HasSubstr("the last tier ('only') has 'upstream' but there is no tier below"));
  EXPECT_FALSE(loadCluster(write("c.yaml", "tiers: []\n"), &error));
  EXPECT_THAT(error, HasSubstr("expected 'tiers:'"));
  // Shapes that are not the file's: an error each, never a crash.
  EXPECT_FALSE(loadCluster(write("e.yaml", "tiers: [edge]\n"), &error));
  EXPECT_THAT(error, HasSubstr("e.yaml:1: a tier needs a 'name'"));
  EXPECT_FALSE(loadCluster(write("f.yaml",
                                 "tiers:\n  - name: one\n    config: [a, b]\n    agents:\n"
                                 "      - {name: a, address: 127.0.0.1:1}\n"),
                           &error));
  EXPECT_THAT(error, HasSubstr("f.yaml:3: 'config' must be a single value"));
  // A typo in the TLS files would silently mean plain text: refused.
  EXPECT_FALSE(loadCluster(write("g.yaml",
                                 "tiers:\n  - name: one\n    config: inner.cfg\n"
                                 "    tls: {ca-file: ca.pem}\n    agents:\n"
                                 "      - {name: a, address: 127.0.0.1:1}\n"),
                           &error));
  EXPECT_THAT(error, HasSubstr("unknown key 'ca-file' in 'tls'"));
  EXPECT_FALSE(loadCluster(write("h.yaml",
                                 "tiers:\n  - {name: x, agents: [{name: a, address: b}], "
                                 "tls: yes}\n"),
                           &error));
  EXPECT_THAT(error, HasSubstr("'tls' is {ca: FILE, cert: FILE, key: FILE}"));
}

TEST_F(ClusterFileTest, APlanThatCannotWorkIsRefusedBeforeAnythingIsSent) {
  std::string error;
  std::vector<std::string> errors;
  // The inner frontend's first bind (where the tier above sends) would get PROXY headers it
  // does not expect.
  write("inner.cfg",
        kDefaults +
            "frontend web\n    bind :8080\n    bind :8443 accept-proxy\n"
            "    default_backend servers\nbackend servers\n    server s1 10.0.1.1:80\n");
  auto loaded = loadCluster(cluster(), &error);
  ASSERT_TRUE(loaded) << error;
  EXPECT_FALSE(planCluster(*loaded, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("frontend 'web' needs 'accept-proxy'"));

  SetUp();
  errors.clear();
  write("edge.cfg", kDefaults +
                        "frontend web\n    bind :80\n    default_backend inner\n"
                        "backend inner\n    server mine 10.0.0.1:80\n");
  loaded = loadCluster(cluster(), &error);
  EXPECT_FALSE(planCluster(*loaded, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("backend 'inner' has server lines: leave it without servers"));

  SetUp();
  errors.clear();
  loaded = loadCluster(cluster(), &error);
  loaded->tiers[0].upstream->frontend = "wbe";
  EXPECT_FALSE(planCluster(*loaded, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("no frontend 'wbe' with a bind; did you mean 'web'?"));

  SetUp();
  errors.clear();
  write("inner.cfg", "frontend web\n    bind :8080 accept-proxy\n    nonsense here\n");
  loaded = loadCluster(cluster(), &error);
  EXPECT_FALSE(planCluster(*loaded, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("inner.cfg:3"));
}

}  // namespace
}  // namespace lb::ctl
