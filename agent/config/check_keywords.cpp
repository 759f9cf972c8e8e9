// Health-check keywords: option httpchk / tcp-check / log-health-checks, the protocol checks
// (mysql-check, pgsql-check, redis-check, smtpchk, ldap-check, ssl-hello-chk), and the
// http-check and tcp-check rule lines.
#include <array>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/lexical.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

namespace {

using lb::v1::Expect;
using lb::v1::HealthCheck;

constexpr unsigned kBe = kCapDefaults | kCapBackend;

// The first own http-check/tcp-check rule of a section replaces the rules from defaults.
HealthCheck& ownRules(KeywordContext& ctx) {
  HealthCheck& check = *ctx.proxy->backend.mutable_health_check();
  if (ctx.proxy->check_rules_inherited) {
    ctx.proxy->check_rules_inherited = false;
    auto* http = check.mutable_http();
    http->clear_headers();
    http->clear_body();
    http->clear_expect();
    http->clear_connect();
    check.clear_tcp_check();
  }
  return check;
}

void optionHttpchk(KeywordContext& ctx, bool negate) {
  if (negate) {
    HealthCheck& check = *ctx.proxy->backend.mutable_health_check();
    if (check.type() == HealthCheck::HTTP) check.set_type(HealthCheck::TYPE_UNSPECIFIED);
    return;
  }
  // The section's own check: it replaces the rules from defaults (HAProxy resets them here),
  // and the headers it sets are not dropped by the section's first http-check rule.
  HealthCheck& check = ownRules(ctx);
  check.set_type(HealthCheck::HTTP);
  auto* http = check.mutable_http();
  // option httpchk [<uri>] | [<method> <uri> [<version>]]
  const auto& w = ctx.words;
  if (w.size() == 2) {
    http->set_uri(w[1]);
  } else if (w.size() >= 3) {
    http->set_method(w[1]);
    http->set_uri(w[2]);
  }
  if (w.size() >= 4) {
    // Old configs smuggle headers in the version: "HTTP/1.1\r\nHost:\ www".
    std::string version = w[3];
    auto crlf = version.find("\r\n");
    http->set_version(version.substr(0, crlf));
    while (crlf != std::string::npos) {
      size_t start = crlf + 2;
      crlf = version.find("\r\n", start);
      std::string line = version.substr(start, crlf == std::string::npos ? crlf : crlf - start);
      if (line.empty()) continue;
      auto colon = line.find(':');
      if (colon == std::string::npos) {
        ctx.error("header '" + line + "' in 'option httpchk' has no ':'");
        continue;
      }
      auto* header = http->add_headers();
      header->set_name(line.substr(0, colon));
      size_t value = line.find_first_not_of(' ', colon + 1);
      header->set_value(value == std::string::npos ? "" : line.substr(value));
    }
  }
  if (w.size() > 4) ctx.error("'option httpchk' takes at most METHOD URI VERSION");
  ctx.markBackend("health_check");
}

void optionTcpCheck(KeywordContext& ctx, bool negate) {
  HealthCheck& check = *ctx.proxy->backend.mutable_health_check();
  if (negate) {
    if (check.type() == HealthCheck::TCP_CHECK) check.set_type(HealthCheck::TYPE_UNSPECIFIED);
    return;
  }
  if (!ctx.expectArgs(0, "option tcp-check")) return;
  check.set_type(HealthCheck::TCP_CHECK);
  ctx.markBackend("health_check");
}

void optionLogHealthChecks(KeywordContext& ctx, bool negate) {
  ctx.proxy->backend.mutable_health_check()->set_log_health_checks(!negate);
}

// option mysql-check / pgsql-check / redis-check / smtpchk / ldap-check / ssl-hello-chk:
// HAProxy's built-in rule sets (they replace the section's tcp-check rules).
void setProtocolCheck(KeywordContext& ctx, bool negate, HealthCheck::Type type) {
  if (negate) {
    HealthCheck& check = *ctx.proxy->backend.mutable_health_check();
    if (check.type() == type) check.set_type(HealthCheck::TYPE_UNSPECIFIED);
    return;
  }
  HealthCheck& check = ownRules(ctx);
  check.set_type(type);
  check.clear_user();
  check.clear_mysql_pre_41();
  check.clear_smtp_hello();
  ctx.markBackend("health_check");
}

void optionRedisCheck(KeywordContext& ctx, bool negate) {
  if (!negate && !ctx.expectArgs(0, "option redis-check")) return;
  setProtocolCheck(ctx, negate, HealthCheck::REDIS);
}

void optionLdapCheck(KeywordContext& ctx, bool negate) {
  if (!negate && !ctx.expectArgs(0, "option ldap-check")) return;
  setProtocolCheck(ctx, negate, HealthCheck::LDAP);
}

void optionSslHelloChk(KeywordContext& ctx, bool negate) {
  if (!negate && !ctx.expectArgs(0, "option ssl-hello-chk")) return;
  setProtocolCheck(ctx, negate, HealthCheck::SSL_HELLO);
}

// option smtpchk [HELO|EHLO <domain>]: anything else means HELO localhost, as in HAProxy.
void optionSmtpchk(KeywordContext& ctx, bool negate) {
  const auto& w = ctx.words;
  if (!negate && w.size() > 3) {
    ctx.error("'option smtpchk' takes at most HELO|EHLO DOMAIN");
    return;
  }
  setProtocolCheck(ctx, negate, HealthCheck::SMTP);
  if (negate) return;
  if (w.size() == 3 && (w[1] == "HELO" || w[1] == "EHLO")) {
    ctx.proxy->backend.mutable_health_check()->set_smtp_hello(w[1] + " " + w[2]);
  } else if (w.size() > 1) {
    ctx.warning("'option smtpchk " + w[1] + "' is not HELO or EHLO with a domain; the check " +
                "sends 'HELO localhost' (as HAProxy does)");
  }
}

// option pgsql-check user <username>
void optionPgsqlCheck(KeywordContext& ctx, bool negate) {
  const auto& w = ctx.words;
  if (!negate) {
    if (w.size() != 3 || w[1] != "user") {
      ctx.error("'option pgsql-check' expects 'user <username>'");
      return;
    }
  }
  setProtocolCheck(ctx, negate, HealthCheck::PGSQL);
  if (!negate) ctx.proxy->backend.mutable_health_check()->set_user(w[2]);
}

// option mysql-check [user <username> [post-41|pre-41]]
void optionMysqlCheck(KeywordContext& ctx, bool negate) {
  const auto& w = ctx.words;
  if (!negate) {
    if (w.size() > 4) {
      ctx.error("'option mysql-check' takes at most 'user <username> [post-41|pre-41]'");
      return;
    }
    if (w.size() >= 2 && w[1] != "user") {
      ctx.error("'option mysql-check' only supports 'user <username>', not '" + w[1] + "'");
      return;
    }
    if (w.size() == 2) {
      ctx.error("'option mysql-check user' expects a user name");
      return;
    }
    if (w.size() == 4 && w[3] != "post-41" && w[3] != "pre-41") {
      ctx.error("'option mysql-check user " + w[2] + "' takes 'post-41' or 'pre-41', not '" + w[3] +
                "'");
      return;
    }
  }
  setProtocolCheck(ctx, negate, HealthCheck::MYSQL);
  if (negate) return;
  auto& check = *ctx.proxy->backend.mutable_health_check();
  if (w.size() >= 3) check.set_user(w[2]);
  if (w.size() == 4 && w[3] == "pre-41") check.set_mysql_pre_41(true);
}

void optionOtherCheck(KeywordContext& ctx, bool) {
  ctx.error("'option " + ctx.words[0] + "' is not supported yet; write the exchange with " +
            "'option tcp-check' and 'tcp-check send' / 'tcp-check expect'");
}

// Parses "[min-recv N] [comment TEXT] [!] MATCH PATTERN" starting at words[at] (the options
// may also follow the pattern, as HAProxy reads them; `!rstring` is `! rstring`); `allowed`
// lists the matches accepted.
std::optional<Expect> parseExpect(const KeywordContext& ctx, size_t at,
                                  const std::vector<std::string>& allowed) {
  std::string usage = ctx.words[0] + " expect [!] " + allowed.front() + " PATTERN";
  Expect expect;
  // The words left once the options are taken out: "[!] MATCH PATTERN", as HAProxy reads them
  // (an option word right after the match is the pattern).
  std::vector<std::string> w(ctx.words.begin(), ctx.words.begin() + static_cast<long>(at));
  for (size_t i = at; i < ctx.words.size(); ++i) {
    const std::string& word = ctx.words[i];
    const bool after_match = w.size() > at && w.back() != "!";
    if (after_match && w.size() == at + 1 + (w[at] == "!" ? 1 : 0)) {
      w.push_back(word);  // the pattern
      continue;
    }
    if (word != "min-recv" && word != "comment") {
      if (!after_match && word.size() > 1 && word[0] == '!') {
        w.emplace_back("!");  // "!rstring" is "! rstring"
        w.push_back(word.substr(1));
      } else {
        w.push_back(word);
      }
      continue;
    }
    if (i + 1 >= ctx.words.size()) {
      ctx.error("'" + ctx.words[0] + " expect " + word + "' needs a value");
      return std::nullopt;
    }
    const std::string& value = ctx.words[++i];
    if (word == "comment") {
      expect.set_comment(value);
    } else {
      if (ctx.words[0] != "tcp-check") {
        ctx.error("'" + ctx.words[0] + " expect min-recv' is not supported; it applies to " +
                  "tcp-check");
        return std::nullopt;
      }
      auto n = ctx.number("tcp-check expect min-recv", value, 0, 16384);
      if (!n) return std::nullopt;
      expect.set_min_recv(*n);
    }
  }
  if (at < w.size() && w[at] == "!") {
    expect.set_negate(true);
    ++at;
  }
  if (at >= w.size()) {
    ctx.error("'" + w[0] + " expect' needs a match and a pattern: " + usage);
    return std::nullopt;
  }
  const std::string& match = w[at];
  if (std::find(allowed.begin(), allowed.end(), match) == allowed.end()) {
    static const std::vector<std::string> kOptions{"ok-status",  "error-status", "tout-status",
                                                   "on-success", "on-error",     "status-code"};
    if (std::find(kOptions.begin(), kOptions.end(), match) != kOptions.end()) {
      ctx.error("'" + w[0] + " expect " + match + "' is not supported yet");
    } else {
      ctx.error("unknown match '" + match + "' in '" + w[0] + " expect'; expected one of " + [&] {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return list;
      }() + didYouMean(match, allowed));
    }
    return std::nullopt;
  }
  if (at + 2 != w.size()) {
    ctx.error("'" + w[0] + " expect " + match + "' needs exactly one pattern (quote it if it " +
              "has spaces): " + usage);
    return std::nullopt;
  }
  static const std::map<std::string, Expect::Match> kMatches{{"status", Expect::STATUS},
                                                             {"rstatus", Expect::RSTATUS},
                                                             {"string", Expect::STRING},
                                                             {"rstring", Expect::RSTRING},
                                                             {"binary", Expect::BINARY}};
  expect.set_match(kMatches.at(match));
  expect.set_pattern(w[at + 1]);
  return expect;
}

// "tcp-check connect ..." / "http-check connect ...": [port N] [addr A] [send-proxy].
bool parseConnect(const KeywordContext& ctx, lb::v1::TcpCheckConnect* connect) {
  const auto& w = ctx.words;
  const std::string what = "'" + w[0] + " connect'";
  for (size_t i = 2; i < w.size(); ++i) {
    if (w[i] == "port" && i + 1 < w.size()) {
      auto port = ctx.number(w[0] + " connect port", w[++i], 1, 65535);
      if (!port) return false;
      connect->set_port(*port);
    } else if (w[i] == "addr" && i + 1 < w.size()) {
      connect->set_addr(w[++i]);
    } else if (w[i] == "send-proxy") {
      connect->set_send_proxy(true);
    } else {
      ctx.error("unsupported " + what + " parameter '" + w[i] + "'" +
                didYouMean(w[i], {"port", "addr", "send-proxy"}));
      return false;
    }
  }
  return true;
}

void httpCheckKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  static const std::vector<std::string> kVerbs{"send",           "expect",     "comment",
                                               "disable-on-404", "send-state", "connect"};
  if (w.size() < 2) {
    ctx.error("'http-check' needs an action: send, expect or comment");
    return;
  }
  const std::string& verb = w[1];
  if (verb == "expect") {
    std::vector<std::string> shifted(w.begin() + 1, w.end());
    KeywordContext sub{shifted, ctx.where, ctx.diag, ctx.section_cap, ctx.proxy, nullptr};
    shifted[0] = "http-check";
    if (auto expect = parseExpect(sub, 1, {"status", "rstatus", "string", "rstring"})) {
      auto* http = ownRules(ctx).mutable_http();
      *http->add_expect() = *expect;
      ctx.markBackend("health_check.http.expect[" + std::to_string(http->expect_size() - 1) + "]");
    }
  } else if (verb == "send") {
    auto* http = ownRules(ctx).mutable_http();
    for (size_t i = 2; i < w.size(); ++i) {
      const std::string& key = w[i];
      auto need = [&](size_t count) {
        if (i + count < w.size()) return true;
        ctx.error("'http-check send " + key + "' needs " + std::to_string(count) +
                  (count == 1 ? " value" : " values"));
        return false;
      };
      // A missing value ends the line: what follows would be misread as parameters.
      if (key == "meth") {
        if (!need(1)) return;
        http->set_method(w[++i]);
      } else if (key == "uri") {
        if (!need(1)) return;
        http->set_uri(w[++i]);
      } else if (key == "ver") {
        if (!need(1)) return;
        http->set_version(w[++i]);
      } else if (key == "hdr") {
        if (!need(2)) return;
        auto* header = http->add_headers();
        header->set_name(w[i + 1]);
        header->set_value(w[i + 2]);
        i += 2;
        ctx.markBackend("health_check.http.headers[" + std::to_string(http->headers_size() - 1) +
                        "]");
      } else if (key == "body") {
        if (!need(1)) return;
        http->set_body(w[++i]);
      } else {
        ctx.error("unknown 'http-check send' parameter '" + key + "'" +
                  didYouMean(key, {"meth", "uri", "ver", "hdr", "body"}));
        return;
      }
    }
  } else if (verb == "comment") {
    // A label for logs; nothing to keep.
  } else if (verb == "send-state") {
    ctx.warning("'http-check send-state' is ignored");
  } else if (verb == "disable-on-404") {
    if (w.size() != 2) {
      ctx.error("'http-check disable-on-404' takes no argument");
      return;
    }
    ctx.proxy->backend.mutable_health_check()->mutable_http()->set_disable_on_404(true);
    ctx.markBackend("health_check.http.disable_on_404");
  } else if (verb == "connect") {
    lb::v1::TcpCheckConnect connect;
    if (!parseConnect(ctx, &connect)) return;
    *ownRules(ctx).mutable_http()->mutable_connect() = connect;
    ctx.markBackend("health_check.http.connect");
  } else {
    ctx.error("unknown 'http-check' action '" + verb + "'" + didYouMean(verb, kVerbs));
  }
}

void tcpCheckKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  static const std::vector<std::string> kVerbs{"connect", "send", "send-binary", "expect",
                                               "comment"};
  if (w.size() < 2) {
    ctx.error("'tcp-check' needs an action: connect, send, send-binary, expect or comment");
    return;
  }
  const std::string& verb = w[1];
  lb::v1::TcpCheckRule rule;
  if (verb == "connect") {
    if (!parseConnect(ctx, rule.mutable_connect())) return;
  } else if (verb == "send" || verb == "send-binary" || verb == "comment") {
    if (w.size() != 3) {
      ctx.error("'tcp-check " + verb + "' needs exactly one argument (quote it if it has spaces)");
      return;
    }
    if (verb == "send") {
      rule.set_send(w[2]);
    } else if (verb == "comment") {
      rule.set_comment(w[2]);
    } else {
      const std::string& hex = w[2];
      if (!isHexBytes(hex)) {
        ctx.error("'tcp-check send-binary' expects an even number of hexadecimal digits, not '" +
                  hex + "'");
        return;
      }
      rule.set_send_binary(hex);
    }
  } else if (verb == "expect") {
    std::vector<std::string> shifted(w.begin() + 1, w.end());
    shifted[0] = "tcp-check";
    KeywordContext sub{shifted, ctx.where, ctx.diag, ctx.section_cap, ctx.proxy, nullptr};
    auto expect = parseExpect(sub, 1, {"string", "rstring", "binary"});
    if (!expect) return;
    if (expect->match() == Expect::BINARY && !isHexBytes(expect->pattern())) {
      ctx.error("'tcp-check expect binary' expects hexadecimal digits, not '" + expect->pattern() +
                "'");
      return;
    }
    *rule.mutable_expect() = *expect;
  } else {
    ctx.error("unknown 'tcp-check' action '" + verb + "'" + didYouMean(verb, kVerbs));
    return;
  }
  HealthCheck& check = ownRules(ctx);
  *check.add_tcp_check() = rule;
  ctx.markBackend("health_check.tcp_check[" + std::to_string(check.tcp_check_size() - 1) + "]");
}

constexpr std::array kCheckKeywords{
    KeywordSpec{"http-check", kBe, httpCheckKeyword},
    KeywordSpec{"tcp-check", kBe, tcpCheckKeyword},
};

constexpr std::array kCheckOptions{
    OptionSpec{"httpchk", kBe, optionHttpchk},
    OptionSpec{"tcp-check", kBe, optionTcpCheck},
    OptionSpec{"log-health-checks", kBe, optionLogHealthChecks},
    OptionSpec{"ssl-hello-chk", kBe, optionSslHelloChk},
    OptionSpec{"mysql-check", kBe, optionMysqlCheck},
    OptionSpec{"pgsql-check", kBe, optionPgsqlCheck},
    OptionSpec{"redis-check", kBe, optionRedisCheck},
    OptionSpec{"smtpchk", kBe, optionSmtpchk},
    OptionSpec{"ldap-check", kBe, optionLdapCheck},
    OptionSpec{"spop-check", kBe, optionOtherCheck},
};

}  // namespace

std::span<const KeywordSpec> checkKeywords() {
  return kCheckKeywords;
}
std::span<const OptionSpec> checkOptions() {
  return kCheckOptions;
}

}  // namespace lb::config::detail
