// ACLs and conditions in three values: true, false, and "cannot tell yet" (kMiss) while a
// fetch of the client's bytes may still change; `!`, `||`/`or`, `unless`, anonymous ACLs,
// same-name ACL lines (ORed), HAProxy's predefined ACLs, and what compiling refuses.
#include "agent/rules/acl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/common/client_hello_samples.h"
#include "tests/unit/rules/rules_test_util.h"

namespace lb::rules {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAcls =
    "    acl local src 127.0.0.0/8 192.0.2.0/24\n"
    "    acl https dst_port 443\n"
    "    acl is_get req.payload(0,3) -m str GET\n"
    "    acl sni_a req.ssl_sni -i a.example.com\n"
    "    acl tls req.ssl_hello_type 1\n"
    "    acl either src 10.0.0.0/8\n"
    "    acl either dst_port 443\n";

// The ACLs of kAcls and a condition over them.
struct Compiled {
  AclSet acls;
  std::optional<Condition> condition;
  std::string error;
};

std::unique_ptr<Compiled> compile(const std::string& condition) {
  auto out = std::make_unique<Compiled>();
  auto parsed = config::parseHaproxy(std::string("frontend fe\n") + kAcls);
  EXPECT_TRUE(out->acls.compile(parsed.config.frontends(0).acls(), out->error)) << out->error;
  auto spec = config::parseCondition(words(condition), 0, out->error);
  EXPECT_TRUE(spec.has_value()) << condition << ": " << out->error;
  if (spec) out->condition = out->acls.condition(*spec, nullptr, out->error);
  return out;
}

const std::string kHello = testing::fromHex(testing::kHelloSniAlpnHex);

struct ConditionCase {
  std::string condition;
  std::string payload;
  bool final;
  Tri expected;
};

void PrintTo(const ConditionCase& c, std::ostream* os) {
  *os << "'" << c.condition << "' on " << ::testing::PrintToString(c.payload.substr(0, 16))
      << (c.final ? " (final)" : " (more may come)");
}

class ConditionTest : public ::testing::TestWithParam<ConditionCase> {};

TEST_P(ConditionTest, Evaluates) {
  const auto& c = GetParam();
  auto compiled = compile(c.condition);
  ASSERT_TRUE(compiled->condition.has_value()) << compiled->error;
  Facts f = facts(c.payload, c.final);
  Tri got = compiled->condition->evaluate(f);
  EXPECT_EQ(got, c.expected) << "got " << triName(got) << ", expected " << triName(c.expected);
}

const Tri T = Tri::kTrue;
const Tri F = Tri::kFalse;
const Tri M = Tri::kMiss;

INSTANTIATE_TEST_SUITE_P(
    Layer4, ConditionTest,
    ::testing::Values(
        ConditionCase{"if local", "", true, T}, ConditionCase{"if !local", "", true, F},
        ConditionCase{"if ! local", "", true, F}, ConditionCase{"if !!local", "", true, T},
        ConditionCase{"unless local", "", true, F}, ConditionCase{"unless !local", "", true, T},
        ConditionCase{"if local https", "", true, T}, ConditionCase{"if local !https", "", true, F},
        ConditionCase{"if !local || https", "", true, T},
        ConditionCase{"if !local or !https", "", true, F},
        ConditionCase{"if either", "", true, T},  // same-name lines are ORed
        ConditionCase{"if { src 192.0.2.7 } { dst 10.0.0.1 }", "", true, T},
        ConditionCase{"if !{ src 192.0.2.7 }", "", true, F}, ConditionCase{"if TRUE", "", true, T},
        ConditionCase{"if FALSE", "", true, F}, ConditionCase{"if LOCALHOST", "", true, F},
        ConditionCase{"unless FALSE", "", true, T}));

INSTANTIATE_TEST_SUITE_P(
    WaitingForBytes, ConditionTest,
    ::testing::Values(
        // Not enough bytes yet: cannot tell, until nothing more will come.
        ConditionCase{"if is_get", "GE", false, M}, ConditionCase{"if is_get", "GE", true, F},
        ConditionCase{"if is_get", "GET", false, T},
        ConditionCase{"if is_get", "PUT", false, F},  // three bytes that will not change
        ConditionCase{"if !is_get", "GE", false, M},  // not "cannot tell" is "cannot tell"
        ConditionCase{"if !is_get", "GE", true, T}, ConditionCase{"unless is_get", "GE", false, M},
        ConditionCase{"unless is_get", "GE", true, T},
        // Or: one true side decides; a false side waits for the other.
        ConditionCase{"if is_get || local", "GE", false, T},
        ConditionCase{"if is_get || !local", "GE", false, M},
        ConditionCase{"if !https || is_get", "GE", false, M},
        // And: one false term decides; a true one waits for the other.
        ConditionCase{"if local is_get", "GE", false, M},
        ConditionCase{"if !local is_get", "GE", false, F},
        ConditionCase{"if is_get !local", "GE", false, F},
        ConditionCase{"if is_get https", "GET", false, T},
        // A ClientHello: its SNI only once the whole record is here.
        ConditionCase{"if sni_a", kHello, false, T},
        ConditionCase{"if sni_a", kHello.substr(0, 100), false, M},
        ConditionCase{"if sni_a", kHello.substr(0, 100), true, F},
        ConditionCase{"if sni_a", "SSH-2.0-x\r\n", false, F},  // not TLS: no need to wait
        ConditionCase{"if { req.ssl_sni -m end .example.com }", kHello, false, T},
        ConditionCase{"if { req.ssl_alpn http/1.1 }", kHello, false, T},
        ConditionCase{"if { req.ssl_alpn h3 }", kHello, false, F},
        // A converter applies to every protocol the client offers, not only the first.
        ConditionCase{"if { req.ssl_alpn,upper HTTP/1.1 }", kHello, false, T},
        ConditionCase{"if { req.ssl_alpn,upper H2 }", kHello, false, T},
        ConditionCase{"if { req.ssl_ver 3.1 }", kHello, false, T},
        ConditionCase{"if { req.ssl_ver 3.3 }", kHello, false, F},
        ConditionCase{"if { req.ssl_ver 3.0:3.3 }", kHello, false, T},
        // HAProxy's own examples (haproxy-tests-test-inspect-ssl.cfg): "3" is 3.0, '-' ranges.
        ConditionCase{"if { req_ssl_ver 3.0-3.1 }", kHello, false, T},
        ConditionCase{"if { req_ssl_ver 3.2-3.3 }", kHello, false, F},
        ConditionCase{"if { req_ssl_ver lt 3 }", kHello, false, F},
        ConditionCase{"if { req_ssl_ver gt 3 }", kHello, false, T},
        ConditionCase{"if { req_ssl_ver gt 3.1 }", kHello, false, F},
        ConditionCase{"if tls", kHello.substr(0, 6), false, T},  // the type is in byte 6
        ConditionCase{"if tls", kHello.substr(0, 5), false, M},
        // A length that matches now matches, though more may come (as HAProxy).
        ConditionCase{"if { req.len lt 10 }", "abc", false, T},
        ConditionCase{"if { req.len ge 10 }", "abc", false, M},
        ConditionCase{"if { req.len ge 10 }", "abcdefghijk", false, T},
        ConditionCase{"if { req.len ge 10 }", "abc", true, F},
        ConditionCase{"if { req.payload(0,0) -m sub END }", "xxEN", false, M},
        ConditionCase{"if { req.payload(0,0) -m sub END }", "xxEND", false, T},
        ConditionCase{"if WAIT_END", "abc", false, M}, ConditionCase{"if WAIT_END", "abc", true, T},
        ConditionCase{"if REQ_CONTENT", "", false, M},
        ConditionCase{"if REQ_CONTENT", "x", false, T},
        ConditionCase{"if REQ_CONTENT", "", true, F}));

TEST(ConditionTest, ReadsPayloadWhenAnyTermDoes) {
  EXPECT_FALSE(compile("if local https")->condition->readsPayload());
  EXPECT_TRUE(compile("if local || is_get")->condition->readsPayload());
  EXPECT_TRUE(compile("if !{ req.len gt 0 }")->condition->readsPayload());
  EXPECT_TRUE(compile("if WAIT_END")->condition->readsPayload());
  EXPECT_TRUE(compile("if local")->condition->layer4());
}

TEST(ConditionTest, AnUnknownAclIsNamedWithTheDeclaredOnes) {
  auto compiled = compile("if local || nope");
  EXPECT_FALSE(compiled->condition.has_value());
  EXPECT_THAT(compiled->error, HasSubstr("unknown ACL 'nope' (declared here: local, https"));
  AclSet empty;
  std::string error;
  auto spec = config::parseCondition(words("if nope"), 0, error);
  ASSERT_TRUE(spec);
  EXPECT_FALSE(empty.condition(*spec, nullptr, error));
  EXPECT_THAT(error, HasSubstr("unknown ACL 'nope' (this section declares none)"));
}

TEST(ConditionTest, PredefinedAcls) {
  for (const char* name : {"TRUE", "FALSE", "LOCALHOST", "WAIT_END", "REQ_CONTENT"}) {
    EXPECT_NE(predefinedAcl(name), nullptr) << name;
  }
  EXPECT_EQ(predefinedAcl("HTTP"), nullptr);
  EXPECT_EQ(predefinedAcl("true"), nullptr);
  Facts f = facts();
  f.src = endpoint("127.0.0.1", 1);
  auto compiled = compile("if LOCALHOST");
  EXPECT_EQ(compiled->condition->evaluate(f), Tri::kTrue);
  f.src = endpoint("::1", 1);
  EXPECT_EQ(compiled->condition->evaluate(f), Tri::kTrue);
}

TEST(ConditionTest, AnEmptyConditionHolds) {
  Condition none;
  Facts f = facts("", false);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.evaluate(f), Tri::kTrue);
}

