// The HAProxy-syntax parser across sections: defaults (named, `from`, reset by the next one),
// default-server and check-rule inheritance, listen, line numbers, several files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/haproxy_parser.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Sections and inheritance, as HAProxy does them.

TEST(DefaultsTest, ProxiesStartFromTheLastDefaultsSection) {
  auto out = parseHaproxy(R"(defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    option redispatch
    option dontlognull
frontend f1
    bind *:80
backend b1
    timeout connect 6s
defaults
    timeout connect 7s
frontend f2
    bind *:81
backend b2
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(R"(
    frontends { name: "f1" mode: MODE_TCP binds { address: "0.0.0.0" port: 80 }
                timeouts { client { seconds: 30 } } log { dontlognull: true } }
    frontends { name: "f2" binds { address: "0.0.0.0" port: 81 } }
    backends { name: "b1" mode: MODE_TCP timeouts { connect { seconds: 6 } } redispatch: true }
    backends { name: "b2" timeouts { connect { seconds: 7 } } })"),
                          out.config));
}

TEST(DefaultsTest, NamedDefaultsAndFrom) {
  auto out = parseHaproxy(R"(defaults tcp-base
    retries 5
    timeout connect 5s
defaults other
    retries 7
backend a from tcp-base
backend b
backend c from other
    retries 1
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  ASSERT_EQ(out.config.backends_size(), 3);
  EXPECT_EQ(out.config.backends(0).retries(), 5u);
  EXPECT_EQ(out.config.backends(0).timeouts().connect().seconds(), 5);
  // Without `from`, the last defaults section (named or not) applies.
  EXPECT_EQ(out.config.backends(1).retries(), 7u);
  EXPECT_FALSE(out.config.backends(1).timeouts().has_connect());
  EXPECT_EQ(out.config.backends(2).retries(), 1u);
}

TEST(DefaultsTest, DefaultsMayInheritFromNamedDefaults) {
  auto out = parseHaproxy(R"(defaults base
    timeout connect 5s
defaults derived from base
    retries 9
backend b from derived
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  ASSERT_EQ(out.config.backends_size(), 1);
  EXPECT_EQ(out.config.backends(0).retries(), 9u);
  EXPECT_EQ(out.config.backends(0).timeouts().connect().seconds(), 5);
}

TEST(DefaultsTest, FromAnUnknownDefaultsIsAnError) {
  auto out = parseHaproxy("defaults web\n    retries 4\nbackend b from wbe\n");
  EXPECT_THAT(out.diagnostics.all(),
              ElementsAre(errorAt(3, {"defaults section 'wbe' not found", "did you mean 'web'?"})));
}

TEST(DefaultsTest, DefaultServerValuesAreInheritedAndOverridden) {
  auto out = parseHaproxy(R"(defaults
    default-server inter 3s fall 2 check
backend b
    default-server rise 4
    server s1 10.0.0.1:80
    server s2 10.0.0.2:80 inter 1s fall 5 no-check
backend c
    server s3 10.0.0.3:80
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(R"(
    backends { name: "b"
      servers { name: "s1" address: "10.0.0.1" port: 80 check: true inter { seconds: 3 }
                rise: 4 fall: 2 }
      servers { name: "s2" address: "10.0.0.2" port: 80 inter { seconds: 1 } rise: 4 fall: 5 } }
    backends { name: "c"
      servers { name: "s3" address: "10.0.0.3" port: 80 check: true inter { seconds: 3 } fall: 2 } })"),
                          out.config));
}

TEST(DefaultsTest, ABackendsOwnCheckRulesReplaceThoseOfDefaults) {
  auto out = parseHaproxy(R"(defaults
    option httpchk GET /health
    http-check expect status 200
    http-check send hdr Host example.com
backend inherits
backend replaces
    http-check expect string ok
    http-check expect ! string maintenance
backend tcp
    option tcp-check
    tcp-check send PING
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(R"(
    backends { name: "inherits" health_check { type: HTTP http {
      method: "GET" uri: "/health" headers { name: "Host" value: "example.com" }
      expect { match: STATUS pattern: "200" } } } }
    backends { name: "replaces" health_check { type: HTTP http {
      method: "GET" uri: "/health"
      expect { match: STRING pattern: "ok" }
      expect { negate: true match: STRING pattern: "maintenance" } } } }
    backends { name: "tcp" health_check { type: TCP_CHECK http { method: "GET" uri: "/health" }
      tcp_check { send: "PING" } } })"),
                          out.config));
}

