#include "agent/config/structured_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// One configuration, three spellings: they load to the same lb.v1.Config.

constexpr const char* kHaproxyText = R"(frontend web
    bind *:80
    bind [::1]:8080 v6only
    timeout client 30s
    default_backend app

backend app
    balance leastconn
    timeout connect 5s
    timeout server 30s
    timeout check 1500ms
    option httpchk GET /health HTTP/1.1
    http-check expect status 200-299
    http-check expect ! string maintenance
    server a1 10.0.0.11:8080 check inter 4s rise 3 fall 2 observe layer4 error-limit 5 on-error mark-down weight 20
    server a2 10.0.0.12:8080 check inter 500ms backup
)";

constexpr const char* kYamlText = R"(# The same configuration as YAML.
frontends:
  - name: web
    binds:
      - address: 0.0.0.0
        port: 80
      - { address: "::1", port: 8080, v6only: true }
    timeouts: { client: 30s }
    default_backend: app
backends:
  - name: app
    balance: { algorithm: leastconn }
    timeouts:
      connect: 5s
      server: 30s
      check: 1.5s          # the proto's own spelling of a duration
    health_check:
      type: http
      http:
        method: GET
        uri: /health
        version: HTTP/1.1
        expect:
          - { match: status, pattern: 200-299 }
          - { negate: true, match: string, pattern: maintenance }
    servers:
      - name: a1
        address: 10.0.0.11
        port: 8080
        check: true
        inter: 4s
        rise: 3
        fall: 2
        observe: layer4
        error_limit: 5
        on_error: mark-down
        weight: 20
      - { name: a2, address: 10.0.0.12, port: 8080, check: true, inter: 500ms, backup: true }
)";

// JSON, with some fields in protobuf's lowerCamelCase and enums in their proto spelling.
constexpr const char* kJsonText = R"({
  "frontends": [{
    "name": "web",
    "binds": [{"address": "0.0.0.0", "port": 80},
              {"address": "::1", "port": 8080, "v6only": true}],
    "timeouts": {"client": "30s"},
    "defaultBackend": "app"
  }],
  "backends": [{
    "name": "app",
    "balance": {"algorithm": "LEASTCONN"},
    "timeouts": {"connect": "5s", "server": 30000, "check": "1500ms"},
    "healthCheck": {
      "type": "HTTP",
      "http": {"method": "GET", "uri": "/health", "version": "HTTP/1.1",
               "expect": [{"match": "STATUS", "pattern": "200-299"},
                          {"negate": true, "match": "STRING", "pattern": "maintenance"}]}
    },
    "servers": [
      {"name": "a1", "address": "10.0.0.11", "port": 8080, "check": true, "inter": "4s",
       "rise": 3, "fall": 2, "observe": "LAYER4", "errorLimit": 5, "onError": "MARK_DOWN",
       "weight": 20},
      {"name": "a2", "address": "10.0.0.12", "port": 8080, "check": true, "inter": "500ms",
       "backup": true}
    ]
  }]
}
)";

LoadResult loadAs(const std::string& name, const std::string& text) {
  LoadOptions options;
  options.env = fakeEnv();
  FakeResolver resolver;
  options.resolver = &resolver;
  return load({Source{name, text, Format::kAuto}}, options);
}

TEST(FormatEquivalenceTest, HaproxyYamlAndJsonLoadTheSameConfig) {
  auto haproxy = loadAs("lb.cfg", kHaproxyText);
  auto yaml = loadAs("lb.yaml", kYamlText);
  auto json = loadAs("lb.json", kJsonText);
  for (const auto* result : {&haproxy, &yaml, &json}) {
    EXPECT_TRUE(result->ok()) << result->diagnostics.format();
    EXPECT_THAT(result->diagnostics.all(), IsEmpty()) << result->diagnostics.format();
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(haproxy.config, yaml.config));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(haproxy.config, json.config));
  EXPECT_TRUE(sameMessage(haproxy.config, yaml.config));
  EXPECT_TRUE(sameMessage(haproxy.config, json.config));
  // And it is the configuration intended, not three equal mistakes.
  ASSERT_EQ(haproxy.config.backends_size(), 1);
  const auto& app = haproxy.config.backends(0);
  EXPECT_EQ(app.balance().algorithm(), lb::v1::Balance::LEASTCONN);
  EXPECT_EQ(app.timeouts().check().nanos(), 500000000);
  ASSERT_EQ(app.servers_size(), 2);
  EXPECT_EQ(app.servers(0).on_error(), lb::v1::Server::MARK_DOWN);
  EXPECT_EQ(app.servers(1).inter().nanos(), 500000000);
  EXPECT_TRUE(app.servers(1).backup());
}

