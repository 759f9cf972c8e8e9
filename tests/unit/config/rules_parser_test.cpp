// The layer-4 rule keywords as the parser reads them (acl with flags and -f FILE, anonymous
// ACLs, if/unless conditions, tcp-request stages, use_backend, use-server, stick-table,
// stick, listen sections), the mistakes it reports with file:line and what to do, and the
// same rules loaded from YAML and JSON through the proto's own field names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "agent/config/acl_syntax.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Timeouts for every proxy (lines 1-5), so that only the problem under test is reported.
constexpr const char* kDefaults =
    "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n"
    "    timeout server 30s\n";

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    auto start = text.find_first_not_of(' ', i);
    if (start == std::string::npos) break;
    auto end = text.find(' ', start);
    out.push_back(text.substr(start, end - start));
    i = end == std::string::npos ? text.size() : end;
  }
  return out;
}

// A pattern file for `-f`, removed with the test.
class PatternFile {
 public:
  explicit PatternFile(const std::string& text) {
    char name[] = "/tmp/lb-patterns-XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~PatternFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// What correct lines build.

struct RuleParseCase {
  std::string tag;
  std::string text;
  std::string expected;  // lb.v1.Config, text format
};

void PrintTo(const RuleParseCase& c, std::ostream* os) {
  *os << c.tag;
}

class RuleParseTest : public ::testing::TestWithParam<RuleParseCase> {};

TEST_P(RuleParseTest, Builds) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(c.expected), out.config));
}

