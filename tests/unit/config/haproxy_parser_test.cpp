// The HAProxy-syntax parser, keyword by keyword: what each correct line builds, what each wrong
// one reports (line and words), and which lines are accepted with a warning.
#include "agent/config/haproxy_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "agent/config/keyword_context.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

// "server on-error" -> "server_on_error"; gtest names allow only [A-Za-z0-9_].
std::string caseName(const std::string& tag, size_t index) {
  std::string out;
  for (char c : tag) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out + "_" + std::to_string(index);
}

// ---------------------------------------------------------------------------------------------
// Every keyword, option and server setting: what a correct line produces.

struct ParseCase {
  std::string tag;       // the keyword covered: "balance", "option httpchk", "server inter"
  std::string text;      // a configuration using it, without any problem
  std::string expected;  // the lb.v1.Config the parser builds (before normalize), text format
};

void PrintTo(const ParseCase& c, std::ostream* os) {
  *os << c.tag << ": " << ::testing::PrintToString(c.text);
}

// A backend `b` with one line `server s 10.0.0.1:80 SETTINGS`.
ParseCase serverCase(const std::string& setting, const std::string& line,
                     const std::string& fields) {
  return {"server " + setting, "backend b\n    server s 10.0.0.1:80 " + line + "\n",
          R"(backends { name: "b" servers { name: "s" address: "10.0.0.1" port: 80 )" + fields +
              " } }"};
}

