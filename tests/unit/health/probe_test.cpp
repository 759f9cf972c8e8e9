// Active check probes against servers played by the test on 127.0.0.1, on one io_context run by
// the test: TCP connect and HTTP expect rules with their timeouts. Also the pure helpers: status
// lists and the timeout rules of makeTarget. tcp-check rule lists are in tcp_check_test.cpp.
#include <gtest/gtest.h>

#include <cerrno>
#include <optional>
#include <ostream>
#include <string>

#include "agent/health/probe.h"
#include "tests/unit/health/probe_test_util.h"

namespace lb::health {
namespace {

// ---- pure helpers ----

TEST(MakeTargetTest, TimeoutRulesAreHaproxys) {
  struct Row {
    const char* name;
    milliseconds inter;
    std::optional<milliseconds> timeout_connect;
    std::optional<milliseconds> timeout_check;
    milliseconds connect;
    std::optional<milliseconds> read;
    milliseconds total;
  };
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 80);
  for (const Row& row : {
           // With timeout check: connect bounded by min(timeout connect, inter), the read by
           // timeout check.
           Row{"long connect", 2s, 5s, 1s, 2s, 1s, 2s},
           Row{"short connect", 2s, 500ms, 1s, 500ms, 1s, 2s},
           Row{"no timeout connect", 2s, std::nullopt, 3s, 2s, 3s, 2s},
           // Without it, inter bounds the whole check; timeout connect plays no part.
           Row{"no timeout check", 2s, 500ms, std::nullopt, 2s, std::nullopt, 2s},
           Row{"nothing", 300ms, std::nullopt, std::nullopt, 300ms, std::nullopt, 300ms},
       }) {
    SCOPED_TRACE(row.name);
    ProbeTarget target = makeTarget(endpoint, row.inter, row.timeout_connect, row.timeout_check);
    EXPECT_EQ(target.endpoint, endpoint);
    EXPECT_EQ(target.connect_timeout, row.connect);
    EXPECT_EQ(target.read_timeout, row.read);
    EXPECT_EQ(target.total_timeout, row.total);
  }
}

// ---- TCP connect ----

TEST_F(ProbeTest, TcpConnectAcceptedIsL4Ok) {
  FakeServer server(io_, {"", "", "", false});
  CheckResult r = run(spec("type: TCP"), target(server.endpoint()));
  EXPECT_EQ(r.status, CheckStatus::kL4Ok);
  EXPECT_TRUE(r.passed);
}

TEST_F(ProbeTest, TcpConnectRefusedIsL4Con) {
  RefusingPort refused;
  CheckResult r = run(spec("type: TCP"), target(local(refused.port())));
  EXPECT_EQ(r.status, CheckStatus::kL4Con);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.info, "Connection refused");
}

TEST_F(ProbeTest, TcpConnectUnansweredIsL4TimeoutAfterTheConnectTimeout) {
  Blackhole hole;
  if (!hole.hangs()) GTEST_SKIP() << "the kernel completed every connect; no blackhole here";
  ProbeTarget where = target(local(hole.port()), 2s);
  where.connect_timeout = 200ms;
  CheckResult r = run(spec("type: TCP"), where);
  EXPECT_EQ(r.status, CheckStatus::kL4Tout);
  EXPECT_FALSE(r.passed);
  EXPECT_GE(r.duration, 190ms);
  EXPECT_LT(r.duration, 1900ms);  // the connect bound, not the whole-check one
}

TEST_F(ProbeTest, ConnectIsAlsoBoundedByTheWholeCheck) {
  Blackhole hole;
  if (!hole.hangs()) GTEST_SKIP() << "the kernel completed every connect; no blackhole here";
  ProbeTarget where = target(local(hole.port()), 200ms);
  where.connect_timeout = 5s;
  CheckResult r = run(spec("type: TCP"), where);
  EXPECT_EQ(r.status, CheckStatus::kL4Tout);
  EXPECT_LT(r.duration, 4s);
}