TEST(FormatEquivalenceTest, FormatIsDetectedFromContentWithoutAnExtension) {
  auto yaml = loadAs("config", kYamlText);
  auto json = loadAs("config", kJsonText);
  auto haproxy = loadAs("config", kHaproxyText);
  EXPECT_TRUE(yaml.ok()) << yaml.diagnostics.format();
  EXPECT_TRUE(json.ok()) << json.diagnostics.format();
  EXPECT_TRUE(sameMessage(haproxy.config, yaml.config));
  EXPECT_TRUE(sameMessage(haproxy.config, json.config));
}

// ---------------------------------------------------------------------------------------------

struct DetectCase {
  std::string path;
  std::string text;
  Format format;
};

void PrintTo(const DetectCase& c, std::ostream* os) {
  *os << c.path << ": " << ::testing::PrintToString(c.text);
}

class DetectFormatTest : public ::testing::TestWithParam<DetectCase> {};

TEST_P(DetectFormatTest, ByExtensionThenByContent) {
  const auto& c = GetParam();
  EXPECT_EQ(detectFormat(c.path, c.text), c.format) << c.path << ": " << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DetectFormatTest,
    ::testing::Values(
        // The extension wins over the content.
        DetectCase{"lb.yaml", "global\n    maxconn 10\n", Format::kYaml},
        DetectCase{"/etc/lb/lb.yml", "", Format::kYaml},
        DetectCase{"lb.json", "frontend web\n", Format::kJson},
        // Otherwise the content decides.
        DetectCase{"lb.cfg", "{\"frontends\": []}", Format::kJson},
        DetectCase{"config", " \n\t{ }", Format::kJson},
        DetectCase{"haproxy.cfg", "global\n    maxconn 10\n", Format::kHaproxy},
        DetectCase{"config", "# lb\n\n  frontend web\n    bind *:80\n", Format::kHaproxy},
        DetectCase{"config", "defaults\n", Format::kHaproxy},
        DetectCase{"config", "listen l\n", Format::kHaproxy},
        DetectCase{"config", "# a comment: with a colon\nbackend b\n", Format::kHaproxy},
        DetectCase{"config", "# lb\nfrontends:\n  - name: web\n", Format::kYaml},
        DetectCase{"config", "global:\n  maxconn: 10\n", Format::kYaml},
        DetectCase{"config", "---\nglobal: {maxconn: 10}\n", Format::kYaml},
        DetectCase{"config", "", Format::kHaproxy}));

// ---------------------------------------------------------------------------------------------
// Values: enums in HAProxy's spelling, durations as HAProxy times or protobuf's.

struct ValueCase {
  std::string name;
  std::string yaml;
  std::string expected;  // lb.v1.Config, text format, as loaded (before normalize)
};

void PrintTo(const ValueCase& c, std::ostream* os) {
  *os << c.name;
}

class StructuredValueTest : public ::testing::TestWithParam<ValueCase> {};

TEST_P(StructuredValueTest, Reads) {
  const auto& c = GetParam();
  lb::v1::Config config;
  SourceMap sources;
  Diagnostics diagnostics;
  EXPECT_TRUE(loadStructured(c.yaml, "lb.yaml", config, sources, diagnostics))
      << diagnostics.format();
  EXPECT_THAT(errorsOf(diagnostics), IsEmpty()) << diagnostics.format();
  EXPECT_TRUE(sameMessage(configFromText(c.expected), config)) << c.yaml;
}

