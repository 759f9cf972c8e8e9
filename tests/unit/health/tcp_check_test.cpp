// tcp-check rule lists against servers played by the test on 127.0.0.1: send, send-binary,
// expect string/rstring/binary with and without `!`, connect rules, timeouts, and the status a
// passing run reports.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "agent/health/probe.h"
#include "tests/unit/health/probe_test_util.h"

namespace lb::health {
namespace {

// ---- tcp-check ----

struct TcpCheckRow {
  const char* name;
  Behaviour server;
  std::string rules;  // HealthCheck.tcp_check entries in protobuf text
  CheckStatus status;
  bool passed;
  std::string info = "";  // checked when not empty
};

// gtest names a failing row by its name, not its bytes.
void PrintTo(const TcpCheckRow& row, std::ostream* os) {
  *os << row.name;
}

class TcpCheckTest : public ProbeTest, public ::testing::WithParamInterface<TcpCheckRow> {};

TEST_P(TcpCheckTest, RulesRunInOrder) {
  const TcpCheckRow& row = GetParam();
  FakeServer server(io_, row.server);
  ProbeTarget where = target(server.endpoint(), 300ms);
  CheckResult r = run(spec("type: TCP_CHECK " + row.rules), where);
  EXPECT_EQ(r.status, row.status) << statusName(r.status) << ": " << r.info;
  EXPECT_EQ(r.passed, row.passed) << r.info;
  if (!row.info.empty()) {
    EXPECT_EQ(r.info, row.info);
  }
}

const std::string kPing = "tcp_check { send: 'PING\\r\\n' } ";
const Behaviour kPong{"", "PING\r\n", "+PONG\r\n", true};

INSTANTIATE_TEST_SUITE_P(
    Probe, TcpCheckTest,
    ::testing::Values(
        TcpCheckRow{"SendExpectString", kPong,
                    kPing + "tcp_check { expect { match: STRING pattern: '+PONG' } }",
                    CheckStatus::kL7Ok, true},
        TcpCheckRow{"SendExpectStringMismatch",
                    {"", "PING\r\n", "-ERR busy\r\n", true},
                    kPing + "tcp_check { expect { match: STRING pattern: '+PONG' } }",
                    CheckStatus::kL7Rsp,
                    false,
                    "TCPCHK did not match content '+PONG' at step 2"},
        TcpCheckRow{"Rstring", kPong,
                    kPing + "tcp_check { expect { match: RSTRING pattern: '^\\\\+PO[A-Z]+' } }",
                    CheckStatus::kL7Ok, true},
        TcpCheckRow{"RstringMismatch", kPong,
                    kPing + "tcp_check { expect { match: RSTRING pattern: '^-ERR' } }",
                    CheckStatus::kL7Rsp, false},
        TcpCheckRow{"Binary", kPong,
                    "tcp_check { send_binary: '50494e470d0a' } "
                    "tcp_check { expect { match: BINARY pattern: '2b504f4e47' } }",
                    CheckStatus::kL7Ok, true},
        TcpCheckRow{"BinaryMismatch", kPong,
                    kPing + "tcp_check { expect { match: BINARY pattern: '00ff' } }",
                    CheckStatus::kL7Rsp, false},
        // `!`: passes when the server closes without the pattern, fails when it is there.
        TcpCheckRow{"NegatedAbsent", kPong,
                    kPing + "tcp_check { expect { negate: true match: STRING pattern: '-ERR' } }",
                    CheckStatus::kL7Ok, true},
        TcpCheckRow{"NegatedPresent",
                    {"", "PING\r\n", "-ERR busy\r\n", true},
                    kPing + "tcp_check { expect { negate: true match: STRING pattern: '-ERR' } }",
                    CheckStatus::kL7Rsp,
                    false,
                    "TCPCHK matched unwanted content '-ERR' at step 2"},
        TcpCheckRow{"NegatedRstringPresent",
                    {"", "PING\r\n", "-ERR busy\r\n", true},
                    kPing + "tcp_check { expect { negate: true match: RSTRING pattern: 'E[R]+' } }",
                    CheckStatus::kL7Rsp,
                    false},
        TcpCheckRow{"NegatedBinaryAbsent", kPong,
                    kPing + "tcp_check { expect { negate: true match: BINARY pattern: '2d' } }",
                    CheckStatus::kL7Ok, true},
        // As HAProxy: an answer that never becomes conclusive is a timeout, negated or not.
        TcpCheckRow{"NegatedButTheServerNeverCloses",
                    {"", "PING\r\n", "+PONG\r\n", false},
                    kPing + "tcp_check { expect { negate: true match: STRING pattern: '-ERR' } }",
                    CheckStatus::kL7Tout,
                    false},
        TcpCheckRow{"Timeout",
                    {"", "PING\r\n", "", false},
                    kPing + "tcp_check { expect { match: STRING pattern: '+PONG' } }",
                    CheckStatus::kL7Tout,
                    false,
                    "TCPCHK timeout waiting for '+PONG' at step 2"},
        TcpCheckRow{"NegatedThenPlainOnTheSameAnswer", kPong,
                    kPing + "tcp_check { expect { negate: true match: STRING pattern: '-ERR' } } "
                            "tcp_check { expect { match: STRING pattern: '+PONG' } }",
                    CheckStatus::kL7Ok, true},
        // A banner: expect without send.
        TcpCheckRow{"Banner",
                    {"220 smtp.example.com ESMTP\r\n", "", "", false},
                    "tcp_check { expect { match: STRING pattern: '220 ' } }",
                    CheckStatus::kL7Ok,
                    true},
        // Consecutive expects look at the same answer (only a send starts a new one).
        TcpCheckRow{"TwoExpectsOnOneAnswer",
                    {"", "PING\r\n", "+PONG ready\r\n", true},
                    kPing + "tcp_check { expect { match: STRING pattern: '+PONG' } } "
                            "tcp_check { expect { match: STRING pattern: 'ready' } }",
                    CheckStatus::kL7Ok,
                    true},
        // A conversation: banner, then a command and its answer.
        TcpCheckRow{"BannerThenCommand",
                    {"+OK hello\r\n", "QUIT\r\n", "+OK bye\r\n", true},
                    "tcp_check { expect { match: STRING pattern: '+OK hello' } } "
                    "tcp_check { send: 'QUIT\\r\\n' } "
                    "tcp_check { expect { match: STRING pattern: '+OK bye' } }",
                    CheckStatus::kL7Ok,
                    true},
        // The status names the last rule run: L4OK after a connect, L7OK after an exchange.
        TcpCheckRow{"OnlyConnect",
                    {"", "", "", false},
                    "tcp_check { connect {} }",
                    CheckStatus::kL4Ok,
                    true},
        TcpCheckRow{"NoRuleIsAConnectCheck", {"", "", "", false}, "", CheckStatus::kL4Ok, true},
        TcpCheckRow{"EndsWithSend", {"", "", "", false}, kPing, CheckStatus::kL7Ok, true},
        TcpCheckRow{"CommentsDoNotCount",
                    {"", "", "", false},
                    "tcp_check { connect {} } tcp_check { comment: 'just connect' }",
                    CheckStatus::kL4Ok,
                    true}),
    [](const ::testing::TestParamInfo<TcpCheckRow>& info) { return std::string(info.param.name); });

TEST_F(ProbeTest, TcpCheckConnectGoesWhereTheRuleSays) {
  RefusingPort refused;  // the server's own address: refused
  FakeServer other(io_, kPong);
  auto check = spec("type: TCP_CHECK tcp_check { connect { port: " + std::to_string(other.port()) +
                    " addr: '127.0.0.1' } } " + kPing +
                    "tcp_check { expect { match: STRING pattern: '+PONG' } }");
  CheckResult r = run(check, target(local(refused.port())));
  EXPECT_EQ(r.status, CheckStatus::kL7Ok) << r.info;
  EXPECT_EQ(other.requests().size(), 1u);
}

TEST_F(ProbeTest, TcpCheckImplicitConnectToARefusedServerIsL4Con) {
  RefusingPort refused;
  CheckResult r = run(spec("type: TCP_CHECK " + kPing), target(local(refused.port())));
  EXPECT_EQ(r.status, CheckStatus::kL4Con);
}

TEST_F(ProbeTest, TcpCheckReadIsBoundedByTimeoutCheck) {
  FakeServer server(io_, {"", "", "", false});
  ProbeTarget where = target(server.endpoint(), 10s);
  where.read_timeout = 150ms;
  CheckResult r =
      run(spec("type: TCP_CHECK tcp_check { expect { match: STRING pattern: 'x' } }"), where);
  EXPECT_EQ(r.status, CheckStatus::kL7Tout);
  EXPECT_LT(r.duration, 5s);
}

}  // namespace
}  // namespace lb::health
