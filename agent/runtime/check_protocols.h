#pragma once
// HAProxy's protocol checks (option mysql-check, pgsql-check, redis-check, smtpchk, ldap-check,
// ssl-hello-chk) as tcp-check steps: the bytes each sends and the parsers of the answers, as in
// HAProxy 2.6's src/tcpcheck.c, where each is a built-in tcp-check rule set.
//
// The parsers are pure functions of the bytes received so far (ExpectRule::custom), so that the
// tests feed them answers without a server.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/runtime/check_spec.h"
#include "lb/v1/config.pb.h"

namespace lb::runtime {

// The steps of a protocol check type (MYSQL ... SSL_HELLO); empty for the other types.
std::vector<TcpCheckStep> protocolCheckSteps(const lb::v1::HealthCheck& check);

namespace protocol {

// ---- what the checks send ----

// Redis: PING as a RESP array.
inline constexpr std::string_view kRedisPing = "*1\r\n$4\r\nPING\r\n";
// LDAP: a simple bind request, message 1, LDAPv3, empty DN and password (anonymous).
std::string ldapBindRequest();
// PostgreSQL: a protocol 3.0 StartupMessage with only "user".
std::string pgsqlStartup(const std::string& user);
// MySQL: the client authentication packet (sequence 1) for `user` without a password, followed
// by COM_QUIT; the 4.1 format unless `pre_41`.
std::string mysqlLogin(const std::string& user, bool pre_41);
// SSL/TLS: HAProxy's SSLv3 ClientHello record (39 common ciphers), with gmt_unix_time zero at
// kSslHelloTimeOffset (the check writes the time there when it sends).
std::string sslClientHello();
inline constexpr size_t kSslHelloTimeOffset = 11;

// ---- how the answers are read ----

// "+PONG\r\n" somewhere in the answer; else, once the server closed, L7STS with its first line.
ExpectVerdict redisPong(std::string_view received, bool last_read);
// An SMTP banner: "NNN " (else L7RSP), NNN a 2xx (else L7STS with the server's text).
ExpectVerdict smtpBanner(std::string_view received, bool last_read);
// The answer to HELO/EHLO: a 2xx ("250-" or "250 "), else L7STS with the server's text.
ExpectVerdict smtpReply(std::string_view received, bool last_read);
// PostgreSQL: an ErrorResponse ('E') fails (L7RSP, with the error's fields); an
// AuthenticationRequest ('R') that is OK, cleartext, crypt, MD5, SCM or Kerberos passes
// (HAProxy does not log in, so being asked for a password is enough); anything else is L7STS.
ExpectVerdict pgsqlAuth(std::string_view received, bool last_read);
// MySQL: the server's first packet (the handshake) is complete and not an error packet (0xff:
// L7STS with the server's message). Passes with the server's version.
ExpectVerdict mysqlHandshake(std::string_view received, bool last_read);
// MySQL: the packet after the handshake (the answer to the login) is not an error packet.
ExpectVerdict mysqlOk(std::string_view received, bool last_read);
// LDAP: an LDAPv3 message (0x30) holding bindResponse for message 1 with resultCode 0 (else
// L7STS); not LDAP: L7RSP "Not LDAPv3 protocol".
ExpectVerdict ldapBindResponse(std::string_view received, bool last_read);
// SSL/TLS: at least 5 bytes whose record type is handshake (0x16) or alert (0x15).
ExpectVerdict sslHello(std::string_view received, bool last_read);

}  // namespace protocol
}  // namespace lb::runtime