ValueCase algorithm(std::string name, const std::string& value, const std::string& expected) {
  return {std::move(name), "backends: [{ name: b, balance: { algorithm: " + value + " } }]",
          R"(backends { name: "b" balance { algorithm: )" + expected + " } }"};
}

ValueCase duration(std::string name, const std::string& value, const std::string& expected) {
  return {std::move(name), "backends: [{ name: b, timeouts: { connect: " + value + " } }]",
          R"(backends { name: "b" timeouts { connect { )" + expected + " } } }"};
}

ValueCase serverField(std::string name, const std::string& field, const std::string& expected) {
  return {std::move(name), "backends: [{ name: b, servers: [{ name: s, " + field + " }] }]",
          R"(backends { name: "b" servers { name: "s" )" + expected + " } }"};
}

INSTANTIATE_TEST_SUITE_P(
    Enums, StructuredValueTest,
    ::testing::Values(
        algorithm("Roundrobin", "roundrobin", "ROUNDROBIN"),
        algorithm("StaticRr", "static-rr", "STATIC_RR"),
        algorithm("StaticRrUnderscore", "static_rr", "STATIC_RR"),
        algorithm("Leastconn", "leastconn", "LEASTCONN"), algorithm("First", "first", "FIRST"),
        algorithm("Source", "source", "SOURCE"), algorithm("Random", "random", "RANDOM"),
        algorithm("UpperCase", "LEASTCONN", "LEASTCONN"),
        algorithm("MixedCase", "Static-RR", "STATIC_RR"),
        ValueCase{"ModeTcp", "frontends: [{ name: f, mode: tcp }]",
                  R"(frontends { name: "f" mode: MODE_TCP })"},
        ValueCase{"ModeProtoName", "frontends: [{ name: f, mode: MODE_TCP }]",
                  R"(frontends { name: "f" mode: MODE_TCP })"},
        ValueCase{"ModeHttp", "backends: [{ name: b, mode: http }]",
                  R"(backends { name: "b" mode: MODE_HTTP })"},
        ValueCase{"CheckTypeTcpCheck", "backends: [{ name: b, health_check: { type: tcp-check } }]",
                  R"(backends { name: "b" health_check { type: TCP_CHECK } })"},
        ValueCase{"ExpectMatch",
                  "backends: [{ name: b, health_check: { tcp_check: [{ expect: { match: rstring, "
                  "pattern: '^OK' } }, { send: PING }] } }]",
                  R"(backends { name: "b" health_check {
                      tcp_check { expect { match: RSTRING pattern: "^OK" } }
                      tcp_check { send: "PING" } } })"},
        serverField("OnErrorSuddenDeath", "on_error: sudden-death", "on_error: SUDDEN_DEATH"),
        serverField("OnErrorFailCheck", "on_error: fail-check", "on_error: FAIL_CHECK"),
        serverField("ObserveLayer7", "observe: layer7", "observe: LAYER7"),
        serverField("SendProxyV2", "send_proxy: v2", "send_proxy: V2"),
        serverField("OnMarkedDown", "on_marked_down: shutdown-sessions",
                    "on_marked_down: SHUTDOWN_SESSIONS")),
    [](const ::testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Durations, StructuredValueTest,
    ::testing::Values(duration("Seconds", "4s", "seconds: 4"),
                      duration("Milliseconds", "500ms", "nanos: 500000000"),
                      duration("Microseconds", "10us", "nanos: 10000"),
                      duration("Minutes", "1m", "seconds: 60"),
                      duration("Days", "2d", "seconds: 172800"),
                      duration("ProtoFraction", "1.5s", "seconds: 1 nanos: 500000000"),
                      duration("ProtoFractionQuoted", "'0.25s'", "nanos: 250000000"),
                      duration("ProtoNanos", "0.000000001s", "nanos: 1"),
                      duration("BareNumberIsMilliseconds", "2000", "seconds: 2"),
                      duration("Zero", "0", ""),
                      serverField("ServerInter", "inter: 4s", "inter { seconds: 4 }"),
                      serverField("ServerSlowstart", "slowstart: 1m", "slowstart { seconds: 60 }"),
                      ValueCase{"GlobalHardStopAfter", "global: { hard_stop_after: 30s }",
                                "global { hard_stop_after { seconds: 30 } }"}),
    [](const ::testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Fields, StructuredValueTest,
    ::testing::Values(
        ValueCase{
            "CamelCaseNames",
            "frontends: [{ name: f, defaultBackend: b, timeouts: { clientFin: 1s } }]",
            R"(frontends { name: "f" default_backend: "b" timeouts { client_fin { seconds: 1 } } })"},
        ValueCase{"NullIsUnset", "frontends: [{ name: f, default_backend: ~, maxconn: null }]",
                  R"(frontends { name: "f" })"},
        ValueCase{"EmptyDocument", "", ""}, ValueCase{"OnlyAComment", "# nothing yet\n", ""},
        ValueCase{"OptionalZeroIsSet", "global: { spread_checks: 0 }",
                  "global { spread_checks: 0 }"},
        ValueCase{"QuotedNumber", "global: { maxconn: '100' }", "global { maxconn: 100 }"},
        ValueCase{"Uint32Max", "global: { maxconn: 4294967295 }", "global { maxconn: 4294967295 }"},
        ValueCase{"StringsStayStrings",
                  "backends: [{ name: '007', description: 'yes', servers: [{ name: 'true', "
                  "address: '10.0.0.1' }] }]",
                  R"(backends { name: "007" description: "yes"
                                servers { name: "true" address: "10.0.0.1" } })"}),
    [](const ::testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Mistakes: reported with the field path, the line, and what to write instead.

struct StructuredErrorCase {
  std::string name;
  std::string text;
  int line;
  std::vector<std::string> words;
};

void PrintTo(const StructuredErrorCase& c, std::ostream* os) {
  *os << c.name;
}

class StructuredErrorTest : public ::testing::TestWithParam<StructuredErrorCase> {};

TEST_P(StructuredErrorTest, ReportsPathLineAndFix) {
  const auto& c = GetParam();
  lb::v1::Config config;
  config.add_backends()->set_name("kept");
  lb::v1::Config before = config;
  SourceMap sources;
  Diagnostics diagnostics;
  EXPECT_FALSE(loadStructured(c.text, "lb.yaml", config, sources, diagnostics));
  EXPECT_THAT(errorsOf(diagnostics),
              ElementsAre(AllOf(InFile("lb.yaml"), errorAt(c.line, c.words))))
      << c.text;
  // A document with errors adds nothing.
  EXPECT_TRUE(sameMessage(before, config));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StructuredErrorTest,
    ::testing::Values(
        StructuredErrorCase{"UnknownField",
                            "frontends:\n  - name: web\n    defualt_backend: app\n",
                            3,
                            {"frontends[0].defualt_backend: unknown field 'defualt_backend' in "
                             "Frontend; did you mean 'default_backend'?"}},
        StructuredErrorCase{
            "UnknownTopLevelField",
            "# lb\nfrontend:\n  - name: web\n",
            2,
            {"frontend: unknown field 'frontend' in Config", "did you mean 'frontends'?"}},
        StructuredErrorCase{"UnknownServerField",
                            "backends:\n  - name: app\n    servers:\n      - name: s1\n        "
                            "adress: 10.0.0.1\n",
                            5,
                            {"backends[0].servers[0].adress", "did you mean 'address'?"}},
        StructuredErrorCase{
            "PortNotANumber",
            "frontends:\n  - name: web\n    binds:\n      - address: 0.0.0.0\n"
            "        port: abc\n",
            5,
            {"frontends[0].binds[0].port: expected a whole number >= 0, not 'abc'"}},
        StructuredErrorCase{
            "NegativeNumber", "global:\n  maxconn: -1\n", 2, {"global.maxconn", "not '-1'"}},
        StructuredErrorCase{"NumberTooLarge",
                            "global:\n  maxconn: 4294967296\n",
                            2,
                            {"global.maxconn", "not '4294967296'"}},
        StructuredErrorCase{
            "FractionalNumber", "global:\n  nbthread: 1.5\n", 2, {"global.nbthread"}},
        StructuredErrorCase{
            "BoolNotTrueOrFalse",
            "backends:\n  - name: b\n    servers:\n      - { name: s, check: yes }\n",
            4,
            {"backends[0].servers[0].check: expected true or false, not 'yes'"}},
        StructuredErrorCase{"UnknownEnumValue",
                            "backends:\n  - name: b\n    balance:\n      algorithm: leastconns\n",
                            4,
                            {"backends[0].balance.algorithm: unknown value 'leastconns'",
                             "ROUNDROBIN, STATIC_RR, LEASTCONN", "did you mean 'LEASTCONN'?"}},
        StructuredErrorCase{"UnspecifiedEnumValueIsNotAValue",
                            "frontends:\n  - name: f\n    mode: MODE_UNSPECIFIED\n",
                            3,
                            {"unknown value 'MODE_UNSPECIFIED'"}},
        StructuredErrorCase{
            "ListExpected", "frontends:\n  name: web\n", 2, {"frontends: expected a list"}},
        StructuredErrorCase{
            "MappingExpected", "global: 5\n", 1, {"global: expected a mapping of Global fields"}},
        StructuredErrorCase{
            "TopLevelNotAMapping", "- a\n- b\n", 1, {"expected a mapping of Config fields"}},
        StructuredErrorCase{"ScalarExpected",
                            "frontends:\n  - name: [a, b]\n",
                            2,
                            {"frontends[0].name: expected a single value"}},
        StructuredErrorCase{"BadDurationUnit",
                            "backends:\n  - name: b\n    timeouts:\n      connect: 4x\n",
                            4,
                            {"backends[0].timeouts.connect", "unknown time unit 'x'"}},
        StructuredErrorCase{"BadProtoDuration",
                            "backends:\n  - name: b\n    timeouts:\n      connect: 1.5ms\n",
                            4,
                            {"backends[0].timeouts.connect", "unknown time unit"}},
        StructuredErrorCase{"DurationTooLarge",
                            "backends:\n  - name: b\n    timeouts:\n      server: 60d\n",
                            4,
                            {"backends[0].timeouts.server", "too large"}},
        StructuredErrorCase{"OneofTwice",
                            "backends:\n  - name: b\n    health_check:\n      tcp_check:\n"
                            "        - send: PING\n          comment: ping\n",
                            6,
                            {"'comment' and 'send' cannot both be set"}},
        StructuredErrorCase{
            "BadYaml", "frontends:\n  - name: web\n    binds: [\n", 4, {"not valid YAML/JSON"}},
        StructuredErrorCase{"BadJson",
                            "{\"frontends\": [\n  {\"name\": \"web\"}\n  {\"name\": \"x\"}\n]}\n",
                            3,
                            {"not valid YAML/JSON"}},
        StructuredErrorCase{"UnterminatedJson",
                            "{\"frontends\": [{\"name\": \"web\"}\n",
                            2,
                            {"not valid YAML/JSON", "end of sequence flow not found"}}),
    [](const ::testing::TestParamInfo<StructuredErrorCase>& info) { return info.param.name; });

TEST(StructuredMistakesTest, EveryMistakeIsReported) {
  lb::v1::Config config;
  SourceMap sources;
  Diagnostics diagnostics;
  EXPECT_FALSE(
      loadStructured("frontends:\n"
                     "  - name: web\n"
                     "    bind: []\n"
                     "    maxconn: lots\n"
                     "backends:\n"
                     "  - name: app\n"
                     "    balance: { algorithm: leastcon }\n",
                     "lb.yaml", config, sources, diagnostics));
  EXPECT_THAT(diagnostics.all(),
              ElementsAre(errorAt(3, {"unknown field 'bind'", "did you mean 'binds'?"}),
                          errorAt(4, {"frontends[0].maxconn", "'lots'"}),
                          errorAt(7, {"unknown value 'leastcon'", "did you mean 'LEASTCONN'?"})));
}

TEST(StructuredMistakesTest, ARootThatIsNotAMappingHasNoEmptyPath) {
  lb::v1::Config config;
  SourceMap sources;
  Diagnostics diagnostics;
  EXPECT_FALSE(loadStructured("[1, 2]\n", "lb.yaml", config, sources, diagnostics));
  ASSERT_EQ(diagnostics.all().size(), 1u);
  EXPECT_EQ(diagnostics.all()[0].message, "expected a mapping of Config fields");
}

TEST(StructuredWarningTest, UnitlessSmallDurationIsWarned) {
  auto result = loadAs("lb.yaml",
                       "backends:\n  - name: b\n    servers:\n      - name: s\n        inter: 4\n");
  EXPECT_THAT(
      result.diagnostics.all(),
      Contains(warningAt(5, {"backends[0].servers[0].inter", "'4' is 4 ms", "write '4s'"})));
  ASSERT_EQ(result.config.backends_size(), 1);
  EXPECT_EQ(result.config.backends(0).servers(0).inter().nanos(), 4000000);
}

// ---------------------------------------------------------------------------------------------
// The validator's findings in YAML/JSON carry the file:line the field was written on.

TEST(StructuredLocationTest, ValidatorErrorsPointAtTheYamlLine) {
  auto result = loadAs("lb.yaml", R"(frontends:
  - name: web
    binds: [{ address: 0.0.0.0, port: 80 }]
    timeouts: { client: 30s }
    default_backend: web-app
backends:
  - name: web_app
    timeouts: { connect: 5s, server: 30s }
    servers:
      - { name: s1, address: 10.0.0.1, port: 80 }
      - name: s2
        address: 10.0.0.2
        port: 80
        weight: 300
)");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AllOf(InFile("lb.yaml"), AtPath("frontends[0].default_backend"),
                                errorAt(5, {"'web-app'", "did you mean 'web_app'?"})),
                          AllOf(InFile("lb.yaml"), AtPath("backends[0].servers[1].weight"),
                                errorAt(14, {"weight 300"}))));
  EXPECT_THAT(result.diagnostics.format(),
              ::testing::HasSubstr("lb.yaml:14: error: server web_app/s2: weight 300"));
}