INSTANTIATE_TEST_SUITE_P(
    Keywords, RuleParseTest,
    ::testing::Values(
        RuleParseCase{"acl with flags",
                      "frontend f\n    acl sni req.ssl_sni -i -m end .example.com .example.org\n",
                      R"(frontends { name: "f" acls { name: "sni" fetch: "req.ssl_sni"
                         match: "end" ignore_case: true patterns: ".example.com"
                         patterns: ".example.org" } })"},
        RuleParseCase{"acl with an operator", "frontend f\n    acl many sc0_conn_rate gt 10\n",
                      R"(frontends { name: "f" acls { name: "many" fetch: "sc0_conn_rate"
                         patterns: "gt" patterns: "10" } })"},
        RuleParseCase{"acl -- before a negative pattern",
                      "frontend f\n    acl neg src_port -- -1\n",
                      R"(frontends { name: "f" acls { name: "neg" fetch: "src_port"
                         patterns: "-1" } })"},
        RuleParseCase{"acl -m found, -n, -u", "frontend f\n    acl has req.len -n -u 3 -m found\n",
                      R"(frontends { name: "f" acls { name: "has" fetch: "req.len"
                         match: "found" } })"},
        RuleParseCase{
            "use_backend with an anonymous ACL, ! and ||",
            "frontend f\n    acl local src 127.0.0.1\n"
            "    use_backend b if !local { dst_port 443 } || { req.ssl_sni -i a.example.com }\n",
            R"(frontends { name: "f" acls { name: "local" fetch: "src" patterns: "127.0.0.1" }
               use_backend { backend: "b" condition {
                 any_of { terms { negate: true acl: "local" }
                          terms { anonymous { fetch: "dst_port" patterns: "443" } } }
                 any_of { terms { anonymous { fetch: "req.ssl_sni" ignore_case: true
                                              patterns: "a.example.com" } } } } } })"},
        RuleParseCase{"use_backend unless, with 'or'",
                      "frontend f\n    acl a src 10.0.0.1\n    acl b src 10.0.0.2\n"
                      "    use_backend x unless a or b\n",
                      R"(frontends { name: "f"
                         acls { name: "a" fetch: "src" patterns: "10.0.0.1" }
                         acls { name: "b" fetch: "src" patterns: "10.0.0.2" }
                         use_backend { backend: "x" condition { unless: true
                           any_of { terms { acl: "a" } } any_of { terms { acl: "b" } } } } })"},
        RuleParseCase{
            "use_backend with a dynamic name",
            "frontend f\n    use_backend be_%[req.ssl_sni,lower]\n",
            R"(frontends { name: "f" use_backend { backend: "be_%[req.ssl_sni,lower]" } })"},
        RuleParseCase{"tcp-request stages and inspect-delay",
                      "frontend f\n    tcp-request inspect-delay 5s\n"
                      "    tcp-request connection reject if { src 10.0.0.0/8 }\n"
                      "    tcp-request session accept\n"
                      "    tcp-request content track-sc1 src table t\n",
                      R"(frontends { name: "f" inspect_delay { seconds: 5 }
                         tcp_request { stage: CONNECTION action: "reject" condition {
                           any_of { terms { anonymous { fetch: "src" patterns: "10.0.0.0/8" } } } } }
                         tcp_request { stage: SESSION action: "accept" }
                         tcp_request { stage: CONTENT action: "track-sc1" args: "src" args: "table"
                                       args: "t" } })"},
        RuleParseCase{"tcp-request content in a backend",
                      "backend b\n    tcp-request content reject if { req.len gt 100 }\n",
                      R"(backends { name: "b" tcp_request { stage: CONTENT action: "reject"
                         condition { any_of { terms { anonymous { fetch: "req.len"
                           patterns: "gt" patterns: "100" } } } } } })"},
        RuleParseCase{"stick-table and stick rules",
                      "backend b\n    stick-table type ip size 100k expire 30m "
                      "store conn_cur,conn_rate(10s)\n"
                      "    stick on src\n    stick match dst table other if { dst_port 80 }\n"
                      "    stick store-request src_port\n",
                      R"pb(backends {
                             name: "b"
                             stick_table {
                               type: IP
                               size: 102400
                               expire { seconds: 1800 }
                               store: "conn_cur"
                               store: "conn_rate(10s)"
                             }
                             stick { kind: ON expr: "src" }
                             stick {
                               kind: MATCH
                               expr: "dst"
                               table: "other"
                               condition {
                                 any_of { terms { anonymous { fetch: "dst_port" patterns: "80" } } }
                               }
                             }
                             stick { kind: STORE expr: "src_port" }
                           })pb"},
        RuleParseCase{"stick-table type string len",
                      "backend b\n    stick-table type string len 64 size 1k\n",
                      R"(backends { name: "b" stick_table { type: STRING len: 64 size: 1024 } })"},
        RuleParseCase{"use-server",
                      "backend b\n    use-server s1 if { src 10.0.0.1 }\n    use-server s2\n",
                      R"(backends { name: "b"
                         use_server { server: "s1" condition { any_of { terms { anonymous {
                           fetch: "src" patterns: "10.0.0.1" } } } } }
                         use_server { server: "s2" } })"},
        // A listen section: ACLs in both halves, connection rules in the frontend half,
        // use-server and stick in the backend half.
        RuleParseCase{"listen",
                      "listen l\n    acl local src 127.0.0.1\n"
                      "    tcp-request connection reject unless local\n"
                      "    use-server s1 if local\n",
                      R"(frontends { name: "l" default_backend: "l"
                           acls { name: "local" fetch: "src" patterns: "127.0.0.1" }
                           tcp_request { stage: CONNECTION action: "reject" condition {
                             unless: true any_of { terms { acl: "local" } } } } }
                         backends { name: "l"
                           acls { name: "local" fetch: "src" patterns: "127.0.0.1" }
                           use_server { server: "s1" condition { any_of { terms {
                             acl: "local" } } } } })"}));

