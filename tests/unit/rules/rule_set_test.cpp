// tcp-request rules as a connection meets them: accept stops the list, reject and silent-drop
// close, track-sc* starts counting the client, sc-inc-gpc0 / sc-set-gpt0 change its entry, a
// rule that cannot tell yet waits and the list resumes where it stopped; use_backend names
// built from fetches; and what compiling the rules refuses, with the culprit's field path.
#include "agent/rules/rule_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <list>
#include <string>
#include <vector>

#include "tests/unit/common/client_hello_samples.h"
#include "tests/unit/rules/rules_test_util.h"

namespace lb::rules {
namespace {

using ::testing::HasSubstr;

class RunRulesTest : public ::testing::Test {
 protected:
  std::shared_ptr<StickTable> own_ =
      makeTable("fe", "type ip size 1k expire 30s store conn_cur,conn_cnt,gpc0,gpt0");
  std::shared_ptr<StickTable> per_ip_ = makeTable("per_ip", "type ip size 1k store conn_cnt");
  std::shared_ptr<StickTable> strings_ =
      makeTable("strings", "type string len 8 size 1k store conn_cnt");
  FakeBinder binder_;
  // Connections stay open (tracked) until the test ends.
  std::list<Tracked> connections_;

  void SetUp() override {
    binder_.tables = {{"", own_}, {"per_ip", per_ip_}, {"strings", strings_}};
  }
  Facts connection(std::string_view payload = {}, bool final = true) {
    Facts f = facts(payload, final);
    f.tracked = &connections_.emplace_back();
    return f;
  }
  std::string clientKey() { return *own_->keyOf(Sample::address(facts().src.address())); }
  int64_t ownValue(StickData data) { return own_->read(clientKey(), data, kT0).value_or(-1); }
};

TEST_F(RunRulesTest, AcceptStopsTheListAndRejectCloses) {
  auto rules = frontendRules(
      "    tcp-request connection accept if { src 192.0.2.0/24 }\n"
      "    tcp-request connection reject\n",
      &binder_);
  Facts f = connection();
  size_t next = 0;
  EXPECT_EQ(runRules(rules->connection, next, f, nullptr), Verdict::kContinue);
  EXPECT_EQ(next, rules->connection.size());
  f.src = endpoint("198.51.100.1", 5000);
  next = 0;
  EXPECT_EQ(runRules(rules->connection, next, f, nullptr), Verdict::kReject);
  EXPECT_EQ(next, 1u);
}

TEST_F(RunRulesTest, ConditionsThatDoNotHoldAreSkipped) {
  auto rules = frontendRules(
      "    tcp-request connection reject if { src 10.0.0.0/8 }\n"
      "    tcp-request connection silent-drop if { src_port 40000 }\n"
      "    tcp-request connection reject\n",
      &binder_);
  Facts f = connection();
  size_t next = 0;
  EXPECT_EQ(runRules(rules->connection, next, f, nullptr), Verdict::kSilentDrop);
  EXPECT_EQ(next, 1u);
  // No rule at all: go on.
  size_t none = 0;
  EXPECT_EQ(runRules({}, none, f, nullptr), Verdict::kContinue);
}

TEST_F(RunRulesTest, TrackScKeysTheClientInItsTable) {
  auto rules = frontendRules(
      "    tcp-request connection track-sc0 src\n"
      "    tcp-request connection track-sc0 dst\n"  // sc0 is taken: the first track wins
      "    tcp-request connection track-sc1 src table per_ip\n",
      &binder_);
  Facts f = connection();
  size_t next = 0;
  ASSERT_EQ(runRules(rules->connection, next, f, nullptr), Verdict::kContinue);
  const auto& sc0 = f.tracked->slot(0);
  ASSERT_NE(sc0.entry, nullptr);
  EXPECT_EQ(sc0.table, own_);
  EXPECT_EQ(sc0.entry->key, std::string("\xc0\x00\x02\x07", 4));  // 192.0.2.7
  EXPECT_EQ(f.tracked->slot(1).table, per_ip_);
  EXPECT_EQ(f.tracked->slot(2).entry, nullptr);
  EXPECT_EQ(ownValue(StickData::kConnCur), 1);
  EXPECT_EQ(own_->size(), 1u);  // dst was not tracked
  EXPECT_EQ(per_ip_->read(clientKey(), StickData::kConnCnt, kT0), 1);
}

TEST_F(RunRulesTest, IncGpc0CountsAndALaterRuleReadsIt) {
  auto rules = frontendRules(
      "    tcp-request connection track-sc0 src\n"
      "    tcp-request connection sc-inc-gpc0(0)\n"
      "    tcp-request connection sc-set-gpt0(0) 7\n"
      "    tcp-request connection reject if { sc0_get_gpc0 gt 2 }\n",
      &binder_);
  std::vector<Verdict> verdicts;
  for (int i = 0; i < 4; ++i) {
    Facts f = connection();
    size_t next = 0;
    verdicts.push_back(runRules(rules->connection, next, f, nullptr));
  }
  EXPECT_EQ(verdicts, (std::vector<Verdict>{Verdict::kContinue, Verdict::kContinue,
                                            Verdict::kReject, Verdict::kReject}));
  EXPECT_EQ(ownValue(StickData::kGpc0), 4);
  EXPECT_EQ(ownValue(StickData::kGpt0), 7);
  EXPECT_EQ(ownValue(StickData::kConnCur), 4);
  // Without tracking, sc-inc-gpc0 has nothing to count on.
  auto untracked = frontendRules("    tcp-request connection sc-inc-gpc0(1)\n", &binder_);
  Facts f = connection();
  size_t next = 0;
  EXPECT_EQ(runRules(untracked->connection, next, f, nullptr), Verdict::kContinue);
}

TEST_F(RunRulesTest, AWaitingListResumesFromTheRuleThatWaited) {
  auto rules = frontendRules(
      "    tcp-request inspect-delay 5s\n"
      "    tcp-request content track-sc0 src\n"
      "    tcp-request content sc-inc-gpc0(0)\n"
      "    tcp-request content reject if { req.payload(0,3) -m str BAD }\n"
      "    tcp-request content accept\n"
      "    tcp-request content reject\n",
      &binder_);
  EXPECT_TRUE(rules->reads_payload);
  ASSERT_TRUE(rules->inspect_delay.has_value());
  EXPECT_EQ(*rules->inspect_delay, std::chrono::seconds(5));
  std::string bytes = "B";
  Facts f = connection(bytes, false);
  size_t next = 0;
  ASSERT_EQ(runRules(rules->content, next, f, nullptr), Verdict::kWait);
  EXPECT_EQ(next, 2u);
  bytes = "BA";
  f.payload = bytes;
  ASSERT_EQ(runRules(rules->content, next, f, nullptr), Verdict::kWait);
  EXPECT_EQ(next, 2u);
  bytes = "BAD";
  f.payload = bytes;
  EXPECT_EQ(runRules(rules->content, next, f, nullptr), Verdict::kReject);
  EXPECT_EQ(ownValue(StickData::kGpc0), 1);  // the rules before the wait ran once
  // Other bytes: accepted; and when nothing more will come, "cannot tell" is "no".
  for (const auto& [payload, final] :
       std::vector<std::pair<std::string, bool>>{{"BAN", false}, {"B", true}, {"", true}}) {
    SCOPED_TRACE(payload);
    Facts g = connection(payload, final);
    size_t n = 0;
    EXPECT_EQ(runRules(rules->content, n, g, nullptr), Verdict::kContinue);
    EXPECT_EQ(n, rules->content.size());
  }
}

TEST_F(RunRulesTest, ATrackKeyFromTheClientsBytesWaitsForThem) {
  auto rules =
      frontendRules("    tcp-request content track-sc2 req.payload(0,4) table strings\n", &binder_);
  Facts f = connection("ab", false);
  size_t next = 0;
  EXPECT_EQ(runRules(rules->content, next, f, nullptr), Verdict::kWait);
  f.final = true;
  EXPECT_EQ(runRules(rules->content, next, f, nullptr), Verdict::kContinue);
  EXPECT_EQ(f.tracked->slot(2).entry, nullptr);  // no key: not tracked
  Facts g = connection("abcdef", false);
  next = 0;
  EXPECT_EQ(runRules(rules->content, next, g, nullptr), Verdict::kContinue);
  ASSERT_NE(g.tracked->slot(2).entry, nullptr);
  EXPECT_EQ(g.tracked->slot(2).entry->key, "abcd");
}

TEST_F(RunRulesTest, ExpectProxyAndNoOpActions) {
  auto rules = frontendRules(
      "    tcp-request connection expect-proxy layer4 if { src 192.0.2.0/24 }\n"
      "    tcp-request connection set-var(sess.x) int(1)\n"
      "    tcp-request connection capture req.len len 4\n",
      &binder_);
  Facts f = connection();
  size_t next = 0;
  bool expect_proxy = false;
  EXPECT_EQ(runRules(rules->connection, next, f, &expect_proxy), Verdict::kContinue);
  EXPECT_TRUE(expect_proxy);
  f.src = endpoint("198.51.100.1", 1);
  next = 0;
  expect_proxy = false;
  runRules(rules->connection, next, f, &expect_proxy);
  EXPECT_FALSE(expect_proxy);
}

TEST(UseBackendNameTest, DynamicNamesFromFetches) {
  std::string error;
  auto fixed = parseNameFormat("app", error);
  ASSERT_TRUE(fixed);
  EXPECT_TRUE(fixed->empty());  // a static name
  auto format = parseNameFormat("be_%[req.ssl_sni,lower]_%[dst_port]", error);
  ASSERT_TRUE(format) << error;
  const std::string hello = testing::fromHex(testing::kHelloSniAlpnHex);
  Facts f = facts(hello, false);
  bool wait = false;
  EXPECT_EQ(renderName(*format, f, wait), "be_a.example.com_443");
  // The SNI is not here yet: no name, and wait for it.
  Facts partial = facts(std::string_view(hello).substr(0, 50), false);
  EXPECT_EQ(renderName(*format, partial, wait), std::nullopt);
  EXPECT_TRUE(wait);
  // Never: no name, no wait.
  Facts plain = facts("GET / HTTP/1.0\r\n", false);
  wait = true;
  EXPECT_EQ(renderName(*format, plain, wait), std::nullopt);
  EXPECT_FALSE(wait);
  EXPECT_FALSE(parseNameFormat("be_%[src", error));
  EXPECT_THAT(error, HasSubstr("'%[' without its closing ']'"));
  EXPECT_FALSE(parseNameFormat("be_%[hdr(host)]", error));
  EXPECT_THAT(error, HasSubstr("unknown fetch 'hdr'"));
}

struct CompileError {
  std::string lines;
  std::string path;
  std::string says;
};

TEST(CompileRulesTest, ErrorsNameTheRuleAndTheReason) {
  const std::vector<CompileError> cases{
      {"    tcp-request connection accept\n    tcp-request connection track-sc0 src\n",
       "tcp_request[1]", "no table ''"},
      {"    tcp-request connection track-sc1 src table nope\n", "tcp_request[0]",
       "no table 'nope'"},
      {"    acl a nbsrv(nope) 0\n", "acls[0]", "no counter nbsrv(nope)"},
      {"    use_backend x if { src_conn_rate(nope) gt 1 }\n", "use_backend[0]", "no table 'nope'"},
      {"    use_backend be_%[nbsrv(nope)]\n", "use_backend[0]", "no counter nbsrv(nope)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.lines);
    auto parsed = config::parseHaproxy("frontend fe\n" + c.lines);
    ASSERT_FALSE(parsed.diagnostics.hasErrors());
    FakeBinder empty;
    std::string path;
    std::string error;
    EXPECT_EQ(compileRules(rulesOf(parsed.config.frontends(0)), &empty, path, error), nullptr);
    EXPECT_EQ(path, c.path);
    EXPECT_THAT(error, HasSubstr(c.says));
  }
}

TEST(CompileRulesTest, ReadsPayloadFollowsContentRulesAndUseBackend) {
  EXPECT_FALSE(
      frontendRules("    tcp-request connection reject if { src 10.0.0.1 }\n")->reads_payload);
  EXPECT_TRUE(frontendRules("    tcp-request content reject if { req.len gt 0 }\n")->reads_payload);
  EXPECT_TRUE(frontendRules("    use_backend x if { req.ssl_sni a }\n")->reads_payload);
  EXPECT_TRUE(frontendRules("    use_backend %[req.ssl_sni]\n")->reads_payload);
  EXPECT_FALSE(frontendRules("    use_backend x if { src 10.0.0.1 }\n")->reads_payload);
}

}  // namespace
}  // namespace lb::rules