const std::vector<ParseCase>& parseCases() {
  static const std::vector<ParseCase> kCases{
      // ---- global ----
      {"global maxconn", "global\n    maxconn 4096\n", "global { maxconn: 4096 }"},
      {"global nbthread", "global\n    nbthread 4\n", "global { nbthread: 4 }"},
      {"global tune.bufsize", "global\n    tune.bufsize 32768\n", "global { bufsize: 32768 }"},
      {"global hard-stop-after", "global\n    hard-stop-after 30s\n",
       "global { hard_stop_after { seconds: 30 } }"},
      {"global spread-checks", "global\n    spread-checks 5\n", "global { spread_checks: 5 }"},
      {"global spread-checks", "global\n    spread-checks 0\n", "global { spread_checks: 0 }"},
      {"global nosplice", "global\n    nosplice\n", "global { nosplice: true }"},
      {"global allow-no-listener", "global\n    allow-no-listener\n",
       "global { allow_no_listener: true }"},
      {"global tune.sched-policy", "global\n    tune.sched-policy normal\n",
       "global { sched_policy: NORMAL }"},
      {"global tune.sched-policy", "global\n    tune.sched-policy batch\n",
       "global { sched_policy: BATCH }"},
      {"global stats",
       "global\n    stats socket /run/haproxy/admin.sock mode 660 level admin\n"
       "    stats socket ipv4@127.0.0.1:9999 level user\n    stats socket 127.0.0.1:9998\n"
       "    stats timeout 2m\n",
       "global { stats_sockets { address: '/run/haproxy/admin.sock' mode: 432 level: ADMIN } "
       "stats_sockets { address: 'ipv4@127.0.0.1:9999' level: USER } "
       "stats_sockets { address: '127.0.0.1:9998' } stats_timeout { seconds: 120 } }"},
      // ---- mode ----
      {"mode", "frontend f\n    mode tcp\n", R"(frontends { name: "f" mode: MODE_TCP })"},
      {"mode", "backend b\n    mode tcp\n", R"(backends { name: "b" mode: MODE_TCP })"},
      // Parsed; the validator rejects it where a proxy ends up in it.
      {"mode", "backend b\n    mode http\n", R"(backends { name: "b" mode: MODE_HTTP })"},
      {"mode", "listen l\n    mode tcp\n",
       R"(frontends { name: "l" mode: MODE_TCP default_backend: "l" }
          backends { name: "l" mode: MODE_TCP })"},
      // ---- bind ----
      {"bind", "frontend f\n    bind *:80\n",
       R"(frontends { name: "f" binds { address: "0.0.0.0" port: 80 } })"},
      {"bind", "frontend f\n    bind :80,:443\n",
       R"(frontends { name: "f" binds { address: "0.0.0.0" port: 80 }
                                binds { address: "0.0.0.0" port: 443 } })"},
      {"bind", "frontend f\n    bind 10.0.0.1:80,[::1]:80 accept-proxy\n",
       R"(frontends { name: "f" binds { address: "10.0.0.1" port: 80 accept_proxy: true }
                                binds { address: "::1" port: 80 accept_proxy: true } })"},
      {"bind", "frontend f\n    bind [::]:80 v6only\n",
       R"(frontends { name: "f" binds { address: "::" port: 80 v6only: true } })"},
      {"bind", "frontend f\n    bind [::]:80 v4v6\n",
       R"(frontends { name: "f" binds { address: "::" port: 80 v4v6: true } })"},
      {"bind", "frontend f\n    bind ipv6@:8443 interface eth0 name web backlog 1024 maxconn 100\n",
       R"(frontends { name: "f" binds { address: "::" port: 8443 interface: "eth0" name: "web"
                                        backlog: 1024 maxconn: 100 } })"},
      {"bind", "frontend f\n    bind 127.0.0.1:0\n",
       R"(frontends { name: "f" binds { address: "127.0.0.1" port: 0 } })"},
      {"bind", "frontend f\n    bind *:80\n    bind *:81\n",
       R"(frontends { name: "f" binds { address: "0.0.0.0" port: 80 }
                                binds { address: "0.0.0.0" port: 81 } })"},
      {"bind", "frontend f\n    bind 127.0.0.1:81-82 tfo\n",
       R"(frontends { name: "f" binds { address: "127.0.0.1" port: 81 tfo: true }
                                binds { address: "127.0.0.1" port: 82 tfo: true } })"},
      {"global maxconnrate", "global\n    maxconnrate 100\n", R"(global { maxconnrate: 100 })"},
      {"option tcpka", "listen l\n    option tcpka\n",
       R"(frontends { name: "l" tcpka: true default_backend: "l" }
          backends { name: "l" tcpka: true })"},
      {"option clitcpka", "frontend f\n    no option clitcpka\n",
       R"(frontends { name: "f" tcpka: false })"},
      {"option srvtcpka", "backend b\n    option srvtcpka\n",
       R"(backends { name: "b" tcpka: true })"},
      {"server init-addr", "backend b\n    server s db:80 init-addr last,libc,none\n",
       R"(backends { name: "b" servers { name: "s" address: "db" port: 80
                                         init_addr: "last" init_addr: "libc" init_addr: "none" } })"},
      {"server-template", "backend b\n    server-template w 2 10.0.0.1:80\n",
       R"(backends { name: "b" servers { name: "w1" address: "10.0.0.1" port: 80 }
                               servers { name: "w2" address: "10.0.0.1" port: 80 } })"},
      // ---- default_backend, maxconn ----
      {"default_backend", "frontend f\n    default_backend app\n",
       R"(frontends { name: "f" default_backend: "app" })"},
      {"maxconn", "frontend f\n    maxconn 1000\n", R"(frontends { name: "f" maxconn: 1000 })"},
      {"maxconn", "frontend f\n    maxconn 0\n", R"(frontends { name: "f" maxconn: 0 })"},
      // ---- timeout: all eight ----
      {"timeout", "frontend f\n    timeout client 30s\n",
       R"(frontends { name: "f" timeouts { client { seconds: 30 } } })"},
      {"timeout", "frontend f\n    timeout client-fin 1s\n",
       R"(frontends { name: "f" timeouts { client_fin { seconds: 1 } } })"},
      {"timeout", "backend b\n    timeout connect 5s\n",
       R"(backends { name: "b" timeouts { connect { seconds: 5 } } })"},
      {"timeout", "backend b\n    timeout server 500ms\n",
       R"(backends { name: "b" timeouts { server { nanos: 500000000 } } })"},
      {"timeout", "backend b\n    timeout tunnel 1h\n",
       R"(backends { name: "b" timeouts { tunnel { seconds: 3600 } } })"},
      {"timeout", "backend b\n    timeout server-fin 2s\n",
       R"(backends { name: "b" timeouts { server_fin { seconds: 2 } } })"},
      {"timeout", "backend b\n    timeout queue 1m\n",
       R"(backends { name: "b" timeouts { queue { seconds: 60 } } })"},
      {"timeout", "backend b\n    timeout check 2s\n",
       R"(backends { name: "b" timeouts { check { seconds: 2 } } })"},
      {"timeout", "listen l\n    timeout client 30s\n    timeout connect 5000\n",
       R"(frontends { name: "l" timeouts { client { seconds: 30 } } default_backend: "l" }
          backends { name: "l" timeouts { connect { seconds: 5 } } })"},
      // ---- balance: every algorithm ----
      {"balance", "backend b\n    balance roundrobin\n",
       R"(backends { name: "b" balance { algorithm: ROUNDROBIN } })"},
      {"balance", "backend b\n    balance static-rr\n",
       R"(backends { name: "b" balance { algorithm: STATIC_RR } })"},
      {"balance", "backend b\n    balance leastconn\n",
       R"(backends { name: "b" balance { algorithm: LEASTCONN } })"},
      {"balance", "backend b\n    balance first\n",
       R"(backends { name: "b" balance { algorithm: FIRST } })"},
      {"balance", "backend b\n    balance source\n",
       R"(backends { name: "b" balance { algorithm: SOURCE } })"},
      {"balance", "backend b\n    balance random\n",
       R"(backends { name: "b" balance { algorithm: RANDOM } })"},
      {"balance", "backend b\n    balance random(3)\n",
       R"(backends { name: "b" balance { algorithm: RANDOM random_draws: 3 } })"},
      {"balance", "backend b\n    balance leastconn\n    balance first\n",
       R"(backends { name: "b" balance { algorithm: FIRST } })"},
      // ---- retries, log, no log ----
      {"retries", "backend b\n    retries 5\n", R"(backends { name: "b" retries: 5 })"},
      {"retries", "backend b\n    retries 0\n", R"(backends { name: "b" retries: 0 })"},
      {"log", "frontend f\n    log global\n", R"(frontends { name: "f" log { global: true } })"},
      {"stats",
       "listen stats\n    bind :8404\n    mode http\n    stats enable\n    stats uri /s\n"
       "    stats auth a:b\n    stats realm R\n    stats refresh 5s\n",
       R"(frontends { name: "stats" mode: MODE_HTTP binds { address: "0.0.0.0" port: 8404 }
          stats_page { enabled: true uri: "/s" auth: "a:b" realm: "R" refresh { seconds: 5 } } })"},
      {"stats", "listen stats\n    bind :8404\n    stats enable\n",
       R"(frontends { name: "stats" binds { address: "0.0.0.0" port: 8404 }
          stats_page { enabled: true uri: "/haproxy?stats" } })"},
      {"http-request",
       "frontend prom\n    bind :8405\n    http-request use-service prometheus-exporter if "
       "{ path /m }\n",
       R"(frontends { name: "prom" binds { address: "0.0.0.0" port: 8405 }
          stats_page { prometheus_path: "/m" } })"},
      {"log", "frontend f\n    log 127.0.0.1:514 len 2048 format rfc5424 daemon notice err\n",
       R"(frontends { name: "f" log { targets { address: "127.0.0.1:514" facility: "daemon"
          level: "notice" min_level: "err" format: RFC5424 len: 2048 } } })"},
      {"global log",
       "global\n    log /dev/log local0\n    log stdout format raw local1\n"
       "    log fd@2 local2 debug\n",
       R"(global { log_targets { address: "/dev/log" facility: "local0" }
                   log_targets { address: "stdout" facility: "local1" format: RAW }
                   log_targets { address: "stderr" facility: "local2" level: "debug" } })"},
      {"global log-tag", "global\n    log-tag lb\n", R"(global { log_tag: "lb" })"},
      {"global log-send-hostname", "global\n    log-send-hostname\n",
       R"(global { log_send_hostname: "" })"},
      {"global log-send-hostname", "global\n    log-send-hostname edge1\n",
       R"(global { log_send_hostname: "edge1" })"},
      // A backend has no log settings of its own.
      {"log", "backend b\n    log global\n", R"(backends { name: "b" })"},
      {"no", "frontend f\n    log global\n    no log\n", R"(frontends { name: "f" log { } })"},
      // ---- disabled, enabled, description ----
      {"disabled", "frontend f\n    disabled\n", R"(frontends { name: "f" disabled: true })"},
      {"disabled", "listen l\n    disabled\n",
       R"(frontends { name: "l" disabled: true default_backend: "l" }
          backends { name: "l" disabled: true })"},
      {"enabled", "backend b\n    disabled\n    enabled\n", R"(backends { name: "b" })"},
      {"description", "backend b\n    description \"Shop servers\" [eu]\n",
       R"(backends { name: "b" description: "Shop servers [eu]" })"},
      {"description", "listen l\n    description one\n",
       R"(frontends { name: "l" description: "one" default_backend: "l" }
          backends { name: "l" description: "one" })"},
      // ---- options ----
      {"option tcplog", "frontend f\n    option tcplog\n",
       R"(frontends { name: "f" log { tcplog: true } })"},
      {"option httplog", "frontend f\n    mode http\n    option httplog\n",
       R"(frontends { name: "f" mode: MODE_HTTP log { tcplog: true } })"},
      {"option dontlognull", "frontend f\n    option dontlognull\n",
       R"(frontends { name: "f" log { dontlognull: true } })"},
      {"option redispatch", "backend b\n    option redispatch\n",
       R"(backends { name: "b" redispatch: true })"},
      {"option allbackups", "backend b\n    option allbackups\n",
       R"(backends { name: "b" allbackups: true })"},
      {"option tcp-smart-accept", "frontend f\n    option tcp-smart-accept\n",
       R"(frontends { name: "f" tcp_smart_accept: true })"},
      {"option tcp-smart-connect", "backend b\n    no option tcp-smart-connect\n",
       R"(backends { name: "b" tcp_smart_connect: false })"},
      {"option tcp-smart-connect",
       "defaults\n    no option tcp-smart-connect\nbackend b\n    option tcp-smart-connect\n",
       R"(backends { name: "b" tcp_smart_connect: true })"},
      {"option tcp-smart-accept", "listen l\n    option tcp-smart-accept\n",
       R"(frontends { name: "l" default_backend: "l" tcp_smart_accept: true }
          backends { name: "l" })"},
      {"option redispatch",
       "defaults\n    option redispatch\nbackend b\n    no option redispatch\n",
       R"(backends { name: "b" })"},
      {"option tcplog", "frontend f\n    option tcplog\n    no option tcplog\n",
       R"(frontends { name: "f" log { } })"},
      // option httpchk: every form
      {"option httpchk", "backend b\n    option httpchk\n",
       R"(backends { name: "b" health_check { type: HTTP http { } } })"},
      {"option httpchk", "backend b\n    option httpchk /health\n",
       R"(backends { name: "b" health_check { type: HTTP http { uri: "/health" } } })"},
      {"option httpchk", "backend b\n    option httpchk HEAD /health\n",
       R"(backends { name: "b" health_check { type: HTTP http { method: "HEAD" uri: "/health" } } })"},
      {"option httpchk", "backend b\n    option httpchk GET /health HTTP/1.1\n",
       R"(backends { name: "b" health_check { type: HTTP
           http { method: "GET" uri: "/health" version: "HTTP/1.1" } } })"},
      {"option httpchk",
       "backend b\n    option httpchk GET /health HTTP/1.1\\r\\nHost:\\ www.example.com\n",
       R"(backends { name: "b" health_check { type: HTTP
           http { method: "GET" uri: "/health" version: "HTTP/1.1"
                  headers { name: "Host" value: "www.example.com" } } } })"},
      {"option httpchk",
       "backend b\n    option httpchk GET / \"HTTP/1.1\\r\\nHost: a\\r\\nX-Check:1\\r\\n\"\n",
       R"(backends { name: "b" health_check { type: HTTP
           http { method: "GET" uri: "/" version: "HTTP/1.1"
                  headers { name: "Host" value: "a" } headers { name: "X-Check" value: "1" } } } })"},
      {"option httpchk", "backend b\n    option httpchk\n    no option httpchk\n",
       R"(backends { name: "b" health_check { http { } } })"},
      {"option tcp-check", "backend b\n    option tcp-check\n",
       R"(backends { name: "b" health_check { type: TCP_CHECK } })"},
      {"option tcp-check", "backend b\n    option tcp-check\n    no option tcp-check\n",
       R"(backends { name: "b" health_check { } })"},
      {"option log-health-checks", "backend b\n    option log-health-checks\n",
       R"(backends { name: "b" health_check { log_health_checks: true } })"},
      // ---- http-check ----
      {"http-check",
       "backend b\n    option httpchk\n"
       "    http-check send meth GET uri /health ver HTTP/1.1 hdr Host example.com "
       "hdr X-A \"1 2\" body ping\n",
       R"(backends { name: "b" health_check { type: HTTP
           http { method: "GET" uri: "/health" version: "HTTP/1.1"
                  headers { name: "Host" value: "example.com" }
                  headers { name: "X-A" value: "1 2" } body: "ping" } } })"},
      {"http-check", "backend b\n    http-check expect status 200\n",
       R"(backends { name: "b" health_check { http { expect { match: STATUS pattern: "200" } } } })"},
      {"http-check", "backend b\n    http-check expect ! status 500-599\n",
       R"(backends { name: "b" health_check { http {
           expect { negate: true match: STATUS pattern: "500-599" } } } })"},
      {"http-check", "backend b\n    http-check expect rstatus ^2\n",
       R"(backends { name: "b" health_check { http { expect { match: RSTATUS pattern: "^2" } } } })"},
      {"http-check", "backend b\n    http-check expect string \"I am up\"\n",
       R"(backends { name: "b" health_check { http {
           expect { match: STRING pattern: "I am up" } } } })"},
      {"http-check", "backend b\n    http-check expect ! rstring ^maint.*\n",
       R"(backends { name: "b" health_check { http {
           expect { negate: true match: RSTRING pattern: "^maint.*" } } } })"},
      {"http-check",
       "backend b\n    http-check expect status 200\n    http-check expect string ok\n",
       R"(backends { name: "b" health_check { http {
           expect { match: STATUS pattern: "200" } expect { match: STRING pattern: "ok" } } } })"},
      {"http-check", "backend b\n    http-check comment \"says hello\"\n",
       R"(backends { name: "b" })"},
      // ---- tcp-check ----
      {"tcp-check", "backend b\n    tcp-check connect\n",
       R"(backends { name: "b" health_check { tcp_check { connect { } } } })"},
      {"tcp-check", "backend b\n    tcp-check connect port 6379 addr 10.0.0.5 send-proxy\n",
       R"(backends { name: "b" health_check { tcp_check {
           connect { port: 6379 addr: "10.0.0.5" send_proxy: true } } } })"},
      {"tcp-check", "backend b\n    tcp-check send PING\\r\\n\n",
       R"(backends { name: "b" health_check { tcp_check { send: "PING\r\n" } } })"},
      {"tcp-check", "backend b\n    tcp-check send-binary 2a310D0a\n",
       R"(backends { name: "b" health_check { tcp_check { send_binary: "2a310D0a" } } })"},
      {"tcp-check", "backend b\n    tcp-check expect string +PONG\n",
       R"(backends { name: "b" health_check { tcp_check { expect { match: STRING pattern: "+PONG" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect rstring ^.PONG\n",
       R"(backends { name: "b" health_check { tcp_check { expect { match: RSTRING pattern: "^.PONG" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect binary 2b504f4e47\n",
       R"(backends { name: "b" health_check { tcp_check {
           expect { match: BINARY pattern: "2b504f4e47" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect ! string -ERR\n",
       R"(backends { name: "b" health_check { tcp_check {
           expect { negate: true match: STRING pattern: "-ERR" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect !rstring ^-ERR\n",
       R"(backends { name: "b" health_check { tcp_check {
           expect { negate: true match: RSTRING pattern: "^-ERR" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect min-recv 5 comment \"a pong\" string +PONG\n",
       R"(backends { name: "b" health_check { tcp_check { expect {
           match: STRING pattern: "+PONG" min_recv: 5 comment: "a pong" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect string +PONG comment pong min-recv 7\n",
       R"(backends { name: "b" health_check { tcp_check { expect {
           match: STRING pattern: "+PONG" min_recv: 7 comment: "pong" } } } })"},
      {"tcp-check", "backend b\n    tcp-check expect string comment\n",
       R"(backends { name: "b" health_check { tcp_check { expect {
           match: STRING pattern: "comment" } } } })"},
      {"http-check", "backend b\n    http-check disable-on-404\n",
       R"(backends { name: "b" health_check { http { disable_on_404: true } } })"},
      {"http-check", "backend b\n    http-check connect port 8081 addr 10.0.0.9 send-proxy\n",
       R"(backends { name: "b" health_check { http {
           connect { port: 8081 addr: "10.0.0.9" send_proxy: true } } } })"},
      {"http-check", "backend b\n    http-check expect comment \"the page\" string ok\n",
       R"(backends { name: "b" health_check { http { expect {
           match: STRING pattern: "ok" comment: "the page" } } } })"},
      // ---- protocol checks ----
      {"option mysql-check", "backend b\n    option mysql-check\n",
       R"(backends { name: "b" health_check { type: MYSQL } })"},
      {"option mysql-check", "backend b\n    option mysql-check user haproxy\n",
       R"(backends { name: "b" health_check { type: MYSQL user: "haproxy" } })"},
      {"option mysql-check", "backend b\n    option mysql-check user haproxy post-41\n",
       R"(backends { name: "b" health_check { type: MYSQL user: "haproxy" } })"},
      {"option mysql-check", "backend b\n    option mysql-check user old pre-41\n",
       R"(backends { name: "b" health_check { type: MYSQL user: "old" mysql_pre_41: true } })"},
      {"option pgsql-check", "backend b\n    option pgsql-check user postgres\n",
       R"(backends { name: "b" health_check { type: PGSQL user: "postgres" } })"},
      {"option redis-check", "backend b\n    option redis-check\n",
       R"(backends { name: "b" health_check { type: REDIS } })"},
      {"option redis-check", "backend b\n    option redis-check\n    no option redis-check\n",
       R"(backends { name: "b" health_check { } })"},
      {"option smtpchk", "backend b\n    option smtpchk\n",
       R"(backends { name: "b" health_check { type: SMTP } })"},
      {"option smtpchk", "backend b\n    option smtpchk EHLO mail.example.com\n",
       R"(backends { name: "b" health_check { type: SMTP smtp_hello: "EHLO mail.example.com" } })"},
      {"option ldap-check", "backend b\n    option ldap-check\n",
       R"(backends { name: "b" health_check { type: LDAP } })"},
      {"option ssl-hello-chk", "backend b\n    option ssl-hello-chk\n",
       R"(backends { name: "b" health_check { type: SSL_HELLO } })"},
      {"tcp-check", "backend b\n    tcp-check comment \"redis ping\"\n",
       R"(backends { name: "b" health_check { tcp_check { comment: "redis ping" } } })"},
      {"tcp-check",
       "backend b\n    option tcp-check\n    tcp-check connect\n    tcp-check send PING\\r\\n\n"
       "    tcp-check expect string +PONG\n",
       R"(backends { name: "b" health_check { type: TCP_CHECK
           tcp_check { connect { } } tcp_check { send: "PING\r\n" }
           tcp_check { expect { match: STRING pattern: "+PONG" } } } })"},
      // ---- server: the address forms, then every setting ----
      {"server", "backend b\n    server s1 10.0.0.1:80\n",
       R"(backends { name: "b" servers { name: "s1" address: "10.0.0.1" port: 80 } })"},
      {"server", "backend b\n    server s1 10.0.0.1\n",
       R"(backends { name: "b" servers { name: "s1" address: "10.0.0.1" } })"},
      {"server", "backend b\n    server s1 [::1]:8080\n",
       R"(backends { name: "b" servers { name: "s1" address: "::1" port: 8080 } })"},
      {"server", "backend b\n    server db db.internal:5432\n",
       R"(backends { name: "b" servers { name: "db" address: "db.internal" port: 5432 } })"},
      {"server", "listen l\n    bind *:80\n    server s1 10.0.0.1:80\n",
       R"(frontends { name: "l" binds { address: "0.0.0.0" port: 80 } default_backend: "l" }
          backends { name: "l" servers { name: "s1" address: "10.0.0.1" port: 80 } })"},
      serverCase("agent-check", "agent-check agent-port 9999",
                 "agent_check: true agent_port: 9999"),
      serverCase("no-agent-check", "agent-check no-agent-check", ""),
      serverCase("agent-port", "agent-port 9999", "agent_port: 9999"),
      serverCase("agent-addr", "agent-addr 10.0.0.2", "agent_addr: '10.0.0.2'"),
      serverCase("agent-send", "agent-send \"hello\\n\"", "agent_send: 'hello\\n'"),
      serverCase("agent-inter", "agent-inter 5s", "agent_inter { seconds: 5 }"),
      serverCase("weight", "weight 10", "weight: 10"),
      serverCase("weight", "weight 0", "weight: 0"),
      serverCase("maxconn", "maxconn 100", "maxconn: 100"),
      serverCase("maxqueue", "maxqueue 10", "maxqueue: 10"),
      serverCase("backup", "backup", "backup: true"),
      serverCase("no-backup", "backup no-backup", ""),
      serverCase("disabled", "disabled", "disabled: true"),
      serverCase("enabled", "disabled enabled", ""),
      serverCase("check", "check", "check: true"),
      serverCase("no-check", "check no-check", ""),
      serverCase("inter", "inter 4s", "inter { seconds: 4 }"),
      serverCase("fastinter", "fastinter 1s", "fastinter { seconds: 1 }"),
      serverCase("downinter", "downinter 10s", "downinter { seconds: 10 }"),
      serverCase("slowstart", "slowstart 1m", "slowstart { seconds: 60 }"),
      serverCase("rise", "rise 3", "rise: 3"),
      serverCase("fall", "fall 5", "fall: 5"),
      serverCase("port", "port 8080", "check_port: 8080"),
      serverCase("addr", "addr 10.0.0.99", R"(check_addr: "10.0.0.99")"),
      serverCase("addr", "addr [::1]", R"(check_addr: "::1")"),
      serverCase("observe", "observe layer4", "observe: LAYER4"),
      serverCase("observe", "observe layer7", "observe: LAYER7"),
      serverCase("error-limit", "error-limit 5", "error_limit: 5"),
      serverCase("on-error", "on-error fastinter", "on_error: FASTINTER"),
      serverCase("on-error", "on-error fail-check", "on_error: FAIL_CHECK"),
      serverCase("on-error", "on-error sudden-death", "on_error: SUDDEN_DEATH"),
      serverCase("on-error", "on-error mark-down", "on_error: MARK_DOWN"),
      serverCase("on-marked-down", "on-marked-down shutdown-sessions",
                 "on_marked_down: SHUTDOWN_SESSIONS"),
      serverCase("send-proxy", "send-proxy", "send_proxy: V1"),
      serverCase("send-proxy-v2", "send-proxy-v2", "send_proxy: V2"),
      serverCase("no-send-proxy", "send-proxy no-send-proxy", ""),
      serverCase("no-send-proxy-v2", "send-proxy-v2 no-send-proxy-v2", ""),
      serverCase("check-send-proxy", "check-send-proxy", "check_send_proxy: true"),
      serverCase("check", "check inter 4s observe layer4 error-limit 10 on-error mark-down",
                 "check: true inter { seconds: 4 } observe: LAYER4 error_limit: 10 "
                 "on_error: MARK_DOWN"),
      // ---- default-server ----
      {"default-server",
       "backend b\n    default-server check inter 3s fall 2\n"
       "    server s1 10.0.0.1:80\n    server s2 10.0.0.2:80 inter 1s no-check\n",
       R"(backends { name: "b"
           servers { name: "s1" address: "10.0.0.1" port: 80 check: true inter { seconds: 3 } fall: 2 }
           servers { name: "s2" address: "10.0.0.2" port: 80 inter { seconds: 1 } fall: 2 } })"},
      {"default-server",
       "backend b\n    server s1 10.0.0.1:80\n    default-server weight 5\n"
       "    server s2 10.0.0.2:80\n",
       R"(backends { name: "b"
           servers { name: "s1" address: "10.0.0.1" port: 80 }
           servers { name: "s2" address: "10.0.0.2" port: 80 weight: 5 } })"},
  };
  return kCases;
}

class KeywordParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(KeywordParseTest, BuildsTheConfig) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(out.diagnostics.all(), IsEmpty()) << c.text;
  EXPECT_TRUE(sameMessage(configFromText(c.expected), out.config)) << c.text;
}

INSTANTIATE_TEST_SUITE_P(Keywords, KeywordParseTest, ::testing::ValuesIn(parseCases()),
                         [](const ::testing::TestParamInfo<ParseCase>& info) {
                           return caseName(info.param.tag, info.index);
                         });

// ---------------------------------------------------------------------------------------------
// Wrong uses: each is an error on its line, with the words that tell what to do.

struct ErrorCase {
  std::string tag;
  std::string text;
  int line;
  std::vector<std::string> words;
  int errors = 1;  // how many errors the text has in all
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << c.tag << ": " << ::testing::PrintToString(c.text);
}

const std::vector<ErrorCase>& errorCases() {
  static const std::vector<ErrorCase> kCases{
      // ---- global ----
      {"global maxconn", "global\n    maxconn 0\n", 2, {"'maxconn'", "from 1 to"}},
      {"global nbthread", "global\n    nbthread 0\n", 2, {"'nbthread'", "from 1 to 1024", "'0'"}},
      {"global nbthread", "global\n    nbthread 1025\n", 2, {"'nbthread'", "1025"}},
      {"global nbthread", "global\n    nbthread\n", 2, {"'nbthread' expects 1 argument"}},
      {"global tune.bufsize",
       "global\n    tune.bufsize 1000\n",
       2,
       {"'tune.bufsize'", "from 1024"}},
      {"global hard-stop-after",
       "global\n    hard-stop-after 10x\n",
       2,
       {"'hard-stop-after'", "unknown time unit 'x'"}},
      {"global spread-checks", "global\n    spread-checks 51\n", 2, {"'spread-checks'", "0 to 50"}},
      {"global nosplice", "global\n    nosplice on\n", 2, {"nosplice"}},
      {"global tune.sched-policy",
       "global\n    tune.sched-policy fifo\n",
       2,
       {"unknown scheduling policy 'fifo'", "'batch'", "'normal'"}},
      {"global tune.sched-policy",
       "global\n    tune.sched-policy\n",
       2,
       {"'tune.sched-policy' expects 1 argument"}},
      {"global nbproc", "global\n    nbproc 2\n", 2, {"'nbproc' was removed", "nbthread"}},
      {"global log",
       "global\n    log /dev/log locl0\n",
       2,
       {"unknown log facility 'locl0'", "did you mean 'local0'?"}},
      {"global log", "global\n    log /dev/log local0 loud\n", 2, {"unknown log level 'loud'"}},
      {"global log", "global\n    log /dev/log\n", 2, {"usage: log ADDRESS"}},
      {"global log", "global\n    log ring@buf local0\n", 2, {"'ring@buf' is not supported"}},
      {"global log",
       "global\n    log /dev/log format json local0\n",
       2,
       {"unknown log format 'json'"}},
      {"global log-tag", "global\n    log-tag\n", 2, {"log-tag TAG"}},
      {"stats", "listen s\n    stats auth nopassword\n", 2, {"stats auth needs USER:PASSWORD"}},
      {"stats",
       "listen s\n    stats socket /x.sock\n",
       2,
       {"'stats socket' belongs in the global section"}},
      {"stats",
       "listen s\n    stats enabel\n",
       2,
       {"unknown or incomplete 'stats enabel'", "did you mean 'enable'?"}},
      {"log",
       "frontend f\n    log /dev/log local0 info debug extra\n",
       2,
       {"unexpected 'extra' after the log level"}},
      {"global stats",
       "global\n    stats socket admin.sock\n",
       2,
       {"stats socket 'admin.sock'", "missing port", "a path with a '/'"}},
      {"global stats",
       "global\n    stats socket /run/lb.sock level root\n",
       2,
       {"unknown stats socket level 'root'", "user, operator or admin"}},
      {"global stats",
       "global\n    stats socket /run/lb.sock mode 999\n",
       2,
       {"mode '999' is not an octal permission"}},
      {"global stats",
       "global\n    stats socket /run/lb.sock lvl admin\n",
       2,
       {"unknown stats socket option 'lvl'", "did you mean 'level'?"}},
      {"global stats",
       "global\n    stats socket /a.sock\n    stats socket /a.sock\n",
       3,
       {"stats socket '/a.sock' is declared twice"}},
      {"global stats",
       "global\n    stats sockett /a.sock\n",
       2,
       {"unknown 'stats sockett'", "did you mean 'socket'?"}},
      {"option", "global\n    option redispatch\n", 2, {"'option' is not allowed in the 'global'"}},
      {"bind", "global\n    bind *:80\n", 2, {"'bind' is not allowed in the 'global' section"}},
      {"timeout",
       "global\n    timeout client 5s\n",
       2,
       {"'timeout' is not allowed in the 'global'"}},
      // ---- sections ----
      {"bind", "defaults\n    bind *:80\n", 2, {"'bind' is not allowed in a 'defaults' section"}},
      {"server",
       "defaults\n    server s1 10.0.0.1:80\n",
       2,
       {"'server' is not allowed in a 'defaults' section"}},
      {"maxconn", "maxconn 100\n", 1, {"'maxconn' outside of any section"}},
      // ---- mode ----
      {"mode", "frontend f\n    mode udp\n", 2, {"unknown mode 'udp'", "did you mean 'tcp'?"}},
      {"mode", "frontend f\n    mode\n", 2, {"'mode' expects 1 argument"}},
      // ---- bind ----
      {"bind", "frontend f\n    bind\n", 2, {"'bind' needs an address"}},
      {"bind", "frontend f\n    bind 10.0.0.1\n", 2, {"bind: missing port in '10.0.0.1'"}},
      {"bind", "frontend f\n    bind *:8010-8000\n", 2, {"bind: invalid port range"}},
      {"bind", "frontend f\n    bind *:99999\n", 2, {"bind: invalid port '99999'"}},
      {"bind", "frontend f\n    bind *:443 ssl\n", 2, {"'ssl' is not supported", "TLS"}},
      {"bind", "frontend f\n    bind *:443 crt /etc/ssl/site.pem\n", 2, {"'crt' is not supported"}},
      {"bind", "frontend f\n    bind *:443 ssl crt /etc/ssl/site.pem\n", 2, {"'crt'"}, 2},
      {"bind", "frontend f\n    bind [::]:80 v4v6 v6only\n", 2, {"'v4v6' and 'v6only' contradict"}},
      {"bind", "frontend f\n    bind *:80 tfa\n", 2, {"unknown bind option 'tfa'", "'tfo'"}},
      {"source",
       "backend b\n    source 10.0.0.1 usesrc clientip\n",
       2,
       {"'source' is not supported"}},
      {"bind",
       "frontend f\n    bind *:80 acept-proxy\n",
       2,
       {"unknown bind option 'acept-proxy'", "did you mean 'accept-proxy'?"}},
      {"bind", "frontend f\n    bind *:80 name\n", 2, {"bind option 'name' needs a value"}},
      {"bind", "frontend f\n    bind *:80 backlog 0\n", 2, {"'backlog' expects a whole number"}},
      {"bind", "frontend f\n    bind *:80 maxconn lots\n", 2, {"'maxconn'", "not 'lots'"}},
      {"bind", "frontend f\n    bind *:80,10.0.0.1\n", 2, {"missing port in '10.0.0.1'"}},
      // ---- default_backend, maxconn ----
      {"default_backend",
       "frontend f\n    default_backend\n",
       2,
       {"'default_backend' expects 1 argument"}},
      {"default_backend",
       "frontend f\n    default_backend a b\n",
       2,
       {"'default_backend' expects 1 argument"}},
      {"maxconn", "frontend f\n    maxconn many\n", 2, {"'maxconn' expects a whole number"}},
      // ---- timeout ----
      {"timeout", "backend b\n    timeout\n", 2, {"'timeout' needs a name and a time"}},
      {"timeout",
       "backend b\n    timeout conect 5s\n",
       2,
       {"unknown timeout 'conect'", "did you mean 'connect'?"}},
      {"timeout", "backend b\n    timeout connect\n", 2, {"'timeout connect' expects one time"}},
      {"timeout",
       "backend b\n    timeout connect 5 s\n",
       2,
       {"'timeout connect' expects one time"}},
      {"timeout",
       "backend b\n    timeout connect 5x\n",
       2,
       {"'timeout connect'", "unknown time unit 'x'"}},
      {"timeout", "backend b\n    timeout server 50d\n", 2, {"'timeout server'", "too large"}},
      {"timeout",
       "backend b\n    timeout server 5000000000\n",
       2,
       {"'timeout server'", "too large"}},
      // ---- balance ----
      {"balance", "backend b\n    balance\n", 2, {"'balance' needs an algorithm"}},
      {"balance", "backend b\n    balance uri\n", 2, {"'balance uri' needs HTTP"}},
      {"balance", "backend b\n    balance url_param id\n", 2, {"'balance url_param' needs HTTP"}},
      {"balance", "backend b\n    balance hdr(host)\n", 2, {"'balance hdr(host)' needs HTTP"}},
      {"balance", "backend b\n    balance rdp-cookie\n", 2, {"'balance rdp-cookie' needs HTTP"}},
      {"balance",
       "backend b\n    balance leastconnn\n",
       2,
       {"unknown balance algorithm 'leastconnn'", "did you mean 'leastconn'?"}},
      {"balance", "backend b\n    balance roundrobin extra\n", 2, {"takes no further argument"}},
      {"balance", "backend b\n    balance random(0)\n", 2, {"'balance random(N)'", "1 to 100"}},
      {"balance", "backend b\n    balance random(101)\n", 2, {"'balance random(N)'", "1 to 100"}},
      {"balance", "backend b\n    balance random(x)\n", 2, {"'balance random(N)'", "not 'x'"}},
      // ---- retries, no, disabled/enabled, routing ----
      {"retries", "backend b\n    retries 101\n", 2, {"'retries'", "from 0 to 100"}},
      {"retries", "backend b\n    retries\n", 2, {"'retries' expects 1 argument"}},
      {"no", "backend b\n    no redispatch\n", 2, {"'no' must be followed by 'option' or 'log'"}},
      {"disabled", "backend b\n    disabled now\n", 2, {"'disabled' expects no argument"}},
      {"enabled", "backend b\n    enabled yes\n", 2, {"'enabled' expects no argument"}},
      {"use_backend",
       "frontend f\n    use_backend b if { src 10.0.0.0/33 }\n",
       2,
       {"'use_backend'", "'10.0.0.0/33' has a bad network mask"}},
      {"tcp-request",
       "frontend f\n    tcp-request content frobnicate\n",
       2,
       {"unsupported action 'frobnicate'", "accept, reject"}},
      {"acl",
       "frontend f\n    acl local sorc 127.0.0.1\n",
       2,
       {"acl 'local'", "unknown fetch 'sorc'"}},
      // ---- options ----
      {"option", "backend b\n    option\n", 2, {"'option' needs a name"}},
      {"option", "backend b\n    no option\n", 2, {"'option' needs a name"}},
      {"option",
       "backend b\n    option redispach\n",
       2,
       {"unknown option 'redispach' in backend section", "did you mean 'redispatch'?"}},
      {"option",
       "frontend f\n    option tcplg\n",
       2,
       {"unknown option 'tcplg' in frontend section", "did you mean 'tcplog'?"}},
      {"option httpchk",
       "backend b\n    option httpchk GET / HTTP/1.1 extra\n",
       2,
       {"'option httpchk' takes at most METHOD URI VERSION"}},
      {"option httpchk",
       "backend b\n    option httpchk GET / HTTP/1.1\\r\\nnocolon\n",
       2,
       {"header 'nocolon'", "has no ':'"}},
      {"option tcp-check", "backend b\n    option tcp-check now\n", 2, {"expects no argument"}},
      {"option mysql-check",
       "backend b\n    option mysql-check user\n",
       2,
       {"'option mysql-check user' expects a user name"}},
      {"option mysql-check",
       "backend b\n    option mysql-check user lb post-42\n",
       2,
       {"takes 'post-41' or 'pre-41', not 'post-42'"}},
      {"option mysql-check",
       "backend b\n    option mysql-check login lb\n",
       2,
       {"only supports 'user <username>'"}},
      {"option pgsql-check",
       "backend b\n    option pgsql-check\n",
       2,
       {"'option pgsql-check' expects 'user <username>'"}},
      {"option redis-check", "backend b\n    option redis-check now\n", 2, {"expects no argument"}},
      {"option smtpchk",
       "backend b\n    option smtpchk EHLO a b\n",
       2,
       {"'option smtpchk' takes at most HELO|EHLO DOMAIN"}},
      {"tcp-check", "backend b\n    tcp-check expect min-recv x string a\n", 2, {"min-recv"}},
      {"tcp-check", "backend b\n    tcp-check expect string a comment\n", 2, {"needs a value"}},
      {"option spop-check",
       "backend b\n    option spop-check\n",
       2,
       {"'option spop-check' is not supported yet"}},
      // ---- http-check ----
      {"http-check", "backend b\n    http-check\n", 2, {"'http-check' needs an action"}},
      {"http-check",
       "backend b\n    http-check sned meth GET\n",
       2,
       {"unknown 'http-check' action 'sned'", "did you mean 'send'?"}},
      {"http-check", "backend b\n    http-check expect\n", 2, {"needs a match and a pattern"}},
      {"http-check", "backend b\n    http-check expect !\n", 2, {"needs a match and a pattern"}},
      {"http-check",
       "backend b\n    http-check expect status\n",
       2,
       {"'http-check expect status' needs exactly one pattern"}},
      {"http-check",
       "backend b\n    http-check expect string a b\n",
       2,
       {"needs exactly one pattern", "quote it"}},
      {"http-check",
       "backend b\n    http-check expect binary 00\n",
       2,
       {"unknown match 'binary'", "status, rstatus, string, rstring"}},
      {"http-check",
       "backend b\n    http-check expect stauts 200\n",
       2,
       {"unknown match 'stauts'", "did you mean 'status'?"}},
      {"http-check",
       "backend b\n    http-check expect min-recv 10\n",
       2,
       {"'http-check expect min-recv' is not supported; it applies to tcp-check"}},
      {"http-check",
       "backend b\n    http-check send method GET\n",
       2,
       {"unknown 'http-check send' parameter 'method'", "did you mean 'meth'?"}},
      {"http-check",
       "backend b\n    http-check send hdr Host\n",
       2,
       {"'http-check send hdr' needs 2 values"}},
      {"http-check",
       "backend b\n    http-check send uri\n",
       2,
       {"'http-check send uri' needs 1 value"}},
      {"http-check",
       "backend b\n    http-check disable-on-404 now\n",
       2,
       {"'http-check disable-on-404' takes no argument"}},
      {"http-check",
       "backend b\n    http-check connect prot 80\n",
       2,
       {"unsupported 'http-check connect' parameter 'prot'", "did you mean 'port'?"}},
      // ---- tcp-check ----
      {"tcp-check", "backend b\n    tcp-check\n", 2, {"'tcp-check' needs an action"}},
      {"tcp-check",
       "backend b\n    tcp-check sendd PING\n",
       2,
       {"unknown 'tcp-check' action 'sendd'", "did you mean 'send'?"}},
      {"tcp-check",
       "backend b\n    tcp-check connect port 0\n",
       2,
       {"'tcp-check connect port'", "from 1 to 65535"}},
      {"tcp-check",
       "backend b\n    tcp-check connect ssl\n",
       2,
       {"unsupported 'tcp-check connect' parameter 'ssl'"}},
      {"tcp-check",
       "backend b\n    tcp-check send\n",
       2,
       {"'tcp-check send' needs exactly one argument"}},
      {"tcp-check", "backend b\n    tcp-check send a b\n", 2, {"needs exactly one argument"}},
      {"tcp-check",
       "backend b\n    tcp-check comment\n",
       2,
       {"'tcp-check comment' needs exactly one"}},
      {"tcp-check",
       "backend b\n    tcp-check send-binary 0g\n",
       2,
       {"'tcp-check send-binary' expects an even number of hexadecimal digits", "'0g'"}},
      {"tcp-check",
       "backend b\n    tcp-check send-binary abc\n",
       2,
       {"even number of hexadecimal"}},
      {"tcp-check",
       "backend b\n    tcp-check expect status 200\n",
       2,
       {"unknown match 'status' in 'tcp-check expect'", "string, rstring, binary"}},
      {"tcp-check",
       "backend b\n    tcp-check expect binary zz\n",
       2,
       {"'tcp-check expect binary' expects hexadecimal digits"}},
      {"tcp-check", "backend b\n    tcp-check expect rstring\n", 2, {"needs exactly one pattern"}},
      // ---- server and its settings ----
      {"server", "backend b\n    server s1\n", 2, {"'server' needs a name and an address"}},
      {"server", "backend b\n    server s1 10.0.0.1:99999\n", 2, {"server 's1'", "invalid port"}},
      {"server", "backend b\n    server s1 [::1:80\n", 2, {"server 's1'", "missing ']'"}},
      {"server",
       "backend b\n    server s1 10.0.0.1:80 ssl verify none\n",
       2,
       {"server option 'ssl' is not supported", "TLS"},
       1},
      {"server",
       "backend b\n    server s1 10.0.0.1:80 chek\n",
       2,
       {"unknown server option 'chek'", "did you mean 'check'?"}},
      {"server",
       "backend b\n    server s1 10.0.0.1:80 check-ssl\n",
       2,
       {"'check-ssl' is not supported"}},
      {"server weight",
       "backend b\n    server s1 10.0.0.1:80 weight heavy\n",
       2,
       {"'weight' expects a whole number", "'heavy'"}},
      {"server weight",
       "backend b\n    server s1 10.0.0.1:80 weight\n",
       2,
       {"server option 'weight' needs a value"}},
      {"server maxconn", "backend b\n    server s1 10.0.0.1:80 maxconn -1\n", 2, {"'maxconn'"}},
      {"server maxqueue", "backend b\n    server s1 10.0.0.1:80 maxqueue x\n", 2, {"'maxqueue'"}},
      {"server inter",
       "backend b\n    server s1 10.0.0.1:80 check inter\n",
       2,
       {"server option 'inter' needs a value"}},
      {"server inter",
       "backend b\n    server s1 10.0.0.1:80 check inter 4x\n",
       2,
       {"'inter'", "unknown time unit 'x'"}},
      {"server fastinter",
       "backend b\n    server s1 10.0.0.1:80 fastinter fast\n",
       2,
       {"'fastinter'"}},
      {"server downinter",
       "backend b\n    server s1 10.0.0.1:80 downinter 1.5s\n",
       2,
       {"'downinter'"}},
      {"server slowstart",
       "backend b\n    server s1 10.0.0.1:80 slowstart 60d\n",
       2,
       {"'slowstart'", "too large"}},
      {"server rise",
       "backend b\n    server s1 10.0.0.1:80 rise x\n",
       2,
       {"'rise' expects a whole number"}},
      {"server fall",
       "backend b\n    server s1 10.0.0.1:80 fall -2\n",
       2,
       {"'fall' expects a whole number"}},
      {"server port",
       "backend b\n    server s1 10.0.0.1:80 port 0\n",
       2,
       {"'port'", "from 1 to 65535"}},
      {"server port",
       "backend b\n    server s1 10.0.0.1:80 port 70000\n",
       2,
       {"'port'", "from 1 to 65535"}},
      {"server addr",
       "backend b\n    server s1 10.0.0.1:80 addr 10.0.0.2:80\n",
       2,
       {"'addr' expects an address without a port", "use 'port'"}},
      {"server observe",
       "backend b\n    server s1 10.0.0.1:80 check observe layer5\n",
       2,
       {"'observe' expects 'layer4' or 'layer7'", "not 'layer5'", "did you mean 'layer4'?"}},
      {"server error-limit",
       "backend b\n    server s1 10.0.0.1:80 error-limit ten\n",
       2,
       {"'error-limit' expects a whole number"}},
      {"server on-error",
       "backend b\n    server s1 10.0.0.1:80 on-error mark-dwn\n",
       2,
       {"'on-error' expects fastinter, fail-check, sudden-death or mark-down",
        "did you mean 'mark-down'?"}},
      {"server on-marked-down",
       "backend b\n    server s1 10.0.0.1:80 on-marked-down kill\n",
       2,
       {"'on-marked-down' expects 'shutdown-sessions'"}},
      {"default-server",
       "backend b\n    default-server chek\n",
       2,
       {"unknown server option 'chek'", "did you mean 'check'?"}},
      // ---- section lines ----
      {"frontend", "frontend\n", 1, {"'frontend' needs a name"}},
      {"defaults", "defaults web/app\n", 1, {"invalid defaults name 'web/app'"}},
      {"frontend", "frontend f extra\n", 1, {"unexpected 'extra' after the section name"}},
      {"backend", "backend b from\n", 1, {"'from' needs the name of a defaults section"}},
      {"backend",
       "defaults base\nbackend b from bsae\n",
       2,
       {"defaults section 'bsae' not found", "did you mean 'base'?"}},
      {"backend", std::string("backend b\n    retries 3\0x\n", 26), 2, {"NUL character"}},
  };
  return kCases;
}

class KeywordErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(KeywordErrorTest, ReportsTheLineAndWhatIsWrong) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(out.diagnostics.all(), Contains(errorAt(c.line, c.words))) << c.text;
  EXPECT_EQ(out.diagnostics.errorCount(), c.errors) << out.diagnostics.format();
  for (const auto& d : out.diagnostics.all()) {
    ASSERT_TRUE(d.where.has_value());
    EXPECT_EQ(d.where->file, "lb.cfg");
  }
}

INSTANTIATE_TEST_SUITE_P(Keywords, KeywordErrorTest, ::testing::ValuesIn(errorCases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) {
                           return caseName(info.param.tag, info.index);
                         });

// ---------------------------------------------------------------------------------------------
// Accepted with a warning: valid HAProxy that does nothing here, or that is likely a mistake.

struct WarningCase {
  std::string tag;
  std::string text;
  int line;
  std::vector<std::string> words;
};

void PrintTo(const WarningCase& c, std::ostream* os) {
  *os << c.tag << ": " << ::testing::PrintToString(c.text);
}

const std::vector<WarningCase>& warningCases() {
  static const std::vector<WarningCase> kCases{
      {"global log",
       "global\n    log 127.0.0.1 sample 1:2 local0 info\n",
       2,
       {"'log ... sample 1:2' ignored"}},
      {"global", "global main\n", 1, {"'global' takes no name", "'main' ignored"}},
      {"timeout",
       "frontend f\n    timeout http-request 10s\n",
       2,
       {"'timeout http-request' is ignored", "HTTP mode"}},
      {"timeout",
       "backend b\n    timeout client 30s\n",
       2,
       {"'timeout client' ignored because backend 'b' has no frontend capability"}},
      {"timeout",
       "frontend f\n    timeout connect 5s\n",
       2,
       {"'timeout connect' ignored because frontend 'f' has no backend capability"}},
      {"timeout",
       "backend b\n    timeout connect 5\n",
       2,
       {"'timeout connect 5' is 5 ms", "write '5s'"}},
      {"option httplog",
       "frontend f\n    option httplog\n",
       2,
       {"'option httplog' needs HTTP mode", "frontend 'f' falls back to 'option tcplog'"}},
      {"option httplog", "frontend f\n    mode tcp\n    option httplog\n", 3, {"falls back"}},
      {"http-check",
       "backend b\n    http-check send-state\n",
       2,
       {"'http-check send-state' is ignored"}},
      {"server cookie",
       "backend b\n    server s1 10.0.0.1:80 cookie s1\n",
       2,
       {"server 'cookie' is ignored", "HTTP mode"}},
      {"server id", "backend b\n    server s1 10.0.0.1:80 id 7\n", 2, {"server 'id' is ignored"}},
      {"server resolvers",
       "backend b\n    server s1 db.internal:80 resolvers dns\n",
       2,
       {"server 'resolvers' is ignored"}},
      {"server minconn",
       "backend b\n    server s1 db.internal:80 minconn 5\n",
       2,
       {"server option 'minconn 5' is ignored"}},
      {"server inter",
       "backend b\n    server s1 10.0.0.1:80 check inter 4\n",
       2,
       {"'inter 4' is 4 ms", "a time without a unit is in milliseconds", "write '4s'"}},
      {"server fastinter",
       "backend b\n    server s1 10.0.0.1:80 check fastinter 1\n",
       2,
       {"'fastinter 1' is 1 ms", "1 second"}},
      {"default-server", "backend b\n    default-server inter 2\n", 2, {"'inter 2' is 2 ms"}},
      // A keyword in a section without its capability is ignored, as HAProxy does.
      {"default_backend",
       "backend b\n    default_backend app\n",
       2,
       {"'default_backend' ignored because backend 'b' has no frontend capability"}},
      {"server",
       "frontend f\n    server s1 10.0.0.1:80\n",
       2,
       {"'server' ignored because frontend 'f' has no backend capability"}},
      {"balance",
       "frontend f\n    balance roundrobin\n",
       2,
       {"'balance' ignored because frontend 'f' has no backend capability"}},
      {"http-check",
       "frontend f\n    http-check expect status 200\n",
       2,
       {"'http-check' ignored because frontend 'f'"}},
      {"option redispatch",
       "frontend f\n    option redispatch\n",
       2,
       {"'option redispatch' ignored because frontend 'f' has no backend capability"}},
      {"option httpchk",
       "frontend f\n    option httpchk\n",
       2,
       {"'option httpchk' ignored because frontend 'f' has no backend capability"}},
      {"option tcplog",
       "backend b\n    option tcplog\n",
       2,
       {"'option tcplog' ignored because backend 'b' has no frontend capability"}},
      {"userlist",
       "userlist admins\n    user admin password x\nbackend b\n",
       1,
       {"section 'userlist' is ignored"}},
      {"stats", "backend b\n    stats enable\n", 2, {"'stats' is ignored in a backend"}},
      {"stats", "listen s\n    stats hide-version\n", 2, {"'stats hide-version' ignored"}},
      {"http-request",
       "frontend f\n    http-request deny\n",
       2,
       {"'http-request' is ignored", "HTTP mode only"}},
      {"global stats",
       "global\n    stats socket /run/lb.sock user haproxy expose-fd listeners\n",
       2,
       {"'user haproxy' ignored"}},
      {"chroot", "global\n    chroot /var/lib/haproxy\n", 2, {"'chroot' is ignored"}},
      {"user", "global\n    user haproxy\n", 2, {"'user' is ignored"}},
      {"daemon", "global\n    daemon\n", 2, {"'daemon' is ignored", "foreground"}},
      {"errorfile",
       "defaults\n    errorfile 503 /etc/haproxy/errors/503.http\n",
       2,
       {"'errorfile' is ignored", "HTTP mode only"}},
      {"option http-server-close",
       "defaults\n    option http-server-close\n",
       2,
       {"'option http-server-close' is ignored", "HTTP mode only"}},
      {"option forwardfor",
       "backend b\n    option forwardfor\n",
       2,
       {"'option forwardfor' is ignored"}},
  };
  return kCases;
}