struct BadAcl {
  std::string words;
  std::string says;
};

TEST(AclCompileTest, RefusesWithTheReason) {
  const std::vector<BadAcl> cases{
      {"src", "ACL on 'src' has no pattern to match (add one, a '-f FILE', or '-m found')"},
      {"src -m bogus 1", "unknown match method '-m bogus' (known: str, beg, end"},
      {"src 10.0.0.0/33", "has a bad network mask"},
      {"dst_port http", "'http' is not an integer or a range"},
      {"req.ssl_ver 3.x", "'3.x' is not an integer or a range"},
      {"req.ssl_sni -m reg (", "bad regular expression '('"},
      {"always_true -m found x", "'-m found' takes no pattern"},
      {"hdr(host) -i a", "unknown fetch 'hdr'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.words);
    lb::v1::Acl spec;
    std::string error;
    auto w = words(c.words);
    EXPECT_FALSE(config::parseAclWords(w, 0, w.size(), spec, error));
    EXPECT_THAT(error, HasSubstr(c.says));
  }
}

TEST(AclCompileTest, OperatorsAreOnePatternWithTheirValue) {
  Facts f = facts();
  EXPECT_EQ(acl("dst_port ge 400").evaluate(f), Tri::kTrue);
  EXPECT_EQ(acl("dst_port gt 443").evaluate(f), Tri::kFalse);
  EXPECT_EQ(acl("dst_port lt 100 eq 443").evaluate(f), Tri::kTrue);
  EXPECT_EQ(acl("dst_port -m int le 442").evaluate(f), Tri::kFalse);
  EXPECT_EQ(acl("src_port -- -1 40000").evaluate(f), Tri::kTrue);
  EXPECT_EQ(acl("src -m found").evaluate(f), Tri::kTrue);
  EXPECT_EQ(acl("dst_port -m str 443").evaluate(f), Tri::kTrue);
}

TEST(AclSetTest, SameNameLinesMergeAndErrorsNameTheAcl) {
  auto parsed = config::parseHaproxy(std::string("frontend fe\n") + kAcls);
  AclSet set;
  std::string error;
  ASSERT_TRUE(set.compile(parsed.config.frontends(0).acls(), error)) << error;
  ASSERT_NE(set.find("either"), nullptr);
  EXPECT_EQ(set.find("either")->exprs.size(), 2u);
  EXPECT_EQ(set.find("nope"), nullptr);
  google::protobuf::RepeatedPtrField<lb::v1::Acl> bad;
  auto* one = bad.Add();
  one->set_name("blocked");
  one->set_fetch("src");
  one->add_patterns("nonsense");
  AclSet other;
  EXPECT_FALSE(other.compile(bad, error));
  EXPECT_THAT(error, HasSubstr("acl 'blocked': 'nonsense' is not an IP address"));
}

}  // namespace
}  // namespace lb::rules
