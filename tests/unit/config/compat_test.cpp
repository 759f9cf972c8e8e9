// Real HAProxy 2.6 configurations load (issue 16): keywords lb tolerates with a reason or
// implements, addresses as HAProxy reads them, and messages that name the real problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/renderer.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

// A frontend and a backend that are complete, so that a case only adds what it is about.
std::string withProxies(const std::string& global, const std::string& frontend,
                        const std::string& backend) {
  return "global\n" + global +
         "defaults\n"
         "    mode tcp\n"
         "    timeout connect 5s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n"
         "frontend web\n"
         "    bind 127.0.0.1:8080\n" +
         frontend +
         "    default_backend app\n"
         "backend app\n"
         "    server s1 127.0.0.1:9000\n" +
         backend;
}

// ---- Keywords HAProxy 2.6 knows that lb accepts with a warning that says why ----

struct ToleratedCase {
  std::string name;
  std::string global;    // lines for the global section
  std::string frontend;  // lines for the frontend
  std::string backend;   // lines for the backend
  int line;              // where the warning is
  std::string words;     // a part of the warning
};

void PrintTo(const ToleratedCase& c, std::ostream* os) {
  *os << c.name;
}

class ToleratedKeywordTest : public ::testing::TestWithParam<ToleratedCase> {};

TEST_P(ToleratedKeywordTest, LoadsWithAWarningThatSaysWhy) {
  const auto& c = GetParam();
  FakeResolver resolver;
  auto result = loadText(withProxies(c.global, c.frontend, c.backend), &resolver);
  EXPECT_THAT(errorsOf(result.diagnostics), IsEmpty()) << result.diagnostics.format();
  EXPECT_THAT(result.diagnostics.all(), Contains(warningAt(c.line, {c.words, "ignored"})))
      << result.diagnostics.format();
}

// Line numbers: global lines start at 2, frontend lines at 9 (without global lines), backend
// lines at 12 (without global or frontend lines).
INSTANTIATE_TEST_SUITE_P(
    Compat, ToleratedKeywordTest,
    ::testing::Values(
        ToleratedCase{"SslServerVerify", "    ssl-server-verify none\n", "", "", 2, "TLS"},
        ToleratedCase{"MaxSpreadChecks", "    max-spread-checks 1s\n", "", "", 2, "spread"},
        ToleratedCase{"UnixBind", "    unix-bind prefix /tmp mode 770\n", "", "", 2, "TCP"},
        ToleratedCase{"StrictLimits", "    strict-limits\n", "", "", 2, "LimitNOFILE"},
        ToleratedCase{"Localpeer", "    localpeer lb1\n", "", "", 2, "peers"},
        ToleratedCase{"DefaultPath", "    default-path config\n", "", "", 2, "path"},
        ToleratedCase{"ZeroWarning", "    zero-warning\n", "", "", 2, "lb-agent -c"},
        ToleratedCase{"Maxpipes", "    maxpipes 1024\n", "", "", 2, "pipe"},
        ToleratedCase{"TuneMaxaccept", "    tune.maxaccept 64\n", "", "", 2, "32"},
        ToleratedCase{"CpuMap", "    cpu-map auto:1/1-4 0-3\n", "", "", 2, "threads"},
        ToleratedCase{"TuneSsl", "    tune.ssl.cachesize 20000\n", "", "", 2, "TLS"},
        ToleratedCase{"ServerStateFile", "    server-state-file /var/lib/s\n", "", "", 2,
                      "--state-dir"},
        ToleratedCase{"OptionLogasap", "", "    option logasap\n", "", 9, "logasap"},
        ToleratedCase{"NoOptionAbortonclose", "", "", "    no option abortonclose\n", 12,
                      "abortonclose"},
        ToleratedCase{"Filter", "", "    filter compression\n", "", 9, "filter"},
        ToleratedCase{"DeclareCapture", "", "    declare capture request len 32\n", "", 9,
                      "capture"},
        ToleratedCase{"Dispatch", "", "", "    dispatch 127.0.0.1:80\n", 12, "'server' line"},
        ToleratedCase{"HashType", "", "", "    hash-type consistent\n", 12, "hash"},
        ToleratedCase{"Fullconn", "", "", "    fullconn 1000\n", 12, "minconn"},
        ToleratedCase{"RetryOn", "", "", "    retry-on conn-failure\n", 12, "retries"},
        ToleratedCase{"BindId", "", "    bind 127.0.0.1:8081 id 5\n", "", 9, "'id 5'"},
        ToleratedCase{"BindThread", "", "    bind 127.0.0.1:8081 thread 1-4\n", "", 9,
                      "'thread 1-4'"},
        ToleratedCase{"ServerMinconn", "", "", "    server s2 127.0.0.1:9001 minconn 50\n", 12,
                      "'minconn 50'"},
        ToleratedCase{"ServerTrack", "", "", "    server s2 127.0.0.1:9001 track app/s1\n", 12,
                      "track"},
        ToleratedCase{"ServerVerifyNone", "", "", "    server s2 127.0.0.1:9001 verify none\n", 12,
                      "TLS"},
        ToleratedCase{"DefaultServerPoolMaxConn", "", "", "    default-server pool-max-conn 0\n",
                      12, "HTTP"}),
    [](const ::testing::TestParamInfo<ToleratedCase>& info) { return info.param.name; });

