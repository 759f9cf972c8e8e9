#include "agent/config/validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "agent/config/normalize.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Timeouts for every proxy, so that only the problem under test is reported (lines 1-4).
constexpr const char* kDefaults = R"(defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
)";

std::string withDefaults(const std::string& proxies) {
  return kDefaults + proxies;
}

// ---------------------------------------------------------------------------------------------
// The mistake of the HAProxy TCP guide: the frontend names 'web-test', the backend is 'web_test'.

TEST(DefaultBackendTest, GuideMistakeSuggestsTheBackendThatExists) {
  auto result = loadText(R"(frontend web-test
    bind *:80
    mode tcp
    default_backend web-test
backend web_test
    mode tcp
    balance roundrobin
    server server1 10.0.0.11:80 check inter 4s
    server server2 10.0.0.12:80 check inter 4s observe layer4 error-limit 10 on-error mark-down
    server server3 10.0.0.13:80 check inter 4s
)");
  EXPECT_FALSE(result.ok());
  auto errors = errorsOf(result.diagnostics);
  ASSERT_THAT(errors, ElementsAre(errorAt(4, {"default_backend 'web-test'", "not found",
                                              "did you mean 'web_test'?"})));
  EXPECT_THAT(errors[0].toString(), StartsWith("lb.cfg:4: error: default_backend 'web-test'"));
  EXPECT_THAT(errors[0].toString(), EndsWith("; did you mean 'web_test'?"));
  EXPECT_EQ(errors[0].path, "frontends[0].default_backend");
}

TEST(DefaultBackendTest, NoSuggestionWhenNothingIsClose) {
  auto result = loadText(withDefaults(R"(frontend web
    bind *:80
    default_backend payments
backend app
    server s1 10.0.0.1:80
)"));
  auto errors = errorsOf(result.diagnostics);
  ASSERT_THAT(errors, ElementsAre(errorAt(7, {"default_backend 'payments'", "not found"})));
  EXPECT_THAT(errors[0].message, ::testing::Not(::testing::HasSubstr("did you mean")));
}

TEST(DefaultBackendTest, MissingDefaultBackendIsAnErrorUnlessDisabled) {
  auto result = loadText(withDefaults("frontend web\n    bind *:80\nfrontend off\n    disabled\n"));
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(errorAt(5, {"frontend 'web' has no default_backend"})));
}

// ---------------------------------------------------------------------------------------------
// Problems the validator finds in text input, each reported at the line it comes from.

struct TextCase {
  std::string name;
  std::string proxies;  // after kDefaults, so the first line here is line 5
  int line;             // 0: no error expected
  std::vector<std::string> words;
};

void PrintTo(const TextCase& c, std::ostream* os) {
  *os << c.name;
}

class TextValidationTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(TextValidationTest, ReportsAtTheLine) {
  const auto& c = GetParam();
  FakeResolver resolver({"db.internal", "lb.internal"});
  auto result = loadText(withDefaults(c.proxies), &resolver);
  if (c.line == 0) {
    EXPECT_THAT(errorsOf(result.diagnostics), IsEmpty()) << result.diagnostics.format();
  } else {
    EXPECT_THAT(errorsOf(result.diagnostics), ElementsAre(errorAt(c.line, c.words)))
        << result.diagnostics.format();
  }
}

// One backend `app` whose server line (line 9) has `settings`.
TextCase serverLine(std::string name, const std::string& settings, int line,
                    std::vector<std::string> words) {
  return {std::move(name),
          "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
          "    server s1 10.0.0.1:80 " +
              settings + "\n",
          line, std::move(words)};
}