class KeywordWarningTest : public ::testing::TestWithParam<WarningCase> {};

TEST_P(KeywordWarningTest, WarnsAtTheLine) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(out.diagnostics.all(), Contains(warningAt(c.line, c.words))) << c.text;
  EXPECT_EQ(out.diagnostics.errorCount(), 0) << out.diagnostics.format();
}

INSTANTIATE_TEST_SUITE_P(Keywords, KeywordWarningTest, ::testing::ValuesIn(warningCases()),
                         [](const ::testing::TestParamInfo<WarningCase>& info) {
                           return caseName(info.param.tag, info.index);
                         });

// Every entry of the keyword tables has at least one case above, so a keyword added to a table
// without a test fails here.
TEST(KeywordCoverageTest, EveryKeywordOfTheTablesHasACase) {
  std::set<std::string> covered;
  for (const auto& c : parseCases()) covered.insert(c.tag);
  for (const auto& c : errorCases()) covered.insert(c.tag);
  for (const auto& c : warningCases()) covered.insert(c.tag);

  std::vector<std::string> required;
  for (const auto& spec : detail::proxyKeywords()) required.emplace_back(spec.name);
  for (const auto& spec : detail::checkKeywords()) required.emplace_back(spec.name);
  for (const auto& spec : detail::globalKeywords())
    required.push_back("global " + std::string(spec.name));
  for (const auto& spec : detail::proxyOptions())
    required.push_back("option " + std::string(spec.name));
  for (const auto& spec : detail::checkOptions())
    required.push_back("option " + std::string(spec.name));
  for (const auto& name : detail::serverSettingNames()) required.push_back("server " + name);

  for (const auto& name : required)
    EXPECT_TRUE(covered.count(name) > 0) << "no test case for '" << name << "'";
}