// A known keyword's value is consumed with it, never reported as an unknown option with a
// did-you-mean ("minconn 50" used to be told "did you mean 'id'?" for the 50).
TEST(ToleratedKeywordTest, ValuesOfKnownServerKeywordsAreConsumed) {
  auto out = parseHaproxy(
      "backend b\n"
      "    server s1 1.2.3.4:80 minconn 50 on-marked-up shutdown-backup-sessions weight 7\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  ASSERT_EQ(out.config.backends(0).servers_size(), 1);
  EXPECT_EQ(out.config.backends(0).servers(0).weight(), 7u);
}

// ---- What HAProxy 2.6 refuses, lb refuses ----

struct RefusedCase {
  std::string name;
  std::string text;
  int line;
  std::string words;
};

void PrintTo(const RefusedCase& c, std::ostream* os) {
  *os << c.name;
}

class RefusedTest : public ::testing::TestWithParam<RefusedCase> {};

TEST_P(RefusedTest, IsAnErrorAtItsLine) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(out.diagnostics.all(), Contains(errorAt(c.line, {c.words})))
      << out.diagnostics.format();
}

INSTANTIATE_TEST_SUITE_P(
    Compat, RefusedTest,
    ::testing::Values(
        RefusedCase{"HttpRequestInAnonymousDefaults", "defaults\n    http-request deny\n", 2,
                    "not allowed in anonymous 'defaults' section"},
        RefusedCase{"HttpResponseInAnonymousDefaults",
                    "defaults\n    http-response set-header X 1\n", 2, "anonymous"},
        RefusedCase{"OptionHttpUseHtx", "defaults d\n    option http-use-htx\n", 2,
                    "unknown option 'http-use-htx'"},
        RefusedCase{"LastLineWithoutLf", "backend b\n    retries 3", 2,
                    "missing LF on last line, file might have been truncated at position 14"},
        RefusedCase{"CommentLastLineWithoutLf", "backend b\n# end", 2, "position 6"},
        RefusedCase{"BindProtoTcp", "frontend f\n    bind :80 proto tcp\n", 2,
                    "unknown MUX protocol 'tcp'"},
        RefusedCase{"BindProtoH2", "frontend f\n    bind :80 proto h2\n", 2, "HTTP protocol"},
        RefusedCase{"BindBadPortRange", "frontend f\n    bind :9006-9001\n", 2,
                    "invalid port range"},
        RefusedCase{"EmptyAddressFromEnv", "frontend f\n    bind \"${NOPE}\"\n", 2,
                    "resolves to an empty address"},
        RefusedCase{"ServerSsl", "backend b\n    server s 1.2.3.4:443 ssl verify none\n", 2,
                    "does not speak TLS"},
        RefusedCase{"ServerSource", "backend b\n    server s 1.2.3.4:80 source 10.0.0.1\n", 2,
                    "source 10.0.0.1"},
        RefusedCase{"BadInitAddr", "backend b\n    server s 1.2.3.4:80 init-addr dns\n", 2,
                    "'init-addr' expects"},
        RefusedCase{"BadServerTemplateRange", "backend b\n    server-template w 3-1 x:80\n", 2,
                    "not a number of servers"},
        RefusedCase{"UnknownResolversKeyword", "resolvers dns\n    nameservr a 1.1.1.1:53\n", 2,
                    "did you mean 'nameserver'"},
        RefusedCase{"MaxconnrateZero", "global\n    maxconnrate 0\n", 2, "'maxconnrate'"}),
    [](const ::testing::TestParamInfo<RefusedCase>& info) { return info.param.name; });

