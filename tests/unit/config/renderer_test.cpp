#include "agent/config/renderer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/config/normalize.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Everything the renderer writes: every section keyword, every bind option, every server
// setting, both kinds of check rules, and strings that need quoting.
constexpr const char* kRichConfig = R"(global
    maxconn 50000
    nbthread 4
    tune.bufsize 32768
    hard-stop-after 30s
    spread-checks 0
    nosplice
    tune.sched-policy normal

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client 1m
    timeout server 90s
    timeout client-fin 1s
    timeout server-fin 1500ms
    timeout tunnel 1h
    timeout queue 30s

frontend web
    description "Public web: port 80 & 443, #1 \"edge\""
    bind *:80,:443 accept-proxy
    bind [::]:8080 v6only backlog 512 maxconn 1000 name "v6 web" interface eth0
    bind 127.0.0.1:8081 v4v6
    maxconn 20000
    option tcp-smart-accept
    default_backend web_servers

frontend off
    disabled
    bind 127.0.0.1:0
    default_backend redis

listen mysql
    bind 127.0.0.1:3306
    no log
    no option tcplog
    balance leastconn
    server db1 10.0.0.51:3306 check

backend web_servers
    description Web servers
    balance random(3)
    retries 5
    option redispatch
    option allbackups
    no option tcp-smart-connect
    timeout check 2s
    option httpchk HEAD /health HTTP/1.1\r\nHost:\ www.example.com
    http-check send hdr X-Check "lb \"probe\"" body "ping\r\n"
    http-check expect status 200-299,302
    http-check expect ! rstring "^maint.*\$"
    option log-health-checks
    default-server check inter 3s fastinter 1s downinter 10s rise 3 fall 2
    server w1 10.0.0.11:80 weight 10 maxconn 100 maxqueue 10 observe layer4 error-limit 5 on-error mark-down on-marked-down shutdown-sessions slowstart 30s
    server w2 [2001:db8::2]:80 port 8080 addr 10.0.0.99 check-send-proxy send-proxy-v2
    server w3 web3.internal:80 backup on-error sudden-death send-proxy inter 2s
    server w4 10.0.0.14 port 80 disabled on-error fastinter weight 0
    server w5 [::1] port 80 addr [::1] rise 2 fall 3 error-limit 10

backend redis
    balance first
    retries 0
    option tcp-check
    tcp-check connect port 6379 addr 10.0.0.5 send-proxy
    tcp-check send 'AUTH $SECRET\r\n'
    tcp-check send PING\r\n
    tcp-check send-binary 2a310d0a
    tcp-check expect string +PONG
    tcp-check expect ! rstring ^-ERR
    tcp-check expect binary 2b4f4b
    tcp-check comment "#1 check"
    server r1 10.0.0.21:6379 check

backend static
    balance static-rr
    server s1 10.0.0.31:8080

backend by_source
    balance source
    server s1 10.0.0.41:8080 check

backend spare
    disabled
    balance random
    option httpchk
    server s1 10.0.0.42:8080 check
)";

LoadResult loadQuietly(const std::string& name, const std::string& text) {
  LoadOptions options;
  options.env = fakeEnv({{"SECRET", "must-not-be-expanded"}});
  return load({Source{name, text, Format::kAuto}}, options);
}

// The errors other than "not supported yet" (the PROXY protocol keywords, which the model and
// the renderer carry already and the data plane does not).
std::vector<Diagnostic> realErrors(const Diagnostics& diagnostics) {
  std::vector<Diagnostic> out;
  for (const auto& d : errorsOf(diagnostics)) {
    if (d.message.find("is not supported yet") == std::string::npos) out.push_back(d);
  }
  return out;
}

// normalize(parse(render(c))) == c, and rendering again gives the same text.
void expectRoundTrip(const lb::v1::Config& config) {
  std::string rendered = renderHaproxy(config);
  auto reloaded = loadQuietly("rendered.cfg", rendered);
  EXPECT_THAT(realErrors(reloaded.diagnostics), IsEmpty()) << rendered;
  EXPECT_TRUE(sameMessage(config, reloaded.config)) << rendered;
  EXPECT_EQ(renderHaproxy(reloaded.config), rendered);
}

TEST(RenderRoundTripTest, RichConfig) {
  auto loaded = loadQuietly("rich.cfg", kRichConfig);
  ASSERT_THAT(realErrors(loaded.diagnostics), IsEmpty()) << loaded.diagnostics.format();
  // The config is what it says (so that the round trip is not of an empty config).
  ASSERT_EQ(loaded.config.frontends_size(), 3);
  ASSERT_EQ(loaded.config.backends_size(), 6);
  EXPECT_EQ(loaded.config.backends(2).health_check().tcp_check(1).send(), "AUTH $SECRET\\r\\n");
  EXPECT_EQ(loaded.config.backends(1).health_check().http().headers_size(), 2);
  expectRoundTrip(loaded.config);
}