TEST(DefaultsTest, ABackendsOwnOptionHttpchkReplacesTheChecksOfDefaults) {
  auto out = parseHaproxy(R"(defaults
    option httpchk GET /a
    http-check expect status 200
backend own
    option httpchk GET /b
backend own_with_rules
    option httpchk GET /c HTTP/1.1\r\nHost:\ c.example
    http-check send hdr X-Probe 1
    http-check expect status 204
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(R"(
    backends { name: "own" health_check { type: HTTP http { method: "GET" uri: "/b" } } }
    backends { name: "own_with_rules" health_check { type: HTTP http {
      method: "GET" uri: "/c" version: "HTTP/1.1"
      headers { name: "Host" value: "c.example" } headers { name: "X-Probe" value: "1" }
      expect { match: STATUS pattern: "204" } } } })"),
                          out.config));
}

TEST(DefaultsTest, TcpCheckRulesOfDefaultsAreReplacedToo) {
  auto out = parseHaproxy(R"(defaults
    option tcp-check
    tcp-check send PING
    tcp-check expect string PONG
backend a
backend b
    tcp-check send HELLO
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  ASSERT_EQ(out.config.backends_size(), 2);
  EXPECT_EQ(out.config.backends(0).health_check().tcp_check_size(), 2);
  ASSERT_EQ(out.config.backends(1).health_check().tcp_check_size(), 1);
  EXPECT_EQ(out.config.backends(1).health_check().tcp_check(0).send(), "HELLO");
}

TEST(DefaultsTest, DefaultsOptionHttplogWarnsForEachTcpFrontend) {
  auto out = parseHaproxy(R"(defaults
    mode http
    option httplog
frontend tcp-one
    mode tcp
frontend http-one
backend b
)");
  // The warning is reported where `option httplog` was written, for the frontend it concerns.
  EXPECT_THAT(out.diagnostics.all(), ElementsAre(warningAt(3, {"frontend 'tcp-one' falls back"})));
}

TEST(ListenTest, ListenIsAFrontendAndABackendOfTheSameName) {
  auto out = parseHaproxy(R"(listen mysql
    bind 127.0.0.1:3306
    balance leastconn
    timeout client 1m
    timeout server 1m
    server db1 10.0.0.1:3306 check
listen routed
    bind 127.0.0.1:3307
    default_backend mysql
)");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_TRUE(sameMessage(configFromText(R"(
    frontends { name: "mysql" binds { address: "127.0.0.1" port: 3306 }
                timeouts { client { seconds: 60 } } default_backend: "mysql" }
    frontends { name: "routed" binds { address: "127.0.0.1" port: 3307 } default_backend: "mysql" }
    backends { name: "mysql" balance { algorithm: LEASTCONN } timeouts { server { seconds: 60 } }
               servers { name: "db1" address: "10.0.0.1" port: 3306 check: true } }
    backends { name: "routed" })"),
                          out.config));
}

TEST(SectionTest, SectionsAppearInTheOrderWritten) {
  auto out = parseHaproxy("backend b2\nfrontend f1\nbackend b1\nlisten l\nfrontend f2\n");
  ASSERT_EQ(out.config.frontends_size(), 3);
  EXPECT_EQ(out.config.frontends(0).name(), "f1");
  EXPECT_EQ(out.config.frontends(1).name(), "l");
  EXPECT_EQ(out.config.frontends(2).name(), "f2");
  ASSERT_EQ(out.config.backends_size(), 3);
  EXPECT_EQ(out.config.backends(0).name(), "b2");
  EXPECT_EQ(out.config.backends(1).name(), "b1");
  EXPECT_EQ(out.config.backends(2).name(), "l");
}