// Every keyword and option HAProxy has that lb ignores is accepted with a warning saying why.
TEST(IgnoredKeywordTest, EveryIgnoredKeywordWarnsWithItsReason) {
  for (const auto& spec : detail::ignoredKeywords()) {
    const char* section = (spec.caps & detail::kCapGlobal) ? "global" : "backend b";
    std::string text = std::string(section) + "\n    " + std::string(spec.name) + " some value\n";
    SCOPED_TRACE(text);
    auto out = parseHaproxy(text);
    EXPECT_THAT(out.diagnostics.all(),
                ElementsAre(warningAt(
                    2, {"'" + std::string(spec.name) + "' is ignored", std::string(spec.reason)})));
  }
}

TEST(IgnoredKeywordTest, EveryIgnoredOptionWarnsWithItsReason) {
  for (const auto& spec : detail::ignoredOptions()) {
    for (const char* section : {"defaults", "frontend f", "backend b"}) {
      std::string text = std::string(section) + "\n    option " + std::string(spec.name) + "\n";
      SCOPED_TRACE(text);
      auto out = parseHaproxy(text);
      EXPECT_THAT(out.diagnostics.all(),
                  ElementsAre(warningAt(2, {"'option " + std::string(spec.name) + "' is ignored",
                                            std::string(spec.reason)})));
    }
  }
}

