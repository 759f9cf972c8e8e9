// HAProxy's protocol checks: the exact bytes each sends (compared with HAProxy 2.6's
// src/tcpcheck.c, written here as the hex strings HAProxy builds them from), how each reads the
// answers real servers give, and whole checks against servers played by the test.
#include <gtest/gtest.h>

#include <string>

#include "agent/runtime/check_protocols.h"
#include "tests/unit/health/probe_test_util.h"

namespace lb::health {
namespace {

using runtime::ExpectVerdict;
namespace protocol = runtime::protocol;
using Outcome = ExpectVerdict::Outcome;

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string bytes(std::string_view hex_text) {
  std::string out;
  for (size_t i = 0; i + 1 < hex_text.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex_text.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// ---- what the checks send ----

TEST(ProtocolBytesTest, RedisPing) {
  EXPECT_EQ(protocol::kRedisPing, "*1\r\n$4\r\nPING\r\n");
}

TEST(ProtocolBytesTest, LdapAnonymousSimpleBind) {
  EXPECT_EQ(hex(protocol::ldapBindRequest()), "300C020101600702010304008000");
}

TEST(ProtocolBytesTest, PgsqlStartupMessage) {
  // %[var(check.plen),htonl,hex] 00030000 7573657200 %[var(check.username),hex]00 00
  EXPECT_EQ(hex(protocol::pgsqlStartup("postgres")),
            "00000017"
            "00030000"
            "7573657200" +
                hex("postgres") +
                "00"
                "00");
}

TEST(ProtocolBytesTest, MysqlPost41LoginThenQuit) {
  // header (len userlen+7+27, seq 1), 00820000, 00800001, 21, 23 zero bytes, user, 00, 00,
  // then COM_QUIT 010000 00 01.
  std::string user = "haproxy";
  EXPECT_EQ(hex(protocol::mysqlLogin(user, false)),
            "29000001"
            "00820000"
            "00800001"
            "21" +
                std::string(46, '0') + hex(user) +
                "00"
                "00"
                "010000"
                "00"
                "01");
}

TEST(ProtocolBytesTest, MysqlPre41LoginThenQuit) {
  std::string user = "haproxy";
  EXPECT_EQ(hex(protocol::mysqlLogin(user, true)),
            "0E000001"
            "0080"
            "000001" +
                hex(user) +
                "00"
                "00"
                "010000"
                "00"
                "01");
}

TEST(ProtocolBytesTest, SslV3ClientHello) {
  std::string hello = protocol::sslClientHello();
  ASSERT_EQ(hello.size(), 5u + 0x79);
  EXPECT_EQ(hex(hello.substr(0, 11)),
            "16030000790100007503"
            "00");
  EXPECT_EQ(hello.substr(15, 28), "HAPROXYSSLCHK\nHAPROXYSSLCHK\n");
  EXPECT_EQ(hex(hello.substr(43, 3)), "00004E");
  EXPECT_EQ(hex(hello.substr(hello.size() - 6)), "0039003A0100");
  EXPECT_EQ(protocol::kSslHelloTimeOffset, 11u);
}

// ---- how answers are read ----

struct AnswerRow {
  const char* name;
  runtime::CustomExpect parser;
  std::string received;
  bool last_read;
  Outcome outcome;
  bool wrong_status = false;
  std::string info = "";
};

void PrintTo(const AnswerRow& row, std::ostream* os) {
  *os << row.name;
}

class ProtocolAnswerTest : public ::testing::TestWithParam<AnswerRow> {};

TEST_P(ProtocolAnswerTest, Reads) {
  const AnswerRow& row = GetParam();
  ExpectVerdict verdict = row.parser(row.received, row.last_read);
  EXPECT_EQ(verdict.outcome, row.outcome);
  if (row.outcome == Outcome::kFail) {
    EXPECT_EQ(verdict.wrong_status, row.wrong_status);
  }
  if (!row.info.empty()) {
    EXPECT_EQ(verdict.info, row.info);
  }
}

// A MySQL packet: 3-byte length, sequence number, payload.
std::string mysqlPacket(int sequence, const std::string& payload) {
  std::string out;
  out += static_cast<char>(payload.size() & 0xff);
  out += static_cast<char>((payload.size() >> 8) & 0xff);
  out += static_cast<char>((payload.size() >> 16) & 0xff);
  out += static_cast<char>(sequence);
  return out + payload;
}

// A handshake (protocol 10) of a MariaDB server, and its refusal of a login.
const std::string kMysqlHandshake = mysqlPacket(0,
                                                "\x0a"
                                                "10.11.6-MariaDB-0+deb12u1" +
                                                    std::string(1, '\0') + std::string(60, 'x'));
const std::string kMysqlDenied =
    mysqlPacket(2, "\xff" + bytes("1504") + "#28000Access denied for user 'x'@'localhost'");

INSTANTIATE_TEST_SUITE_P(
    Protocols, ProtocolAnswerTest,
    ::testing::Values(
        AnswerRow{"RedisPong", protocol::redisPong, "+PONG\r\n", false, Outcome::kPass, false,
                  "Redis server is ok"},
        AnswerRow{"RedisWaitsForTheWholeAnswer", protocol::redisPong, "+PO", false, Outcome::kWait},
        AnswerRow{"RedisNoAuth", protocol::redisPong, "-NOAUTH Authentication required.\r\n", true,
                  Outcome::kFail, true, "-NOAUTH Authentication required."},
        AnswerRow{"SmtpBanner", protocol::smtpBanner, "220 mx.example.com ESMTP\r\n", false,
                  Outcome::kPass, false, "mx.example.com ESMTP"},
        AnswerRow{"SmtpBannerShort", protocol::smtpBanner, "22", false, Outcome::kWait},
        AnswerRow{"SmtpBannerBusy", protocol::smtpBanner, "421 too busy\r\n", false, Outcome::kFail,
                  true, "too busy"},
        AnswerRow{"SmtpBannerNotSmtp", protocol::smtpBanner, "SSH-2.0-OpenSSH\r\n", false,
                  Outcome::kFail, false, "SSH-2.0-OpenSSH"},
        AnswerRow{"SmtpMultilineBannerFailsAsInHaproxy", protocol::smtpBanner,
                  "220-mx.example.com\r\n220 ESMTP\r\n", false, Outcome::kFail, false},
        AnswerRow{"SmtpHelo", protocol::smtpReply, "250 mx.example.com\r\n", false, Outcome::kPass,
                  false, "mx.example.com"},
        AnswerRow{"SmtpEhloMultiline", protocol::smtpReply, "250-mx.example.com\r\n250 SIZE\r\n",
                  false, Outcome::kPass},
        AnswerRow{"SmtpHeloRefused", protocol::smtpReply, "550 go away\r\n", false, Outcome::kFail,
                  true, "go away"},
        AnswerRow{"PgsqlAuthOk", protocol::pgsqlAuth, bytes("520000000800000000"), false,
                  Outcome::kPass, false, "PostgreSQL server is ok"},
        AnswerRow{"PgsqlMd5Asked", protocol::pgsqlAuth, bytes("520000000C0000000501020304"), false,
                  Outcome::kPass},
        AnswerRow{"PgsqlCleartextAsked", protocol::pgsqlAuth, bytes("520000000800000003"), false,
                  Outcome::kPass},
        AnswerRow{"PgsqlScramIsUnknownAsInHaproxy26", protocol::pgsqlAuth,
                  bytes("52000000170000000A") + "SCRAM-SHA-256" + std::string(2, '\0'), false,
                  Outcome::kFail, true, "PostgreSQL unknown error"},
        AnswerRow{"PgsqlWaits", protocol::pgsqlAuth, bytes("5200"), false, Outcome::kWait},
        AnswerRow{"PgsqlNoSuchRole", protocol::pgsqlAuth,
                  "E" + bytes("00000060") + "SFATAL" + std::string(1, '\0') + "C28000" +
                      std::string(1, '\0') + "Mrole \"nobody\" does not exist" +
                      std::string(2, '\0'),
                  false, Outcome::kFail, false, "FATAL C28000 Mrole \"nobody\" does not exist"},
        AnswerRow{"MysqlHandshake", protocol::mysqlHandshake, kMysqlHandshake, false,
                  Outcome::kPass, false, "10.11.6-MariaDB-0+deb12u1"},
        AnswerRow{"MysqlHandshakePartial", protocol::mysqlHandshake, kMysqlHandshake.substr(0, 20),
                  false, Outcome::kWait},
        AnswerRow{"MysqlHandshakeTruncated", protocol::mysqlHandshake,
                  kMysqlHandshake.substr(0, 20), true, Outcome::kFail, false},
        AnswerRow{"MysqlHostBlocked", protocol::mysqlHandshake,
                  mysqlPacket(0, "\xff" + bytes("6a04") + "Host 'x' is not allowed"), false,
                  Outcome::kFail, true},
        AnswerRow{"MysqlOk", protocol::mysqlOk,
                  kMysqlHandshake + mysqlPacket(2, bytes("00000002000000")), false, Outcome::kPass,
                  false, "10.11.6-MariaDB-0+deb12u1"},
        AnswerRow{"MysqlOkWaits", protocol::mysqlOk, kMysqlHandshake, false, Outcome::kWait},
        AnswerRow{"MysqlAccessDenied", protocol::mysqlOk, kMysqlHandshake + kMysqlDenied, false,
                  Outcome::kFail, true},
        AnswerRow{"LdapBindOk", protocol::ldapBindResponse, bytes("300C02010161070A010004000400"),
                  false, Outcome::kPass, false, "Success"},
        AnswerRow{"LdapBindLongLength", protocol::ldapBindResponse,
                  bytes("30840000000C02010161070A010004000400"), false, Outcome::kPass},
        AnswerRow{"LdapBindRefused", protocol::ldapBindResponse,
                  bytes("300C02010161070A013104000400"), false, Outcome::kFail, true},
        AnswerRow{"LdapNotLdap", protocol::ldapBindResponse, "HTTP/1.0 400 Bad Request\r\n\r\n",
                  false, Outcome::kFail, false, "Not LDAPv3 protocol"},
        AnswerRow{"LdapWaits", protocol::ldapBindResponse, bytes("300C0201"), false,
                  Outcome::kWait},
        AnswerRow{"SslHandshake", protocol::sslHello, bytes("160303004A02"), false, Outcome::kPass},
        AnswerRow{"SslAlert", protocol::sslHello, bytes("150300000202"), false, Outcome::kPass},
        AnswerRow{"SslNotTls", protocol::sslHello, "HTTP/1.1 400", false, Outcome::kFail},
        AnswerRow{"SslClosed", protocol::sslHello, "", true, Outcome::kFail},
        AnswerRow{"SslWaits", protocol::sslHello, bytes("1603"), false, Outcome::kWait}));

// ---- whole checks against servers played by the test ----

struct ProtocolCheckRow {
  const char* name;
  std::string spec;  // HealthCheck in protobuf text
  Behaviour server;
  CheckStatus status;
  bool passed;
  std::string info = "";
};

void PrintTo(const ProtocolCheckRow& row, std::ostream* os) {
  *os << row.name;
}

class ProtocolCheckTest : public ProbeTest,
                          public ::testing::WithParamInterface<ProtocolCheckRow> {};

TEST_P(ProtocolCheckTest, Runs) {
  const ProtocolCheckRow& row = GetParam();
  FakeServer server(io_, row.server);
  CheckResult r = run(spec(row.spec), target(server.endpoint(), 500ms));
  EXPECT_EQ(statusName(r.status), std::string(statusName(row.status))) << r.info;
  EXPECT_EQ(r.passed, row.passed) << r.info;
  if (!row.info.empty()) {
    EXPECT_EQ(r.info, row.info);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Probe, ProtocolCheckTest,
    ::testing::Values(
        ProtocolCheckRow{"Redis",
                         "type: REDIS",
                         {"", "PING\r\n", "+PONG\r\n", true},
                         CheckStatus::kL7Ok,
                         true,
                         "Redis server is ok"},
        ProtocolCheckRow{"RedisError",
                         "type: REDIS",
                         {"", "PING\r\n", "-LOADING\r\n", true},
                         CheckStatus::kL7Sts,
                         false,
                         "-LOADING"},
        ProtocolCheckRow{"Smtp",
                         "type: SMTP",
                         {"220 mx ESMTP\r\n", "\r\n", "250 mx\r\n", true},
                         CheckStatus::kL7Ok,
                         true,
                         "mx"},
        ProtocolCheckRow{"SmtpEhlo",
                         "type: SMTP smtp_hello: 'EHLO lb.example'",
                         {"220 mx\r\n", "EHLO lb.example\r\n", "250-mx\r\n250 8BITMIME\r\n", true},
                         CheckStatus::kL7Ok,
                         true},
        ProtocolCheckRow{"SmtpBusy",
                         "type: SMTP",
                         {"421 busy\r\n", "", "", true},
                         CheckStatus::kL7Sts,
                         false,
                         "busy"},
        ProtocolCheckRow{
            "Ldap",
            "type: LDAP",
            {"", std::string("\x80\x00", 2), bytes("300C02010161070A010004000400"), true},
            CheckStatus::kL7Ok,
            true,
            "Success"},
        ProtocolCheckRow{"SslHello",
                         "type: SSL_HELLO",
                         {"", std::string("\x3a\x01\x00", 3), bytes("1503030002022800"), true},
                         CheckStatus::kL6Ok,
                         true},
        ProtocolCheckRow{
            "SslHelloToAPlainServer",
            "type: SSL_HELLO",
            {"", std::string("\x3a\x01\x00", 3), "HTTP/1.1 400 Bad Request\r\n\r\n", true},
            CheckStatus::kL6Rsp,
            false},
        ProtocolCheckRow{"Pgsql",
                         "type: PGSQL user: 'postgres'",
                         {"", std::string("postgres\0\0", 10), bytes("520000000800000000"), true},
                         CheckStatus::kL7Ok,
                         true,
                         "PostgreSQL server is ok"},
        ProtocolCheckRow{"MysqlWithoutUser",
                         "type: MYSQL",
                         {kMysqlHandshake, "", "", true},
                         CheckStatus::kL7Ok,
                         true,
                         "10.11.6-MariaDB-0+deb12u1"},
        ProtocolCheckRow{
            "MysqlDenied",
            "type: MYSQL user: 'nobody'",
            {kMysqlHandshake, std::string("\x01\x00\x00\x00\x01", 5), kMysqlDenied, true},
            CheckStatus::kL7Sts,
            false},
        // The section's own tcp-check rules: min-recv, comment, !rstring.
        // Without min-recv a mismatch waits for more (here: the timeout); with it, it is final.
        ProtocolCheckRow{"MismatchWaits",
                         "type: TCP_CHECK tcp_check { expect { match: STRING pattern: 'OK' } }",
                         {"NOPE", "", "", false},
                         CheckStatus::kL7Tout,
                         false},
        ProtocolCheckRow{"MinRecvIsConclusive",
                         "type: TCP_CHECK tcp_check { expect { match: STRING pattern: 'OK' "
                         "min_recv: 3 } }",
                         {"NOPE", "", "", false},
                         CheckStatus::kL7Rsp,
                         false},
        ProtocolCheckRow{"CommentSaysWhy",
                         "type: TCP_CHECK tcp_check { send: 'PING\\r\\n' } tcp_check { expect { "
                         "match: STRING pattern: '+PONG' comment: 'redis answers' } }",
                         {"", "PING\r\n", "-ERR\r\n", true},
                         CheckStatus::kL7Rsp,
                         false,
                         "TCPCHK did not match content '+PONG' at step 2 comment: redis answers"},
        ProtocolCheckRow{"NegatedRegexFailsOnMatch",
                         "type: TCP_CHECK tcp_check { expect { negate: true match: RSTRING "
                         "pattern: '^-ERR' min_recv: 4 } }",
                         {"-ERR not ready\r\n", "", "", false},
                         CheckStatus::kL7Rsp,
                         false},
        ProtocolCheckRow{"NegatedRegexPassesOtherwise",
                         "type: TCP_CHECK tcp_check { expect { negate: true match: RSTRING "
                         "pattern: '^-ERR' min_recv: 4 } }",
                         {"+OK ready\r\n", "", "", false},
                         CheckStatus::kL7Ok,
                         true}));

}  // namespace
}  // namespace lb::health