TEST(RefusedTest, AFileEndingWithALfIsFine) {
  auto out = parseHaproxy("backend b\n    retries 3\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  EXPECT_THAT(errorsOf(parseHaproxy("").diagnostics), IsEmpty());
}

// ---- Messages ----

TEST(MessagesTest, TcpResponseIsNeverToldAboutHttpResponse) {
  auto out = parseHaproxy("backend b\n    tcp-responze content accept\n");
  for (const auto& d : out.diagnostics.all())
    EXPECT_THAT(d.message, Not(::testing::HasSubstr("http-")));
}

TEST(MessagesTest, NoBindLineWarningWhenTheBindLineFailed) {
  FakeResolver resolver;
  auto result = loadText(
      "frontend web\n"
      "    bind 127.0.0.1:99999\n"
      "    timeout client 5s\n"
      "    default_backend app\n"
      "backend app\n"
      "    timeout connect 5s\n"
      "    timeout server 5s\n"
      "    server s1 127.0.0.1:80\n",
      &resolver);
  EXPECT_THAT(result.diagnostics.all(), ElementsAre(errorAt(2, {"invalid port"})))
      << result.diagnostics.format();
}

TEST(MessagesTest, MissingTimeoutsNameOnlyTheMissingOnes) {
  FakeResolver resolver;
  auto result = loadText(
      "frontend web\n"
      "    bind 127.0.0.1:80\n"
      "    timeout client 5s\n"
      "    default_backend app\n"
      "backend app\n"
      "    timeout connect 5s\n"
      "    server s1 127.0.0.1:80\n",
      &resolver);
  auto warnings = warningsOf(result.diagnostics);
  ASSERT_THAT(warnings, ElementsAre(warningAt(5, {"set 'timeout server' ("})))
      << result.diagnostics.format();
  EXPECT_THAT(warnings[0].message, Not(::testing::HasSubstr("timeout connect")));
}

TEST(MessagesTest, OptionHttpchkWithOnlyAMethodIsAccepted) {
  auto out = parseHaproxy("backend b\n    option httpchk GET\n    server s 1.2.3.4:80 check\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
}

// Every HTTP section of a file is named, each at its line, in one run; TCP ones pass.
TEST(MessagesTest, EveryHttpSectionIsNamedAtItsLine) {
  FakeResolver resolver;
  auto result = loadText(
      "defaults\n"                     // 1
      "    timeout connect 5s\n"       // 2
      "    timeout client 5s\n"        // 3
      "    timeout server 5s\n"        // 4
      "frontend tcp_in\n"              // 5
      "    mode tcp\n"                 // 6
      "    bind 127.0.0.1:80\n"        // 7
      "    default_backend tcp_app\n"  // 8
      "backend tcp_app\n"              // 9
      "    mode tcp\n"                 // 10
      "    server s 127.0.0.1:81\n"    // 11
      "frontend www\n"                 // 12
      "    mode http\n"                // 13
      "    bind 127.0.0.1:82\n"        // 14
      "    default_backend web\n"      // 15
      "backend web\n"                  // 16
      "    mode http\n"                // 17
      "    server s 127.0.0.1:83\n"    // 18
      "listen api\n"                   // 19
      "    mode http\n"                // 20
      "    bind 127.0.0.1:84\n"        // 21
      "    server s 127.0.0.1:85\n",   // 22
      &resolver);
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(errorAt(13, {"frontend 'www'", "HTTP mode"}),
                          errorAt(20, {"listen 'api'", "HTTP mode"}),
                          errorAt(17, {"backend 'web'", "HTTP mode"})))
      << result.diagnostics.format();
}

// ---- Implemented keywords ----

TEST(ImplementedTest, MaxconnrateTcpkaTfoInitAddr) {
  auto out = parseHaproxy(
      "global\n"
      "    maxconnrate 200\n"
      "defaults d\n"
      "    option tcpka\n"
      "frontend f from d\n"
      "    bind :80 tfo\n"
      "    no option clitcpka\n"
      "    default_backend b\n"
      "backend b from d\n"
      "    server s app.invalid:80 init-addr last,libc,none\n"
      "    server t app.invalid:80 init-addr 10.0.0.9\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  EXPECT_EQ(out.config.global().maxconnrate(), 200u);
  const auto& fe = out.config.frontends(0);
  EXPECT_TRUE(fe.binds(0).tfo());
  ASSERT_TRUE(fe.has_tcpka());
  EXPECT_FALSE(fe.tcpka());
  const auto& be = out.config.backends(0);
  ASSERT_TRUE(be.has_tcpka());
  EXPECT_TRUE(be.tcpka());
  EXPECT_THAT(be.servers(0).init_addr(), ElementsAre("last", "libc", "none"));
  EXPECT_THAT(be.servers(1).init_addr(), ElementsAre("10.0.0.9"));
}

TEST(ImplementedTest, SrvtcpkaAndClitcpkaSetOneSideEach) {
  auto out = parseHaproxy(
      "listen l\n"
      "    option srvtcpka\n"
      "    server s 1.2.3.4:80\n"
      "listen m\n"
      "    option clitcpka\n"
      "    server s 1.2.3.4:80\n");
  EXPECT_TRUE(out.config.backends(0).tcpka());
  EXPECT_FALSE(out.config.frontends(0).has_tcpka());
  EXPECT_TRUE(out.config.frontends(1).tcpka());
  EXPECT_FALSE(out.config.backends(1).has_tcpka());
}

// A server whose name does not resolve fails the config, unless init-addr says `none`: then it
// starts in maintenance, as in HAProxy (a warning says so).
TEST(ImplementedTest, InitAddrNoneTurnsAnUnresolvedNameIntoAWarning) {
  FakeResolver resolver;
  std::string text = withProxies("", "", "    server s2 nowhere.invalid:80 init-addr none\n");
  auto result = loadText(text, &resolver);
  EXPECT_THAT(errorsOf(result.diagnostics), IsEmpty()) << result.diagnostics.format();
  EXPECT_THAT(result.diagnostics.all(), Contains(warningAt(12, {"maintenance"})));
  auto strict = loadText(withProxies("", "", "    server s2 nowhere.invalid:80\n"), &resolver);
  EXPECT_THAT(errorsOf(strict.diagnostics), ElementsAre(errorAt(12, {"cannot resolve"})));
}

TEST(ImplementedTest, ServerTemplateCreatesTheServers) {
  auto out = parseHaproxy(
      "backend b\n"
      "    server-template web 3 app.example.com:8080 check init-addr none\n"
      "    server-template api 5-6 \"${API}\" minconn 1\n",
      fakeEnv({{"API", "10.0.0.7:81"}}));
  const auto& be = out.config.backends(0);
  ASSERT_EQ(be.servers_size(), 5);
  EXPECT_EQ(be.servers(0).name(), "web1");
  EXPECT_EQ(be.servers(2).name(), "web3");
  EXPECT_EQ(be.servers(2).address(), "app.example.com");
  EXPECT_EQ(be.servers(2).port(), 8080u);
  EXPECT_TRUE(be.servers(2).check());
  EXPECT_EQ(be.servers(3).name(), "api5");
  EXPECT_EQ(be.servers(4).address(), "10.0.0.7");
  // The minconn warning is said once for the line, not once per server.
  EXPECT_EQ(warningsOf(out.diagnostics).size(), 1u) << out.diagnostics.format();
}

TEST(ImplementedTest, ResolversSectionsAreReadWithAWarning) {
  auto out = parseHaproxy(
      "resolvers dns\n"
      "    nameserver ns1 10.0.0.2:53\n"
      "    parse-resolv-conf\n"
      "    resolve_retries 3\n"
      "    timeout resolve 1s\n"
      "    hold valid 10s\n"
      "    accepted_payload_size 8192\n"
      "backend b\n"
      "    server s 1.2.3.4:80 resolvers dns\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  EXPECT_THAT(out.diagnostics.all(), Contains(warningAt(1, {"does not re-resolve"})));
}

// ---- Addresses ----

TEST(AddressTest, PortRangeMakesOneBindPerPort) {
  auto out = parseHaproxy("frontend f\n    bind 127.0.0.1:9001-9003,:7000 v4v6\n");
  EXPECT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  const auto& fe = out.config.frontends(0);
  ASSERT_EQ(fe.binds_size(), 4);
  EXPECT_EQ(fe.binds(0).port(), 9001u);
  EXPECT_EQ(fe.binds(2).port(), 9003u);
  EXPECT_EQ(fe.binds(2).address(), "127.0.0.1");
  EXPECT_TRUE(fe.binds(2).v4v6());
  EXPECT_EQ(fe.binds(3).port(), 7000u);
}

TEST(AddressTest, OneFrontendMayBindV4AndV6WildcardsOnOnePort) {
  FakeResolver resolver;
  auto both = loadText(withProxies("", "    bind :8081\n    bind :::8081\n", ""), &resolver);
  EXPECT_THAT(errorsOf(both.diagnostics), IsEmpty()) << both.diagnostics.format();
  auto twice = loadText(withProxies("", "    bind 127.0.0.1:8080\n", ""), &resolver);
  EXPECT_THAT(errorsOf(twice.diagnostics), ElementsAre(errorAt(9, {"overlaps"})));
}

TEST(AddressTest, TwoFrontendsOnOnePortStillConflict) {
  FakeResolver resolver;
  auto result = loadText(withProxies("", "",
                                     "frontend other\n"
                                     "    bind :::8080\n"
                                     "    default_backend app\n"),
                         &resolver);
  EXPECT_THAT(errorsOf(result.diagnostics), ElementsAre(errorAt(13, {"overlaps"})))
      << result.diagnostics.format();
}

struct EnvCase {
  std::string name;
  std::string line;  // the bind line's address part, as written
  std::string address;
  uint32_t port;
};

void PrintTo(const EnvCase& c, std::ostream* os) {
  *os << c.name;
}

class AddressEnvTest : public ::testing::TestWithParam<EnvCase> {};

// HAProxy expands "$VAR" in double quotes (parse_line) and, in addresses, also unquoted (its
// str2sa_range runs env_expand on every address).
TEST_P(AddressEnvTest, ExpandsLikeHaproxy) {
  const auto& c = GetParam();
  auto out = parseHaproxy("frontend f\n    bind " + c.line + "\n",
                          fakeEnv({{"ADDR", "10.1.2.3"}, {"PORT", "8443"}}));
  ASSERT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  ASSERT_EQ(out.config.frontends(0).binds_size(), 1);
  EXPECT_EQ(out.config.frontends(0).binds(0).address(), c.address);
  EXPECT_EQ(out.config.frontends(0).binds(0).port(), c.port);
}

INSTANTIATE_TEST_SUITE_P(
    Compat, AddressEnvTest,
    ::testing::Values(EnvCase{"Quoted", "\"$ADDR:$PORT\"", "10.1.2.3", 8443},
                      EnvCase{"QuotedBraces", "\"${ADDR}:${PORT}\"", "10.1.2.3", 8443},
                      EnvCase{"Default", "\"${UNSET-10.9.9.9}:${PORT-1}\"", "10.9.9.9", 8443},
                      EnvCase{"Unquoted", "$ADDR:$PORT", "10.1.2.3", 8443},
                      EnvCase{"UnquotedBraces", "${ADDR}:80", "10.1.2.3", 80},
                      EnvCase{"UnquotedUnsetHost", "$UNSET:80", "0.0.0.0", 80}),
    [](const ::testing::TestParamInfo<EnvCase>& info) { return info.param.name; });

// ---- Rendering the new fields back ----

TEST(RenderTest, NewFieldsRoundTrip) {
  std::string text =
      "global\n"
      "    maxconnrate 50\n"
      "frontend f\n"
      "    bind 127.0.0.1:80 tfo\n"
      "    option clitcpka\n"
      "    default_backend b\n"
      "backend b\n"
      "    option srvtcpka\n"
      "    server s 127.0.0.1:81 init-addr libc,none\n";
  auto first = parseHaproxy(text);
  ASSERT_THAT(errorsOf(first.diagnostics), IsEmpty()) << first.diagnostics.format();
  std::string rendered = renderHaproxy(first.config);
  auto second = parseHaproxy(rendered);
  ASSERT_THAT(errorsOf(second.diagnostics), IsEmpty()) << rendered;
  EXPECT_EQ(second.config.global().maxconnrate(), 50u);
  EXPECT_TRUE(second.config.frontends(0).binds(0).tfo());
  EXPECT_TRUE(second.config.frontends(0).tcpka());
  EXPECT_TRUE(second.config.backends(0).tcpka());
  EXPECT_THAT(second.config.backends(0).servers(0).init_addr(), ElementsAre("libc", "none"));
}

}  // namespace
}  // namespace lb::config

namespace lb::config {
namespace {

// The new fields read the same from YAML (protobuf's JSON mapping) as from HAProxy syntax, and
// the validator checks them there too.
TEST(StructuredTest, NewFieldsLoadFromYaml) {
  FakeResolver resolver;
  LoadOptions options;
  options.resolver = &resolver;
  auto result = load({Source{"lb.yaml", R"(global: { maxconnrate: 30 }
frontends:
  - name: web
    binds: [ { address: 127.0.0.1, port: 80, tfo: true } ]
    tcpka: true
    timeouts: { client: 30s }
    default_backend: app
backends:
  - name: app
    tcpka: true
    timeouts: { connect: 5s, server: 30s }
    servers:
      - { name: s1, address: nowhere.invalid, port: 80, init_addr: [libc, none] }
      - { name: s2, address: 10.0.0.2, port: 80, init_addr: [dns] }
)",
                             Format::kAuto}},
                     options);
  EXPECT_EQ(result.config.global().maxconnrate(), 30u);
  EXPECT_TRUE(result.config.frontends(0).binds(0).tfo());
  EXPECT_TRUE(result.config.frontends(0).tcpka());
  EXPECT_TRUE(result.config.backends(0).tcpka());
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AtPath("backends[0].servers[1].init_addr[0]")))
      << result.diagnostics.format();
  EXPECT_THAT(warningsOf(result.diagnostics), Contains(AtPath("backends[0].servers[0].address")));
}

}  // namespace
}  // namespace lb::config