TEST(IgnoredKeywordTest, IgnoredSectionsSkipTheirLines) {
  for (const char* section :
       {"userlist", "peers", "mailers", "program", "http-errors", "ring", "cache"}) {
    std::string text = std::string(section) + " x\n    anything goes here\n    nameserver a b\n" +
                       "backend b\n    retries 4\n";
    SCOPED_TRACE(text);
    auto out = parseHaproxy(text);
    EXPECT_THAT(out.diagnostics.all(),
                ElementsAre(warningAt(1, {"section '" + std::string(section) + "' is ignored"})));
    ASSERT_EQ(out.config.backends_size(), 1);
    EXPECT_EQ(out.config.backends(0).retries(), 4u);
  }
}

// ---------------------------------------------------------------------------------------------
// Unknown words get a did-you-mean from the words valid in that section.

struct UnknownCase {
  std::string text;
  int line;
  std::vector<std::string> words;
};

void PrintTo(const UnknownCase& c, std::ostream* os) {
  *os << ::testing::PrintToString(c.text);
}

class UnknownKeywordTest : public ::testing::TestWithParam<UnknownCase> {};

TEST_P(UnknownKeywordTest, IsAnErrorWithASuggestion) {
  const auto& c = GetParam();
  auto out = parseHaproxy(c.text);
  EXPECT_THAT(out.diagnostics.all(), ElementsAre(errorAt(c.line, c.words))) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Typos, UnknownKeywordTest,
    ::testing::Values(
        UnknownCase{"backend b\n    balanse roundrobin\n",
                    2,
                    {"unknown keyword 'balanse' in 'backend' section", "did you mean 'balance'?"}},
        UnknownCase{"backend b\n    optoin redispatch\n",
                    2,
                    {"unknown keyword 'optoin'", "did you mean 'option'?"}},
        UnknownCase{"backend b\n    servr s1 10.0.0.1:80\n",
                    2,
                    {"unknown keyword 'servr'", "did you mean 'server'?"}},
        UnknownCase{"defaults\n    timout connect 5s\n",
                    2,
                    {"unknown keyword 'timout' in 'defaults' section", "did you mean 'timeout'?"}},
        UnknownCase{"frontend f\n    default-backend app\n",
                    2,
                    {"unknown keyword 'default-backend'", "did you mean 'default_backend'?"}},
        UnknownCase{"listen l\n    bnd *:80\n",
                    2,
                    {"unknown keyword 'bnd' in 'listen' section", "did you mean 'bind'?"}},
        UnknownCase{
            "global\n    nbthreads 4\n",
            2,
            {"unknown keyword 'nbthreads' in 'global' section", "did you mean 'nbthread'?"}},
        UnknownCase{
            "frontnd f\n", 1, {"'frontnd' outside of any section", "did you mean 'frontend'?"}},
        UnknownCase{"global\n    maxconn 10\nfrontnd f\n",
                    3,
                    {"unknown keyword 'frontnd' in 'global' section", "did you mean 'frontend'?"}},
        UnknownCase{"backend b\n    frobnicate\n", 2, {"unknown keyword 'frobnicate'"}},
        UnknownCase{"backend b\n    no option redispach\n",
                    2,
                    {"unknown option 'redispach'", "did you mean 'redispatch'?"}},
        UnknownCase{"defaults\n    option httpchek\n",
                    2,
                    {"unknown option 'httpchek' in defaults section", "did you mean 'httpchk'?"}}));

TEST(UnknownKeywordTest, NoSuggestionForAFarAwayWord) {
  auto out = parseHaproxy("backend b\n    frobnicate\n");
  ASSERT_EQ(out.diagnostics.all().size(), 1u);
  EXPECT_THAT(out.diagnostics.all()[0].message, Not(::testing::HasSubstr("did you mean")));
}

}  // namespace
}  // namespace lb::config