TEST(RenderRoundTripTest, NormalizeIsIdempotent) {
  auto loaded = loadQuietly("rich.cfg", kRichConfig);
  lb::v1::Config again = loaded.config;
  normalize(again);
  EXPECT_TRUE(sameMessage(loaded.config, again));
}

TEST(RenderRoundTripTest, ConfigBuiltAsAProto) {
  // What a gRPC client might send: fields the HAProxy syntax reaches only in some spellings.
  lb::v1::Config config = configFromText(R"(
    global { hard_stop_after { seconds: 1 nanos: 500000000 } }
    frontends { name: "api" binds { address: "::1" port: 9000 } binds { address: "db.internal" port: 9001 }
                default_backend: "api" timeouts { client { nanos: 250000000 } } }
    backends { name: "api"
               health_check { type: HTTP http { method: "GET" uri: "/a?b=\"c\"&d=$x" version: "HTTP/1.1"
                 headers { name: "Host" value: "api.example.com" } body: "{\"ping\": true}" } }
               servers { name: "a1" address: "::1" port: 9100 inter { nanos: 1000 } }
               servers { name: "a2" address: "10.0.0.2" slowstart { seconds: 86400 } check_port: 9100 check: true } })");
  normalize(config);
  expectRoundTrip(config);
}

class SmallRoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SmallRoundTripTest, SurvivesRenderAndParse) {
  auto loaded = loadQuietly("lb.cfg", GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.diagnostics.format();
  expectRoundTrip(loaded.config);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, SmallRoundTripTest,
    ::testing::Values(
        "", "global\n    daemon\n    chroot /var/empty\n",
        "defaults\n    log global\nfrontend f\n    bind *:80\n    no log\n    default_backend b\n"
        "backend b\n    server s 10.0.0.1:80\n",
        "listen l\n    bind [::1]:80\n    server s [::1] check port 8080\n",
        "frontend f\n    disabled\n",
        "backend b\n    option httpchk\n    server s db.internal:80 check\n",
        "defaults\n    option tcp-check\n    tcp-check send PING\nbackend b\n"
        "    tcp-check expect string PONG\n    server s 10.0.0.1:6379 check\n",
        "backend b\n    balance random(2)\n    retries 3\n    server s 10.0.0.1:80 weight 1\n",
        // protocol checks, expect options, http-check connect and disable-on-404, agent-check
        "backend b\n    option mysql-check user \"lb check\" pre-41\n    server s 10.0.0.1:3306 "
        "check\n",
        "backend b\n    option pgsql-check user postgres\n    server s 10.0.0.1:5432 check\n",
        "backend b\n    option redis-check\n    server s 10.0.0.1:6379 check\n",
        "backend b\n    option smtpchk EHLO mx.example.com\n    server s 10.0.0.1:25 check\n",
        "backend b\n    option ldap-check\n    server s 10.0.0.1:389 check\n",
        "backend b\n    option ssl-hello-chk\n    server s 10.0.0.1:443 check\n",
        "backend b\n    option tcp-check\n    tcp-check send PING\n"
        "    tcp-check expect min-recv 5 comment \"a pong\" ! rstring ^-ERR\n"
        "    server s 10.0.0.1:6379 check\n",
        "backend b\n    option httpchk GET /health\n    http-check connect port 8081 send-proxy\n"
        "    http-check disable-on-404\n    server s 10.0.0.1:80 check\n",
        "backend b\n    server s 10.0.0.1:80 check agent-check agent-port 9999 agent-addr 10.0.0.9 "
        "agent-send \"ping\\n\" agent-inter 5s\n",
        // layer-4 rules
        "frontend f\n    bind :443\n    tcp-request inspect-delay 5s\n"
        "    acl internal src 10.0.0.0/8 ::1\n    acl internal src 192.168.0.0/16\n"
        "    acl api req.ssl_sni -i -m end .api.example.com\n"
        "    tcp-request connection reject if !internal\n"
        "    tcp-request content accept if { req_ssl_hello_type 1 }\n"
        "    tcp-request content reject if { req.payload(0,2) -m bin 1603 } !api\n"
        "    use_backend b if api || { dst_port 8443 }\n"
        "    use_backend be_%[req.ssl_sni,lower] if { req.ssl_sni -m found }\n"
        "    default_backend b\nbackend b\n    server s 10.0.0.1:443\n",
        "frontend f\n    bind :22\n"
        "    stick-table type ip size 100k expire 60s store conn_rate(10s),conn_cur,gpc0\n"
        "    tcp-request connection track-sc0 src\n"
        "    tcp-request connection reject if { sc0_conn_rate gt 10 } || { sc0_get_gpc0 gt 0 }\n"
        "    tcp-request session sc-inc-gpc0(0) if { sc0_conn_cur gt 3 }\n"
        "    default_backend b\nbackend b\n    stick-table type ip size 1m expire 30m\n"
        "    stick on src\n    use-server s2 if { src 10.1.0.0/16 }\n"
        "    server s1 10.0.0.1:22\n    server s2 10.0.0.2:22\n"));

// Every configuration the project ships that loads without error survives the round trip.
TEST(RenderRoundTripTest, ShippedConfigs) {
  std::vector<fs::path> files;
  for (const char* dir : {LB_TEST_DATA_DIR, LB_TEST_DATA_DIR "/compat", LB_DOCS_DIR "/examples"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      auto ext = entry.path().extension();
      if (ext == ".cfg" || ext == ".yaml" || ext == ".yml" || ext == ".json") {
        files.push_back(entry.path());
      }
    }
  }
  ASSERT_FALSE(files.empty()) << "no configuration in " LB_TEST_DATA_DIR;
  int round_tripped = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    LoadOptions options;
    options.env = fakeEnv();
    auto loaded = loadFiles({file.string()}, options);
    if (!loaded.ok()) continue;  // fuzz seeds and examples of mistakes
    expectRoundTrip(loaded.config);
    ++round_tripped;
  }
  EXPECT_GT(round_tripped, 0);
}