INSTANTIATE_TEST_SUITE_P(
    Ranges, TextValidationTest,
    ::testing::Values(
        serverLine("Weight256", "weight 256", 0, {}), serverLine("Weight0", "weight 0", 0, {}),
        serverLine("Weight257", "weight 257", 9,
                   {"server app/s1", "weight 257 is out of range", "0 to 256"}),
        serverLine("Rise1Fall1", "check rise 1 fall 1", 0, {}),
        serverLine("Rise0", "check rise 0", 9, {"server app/s1", "rise must be at least 1"}),
        serverLine("Fall0", "check fall 0", 9, {"server app/s1", "fall must be at least 1"}),
        serverLine("ErrorLimit0", "check observe layer4 error-limit 0", 9,
                   {"error-limit must be >= 1"}),
        serverLine("Inter0", "check inter 0", 9, {"inter of server app/s1 must be greater than 0"}),
        serverLine("Fastinter0", "check fastinter 0s", 9, {"fastinter", "greater than 0"}),
        serverLine("Downinter0", "check downinter 0ms", 9, {"downinter", "greater than 0"}),
        serverLine("ObserveWithCheck", "check observe layer4", 0, {}),
        serverLine("ObserveWithoutCheck", "observe layer4 error-limit 10 on-error mark-down", 9,
                   {"'observe' needs 'check'"}),
        serverLine("ObserveAlone", "observe layer4", 9, {"needs 'check'"}),
        // HAProxy 2.6 says so and loads the file: a warning, not an error.
        serverLine("ObserveLayer7", "check observe layer7", 0, {}),
        serverLine("CheckPortRange", "check port 65535", 0, {}),
        TextCase{"ServerWithoutPortAndCheck",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    server s1 10.0.0.1 check\n",
                 9,
                 {"server app/s1 has no port", "'port N'"}},
        TextCase{"ServerWithoutPortCheckingAnotherPort",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    server s1 10.0.0.1 check port 8080\n",
                 0,
                 {}},
        TextCase{"ServerWithoutPortNoCheck",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    server s1 10.0.0.1\n",
                 0,
                 {}},
        TextCase{"TimeoutCheckZero",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    timeout check 0\n    server s1 10.0.0.1:80 check\n",
                 9,
                 {"timeout check must be greater than 0"}}),
    [](const ::testing::TestParamInfo<TextCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Names, TextValidationTest,
    ::testing::Values(
        TextCase{"DuplicateFrontend",
                 "frontend web\n    bind *:80\n    default_backend app\n"
                 "frontend web\n    bind *:81\n    default_backend app\n"
                 "backend app\n    server s1 10.0.0.1:80\n",
                 8,
                 {"duplicate frontend name 'web'"}},
        TextCase{"DuplicateBackend",
                 "frontend web\n    bind *:80\n    default_backend app\n"
                 "backend app\n    server s1 10.0.0.1:80\n"
                 "backend app\n    server s2 10.0.0.2:80\n",
                 10,
                 {"duplicate backend name 'app'"}},
        TextCase{"DuplicateServer",
                 "frontend web\n    bind *:80\n    default_backend app\n"
                 "backend app\n    server s1 10.0.0.1:80\n    server s1 10.0.0.2:80\n",
                 10,
                 {"duplicate server name 's1'"}},
        TextCase{"SameServerNameInTwoBackends",
                 "frontend web\n    bind *:80\n    default_backend a\n"
                 "backend a\n    server s1 10.0.0.1:80\nbackend b\n    server s1 10.0.0.2:80\n",
                 0,
                 {}},
        TextCase{"FrontendAndBackendMayShareAName",
                 "frontend app\n    bind *:80\n    default_backend app\n"
                 "backend app\n    server s1 10.0.0.1:80\n",
                 0,
                 {}}),
    [](const ::testing::TestParamInfo<TextCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Resolve, TextValidationTest,
    ::testing::Values(
        serverLine("KnownName", "", 0, {}),
        TextCase{"ResolvableServer",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    server db db.internal:5432\n",
                 0,
                 {}},
        TextCase{"UnresolvableServer",
                 "frontend web\n    bind *:80\n    default_backend app\nbackend app\n"
                 "    server db1 db.internal:5432\n    server db2 db2.invalid:5432\n",
                 10,
                 {"server app/db2", "cannot resolve 'db2.invalid'", "Name or service not known"}},
        TextCase{"UnresolvableBind",
                 "frontend web\n    bind lb.invalid:80\n    default_backend app\nbackend app\n"
                 "    server s1 10.0.0.1:80\n",
                 6,
                 {"frontend 'web' bind", "cannot resolve 'lb.invalid'"}},
        TextCase{"ResolvableBind",
                 "frontend web\n    bind lb.internal:80\n    default_backend app\nbackend app\n"
                 "    server s1 10.0.0.1:80\n",
                 0,
                 {}},
        serverLine("UnresolvableCheckAddr", "check addr health.invalid", 9,
                   {"cannot resolve 'health.invalid'"})),
    [](const ::testing::TestParamInfo<TextCase>& info) { return info.param.name; });

// A backend `app` with an HTTP or TCP check; its rule is on line 10.
TextCase checkRule(std::string name, const std::string& option, const std::string& rule, int line,
                   std::vector<std::string> words) {
  return {std::move(name),
          "frontend web\n    bind *:80\n    default_backend app\nbackend app\n    " + option +
              "\n    " + rule + "\n    server s1 10.0.0.1:80 check\n",
          line, std::move(words)};
}

INSTANTIATE_TEST_SUITE_P(
    Checks, TextValidationTest,
    ::testing::Values(
        checkRule("GoodStatus", "option httpchk", "http-check expect status 200", 0, {}),
        checkRule("GoodStatusRange", "option httpchk", "http-check expect status 200-299", 0, {}),
        checkRule("GoodStatusList", "option httpchk", "http-check expect status 200,302,400-404", 0,
                  {}),
        checkRule("StatusWithLetters", "option httpchk", "http-check expect status 2xx", 10,
                  {"'2xx' is not an HTTP status list", "'200-299,302'"}),
        checkRule("StatusOutOfRange", "option httpchk", "http-check expect status 600", 10,
                  {"'600' is not an HTTP status list"}),
        checkRule("StatusTrailingComma", "option httpchk", "http-check expect status 200,", 10,
                  {"not an HTTP status list"}),
        checkRule("GoodRstring", "option httpchk", "http-check expect rstring ^OK\\s+[0-9]{2}$", 0,
                  {}),
        checkRule("BadRstring", "option httpchk", "http-check expect rstring (unclosed", 10,
                  {"invalid regular expression '(unclosed'"}),
        checkRule("BadRstatus", "option httpchk", "http-check expect rstatus [2", 10,
                  {"invalid regular expression '[2'"}),
        checkRule("BadTcpRstring", "option tcp-check", "tcp-check expect rstring *PONG", 10,
                  {"invalid regular expression '*PONG'"}),
        checkRule("GoodTcpCheck", "option tcp-check", "tcp-check expect binary 2b4f4b", 0, {}),
        // HAProxy 2.6 accepts it (and "option httpchk GET", where GET is the URI): a warning.
        checkRule("HttpCheckUriWithoutSlash", "option httpchk GET health",
                  "http-check expect status 200", 0, {}),
        checkRule("HttpCheckBadVersion", "option httpchk GET / HTTP/2",
                  "http-check expect status 200", 9, {"HTTP/1.0 or HTTP/1.1", "'HTTP/2'"}),
        checkRule("HttpCheckBadMethod", "option httpchk G@T /", "http-check expect status 200", 9,
                  {"invalid HTTP method 'G@T'"})),
    [](const ::testing::TestParamInfo<TextCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Two binds on one address:port cannot both listen.

struct BindCase {
  std::string name;
  std::string first;   // `bind` arguments of frontend a
  std::string second;  // `bind` arguments of frontend b
  bool conflict;
};

void PrintTo(const BindCase& c, std::ostream* os) {
  *os << c.name;
}

class BindConflictTest : public ::testing::TestWithParam<BindCase> {};

TEST_P(BindConflictTest, OverlappingAddressesConflict) {
  const auto& c = GetParam();
  auto result = loadText(withDefaults("frontend a\n    bind " + c.first +
                                      "\n    default_backend app\n"
                                      "frontend b\n    bind " +
                                      c.second +
                                      "\n    default_backend app\n"
                                      "backend app\n    server s1 10.0.0.1:80\n"));
  if (c.conflict) {
    EXPECT_THAT(errorsOf(result.diagnostics),
                ElementsAre(AllOf(errorAt(9, {"of frontend 'b' overlaps bind", "of frontend 'a'",
                                              "each address:port can be bound once"}),
                                  AtPath("frontends[1].binds[0]"))))
        << result.diagnostics.format();
  } else {
    EXPECT_THAT(errorsOf(result.diagnostics), IsEmpty()) << result.diagnostics.format();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, BindConflictTest,
    ::testing::Values(BindCase{"SameWildcard", "*:80", "*:80", true},
                      BindCase{"SameAddress", "127.0.0.1:80", "127.0.0.1:80", true},
                      BindCase{"WildcardThenAddress", "*:80", "127.0.0.1:80", true},
                      BindCase{"AddressThenWildcard", "127.0.0.1:80", ":80", true},
                      BindCase{"Ipv6WildcardCoversIpv4", "[::]:80", "*:80", true},
                      BindCase{"Ipv4WildcardThenIpv6Wildcard", "*:80", "ipv6@:80", true},
                      BindCase{"Ipv6WildcardCoversIpv4Address", "[::]:80", "10.0.0.1:80", true},
                      BindCase{"Ipv6WildcardCoversIpv6Address", "[::]:80", "[::1]:80", true},
                      BindCase{"SameIpv6Address", "[::1]:80", "[::1]:80", true},
                      BindCase{"HostNameUnderWildcard", "*:80", "localhost:80", true},
                      BindCase{"V6onlyLeavesIpv4Free", "[::]:80 v6only", "*:80", false},
                      BindCase{"Ipv6AddressAndIpv4Wildcard", "[::1]:80", "*:80", false},
                      BindCase{"TwoAddresses", "127.0.0.1:80", "127.0.0.2:80", false},
                      BindCase{"TwoPorts", "*:80", "*:81", false},
                      BindCase{"PortZeroNeverConflicts", "*:0", "*:0", false},
                      BindCase{"PortZeroOnOneAddress", "127.0.0.1:0", "127.0.0.1:0", false}),
    [](const ::testing::TestParamInfo<BindCase>& info) { return info.param.name; });

// Within one frontend only the same address twice conflicts: `:443` and `127.0.0.1:443` (or
// `:::443`) are separate sockets that serve the same frontend, as in HAProxy.
TEST(BindConflictMessageTest, AnAddressListMayConflictWithItself) {
  auto result =
      loadText(withDefaults("frontend a\n    bind :80,:443,127.0.0.1:443,*:443\n"
                            "    default_backend app\nbackend app\n"
                            "    server s1 10.0.0.1:80\n"));
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AllOf(errorAt(6, {"bind 0.0.0.0:443", "overlaps bind 0.0.0.0:443"}),
                                AtPath("frontends[0].binds[3]"))))
      << result.diagnostics.format();
}

TEST(BindConflictMessageTest, NamesBothBindsAndFrontends) {
  auto result =
      loadText(withDefaults("frontend a\n    bind [::1]:80\n    default_backend app\n"
                            "frontend b\n    bind [::1]:80\n    default_backend app\n"
                            "backend app\n    server s1 10.0.0.1:80\n"));
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(errorAt(9, {"bind [::1]:80 of frontend 'b' overlaps bind [::1]:80"})));
}

// ---------------------------------------------------------------------------------------------

TEST(ValidatorTest, EveryErrorIsReportedAtOnce) {
  FakeResolver resolver;
  auto result = loadText(withDefaults(R"(frontend web
    bind *:80
    default_backend ap
frontend web
    bind *:80
    default_backend app
backend app
    option httpchk
    http-check expect status 2xx
    server s1 10.0.0.1:80 weight 300 check rise 0
    server s1 nowhere.invalid:80 observe layer4
)"),
                         &resolver);
  EXPECT_THAT(
      errorsOf(result.diagnostics),
      ::testing::UnorderedElementsAre(
          errorAt(7, {"default_backend 'ap'", "did you mean 'app'?"}),
          errorAt(8, {"duplicate frontend name 'web'"}), errorAt(9, {"overlaps bind 0.0.0.0:80"}),
          errorAt(13, {"'2xx' is not an HTTP status list"}), errorAt(14, {"weight 300"}),
          errorAt(14, {"rise must be at least 1"}), errorAt(15, {"duplicate server name 's1'"}),
          errorAt(15, {"cannot resolve 'nowhere.invalid'"}),
          errorAt(15, {"'observe' needs 'check'"})))
      << result.diagnostics.format();
  EXPECT_EQ(result.diagnostics.errorCount(), 9);
}

TEST(ValidatorTest, WarningsForWhatIsValidButLikelyWrong) {
  auto result = loadText(withDefaults(R"(frontend quiet
    default_backend app
backend app
    http-check expect status 200
    tcp-check send PING
    server s1 10.0.0.1:80 maxqueue 10
backend empty
)"));
  EXPECT_TRUE(result.ok()) << result.diagnostics.format();
  EXPECT_THAT(
      warningsOf(result.diagnostics),
      ::testing::UnorderedElementsAre(
          warningAt(5, {"frontend 'quiet' has no 'bind' line"}),
          warningAt(7,
                    {"http-check rules of backend 'app' have no effect without 'option httpchk'"}),
          warningAt(7,
                    {"tcp-check rules of backend 'app' have no effect without 'option tcp-check'"}),
          warningAt(10, {"'maxqueue' has no effect without 'maxconn'"}),
          warningAt(11, {"backend 'empty' has no server"})));
}

TEST(ValidatorTest, NoResolverMeansNoLookups) {
  auto result = loadText(withDefaults("frontend web\n    bind *:80\n    default_backend app\n"
                                      "backend app\n    server s1 nowhere.invalid:80\n"),
                         nullptr);
  EXPECT_TRUE(result.ok()) << result.diagnostics.format();
}

// ---------------------------------------------------------------------------------------------
// A Config that arrived as a proto (gRPC ApplyConfig): errors carry field paths.

constexpr const char* kValidConfig = R"(
  frontends { name: "web" binds { address: "0.0.0.0" port: 80 } default_backend: "app"
              timeouts { client { seconds: 30 } } }
  backends { name: "app" timeouts { connect { seconds: 5 } server { seconds: 30 } }
             servers { name: "s0" address: "10.0.0.1" port: 80 }
             servers { name: "s1" address: "10.0.0.2" port: 80 } })";

TEST(CheckTest, AValidConfigHasNoDiagnosticsAndIsNormalized) {
  lb::v1::Config config = configFromText(kValidConfig);
  FakeResolver resolver;
  Diagnostics diagnostics = check(config, LoadOptions{&resolver, fakeEnv()});
  EXPECT_THAT(diagnostics.all(), IsEmpty()) << diagnostics.format();
  const auto& server = config.backends(0).servers(1);
  EXPECT_EQ(server.weight(), kDefaultWeight);
  EXPECT_EQ(server.rise(), kDefaultRise);
  EXPECT_EQ(server.fall(), kDefaultFall);
  EXPECT_EQ(server.inter().seconds(), 2);
  EXPECT_EQ(config.backends(0).balance().algorithm(), lb::v1::Balance::ROUNDROBIN);
  EXPECT_EQ(config.frontends(0).mode(), lb::v1::MODE_TCP);
}

struct ProtoCase {
  std::string name;
  std::function<void(lb::v1::Config&)> mutate;
  std::string path;
  std::vector<std::string> words;
};

void PrintTo(const ProtoCase& c, std::ostream* os) {
  *os << c.name;
}

class ProtoCheckTest : public ::testing::TestWithParam<ProtoCase> {};

TEST_P(ProtoCheckTest, ReportsTheFieldPath) {
  const auto& c = GetParam();
  lb::v1::Config config = configFromText(kValidConfig);
  c.mutate(config);
  FakeResolver resolver;
  Diagnostics diagnostics = check(config, LoadOptions{&resolver, fakeEnv()});
  std::vector<::testing::Matcher<const Diagnostic&>> all{IsError(), AtPath(c.path)};
  for (const auto& word : c.words) all.push_back(MessageHas(word));
  EXPECT_THAT(errorsOf(diagnostics), ElementsAre(::testing::AllOfArray(all)))
      << diagnostics.format();
  for (const auto& d : diagnostics.all()) {
    EXPECT_FALSE(d.where.has_value());
    EXPECT_THAT(d.toString(), StartsWith(d.path + ": "));
  }
}

lb::v1::Server& server(lb::v1::Config& c, int i) {
  return *c.mutable_backends(0)->mutable_servers(i);
}
lb::v1::HealthCheck& healthCheck(lb::v1::Config& c) {
  return *c.mutable_backends(0)->mutable_health_check();
}
lb::v1::TcpCheckRule& tcpRule(lb::v1::Config& c) {
  healthCheck(c).set_type(lb::v1::HealthCheck::TCP_CHECK);
  return *healthCheck(c).add_tcp_check();
}
lb::v1::Config& addSecondFrontend(lb::v1::Config& c) {
  *c.add_frontends() = c.frontends(0);
  c.mutable_frontends(1)->set_name("other");
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Paths, ProtoCheckTest,
    ::testing::Values(
        ProtoCase{"Weight", [](auto& c) { server(c, 1).set_weight(300); },
                  "backends[0].servers[1].weight", {"server app/s1", "weight 300"}},
        ProtoCase{"Rise", [](auto& c) { server(c, 0).set_rise(0); }, "backends[0].servers[0].rise",
                  {"rise must be at least 1"}},
        ProtoCase{"Fall", [](auto& c) { server(c, 1).set_fall(0); }, "backends[0].servers[1].fall",
                  {"fall must be at least 1"}},
        ProtoCase{"ServerPort", [](auto& c) { server(c, 1).set_port(70000); },
                  "backends[0].servers[1].port", {"port must be from 0 to 65535"}},
        ProtoCase{"ServerAddress", [](auto& c) { server(c, 0).clear_address(); },
                  "backends[0].servers[0].address", {"server app/s0 has no address"}},
        ProtoCase{"ServerAddressUnresolvable", [](auto& c) { server(c, 1).set_address("x.invalid"); },
                  "backends[0].servers[1].address", {"cannot resolve 'x.invalid'"}},
        ProtoCase{"ServerName", [](auto& c) { server(c, 0).set_name("s 0"); },
                  "backends[0].servers[0].name", {"invalid server name 's 0'"}},
        ProtoCase{"ServerNameDuplicate", [](auto& c) { server(c, 1).set_name("s0"); },
                  "backends[0].servers[1].name", {"duplicate server name 's0'"}},
        ProtoCase{"CheckPort", [](auto& c) { server(c, 0).set_check_port(0); },
                  "backends[0].servers[0].check_port", {"check port must be from 1 to 65535"}},
        ProtoCase{"Inter", [](auto& c) { server(c, 0).mutable_inter()->set_seconds(0); },
                  "backends[0].servers[0].inter", {"inter of server app/s0 must be greater than 0"}},
        ProtoCase{"Fastinter", [](auto& c) { server(c, 1).mutable_fastinter()->set_nanos(0); },
                  "backends[0].servers[1].fastinter", {"fastinter"}},
        ProtoCase{"Downinter", [](auto& c) { server(c, 1).mutable_downinter()->set_seconds(-1); },
                  "backends[0].servers[1].downinter", {"downinter"}},
        ProtoCase{"Observe",
                  [](auto& c) { server(c, 1).set_observe(lb::v1::Server::LAYER4); },
                  "backends[0].servers[1].observe", {"'observe' needs 'check'"}},
        ProtoCase{"ErrorLimit", [](auto& c) { server(c, 0).set_error_limit(0); },
                  "backends[0].servers[0].error_limit", {"error-limit must be >= 1"}},
        ProtoCase{"ServerWithoutPortChecked",
                  [](auto& c) {
                    server(c, 0).set_port(0);
                    server(c, 0).set_check(true);
                  },
                  "backends[0].servers[0].port", {"has no port"}},
        ProtoCase{"DefaultBackend", [](auto& c) { c.mutable_frontends(0)->set_default_backend("ap"); },
                  "frontends[0].default_backend", {"'ap'", "did you mean 'app'?"}},
        ProtoCase{"NoDefaultBackend", [](auto& c) { c.mutable_frontends(0)->clear_default_backend(); },
                  "frontends[0].default_backend", {"has no default_backend"}},
        ProtoCase{"FrontendMode", [](auto& c) { c.mutable_frontends(0)->set_mode(lb::v1::MODE_HTTP); },
                  "frontends[0].mode", {"frontend 'web' is in HTTP mode"}},
        ProtoCase{"BackendMode", [](auto& c) { c.mutable_backends(0)->set_mode(lb::v1::MODE_HTTP); },
                  "backends[0].mode", {"backend 'app' is in HTTP mode"}},
        ProtoCase{"FrontendNameDuplicate",
                  [](auto& c) {
                    addSecondFrontend(c).mutable_frontends(1)->set_name("web");
                    c.mutable_frontends(1)->mutable_binds(0)->set_port(81);
                  },
                  "frontends[1].name", {"duplicate frontend name 'web'"}},
        ProtoCase{"FrontendName", [](auto& c) { c.mutable_frontends(0)->set_name(""); },
                  "frontends[0].name", {"invalid frontend name ''"}},
        ProtoCase{"BackendName",
                  [](auto& c) {
                    c.mutable_backends(0)->set_name("app/x");
                    c.mutable_frontends(0)->set_default_backend("app/x");
                  },
                  "backends[0].name", {"invalid backend name 'app/x'"}},
        ProtoCase{"BindConflict", [](auto& c) { addSecondFrontend(c); }, "frontends[1].binds[0]",
                  {"overlaps bind 0.0.0.0:80"}},
        ProtoCase{"BindPort", [](auto& c) { c.mutable_frontends(0)->mutable_binds(0)->set_port(65536); },
                  "frontends[0].binds[0].port", {"bind port must be from 0 to 65535"}},
        ProtoCase{"BindAddress",
                  [](auto& c) { c.mutable_frontends(0)->mutable_binds(0)->clear_address(); },
                  "frontends[0].binds[0].address", {"frontend 'web' bind has no address"}},
        ProtoCase{"BindV4v6AndV6only",
                  [](auto& c) {
                    auto* bind = c.mutable_frontends(0)->mutable_binds(0);
                    bind->set_v4v6(true);
                    bind->set_v6only(true);
                  },
                  "frontends[0].binds[0]", {"'v4v6' and 'v6only' contradict"}},
        ProtoCase{"Nbthread", [](auto& c) { c.mutable_global()->set_nbthread(0); }, "global.nbthread",
                  {"nbthread must be from 1 to 1024"}},
        ProtoCase{"Bufsize", [](auto& c) { c.mutable_global()->set_bufsize(100); }, "global.bufsize",
                  {"tune.bufsize"}},
        ProtoCase{"SpreadChecks", [](auto& c) { c.mutable_global()->set_spread_checks(51); },
                  "global.spread_checks", {"0 to 50"}},
        ProtoCase{"GlobalMaxconn", [](auto& c) { c.mutable_global()->set_maxconn(0); }, "global.maxconn",
                  {"global maxconn must be >= 1"}},
        ProtoCase{"Retries", [](auto& c) { c.mutable_backends(0)->set_retries(101); },
                  "backends[0].retries", {"retries must be from 0 to 100"}},
        ProtoCase{"RandomDraws",
                  [](auto& c) {
                    auto* balance = c.mutable_backends(0)->mutable_balance();
                    balance->set_algorithm(lb::v1::Balance::RANDOM);
                    balance->set_random_draws(0);
                  },
                  "backends[0].balance.random_draws", {"random(N)"}},
        ProtoCase{"TimeoutCheck",
                  [](auto& c) { c.mutable_backends(0)->mutable_timeouts()->mutable_check(); },
                  "backends[0].timeouts.check", {"timeout check must be greater than 0"}},
        ProtoCase{"HttpMethod",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    healthCheck(c).mutable_http()->set_method("GE T");
                  },
                  "backends[0].health_check.http.method", {"invalid HTTP method 'GE T'"}},
        ProtoCase{"HttpUri",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    healthCheck(c).mutable_http()->set_uri("/a b");
                  },
                  "backends[0].health_check.http.uri", {"check URI '/a b'"}},
        ProtoCase{"HttpVersion",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    healthCheck(c).mutable_http()->set_version("HTTP/2.0");
                  },
                  "backends[0].health_check.http.version", {"'HTTP/2.0'"}},
        ProtoCase{"HttpHeader",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    auto* header = healthCheck(c).mutable_http()->add_headers();
                    header->set_name("Host");
                    header->set_value("a\r\nX-Injected: 1");
                  },
                  "backends[0].health_check.http.headers[0]", {"invalid check header 'Host'"}},
        ProtoCase{"HttpExpectStatus",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    auto* expect = healthCheck(c).mutable_http()->add_expect();
                    expect->set_match(lb::v1::Expect::STATUS);
                    expect->set_pattern("2xx");
                  },
                  "backends[0].health_check.http.expect[0].pattern", {"'2xx'"}},
        ProtoCase{"HttpExpectRegex",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    auto* expect = healthCheck(c).mutable_http()->add_expect();
                    expect->set_match(lb::v1::Expect::RSTRING);
                    expect->set_pattern("(");
                  },
                  "backends[0].health_check.http.expect[0].pattern", {"invalid regular expression"}},
        ProtoCase{"HttpExpectBinary",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    auto* expect = healthCheck(c).mutable_http()->add_expect();
                    expect->set_match(lb::v1::Expect::BINARY);
                    expect->set_pattern("00");
                  },
                  "backends[0].health_check.http.expect[0].match", {"'binary' applies to tcp-check only"}},
        ProtoCase{"HttpExpectNoMatch",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    healthCheck(c).mutable_http()->add_expect()->set_pattern("200");
                  },
                  "backends[0].health_check.http.expect[0].match", {"has no match type"}},
        ProtoCase{"HttpExpectEmptyString",
                  [](auto& c) {
                    healthCheck(c).set_type(lb::v1::HealthCheck::HTTP);
                    healthCheck(c).mutable_http()->add_expect()->set_match(lb::v1::Expect::STRING);
                  },
                  "backends[0].health_check.http.expect[0].pattern", {"empty expect string"}},
        ProtoCase{"TcpRuleEmpty", [](auto& c) { tcpRule(c); }, "backends[0].health_check.tcp_check[0]",
                  {"empty tcp-check rule"}},
        ProtoCase{"TcpRuleStatus",
                  [](auto& c) {
                    auto* expect = tcpRule(c).mutable_expect();
                    expect->set_match(lb::v1::Expect::STATUS);
                    expect->set_pattern("200");
                  },
                  "backends[0].health_check.tcp_check[0].expect.match",
                  {"'status' applies to http-check only"}},
        ProtoCase{"TcpRuleRstatus",
                  [](auto& c) {
                    auto* expect = tcpRule(c).mutable_expect();
                    expect->set_match(lb::v1::Expect::RSTATUS);
                    expect->set_pattern("^2");
                  },
                  "backends[0].health_check.tcp_check[0].expect.match",
                  {"'rstatus' applies to http-check only"}},
        ProtoCase{"TcpRuleBinary",
                  [](auto& c) {
                    auto* expect = tcpRule(c).mutable_expect();
                    expect->set_match(lb::v1::Expect::BINARY);
                    expect->set_pattern("zz");
                  },
                  "backends[0].health_check.tcp_check[0].expect.pattern", {"hexadecimal"}},
        ProtoCase{"TcpRuleConnectPort",
                  [](auto& c) { tcpRule(c).mutable_connect()->set_port(70000); },
                  "backends[0].health_check.tcp_check[0].connect.port", {"from 1 to 65535"}},
        ProtoCase{"TcpRuleSendBinary", [](auto& c) { tcpRule(c).set_send_binary("abc"); },
                  "backends[0].health_check.tcp_check[0].send_binary", {"even number of hex digits"}}),
    [](const ::testing::TestParamInfo<ProtoCase>& info) { return info.param.name; });