TEST(RuleParseTest, PatternsFromAFile) {
  PatternFile file("# blocked networks\n10.0.0.0/8\n\n  192.168.0.0/16  \n\t# more\n::1\n");
  auto out = parseHaproxy("frontend f\n    acl blocked src -f " + file.path() + " 172.16.0.1\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty());
  EXPECT_TRUE(
      sameMessage(configFromText(R"(frontends { name: "f" acls { name: "blocked" fetch: "src"
                        patterns: "10.0.0.0/8" patterns: "192.168.0.0/16" patterns: "::1"
                        patterns: "172.16.0.1" pattern_files: ")" +
                                 file.path() + R"(" } })"),
                  out.config));
  // A bad pattern in the file is reported as one on the line.
  PatternFile bad("10.0.0.0/8\nnot-a-network\n");
  auto refused = parseHaproxy("frontend f\n    acl blocked src -f " + bad.path() + "\n");
  EXPECT_THAT(refused.diagnostics.all(),
              Contains(errorAt(2, {"acl 'blocked'", "'not-a-network' is not an IP address"})));
}

TEST(RuleParseTest, TcpResponseAndStoreResponseAreAcceptedWithAWarning) {
  auto out = parseHaproxy(
      "backend b\n    tcp-response inspect-delay 2s\n"
      "    tcp-response content accept if { always_true }\n"
      "    stick store-response src\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty());
  EXPECT_THAT(out.diagnostics.all(), Contains(warningAt(2, {"has no effect"})));
  EXPECT_THAT(out.diagnostics.all(), Contains(warningAt(3, {"not evaluated"})));
  EXPECT_THAT(out.diagnostics.all(), Contains(warningAt(4, {"store-response"})));
  EXPECT_EQ(out.config.backends(0).tcp_response_size(), 1);
}

TEST(RuleParseTest, ContentFetchesInAConnectionRuleAreWarned) {
  auto out = parseHaproxy("frontend f\n    tcp-request connection reject if { req.len gt 0 }\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty());
  EXPECT_THAT(
      out.diagnostics.all(),
      Contains(warningAt(2, {"'req.len' reads the client's bytes", "'tcp-request connection'"})));
}

// ---------------------------------------------------------------------------------------------
// Mistakes: where, and what to do.

struct RuleMistake {
  std::string tag;
  std::string proxies;  // after kDefaults (5 lines)
  int line;
  std::vector<std::string> words;
};

void PrintTo(const RuleMistake& c, std::ostream* os) {
  *os << c.tag;
}

class RuleMistakeTest : public ::testing::TestWithParam<RuleMistake> {};

TEST_P(RuleMistakeTest, IsReportedAtItsLine) {
  const auto& c = GetParam();
  auto result = loadText(std::string(kDefaults) + c.proxies);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.diagnostics.all(), Contains(errorAt(c.line, c.words)))
      << "all: " << ::testing::PrintToString(result.diagnostics.all());
}

constexpr const char* kBackends =
    "backend web_test\n    server s1 10.0.0.1:80\n"
    "backend other\n    server s1 10.0.0.2:80\n";

INSTANTIATE_TEST_SUITE_P(
    Rules, RuleMistakeTest,
    ::testing::Values(
        RuleMistake{"unknown fetch",
                    std::string("frontend fe\n    bind :80\n    acl h hdr(host) -i a\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"acl 'h'", "unknown fetch 'hdr'", "lb's layer-4 fetches"}},
        RuleMistake{"bad network",
                    std::string("frontend fe\n    bind :80\n    acl n src 10.0.0.0/40\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"acl 'n'", "'10.0.0.0/40' has a bad network mask"}},
        RuleMistake{"bad integer",
                    std::string("frontend fe\n    bind :80\n    acl p dst_port https\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"'https' is not an integer or a range"}},
        RuleMistake{"bad regex",
                    std::string("frontend fe\n    bind :80\n    acl r req.ssl_sni -m reg (a\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"bad regular expression '(a'"}},
        RuleMistake{"ACL without pattern",
                    std::string("frontend fe\n    bind :80\n    acl e src\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"has no pattern", "'-m found'"}},
        RuleMistake{"missing pattern file",
                    std::string("frontend fe\n    bind :80\n    acl f src -f /nonexistent/x.lst\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"cannot read pattern file '/nonexistent/x.lst'"}},
        RuleMistake{"bad ACL name",
                    std::string("frontend fe\n    bind :80\n    acl a/b src 10.0.0.1\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"ACL name 'a/b' may only hold"}},
        RuleMistake{"unknown ACL",
                    std::string("frontend fe\n    bind :80\n    acl local src 127.0.0.1\n"
                                "    use_backend web_test if locale\n"
                                "    default_backend other\n") +
                        kBackends,
                    9,
                    {"unknown ACL 'locale'", "declared here: local"}},
        RuleMistake{
            "use_backend to a missing backend",
            std::string("frontend fe\n    bind :80\n    use_backend web-test\n"
                        "    default_backend other\n") +
                kBackends,
            8,
            {"use_backend 'web-test' of frontend 'fe' not found", "did you mean 'web_test'?"}},
        RuleMistake{"use-server to a missing server",
                    "frontend fe\n    bind :80\n    default_backend b\n"
                    "backend b\n    server web1 10.0.0.1:80\n    use-server web2 if TRUE\n",
                    11,
                    {"use-server 'web2' of backend 'b' not found", "did you mean 'web1'?"}},
        RuleMistake{"track-sc without a table",
                    std::string("frontend fe\n    bind :80\n"
                                "    tcp-request connection track-sc0 src\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"'fe' has no stick-table", "declare one", "'table NAME'"}},
        RuleMistake{"track-sc to a missing table",
                    std::string("frontend fe\n    bind :80\n"
                                "    tcp-request connection track-sc0 src table web-test\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"no stick-table named 'web-test'"}},
        RuleMistake{"tcp-request in defaults",
                    "defaults\n    tcp-request connection reject\n",
                    7,
                    {"'tcp-request' is not allowed in a 'defaults' section"}},
        RuleMistake{"acl in defaults",
                    "defaults\n    acl x src 10.0.0.1\n",
                    7,
                    {"'acl' is not allowed in a 'defaults' section"}},
        RuleMistake{"tcp-request connection in a backend",
                    std::string("frontend fe\n    bind :80\n    default_backend web_test\n") +
                        kBackends + "    tcp-request connection reject\n",
                    13,
                    {"'tcp-request connection' belongs in a frontend or listen section",
                     "use 'tcp-request content'"}},
        RuleMistake{"unknown tcp-request stage",
                    std::string("frontend fe\n    bind :80\n    tcp-request conection reject\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"unknown 'tcp-request' rule set 'conection'", "did you mean 'connection'"}},
        RuleMistake{"unknown action",
                    std::string("frontend fe\n    bind :80\n    tcp-request content deny\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"unsupported action 'deny'", "accept, reject"}},
        RuleMistake{"track key from the payload in a connection rule",
                    std::string("frontend fe\n    bind :80\n"
                                "    tcp-request connection track-sc0 req.ssl_sni\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"reads the client's bytes", "'tcp-request content'"}},
        RuleMistake{"condition without an ACL",
                    std::string("frontend fe\n    bind :80\n    use_backend other if\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"'if' needs a condition"}},
        RuleMistake{
            "unclosed brace",
            std::string("frontend fe\n    bind :80\n    use_backend other if { src 10.0.0.1\n"
                        "    default_backend web_test\n") +
                kBackends,
            8,
            {"'{' without its closing '}'"}},
        RuleMistake{
            "brace glued to a word",
            std::string("frontend fe\n    bind :80\n    use_backend other if {src 10.0.0.1 }\n"
                        "    default_backend web_test\n") +
                kBackends,
            8,
            {"braces must be separate words"}},
        RuleMistake{"dangling ||",
                    std::string("frontend fe\n    bind :80\n    use_backend other if TRUE ||\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"the condition ends without an ACL"}},
        RuleMistake{"words after the backend name",
                    std::string("frontend fe\n    bind :80\n    use_backend other when TRUE\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"is followed by 'when'", "expected 'if' or 'unless'"}},
        RuleMistake{"stick-table without size",
                    std::string("frontend fe\n    bind :80\n    default_backend web_test\n") +
                        kBackends + "    stick-table type ip\n",
                    13,
                    {"'stick-table' needs 'type' and 'size'"}},
        RuleMistake{"bad stick-table store",
                    std::string("frontend fe\n    bind :80\n    default_backend web_test\n") +
                        kBackends + "    stick-table type ip size 1k store conn_rate\n",
                    13,
                    {"'conn_rate' needs a period"}},
        RuleMistake{"counter of a missing backend",
                    std::string("frontend fe\n    bind :80\n"
                                "    use_backend other if { nbsrv(web-test) gt 0 }\n"
                                "    default_backend web_test\n") +
                        kBackends,
                    8,
                    {"'nbsrv(web-test)': no backend 'web-test'", "did you mean 'web_test'?"}}));

// ---------------------------------------------------------------------------------------------
// The grammar's functions on their own.

TEST(ConditionGrammarTest, FindConditionSkipsBraces) {
  EXPECT_EQ(findCondition(words("use_backend b if x"), 2), 2u);
  EXPECT_EQ(findCondition(words("track-sc0 src table t unless x"), 1), 4u);
  EXPECT_EQ(findCondition(words("use_backend b"), 2), 2u);
  EXPECT_EQ(findCondition(words("x { if } if y"), 1), 4u);
}

TEST(ConditionGrammarTest, RendersWhatItParses) {
  for (const std::string text :
       {"if a", "unless !a b || c", "if { src 10.0.0.1 } || !{ req.ssl_sni -m end -i .a.com }",
        "if { src_port -- -1 }"}) {
    std::string error;
    auto cond = parseCondition(words(text), 0, error);
    ASSERT_TRUE(cond) << text << ": " << error;
    EXPECT_EQ(renderCondition(*cond), text);
  }
}

// ---------------------------------------------------------------------------------------------
// The same rules from YAML and JSON: the proto's field names, checked like the HAProxy text.

constexpr const char* kRulesHaproxy = R"(defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tls
    bind :443
    tcp-request inspect-delay 5s
    acl to_a req.ssl_sni -i a.example.com
    tcp-request content accept if { req.ssl_hello_type 1 }
    use_backend a if to_a
    default_backend b
backend a
    server s1 10.0.0.1:443
backend b
    stick-table type ip size 1k expire 30s store conn_rate(10s)
    stick on src
    server s2 10.0.0.2:443
)";

constexpr const char* kRulesYaml = R"(frontends:
  - name: tls
    mode: tcp
    binds: [{ address: 0.0.0.0, port: 443 }]
    timeouts: { client: 30s }
    inspect_delay: 5s
    acls: [{ name: to_a, fetch: req.ssl_sni, ignore_case: true, patterns: [a.example.com] }]
    tcp_request:
      - stage: content
        action: accept
        condition:
          any_of: [{ terms: [{ anonymous: { fetch: req.ssl_hello_type, patterns: ["1"] } }] }]
    use_backend:
      - backend: a
        condition: { any_of: [{ terms: [{ acl: to_a }] }] }
    default_backend: b
backends:
  - name: a
    mode: tcp
    timeouts: { connect: 5s, server: 30s }
    servers: [{ name: s1, address: 10.0.0.1, port: 443 }]
  - name: b
    mode: tcp
    timeouts: { connect: 5s, server: 30s }
    stick_table: { type: ip, size: 1024, expire: 30s, store: [conn_rate(10s)] }
    stick: [{ kind: on, expr: src }]
    servers: [{ name: s2, address: 10.0.0.2, port: 443 }]
)";

LoadResult loadAs(const std::string& name, const std::string& text) {
  LoadOptions options;
  options.env = fakeEnv();
  return load({Source{name, text, Format::kAuto}}, options);
}

TEST(StructuredRulesTest, YamlLoadsTheSameRulesAsHaproxyText) {
  auto text = loadAs("lb.cfg", kRulesHaproxy);
  ASSERT_TRUE(text.ok()) << ::testing::PrintToString(text.diagnostics.all());
  auto yaml = loadAs("lb.yaml", kRulesYaml);
  ASSERT_TRUE(yaml.ok()) << ::testing::PrintToString(yaml.diagnostics.all());
  const auto& fe_text = text.config.frontends(0);
  const auto& fe_yaml = yaml.config.frontends(0);
  for (const char* field : {"acls", "tcp_request", "use_backend", "inspect_delay"}) {
    SCOPED_TRACE(field);
    const auto* descriptor = lb::v1::Frontend::descriptor()->FindFieldByName(field);
    ASSERT_NE(descriptor, nullptr);
    google::protobuf::util::MessageDifferencer differencer;
    lb::v1::Frontend a;
    lb::v1::Frontend b;
    std::vector<const google::protobuf::FieldDescriptor*> fields{descriptor};
    a.CopyFrom(fe_text);
    b.CopyFrom(fe_yaml);
    differencer.set_scope(google::protobuf::util::MessageDifferencer::FULL);
    std::string report;
    differencer.ReportDifferencesToString(&report);
    EXPECT_TRUE(differencer.CompareWithFields(a, b, fields, fields)) << report;
  }
  const auto& be_text = text.config.backends(1);
  const auto& be_yaml = yaml.config.backends(1);
  EXPECT_TRUE(sameMessage(be_text.stick_table(), be_yaml.stick_table()));
  ASSERT_EQ(be_yaml.stick_size(), 1);
  EXPECT_TRUE(sameMessage(be_text.stick(0), be_yaml.stick(0)));
}

TEST(StructuredRulesTest, JsonRulesAreValidatedLikeTheText) {
  auto json = loadAs("lb.json", R"({
  "frontends": [{
    "name": "fe", "mode": "MODE_TCP", "binds": [{"port": 80}],
    "timeouts": {"client": "30s"},
    "acls": [{"name": "local", "fetch": "src", "patterns": ["127.0.0.1"]}],
    "useBackend": [{"backend": "web-test",
                    "condition": {"anyOf": [{"terms": [{"acl": "locale"}]}]}}],
    "defaultBackend": "web_test"
  }],
  "backends": [{"name": "web_test", "mode": "MODE_TCP",
                "timeouts": {"connect": "5s", "server": "30s"},
                "servers": [{"name": "s1", "address": "10.0.0.1", "port": 80}]}]
})");
  EXPECT_FALSE(json.ok());
  EXPECT_THAT(json.diagnostics.all(),
              Contains(AllOf(IsError(), MessageHas("unknown ACL 'locale'"))));
}

TEST(StructuredRulesTest, AStickTableFromJsonIsCheckedLikeTheLine) {
  // Size 0 would let the table grow without bound; a type is needed to make keys.
  auto json = loadAs("lb.json", R"({
  "frontends": [{
    "name": "fe", "mode": "MODE_TCP", "binds": [{"port": 80}],
    "timeouts": {"client": "30s"},
    "stickTable": {"store": ["conn_rate(10s),conn_curr"]},
    "defaultBackend": "be"
  }],
  "backends": [{"name": "be", "mode": "MODE_TCP",
                "timeouts": {"connect": "5s", "server": "30s"},
                "servers": [{"name": "s1", "address": "10.0.0.1", "port": 80}]}]
})");
  EXPECT_FALSE(json.ok());
  EXPECT_THAT(json.diagnostics.all(),
              Contains(AllOf(IsError(), MessageHas("stick-table needs a type"))));
  EXPECT_THAT(json.diagnostics.all(),
              Contains(AllOf(IsError(), MessageHas("stick-table size must be at least 1"))));
  EXPECT_THAT(json.diagnostics.all(),
              Contains(AllOf(IsError(), MessageHas("unknown stick-table data type 'conn_curr'"))));
}

}  // namespace
}  // namespace lb::config