TEST(RenderTest, LeavesOutHaproxyDefaults) {
  auto loaded = loadQuietly("lb.cfg", R"(frontend web
    bind *:80
    default_backend app
backend app
    server s1 10.0.0.1:80 check inter 2s rise 2 fall 3 weight 1 error-limit 10 on-error fail-check
)");
  std::string rendered = renderHaproxy(loaded.config);
  EXPECT_THAT(rendered, HasSubstr("\n    server s1 10.0.0.1:80 check\n"));
  EXPECT_THAT(rendered, HasSubstr("\n    bind *:80\n"));
  EXPECT_THAT(rendered, HasSubstr("\n    balance roundrobin\n"));
  EXPECT_THAT(rendered, Not(HasSubstr("retries")));
  EXPECT_THAT(rendered, Not(HasSubstr("global")));
}

TEST(RenderTest, WritesTimesInTheirShortestForm) {
  auto loaded = loadQuietly("lb.cfg", R"(backend app
    timeout connect 5000
    timeout server 90000ms
    timeout tunnel 3600s
    server s1 10.0.0.1:80 check inter 1500
)");
  std::string rendered = renderHaproxy(loaded.config);
  EXPECT_THAT(rendered, HasSubstr("    timeout connect 5s\n"));
  EXPECT_THAT(rendered, HasSubstr("    timeout server 90s\n"));
  EXPECT_THAT(rendered, HasSubstr("    timeout tunnel 1h\n"));
  EXPECT_THAT(rendered, HasSubstr(" inter 1500ms"));
}

// ---------------------------------------------------------------------------------------------

class QuoteWordTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QuoteWordTest, TokenizesBackToTheSameWord) {
  const std::string& word = GetParam();
  std::string quoted = quoteWord(word);
  std::string error;
  // An environment that would expand any variable left unescaped.
  auto words = tokenize("keyword " + quoted + " # comment",
                        fakeEnv({{"HOME", "/home/lb"}, {"PATH", "/bin"}}), &error);
  ASSERT_TRUE(words.has_value()) << quoted << ": " << error;
  EXPECT_THAT(*words, ElementsAre("keyword", word)) << quoted;
}

INSTANTIATE_TEST_SUITE_P(Words, QuoteWordTest,
                         ::testing::Values("plain", "/health", "10.0.0.1:80", "two words",
                                           "  leading and trailing  ", "tab\there", "quote\"d",
                                           "it's", "'single'", "#hash", "a#b", "$HOME", "${PATH}",
                                           "$", "cost: $5", "cr\r\nlf", "HTTP/1.1\r\nHost: a",
                                           "back\\slash", "trailing\\", "\\x41", "\\\"", "",
                                           "\x01\x1f\x7f", "caf\xc3\xa9", "100%",
                                           "{\"json\": [1, 2]}"));

TEST(QuoteWordBareTest, SafeWordsStayBare) {
  for (const char* word : {"plain", "/health", "10.0.0.1:80", "HTTP/1.1", "+PONG", "^-ERR"}) {
    EXPECT_EQ(quoteWord(word), word);
  }
  for (const char* word : {"two words", "", "#x", "$x", "a\\b", "'", "\""}) {
    std::string quoted = quoteWord(word);
    EXPECT_EQ(quoted.front(), '"') << quoted;
    EXPECT_EQ(quoted.back(), '"') << quoted;
  }
}

}  // namespace
}  // namespace lb::config