TEST(CheckTest, ReportsEveryProblemWithItsPath) {
  lb::v1::Config config = configFromText(kValidConfig);
  config.mutable_backends(0)->mutable_servers(1)->set_weight(300);
  config.mutable_backends(0)->mutable_servers(0)->set_rise(0);
  config.mutable_frontends(0)->set_default_backend("nope");
  Diagnostics diagnostics = check(config, LoadOptions{nullptr, fakeEnv()});
  EXPECT_THAT(diagnostics.all(),
              ::testing::UnorderedElementsAre(AtPath("backends[0].servers[1].weight"),
                                              AtPath("backends[0].servers[0].rise"),
                                              AtPath("frontends[0].default_backend")));
  EXPECT_THAT(
      diagnostics.format(),
      ::testing::HasSubstr("backends[0].servers[1].weight: error: server app/s1: weight 300"));
}

TEST(CheckTest, WarningsCarryPathsToo) {
  lb::v1::Config config = configFromText(kValidConfig);
  config.mutable_backends(0)->clear_timeouts();
  Diagnostics diagnostics = check(config, LoadOptions{nullptr, fakeEnv()});
  EXPECT_THAT(diagnostics.all(),
              ElementsAre(AllOf(IsWarning(), AtPath("backends[0]"),
                                MessageHas("missing timeouts for backend 'app'"))));
}

}  // namespace
}  // namespace lb::config