TEST(SectionTest, EachErrorIsReportedAtItsLineAndAllAtOnce) {
  auto out = parseHaproxy(R"(global
    nbthread 0
    maxconn 100

frontend web
    bind *:80
    bind 10.0.0.1
    mode udp
    default_backend app

backend app
    balanse roundrobin
    timeout connect 5x
    server s1 10.0.0.1:80 chek
    server s2 10.0.0.2:80 check inter 4
    http-check expect stauts 200
)");
  EXPECT_THAT(out.diagnostics.all(),
              ElementsAre(errorAt(2, {"'nbthread'"}), errorAt(7, {"missing port"}),
                          errorAt(8, {"unknown mode 'udp'"}), errorAt(12, {"'balanse'"}),
                          errorAt(13, {"unknown time unit"}), errorAt(14, {"'chek'"}),
                          warningAt(15, {"'inter 4' is 4 ms"}), errorAt(16, {"'stauts'"})));
  // The lines around the errors still count.
  EXPECT_EQ(out.config.global().maxconn(), 100u);
  ASSERT_EQ(out.config.backends_size(), 1);
  EXPECT_EQ(out.config.backends(0).servers_size(), 2);
}

TEST(SectionTest, AnInvalidNameIsReportedOnce) {
  auto result = loadText(R"(frontend web/x
    bind *:80
    timeout client 30s
    default_backend app/x
backend app/x
    timeout connect 5s
    timeout server 30s
    server s1 10.0.0.1:80
)");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(errorAt(1, {"invalid frontend name 'web/x'", "letters, digits"}),
                          errorAt(5, {"invalid backend name 'app/x'"})));
}

// CRLF files load; a last line without its LF is refused, as HAProxy 2.6 does (the file may
// have been cut short), though the line itself is read.
TEST(SectionTest, CrlfLineEndingsAndNoFinalNewline) {
  auto out = parseHaproxy("backend b\r\n    retries 4\r\n    balance first");
  EXPECT_THAT(out.diagnostics.all(),
              ElementsAre(errorAt(3, {"missing LF on last line", "position 18"})));
  ASSERT_EQ(out.config.backends_size(), 1);
  EXPECT_EQ(out.config.backends(0).retries(), 4u);
  EXPECT_EQ(out.config.backends(0).balance().algorithm(), lb::v1::Balance::FIRST);
}

TEST(SectionTest, SourceMapPointsAtTheLinesWritten) {
  auto out = parseHaproxy(R"(defaults
    timeout connect 5s
frontend web
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80
    server s2 10.0.0.2:80
)");
  auto line = [&](const std::string& path) {
    auto where = out.sources.find(path);
    return where ? where->line : -1;
  };
  EXPECT_EQ(line("frontends[0]"), 3);
  EXPECT_EQ(line("frontends[0].binds[0].port"), 4);
  EXPECT_EQ(line("frontends[0].default_backend"), 5);
  EXPECT_EQ(line("backends[0]"), 6);
  EXPECT_EQ(line("backends[0].timeouts.connect"), 2);  // inherited: where defaults set it
  EXPECT_EQ(line("backends[0].servers[0].weight"), 7);
  EXPECT_EQ(line("backends[0].servers[1]"), 8);
}

// ---------------------------------------------------------------------------------------------
// Through the whole loader: what the validator adds to the parser's work.

TEST(ModeTest, HttpModeIsAnErrorOnlyWhereAProxyEndsUpInIt) {
  auto ok = loadText(R"(defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    mode tcp
    bind *:80
    default_backend app
backend app
    mode tcp
    server s1 10.0.0.1:80
)");
  EXPECT_TRUE(ok.ok()) << ok.diagnostics.format();

  auto bad = loadText(R"(defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    mode tcp
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80
)");
  // The backend inherited HTTP mode; the error points at the line that set it.
  EXPECT_THAT(errorsOf(bad.diagnostics),
              ElementsAre(errorAt(2, {"backend 'app' is in HTTP mode", "mode tcp"})));
}

TEST(ModeTest, HttpModeOfAFrontendIsReportedAtItsModeLine) {
  auto result = loadText(R"(frontend web
    bind *:80
    mode http
    timeout client 30s
    default_backend app
backend app
    timeout connect 5s
    timeout server 30s
    server s1 10.0.0.1:80
)");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(errorAt(3, {"frontend 'web' is in HTTP mode", "not supported"})));
}