TEST(StructuredLocationTest, JsonLinesToo) {
  auto result = loadAs("lb.json",
                       "{\n  \"backends\": [\n    {\"name\": \"b\",\n"
                       "     \"retries\": 500}\n  ]\n}\n");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AllOf(AtPath("backends[0].retries"), errorAt(4, {"retries"}))));
}

TEST(StructuredMergeTest, YamlAfterHaproxyAppendsAndKeepsLines) {
  LoadOptions options;
  options.env = fakeEnv();
  auto result = load({Source{"a.cfg", R"(global
    maxconn 100
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80
)"},
                      Source{"b.yaml", R"(global: { nbthread: 2 }
frontends:
  - name: admin
    binds: [{ address: 127.0.0.1, port: 9000 }]
    timeouts: { client: 30s }
    default_backend: ap
)"}},
                     options);
  ASSERT_EQ(result.config.frontends_size(), 2);
  EXPECT_EQ(result.config.frontends(1).name(), "admin");
  EXPECT_EQ(result.config.global().maxconn(), 100u);
  EXPECT_EQ(result.config.global().nbthread(), 2u);
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AllOf(InFile("b.yaml"), AtPath("frontends[1].default_backend"),
                                errorAt(6, {"'ap'", "did you mean 'app'?"}))));
}

TEST(StructuredMergeTest, HaproxyAfterYamlKeepsItsLines) {
  LoadOptions options;
  options.env = fakeEnv();
  auto result = load({Source{"a.yaml", "backends:\n  - name: app\n    servers: []\n"},
                      Source{"b.cfg", "frontend web\n    bind *:80\n    default_backend ap\n"}},
                     options);
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(AllOf(InFile("b.cfg"), errorAt(3, {"did you mean 'app'?"}))));
}

}  // namespace
}  // namespace lb::config