// A listening socket of the test's own, served by hand (blocking calls with poll deadlines).
class HandServer {
 public:
  HandServer() {
    fd_ = bindLoopback(&port_);
    ::listen(fd_, 16);
  }
  ~HandServer() { ::close(fd_); }
  uint16_t port() const { return port_; }
  // The next connection, or -1 when none is complete within the timeout.
  int accept(milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(ProbeTest, TcpConnectCheckLeavesNoConnectionToServe) {
  // As HAProxy: the handshake's last ACK is held back and the check resets as soon as the
  // server answered the SYN, so the server has nothing to accept (or, on a loaded machine where
  // that ACK left first, a connection already reset) and neither side keeps a TIME_WAIT.
  HandServer server;
  CheckResult r = run(spec("type: TCP"), target(local(server.port())));
  ASSERT_EQ(r.status, CheckStatus::kL4Ok);
  int fd = server.accept(200ms);
  if (fd >= 0) {
    char byte;
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    EXPECT_EQ(::recv(fd, &byte, 1, 0), -1) << "the check closed gracefully instead of resetting";
    EXPECT_EQ(errno, ECONNRESET);
    ::close(fd);
  }
}

// ---- HTTP ----

struct HttpRow {
  const char* name;
  std::string reply;
  std::string expects;  // HttpCheck.expect entries in protobuf text
  CheckStatus status;
  bool passed;
};

// gtest names a failing row by its name, not its bytes.
void PrintTo(const HttpRow& row, std::ostream* os) {
  *os << row.name;
}

class HttpExpectTest : public ProbeTest, public ::testing::WithParamInterface<HttpRow> {};

TEST_P(HttpExpectTest, AnswerAgainstTheExpectRules) {
  const HttpRow& row = GetParam();
  CheckResult r = http(row.reply, row.expects);
  EXPECT_EQ(r.status, row.status) << statusName(r.status) << ": " << r.info;
  EXPECT_EQ(r.passed, row.passed) << r.info;
}

const std::string k200 = response("200 OK", "all ready");
const std::string kMaint = response("200 OK", "under maintenance");

INSTANTIATE_TEST_SUITE_P(
    Probe, HttpExpectTest,
    ::testing::Values(
        // No expect rule: 2xx and 3xx pass.
        HttpRow{"Default200", k200, "", CheckStatus::kL7Ok, true},
        HttpRow{"Default204", response("204 No Content", ""), "", CheckStatus::kL7Ok, true},
        HttpRow{"Default302", response("302 Found", ""), "", CheckStatus::kL7Ok, true},
        HttpRow{"Default404", response("404 Not Found", ""), "", CheckStatus::kL7Sts, false},
        HttpRow{"Default503", response("503 Service Unavailable", ""), "", CheckStatus::kL7Sts,
                false},
        HttpRow{"Default101", response("101 Switching", ""), "", CheckStatus::kL7Sts, false},
        // status
        HttpRow{"StatusMatches", k200, "expect { match: STATUS pattern: '200' }",
                CheckStatus::kL7Ok, true},
        HttpRow{"StatusRange", k200, "expect { match: STATUS pattern: '200-299,302' }",
                CheckStatus::kL7Ok, true},
        HttpRow{"StatusWrong", response("302 Found", ""), "expect { match: STATUS pattern: '200' }",
                CheckStatus::kL7Sts, false},
        HttpRow{"StatusNegatedMatching", k200,
                "expect { negate: true match: STATUS pattern: '200' }", CheckStatus::kL7Sts, false},
        HttpRow{"StatusNegatedOther", response("503 Service Unavailable", ""),
                "expect { negate: true match: STATUS pattern: '200' }", CheckStatus::kL7Ok, true},
        // rstatus
        HttpRow{"RstatusMatches", response("204 No Content", ""),
                "expect { match: RSTATUS pattern: '^2' }", CheckStatus::kL7Ok, true},
        HttpRow{"RstatusWrong", response("500 Internal Server Error", ""),
                "expect { match: RSTATUS pattern: '^2' }", CheckStatus::kL7Sts, false},
        HttpRow{"RstatusNegated", response("500 Internal Server Error", ""),
                "expect { negate: true match: RSTATUS pattern: '^5' }", CheckStatus::kL7Sts, false},
        // string
        HttpRow{"StringFound", k200, "expect { match: STRING pattern: 'ready' }",
                CheckStatus::kL7Ok, true},
        HttpRow{"StringMissing", kMaint, "expect { match: STRING pattern: 'ready' }",
                CheckStatus::kL7Rsp, false},
        HttpRow{"StringNegatedFound", kMaint,
                "expect { negate: true match: STRING pattern: 'maintenance' }", CheckStatus::kL7Rsp,
                false},
        HttpRow{"StringNegatedMissing", k200,
                "expect { negate: true match: STRING pattern: 'maintenance' }", CheckStatus::kL7Ok,
                true},
        // A string expect reads the body, whatever the status.
        HttpRow{"StringOnAnErrorPage", response("503 Service Unavailable", "all ready"),
                "expect { match: STRING pattern: 'ready' }", CheckStatus::kL7Ok, true},
        // rstring
        HttpRow{"RstringMatches", response("200 OK", "ok 42"),
                "expect { match: RSTRING pattern: '^ok [0-9]+$' }", CheckStatus::kL7Ok, true},
        HttpRow{"RstringMismatch", response("200 OK", "ok x"),
                "expect { match: RSTRING pattern: '^ok [0-9]+$' }", CheckStatus::kL7Rsp, false},
        HttpRow{"RstringNegatedMatching", response("200 OK", "an error occurred"),
                "expect { negate: true match: RSTRING pattern: 'err(or)?' }", CheckStatus::kL7Rsp,
                false},
        HttpRow{"RstringNegatedOther", response("200 OK", "fine"),
                "expect { negate: true match: RSTRING pattern: 'err(or)?' }", CheckStatus::kL7Ok,
                true},
        // Several rules: all must pass.
        HttpRow{"AllRulesPass", k200,
                "expect { match: STATUS pattern: '200' } expect { match: STRING pattern: 'ready' }",
                CheckStatus::kL7Ok, true},
        HttpRow{"SecondRuleFails", kMaint,
                "expect { match: STATUS pattern: '200' } expect { match: STRING pattern: 'ready' }",
                CheckStatus::kL7Rsp, false},
        HttpRow{"FirstRuleFails", response("503 Service Unavailable", "all ready"),
                "expect { match: STATUS pattern: '200' } expect { match: STRING pattern: 'ready' }",
                CheckStatus::kL7Sts, false},
        // A body without Content-Length ends with the connection.
        HttpRow{"BodyUntilClose", "HTTP/1.0 200 OK\r\n\r\nall ready",
                "expect { match: STRING pattern: 'ready' }", CheckStatus::kL7Ok, true},
        // Not HTTP at all, or cut short.
        HttpRow{"Garbage", "SSH-2.0-OpenSSH_9.2\r\n\r\n", "", CheckStatus::kL7Rsp, false},
        HttpRow{"BadStatusLine", "HTTP/1.0 abc OK\r\n\r\n", "", CheckStatus::kL7Rsp, false},
        HttpRow{"ClosedWithoutAnswer", "", "", CheckStatus::kL7Rsp, false},
        HttpRow{"ClosedInTheHeaders", "HTTP/1.0 200 OK\r\nContent-Le", "", CheckStatus::kL7Rsp,
                false}),
    [](const ::testing::TestParamInfo<HttpRow>& info) { return std::string(info.param.name); });

TEST_F(ProbeTest, HttpWrongStatusSaysWhichCode) {
  CheckResult r = http(response("503 Service Unavailable", ""));
  EXPECT_EQ(r.status, CheckStatus::kL7Sts);
  EXPECT_EQ(r.info, "HTTP status check returned code <503>");
}

TEST_F(ProbeTest, HttpPassSaysTheStatus) {
  CheckResult r = http(k200);
  EXPECT_EQ(r.status, CheckStatus::kL7Ok);
  EXPECT_EQ(r.info, "200 OK");
}

TEST_F(ProbeTest, HttpSendsTheConfiguredRequest) {
  FakeServer server(io_, {"", "x=1", response("200 OK", ""), true});
  auto check = spec(
      "type: HTTP http { method: 'POST' uri: '/health?full=1' version: 'HTTP/1.1' "
      "headers { name: 'Host' value: 'www.example.com' } body: 'x=1' }");
  CheckResult r = run(check, target(server.endpoint()));
  EXPECT_TRUE(r.passed) << r.info;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0],
            "POST /health?full=1 HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nx=1");
}

