#include "agent/runtime/check_protocols.h"

#include <algorithm>

namespace lb::runtime {

namespace protocol {

namespace {

uint8_t byteAt(std::string_view s, size_t i) {
  return static_cast<uint8_t>(s[i]);
}

// HAProxy's `cut_crlf`: up to the first CR or LF.
std::string firstLine(std::string_view s) {
  return std::string(s.substr(0, s.find_first_of("\r\n")));
}

// What follows an SMTP reply code: `res.payload(4,0),ltrim(' '),cut_crlf`.
std::string smtpText(std::string_view received) {
  if (received.size() <= 4) return "";
  std::string_view rest = received.substr(4);
  rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
  return firstLine(rest);
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string ldapBindRequest() {
  // 30 0C: LDAPMessage, 12 bytes; 02 01 01: messageID 1; 60 07: bindRequest, 7 bytes;
  // 02 01 03: version 3; 04 00: name ""; 80 00: simple authentication, "".
  return std::string("\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", 14);
}

std::string pgsqlStartup(const std::string& user) {
  uint32_t length = static_cast<uint32_t>(15 + user.size());
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
  out += std::string("\x00\x03\x00\x00", 4);  // protocol 3.0
  out += std::string("user\0", 5) + user + std::string("\0\0", 2);
  return out;
}

std::string mysqlLogin(const std::string& user, bool pre_41) {
  std::string body;
  if (pre_41) {
    body += std::string("\x00\x80", 2);      // client capabilities
    body += std::string("\x00\x00\x01", 3);  // max packet
  } else {
    body += std::string("\x00\x82\x00\x00", 4);  // capabilities: 4.1 protocol, secure auth
    body += std::string("\x00\x80\x00\x01", 4);  // max packet
    body += '\x21';                              // character set: utf8
    body += std::string(23, '\0');               // reserved
  }
  body += user + '\0';
  body += '\0';  // an empty authentication response (no password)
  size_t length = body.size();
  std::string out;
  out += static_cast<char>(length & 0xff);
  out += static_cast<char>((length >> 8) & 0xff);
  out += static_cast<char>((length >> 16) & 0xff);
  out += '\x01';  // sequence 1: the answer to the server's handshake
  out += body;
  out += std::string("\x01\x00\x00\x00\x01", 5);  // COM_QUIT, sequence 0
  return out;
}

std::string sslClientHello() {
  std::string out(
      "\x16\x03\x00\x00\x79"  // record: handshake, SSLv3, 0x79 bytes
      "\x01\x00\x00\x75"      // ClientHello, 0x75 bytes
      "\x03\x00",             // version SSLv3
      11);
  out += std::string(4, '\0');              // gmt_unix_time, set when sent
  out += "HAPROXYSSLCHK\nHAPROXYSSLCHK\n";  // random: 28 bytes
  out += '\0';                              // no session id
  out += std::string("\x00\x4e", 2);        // 78 bytes of cipher suites
  for (int cipher :
       {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
        0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
        0x1b, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a}) {
    out += '\0';
    out += static_cast<char>(cipher);
  }
  out += std::string("\x01\x00", 2);  // one compression method: null
  return out;
}

ExpectVerdict redisPong(std::string_view received, bool last_read) {
  if (received.find("+PONG\r\n") != std::string_view::npos) {
    return ExpectVerdict::pass("Redis server is ok");
  }
  if (!last_read) return ExpectVerdict::wait();
  return ExpectVerdict::fail(true, firstLine(received));
}

ExpectVerdict smtpBanner(std::string_view received, bool last_read) {
  if (received.size() < 4 && !last_read) return ExpectVerdict::wait();
  // ^[0-9]{3}[ \r], then ^2[0-9]{2}[ \r]
  bool code = received.size() >= 4 && isDigit(received[0]) && isDigit(received[1]) &&
              isDigit(received[2]) && (received[3] == ' ' || received[3] == '\r');
  if (!code) return ExpectVerdict::fail(false, firstLine(received));
  if (received[0] != '2') return ExpectVerdict::fail(true, smtpText(received));
  return ExpectVerdict::pass(smtpText(received));
}

ExpectVerdict smtpReply(std::string_view received, bool last_read) {
  if (received.size() < 4 && !last_read) return ExpectVerdict::wait();
  // ^2[0-9]{2}[- \r]
  bool ok = received.size() >= 4 && received[0] == '2' && isDigit(received[1]) &&
            isDigit(received[2]) &&
            (received[3] == '-' || received[3] == ' ' || received[3] == '\r');
  if (!ok) return ExpectVerdict::fail(true, smtpText(received));
  return ExpectVerdict::pass(smtpText(received));
}

ExpectVerdict pgsqlAuth(std::string_view received, bool last_read) {
  // !rstring ^E min-recv 5
  if (received.size() < 5 && !last_read) return ExpectVerdict::wait();
  if (!received.empty() && received[0] == 'E') {
    return ExpectVerdict::fail(false, received.size() > 6 ? printable(received.substr(6)) : "");
  }
  // rbinary ^52000000(08|0A|0C)000000(00|02|03|04|05|06) min-recv 9
  if (received.size() < 9 && !last_read) return ExpectVerdict::wait();
  auto zero = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (received[i] != '\0') return false;
    }
    return true;
  };
  bool ok = received.size() >= 9 && received[0] == 'R' && zero(1, 4) &&
            (byteAt(received, 4) == 8 || byteAt(received, 4) == 10 || byteAt(received, 4) == 12) &&
            zero(5, 8) &&
            (byteAt(received, 8) == 0 || (byteAt(received, 8) >= 2 && byteAt(received, 8) <= 6));
  if (!ok) return ExpectVerdict::fail(true, "PostgreSQL unknown error");
  return ExpectVerdict::pass("PostgreSQL server is ok");
}

namespace {

// A MySQL packet at `offset`: complete, and not an error packet.
ExpectVerdict mysqlPacket(std::string_view received, size_t offset, bool last_read) {
  if (received.size() < offset + 4) {
    return last_read ? ExpectVerdict::fail(false, "") : ExpectVerdict::wait();
  }
  size_t length = byteAt(received, offset) | (byteAt(received, offset + 1) << 8) |
                  (byteAt(received, offset + 2) << 16);
  if (received.size() < offset + length + 4) {
    return last_read ? ExpectVerdict::fail(false, "") : ExpectVerdict::wait();
  }
  if (length > 0 && byteAt(received, offset + 4) == 0xff) {
    // Error packet: 0xff, a 2-byte code, then "#SQLSTATE" and the message.
    std::string_view message =
        received.size() > offset + 7 ? received.substr(offset + 7, length - 3) : "";
    return ExpectVerdict::fail(true, std::string(message));
  }
  // The server's version, from the handshake (protocol version byte, then a C string).
  std::string_view version = received.size() > 5 ? received.substr(5) : "";
  return ExpectVerdict::pass(std::string(version.substr(0, version.find('\0'))));
}

}  // namespace

ExpectVerdict mysqlHandshake(std::string_view received, bool last_read) {
  return mysqlPacket(received, 0, last_read);
}

ExpectVerdict mysqlOk(std::string_view received, bool last_read) {
  if (received.size() < 4) return mysqlPacket(received, 0, last_read);
  size_t handshake =
      4 + (byteAt(received, 0) | (byteAt(received, 1) << 8) | (byteAt(received, 2) << 16));
  return mysqlPacket(received, handshake, last_read);
}

ExpectVerdict ldapBindResponse(std::string_view received, bool last_read) {
  const std::string not_ldap = "Not LDAPv3 protocol";
  // rbinary ^30 min-recv 14
  if (received.size() < 14 && !last_read) return ExpectVerdict::wait();
  if (received.empty() || byteAt(received, 0) != 0x30) return ExpectVerdict::fail(false, not_ldap);
  auto too_short = [&] {
    return last_read ? ExpectVerdict::fail(false, not_ldap) : ExpectVerdict::wait();
  };
  if (received.size() < 2) return too_short();
  // The LDAPMessage's length: short form, or long form on 2 or 4 bytes.
  size_t at = 1;
  size_t length = 0;
  size_t extra = 0;
  if (byteAt(received, at) & 0x80) {
    extra = byteAt(received, at) & 0x7f;
    if (extra != 2 && extra != 4) return ExpectVerdict::fail(false, not_ldap);
    if (received.size() < 2 + extra) return too_short();
    for (size_t i = 0; i < extra; ++i) length = (length << 8) | byteAt(received, at + 1 + i);
  } else {
    length = byteAt(received, at);
  }
  at += 1 + extra;
  if (received.size() < 2 + extra + length) return too_short();
  // messageID INTEGER 1, then protocolOp [APPLICATION 1] bindResponse.
  if (received.size() < at + 4 ||
      received.substr(at, 4) != std::string_view("\x02\x01\x01\x61", 4)) {
    return ExpectVerdict::fail(false, not_ldap);
  }
  at += 4;
  if (received.size() <= at) return ExpectVerdict::fail(false, not_ldap);
  at += 1 + ((byteAt(received, at) & 0x80) ? (byteAt(received, at) & 0x7f) : 0);
  // LDAPResult: resultCode ENUMERATED.
  if (received.size() < at + 3 || received.substr(at, 2) != std::string_view("\x0a\x01", 2)) {
    return ExpectVerdict::fail(false, not_ldap);
  }
  unsigned code = byteAt(received, at + 2);
  if (code != 0) {
    return ExpectVerdict::fail(true,
                               "resultCode " + std::to_string(code) +
                                   ": See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9");
  }
  return ExpectVerdict::pass("Success");
}

ExpectVerdict sslHello(std::string_view received, bool last_read) {
  // rbinary ^1[56] min-recv 5
  if (received.size() < 5 && !last_read) return ExpectVerdict::wait();
  if (!received.empty() && (byteAt(received, 0) == 0x15 || byteAt(received, 0) == 0x16)) {
    return ExpectVerdict::pass();
  }
  return ExpectVerdict::fail(false, "");
}

}  // namespace protocol

namespace {

TcpCheckStep connectLinger() {
  TcpCheckStep step;
  step.kind = TcpCheckStep::Kind::kConnect;
  step.linger = true;
  return step;
}

TcpCheckStep send(std::string bytes) {
  TcpCheckStep step;
  step.kind = TcpCheckStep::Kind::kSend;
  step.send = std::move(bytes);
  return step;
}

TcpCheckStep expect(CustomExpect parser, const char* name, bool layer6 = false) {
  TcpCheckStep step;
  step.kind = TcpCheckStep::Kind::kExpect;
  step.expect.match = ExpectRule::Match::kCustom;
  step.expect.custom = parser;
  step.expect.pattern = name;
  step.expect.layer6 = layer6;
  return step;
}

}  // namespace

std::vector<TcpCheckStep> protocolCheckSteps(const lb::v1::HealthCheck& check) {
  using lb::v1::HealthCheck;
  std::vector<TcpCheckStep> steps;
  switch (check.type()) {
    case HealthCheck::REDIS:
      steps.push_back(send(std::string(protocol::kRedisPing)));
      steps.push_back(expect(protocol::redisPong, "redis PONG"));
      break;
    case HealthCheck::SSL_HELLO: {
      TcpCheckStep hello = send(protocol::sslClientHello());
      hello.unix_time_at = protocol::kSslHelloTimeOffset;
      steps.push_back(std::move(hello));
      steps.push_back(expect(protocol::sslHello, "SSL record", true));
      break;
    }
    case HealthCheck::SMTP:
      steps.push_back(connectLinger());
      steps.push_back(expect(protocol::smtpBanner, "SMTP banner"));
      steps.push_back(
          send((check.smtp_hello().empty() ? "HELO localhost" : check.smtp_hello()) + "\r\n"));
      steps.push_back(expect(protocol::smtpReply, "SMTP 2xx"));
      break;
    case HealthCheck::PGSQL:
      steps.push_back(connectLinger());
      steps.push_back(send(protocol::pgsqlStartup(check.user())));
      steps.push_back(expect(protocol::pgsqlAuth, "PostgreSQL authentication request"));
      break;
    case HealthCheck::MYSQL:
      steps.push_back(connectLinger());
      if (!check.user().empty()) {
        steps.push_back(send(protocol::mysqlLogin(check.user(), check.mysql_pre_41())));
      }
      steps.push_back(expect(protocol::mysqlHandshake, "MySQL handshake"));
      if (!check.user().empty()) steps.push_back(expect(protocol::mysqlOk, "MySQL OK"));
      break;
    case HealthCheck::LDAP:
      steps.push_back(send(protocol::ldapBindRequest()));
      steps.push_back(expect(protocol::ldapBindResponse, "LDAP bindResponse"));
      break;
    default:
      break;
  }
  return steps;
}

}  // namespace lb::runtime