namespace lb::config {
namespace {

// HAProxy's port offsets: the client's destination port plus or minus N.
TEST(PortOffsetTest, ServerAddressesWithAnOffsetRoundTrip) {
  auto out = parseHaproxy(
      "backend b\n"
      "    server up 127.0.0.1:+1000\n"
      "    server down [::1]:-10\n"
      "    server bad 127.0.0.1:+x\n");
  ASSERT_EQ(out.config.backends(0).servers_size(), 2);
  EXPECT_EQ(out.config.backends(0).servers(0).port(), 0u);
  EXPECT_EQ(out.config.backends(0).servers(0).port_offset(), 1000);
  EXPECT_EQ(out.config.backends(0).servers(1).address(), "::1");
  EXPECT_EQ(out.config.backends(0).servers(1).port_offset(), -10);
  EXPECT_THAT(errorsOf(out.diagnostics), ElementsAre(errorAt(4, {"invalid port offset '+x'"})));
  std::string rendered = renderHaproxy(out.config);
  EXPECT_NE(rendered.find("server up 127.0.0.1:+1000"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("server down [::1]:-10"), std::string::npos) << rendered;
}

}  // namespace
}  // namespace lb::config

namespace lb::config {
namespace {

// setenv and friends change what later lines expand, as in HAProxy.
TEST(EnvKeywordsTest, SetenvPresetenvUnsetenvResetenv) {
  auto out = parseHaproxy(
      "global\n"
      "    setenv ADDR 10.0.0.1\n"
      "    presetenv PORT 81\n"   // PORT is set: kept
      "    presetenv OTHER 82\n"  // OTHER is not: set
      "    unsetenv GONE\n"
      "frontend f\n"
      "    bind \"$ADDR:$PORT\",\"$ADDR:$OTHER\"\n"
      "    description \"[${GONE-none}]\"\n"
      "global\n"
      "    resetenv ADDR\n"
      "frontend g\n"
      "    bind \"$ADDR:${PORT-90}\"\n",
      fakeEnv({{"PORT", "8080"}, {"GONE", "x"}}));
  ASSERT_THAT(errorsOf(out.diagnostics), IsEmpty()) << out.diagnostics.format();
  const auto& f = out.config.frontends(0);
  EXPECT_EQ(f.binds(0).address(), "10.0.0.1");
  EXPECT_EQ(f.binds(0).port(), 8080u);
  EXPECT_EQ(f.binds(1).port(), 82u);
  EXPECT_EQ(f.description(), "[none]");
  EXPECT_EQ(out.config.frontends(1).binds(0).port(), 90u);  // PORT went with resetenv
  EXPECT_EQ(out.config.frontends(1).binds(0).address(), "10.0.0.1");
}

}  // namespace
}  // namespace lb::config