TEST_F(ProbeTest, HttpDefaultRequestIsOptionsHttp10) {
  FakeServer server(io_, {"", "\r\n\r\n", response("200 OK", ""), true});
  run(httpSpec(), target(server.endpoint()));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0], "OPTIONS / HTTP/1.0\r\nConnection: close\r\n\r\n");
}

TEST_F(ProbeTest, HttpSilentServerIsL7TimeoutAfterInter) {
  FakeServer server(io_, {"", "", "", false});
  CheckResult r = run(httpSpec(), target(server.endpoint(), 200ms));
  EXPECT_EQ(r.status, CheckStatus::kL7Tout);
  EXPECT_FALSE(r.passed);
  EXPECT_GE(r.duration, 190ms);
  EXPECT_LT(r.duration, 2s);
}

TEST_F(ProbeTest, HttpReadIsBoundedByTimeoutCheckOnceConnected) {
  FakeServer server(io_, {"", "", "", false});
  ProbeTarget where = target(server.endpoint(), 10s);  // inter: long
  where.read_timeout = 200ms;                          // timeout check: short
  CheckResult r = run(httpSpec(), where);
  EXPECT_EQ(r.status, CheckStatus::kL7Tout);
  EXPECT_GE(r.duration, 190ms);
  EXPECT_LT(r.duration, 5s);
}

TEST_F(ProbeTest, HttpRefusedIsL4Con) {
  RefusingPort refused;
  CheckResult r = run(httpSpec(), target(local(refused.port())));
  EXPECT_EQ(r.status, CheckStatus::kL4Con);
}

}  // namespace
}  // namespace lb::health