TEST(TimeoutWarningTest, MissingTimeoutsAreWarnedAsHaproxyDoes) {
  auto result = loadText(R"(frontend web
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80
)");
  EXPECT_TRUE(result.ok()) << result.diagnostics.format();
  EXPECT_THAT(warningsOf(result.diagnostics),
              ElementsAre(warningAt(1, {"missing timeouts for frontend 'web'", "timeout client"}),
                          warningAt(4, {"missing timeouts for backend 'app'", "timeout connect",
                                        "timeout server"})));
}

TEST(TimeoutWarningTest, TimeoutsFromDefaultsSilenceTheWarnings) {
  auto result = loadText(R"(defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80
)");
  EXPECT_TRUE(result.ok()) << result.diagnostics.format();
  EXPECT_THAT(result.diagnostics.all(), IsEmpty());
}

TEST(UnitlessTimeTest, InterWithoutUnitIsMilliseconds) {
  auto out = parseHaproxy("backend b\n    server s1 10.0.0.1:80 check inter 4\n");
  EXPECT_THAT(out.diagnostics.all(), ElementsAre(warningAt(2, {"'inter 4' is 4 ms", "'4s'"})));
  ASSERT_EQ(out.config.backends(0).servers_size(), 1);
  EXPECT_EQ(out.config.backends(0).servers(0).inter().nanos(), 4000000);
  EXPECT_EQ(out.config.backends(0).servers(0).inter().seconds(), 0);
}

TEST(UnitlessTimeTest, LargeUnitlessValuesAreNotWarned) {
  // Debian's default config writes `timeout connect 5000`: plainly milliseconds.
  auto out = parseHaproxy("backend b\n    timeout connect 5000\n    timeout server 0\n");
  EXPECT_THAT(out.diagnostics.all(), IsEmpty());
  EXPECT_EQ(out.config.backends(0).timeouts().connect().seconds(), 5);
}

// ---------------------------------------------------------------------------------------------
// Several files, as with `haproxy -f a -f b`.

LoadResult loadFiles2(const std::string& first, const std::string& second) {
  LoadOptions options;
  options.env = fakeEnv();
  return load({Source{"a.cfg", first, Format::kHaproxy}, Source{"b.cfg", second, Format::kHaproxy}},
              options);
}

TEST(MultiFileTest, DefaultsCarryOverToTheNextFile) {
  auto result = loadFiles2(
      "defaults\n    timeout connect 5s\n    timeout client 30s\n"
      "    timeout server 30s\n",
      "frontend web\n    bind *:80\n    default_backend app\n"
      "backend app\n    server s1 10.0.0.1:80\n");
  EXPECT_TRUE(result.ok()) << result.diagnostics.format();
  EXPECT_THAT(result.diagnostics.all(), IsEmpty());
  EXPECT_EQ(result.config.backends(0).timeouts().connect().seconds(), 5);
}

TEST(MultiFileTest, ASectionEndsWithItsFile) {
  // HAProxy starts each file outside any section: `server` at the top of b.cfg is an error
  // there, not a server added to a.cfg's last backend.
  auto result =
      loadFiles2("backend app\n    server s1 10.0.0.1:80\n", "    server s2 10.0.0.2:80\n");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(::testing::AllOf(InFile("b.cfg"),
                                           errorAt(1, {"'server' outside of any section"}))));
  ASSERT_EQ(result.config.backends_size(), 1);
  EXPECT_EQ(result.config.backends(0).servers_size(), 1);
}

TEST(MultiFileTest, ErrorsNameTheirFile) {
  auto result = loadFiles2("frontend web\n    bind *:80\n    default_backend app\n",
                           "backend ap\n    server s1 10.0.0.1:80\n");
  EXPECT_THAT(errorsOf(result.diagnostics),
              ElementsAre(::testing::AllOf(
                  InFile("a.cfg"), errorAt(3, {"default_backend 'app'", "did you mean 'ap'?"}))));
}

}  // namespace
}  // namespace lb::config
