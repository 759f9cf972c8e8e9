// Layer-4 routing and filtering keywords: acl, tcp-request, tcp-response, use_backend,
// use-server, stick-table, stick. The grammar of ACLs and conditions is in acl_syntax.cpp;
// what the rules do at run time is agent/rules.
#include <array>
#include <cctype>
#include <optional>

#include "agent/config/acl_syntax.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"
#include "agent/rules/rule_set.h"
#include "agent/rules/stick_table.h"

namespace lb::config::detail {

namespace {

using lb::v1::TcpRule;

// Where a rule goes in a `listen`: its frontend half for request rules, its backend half for
// the rest; in a frontend or backend, there.
bool frontendSide(const KeywordContext& ctx) {
  return ctx.proxy->has_frontend;
}

bool notInDefaults(KeywordContext& ctx) {
  if (ctx.section_cap != kCapDefaults) return true;
  ctx.error("'" + ctx.words[0] + "' is not allowed in a 'defaults' section; write it in the " +
            "frontend, backend or listen section it applies to");
  return false;
}

// Reads the optional `if|unless COND` at the end of a rule; `end` becomes where it starts.
bool readCondition(KeywordContext& ctx, size_t from, size_t& end, lb::v1::Condition* out,
                   bool* has) {
  end = findCondition(ctx.words, from);
  *has = end < ctx.words.size();
  if (!*has) return true;
  std::string error;
  auto cond = parseCondition(ctx.words, end, error);
  if (!cond) {
    ctx.error(ctx.keywordIn(ctx.words[0]) + ": " + error);
    return false;
  }
  *out = std::move(*cond);
  return true;
}

void aclKeyword(KeywordContext& ctx) {
  if (!notInDefaults(ctx)) return;
  if (ctx.words.size() < 3) {
    ctx.error("'acl' expects a name and a fetch: acl NAME FETCH [FLAGS] [PATTERNS...], e.g. " +
              std::string("'acl local src 127.0.0.0/8'"));
    return;
  }
  const std::string& name = ctx.words[1];
  for (char c : name) {
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) {
      ctx.error("ACL name '" + name + "' may only hold letters, digits, '-', '_', '.' and ':'");
      return;
    }
  }
  lb::v1::Acl acl;
  acl.set_name(name);
  std::string error;
  if (!parseAclWords(ctx.words, 2, ctx.words.size(), acl, error)) {
    bool http = ctx.proxy->frontend.mode() == lb::v1::MODE_HTTP ||
                ctx.proxy->backend.mode() == lb::v1::MODE_HTTP;
    if (http && error.rfind("unknown fetch", 0) == 0) {
      // An HTTP section is either a statistics page (its ACLs are HTTP access rules, which
      // lb does not evaluate) or an HTTP proxy (refused as a whole by the validator).
      ctx.warning("acl '" + name + "' uses '" + acl.fetch() + "', an HTTP fetch: not evaluated (" +
                  ctx.proxy->describe() + " is in HTTP mode)");
      return;
    }
    ctx.error("acl '" + name + "': " + error);
    return;
  }
  if (ctx.proxy->has_frontend) {
    *ctx.proxy->frontend.add_acls() = acl;
    ctx.markFrontend("acls[" + std::to_string(ctx.proxy->frontend.acls_size() - 1) + "]");
  }
  if (ctx.proxy->has_backend) {
    *ctx.proxy->backend.add_acls() = acl;
    ctx.markBackend("acls[" + std::to_string(ctx.proxy->backend.acls_size() - 1) + "]");
  }
}

void inspectDelay(KeywordContext& ctx, bool response) {
  if (ctx.words.size() != 3) {
    ctx.error("'" + ctx.words[0] + " inspect-delay' expects a time, e.g. '" + ctx.words[0] +
              " inspect-delay 5s'");
    return;
  }
  if (ctx.section_cap == kCapDefaults && ctx.proxy->name.empty()) {
    ctx.error("'" + ctx.words[0] + " inspect-delay' is not allowed in an anonymous 'defaults' " +
              "section (HAProxy 2.6 refuses it too); write it in the sections it applies to, or " +
              "in a named defaults section they use ('defaults NAME', 'frontend F from NAME')");
    return;
  }
  auto delay = ctx.time(ctx.words[0] + " inspect-delay", ctx.words[2]);
  if (!delay) return;
  if (response) {
    ctx.warning("'tcp-response inspect-delay' is accepted and has no effect: lb does not " +
                std::string("inspect responses"));
    return;
  }
  if (ctx.proxy->has_frontend) {
    *ctx.proxy->frontend.mutable_inspect_delay() = *delay;
    ctx.markFrontend("inspect_delay");
  }
  if (ctx.proxy->has_backend && (ctx.section_cap == kCapDefaults || !ctx.proxy->has_frontend)) {
    *ctx.proxy->backend.mutable_inspect_delay() = *delay;
    ctx.markBackend("inspect_delay");
  }
}

void tcpRequestKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  if (w.size() < 2) {
    ctx.error("'tcp-request' needs 'connection', 'session', 'content' or 'inspect-delay'");
    return;
  }
  if (w[1] == "inspect-delay") {
    inspectDelay(ctx, false);
    return;
  }
  TcpRule rule;
  if (w[1] == "connection") {
    rule.set_stage(TcpRule::CONNECTION);
  } else if (w[1] == "session") {
    rule.set_stage(TcpRule::SESSION);
  } else if (w[1] == "content") {
    rule.set_stage(TcpRule::CONTENT);
  } else {
    static const std::vector<std::string> kStages{"connection", "session", "content",
                                                  "inspect-delay"};
    ctx.error("unknown 'tcp-request' rule set '" + w[1] + "'" + didYouMean(w[1], kStages));
    return;
  }
  if (!notInDefaults(ctx)) return;
  if (rule.stage() != TcpRule::CONTENT && !ctx.proxy->has_frontend) {
    ctx.error("'tcp-request " + w[1] + "' belongs in a frontend or listen section (" +
              ctx.proxy->describe() + " accepts no connection); use 'tcp-request content'");
    return;
  }
  if (w.size() < 3) {
    ctx.error("'tcp-request " + w[1] + "' needs an action, e.g. 'tcp-request " + w[1] +
              " reject if blocked'");
    return;
  }
  size_t end = 0;
  bool has = false;
  if (!readCondition(ctx, 3, end, rule.mutable_condition(), &has)) return;
  if (!has) rule.clear_condition();
  rule.set_action(w[2]);
  for (size_t i = 3; i < end; ++i) rule.add_args(w[i]);
  // Checked now, so that the error points at this line (the names of ACLs, tables and
  // backends are checked once the whole file is read).
  lb::v1::Frontend probe;
  *probe.add_tcp_request() = rule;
  probe.mutable_tcp_request(0)->clear_condition();
  std::string path;
  std::string error;
  if (!rules::compileRules(rules::rulesOf(probe), nullptr, path, error)) {
    ctx.error("'tcp-request " + w[1] + " " + w[2] + "': " + error);
    return;
  }
  if (w[2].rfind("set-var", 0) == 0 || w[2].rfind("unset-var", 0) == 0 || w[2] == "capture") {
    ctx.warning("'tcp-request " + w[1] + " " + w[2] +
                "' is accepted and has no effect: lb has no variables or captures yet");
  }
  if (rule.stage() != TcpRule::CONTENT && has) {
    // A condition on the client's bytes in a rule that runs before any are read never holds.
    for (const auto& group : rule.condition().any_of()) {
      for (const auto& term : group.terms()) {
        if (!term.has_anonymous()) continue;
        std::string e;
        auto f = rules::Fetch::parse(term.anonymous().fetch(), e);
        if (f && f->readsPayload()) {
          ctx.warning("'" + term.anonymous().fetch() + "' reads the client's bytes; in a " +
                      "'tcp-request " + w[1] + "' rule nothing has been read yet");
        }
      }
    }
  }
  bool to_frontend = frontendSide(ctx);
  auto* list = to_frontend ? ctx.proxy->frontend.mutable_tcp_request()
                           : ctx.proxy->backend.mutable_tcp_request();
  *list->Add() = std::move(rule);
  std::string mark = "tcp_request[" + std::to_string(list->size() - 1) + "]";
  to_frontend ? ctx.markFrontend(mark) : ctx.markBackend(mark);
}

void tcpResponseKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  if (w.size() >= 2 && w[1] == "inspect-delay") {
    inspectDelay(ctx, true);
    return;
  }
  if (w.size() < 3 || w[1] != "content") {
    ctx.error("'tcp-response' expects 'content ACTION [if|unless COND]' or 'inspect-delay TIME'");
    return;
  }
  if (!notInDefaults(ctx)) return;
  TcpRule rule;
  rule.set_stage(TcpRule::RESPONSE);
  size_t end = 0;
  bool has = false;
  if (!readCondition(ctx, 3, end, rule.mutable_condition(), &has)) return;
  if (!has) rule.clear_condition();
  rule.set_action(w[2]);
  for (size_t i = 3; i < end; ++i) rule.add_args(w[i]);
  ctx.warning("'tcp-response content " + w[2] +
              "' is accepted and not evaluated: lb does not inspect responses");
  *ctx.proxy->backend.add_tcp_response() = std::move(rule);
}

// `KEYWORD NAME [if|unless COND]` (use_backend, use-server): the name and the condition, or
// nothing after reporting what is wrong.
std::optional<std::pair<std::string, lb::v1::Condition>> namedRule(KeywordContext& ctx,
                                                                   std::string_view what) {
  if (!notInDefaults(ctx)) return std::nullopt;
  const std::string& keyword = ctx.words[0];
  if (ctx.words.size() < 2) {
    ctx.error("'" + keyword + "' expects a " + std::string(what) + " name: " + keyword +
              " NAME [if|unless COND]");
    return std::nullopt;
  }
  lb::v1::Condition condition;
  size_t end = 0;
  bool has = false;
  if (!readCondition(ctx, 2, end, &condition, &has)) return std::nullopt;
  if (end != 2) {
    ctx.error("'" + keyword + " " + ctx.words[1] + "' is followed by '" + ctx.words[2] +
              "'; expected 'if' or 'unless'");
    return std::nullopt;
  }
  return std::pair{ctx.words[1], has ? std::move(condition) : lb::v1::Condition{}};
}

void useBackendKeyword(KeywordContext& ctx) {
  auto parsed = namedRule(ctx, "backend");
  if (!parsed) return;
  std::string error;
  if (!rules::parseNameFormat(parsed->first, error)) {
    ctx.error("'use_backend': " + error);
    return;
  }
  auto* rule = ctx.proxy->frontend.add_use_backend();
  rule->set_backend(parsed->first);
  if (parsed->second.any_of_size() > 0) *rule->mutable_condition() = std::move(parsed->second);
  ctx.markFrontend("use_backend[" + std::to_string(ctx.proxy->frontend.use_backend_size() - 1) +
                   "]");
}

void useServerKeyword(KeywordContext& ctx) {
  auto parsed = namedRule(ctx, "server");
  if (!parsed) return;
  auto* rule = ctx.proxy->backend.add_use_server();
  rule->set_server(parsed->first);
  if (parsed->second.any_of_size() > 0) *rule->mutable_condition() = std::move(parsed->second);
  ctx.markBackend("use_server[" + std::to_string(ctx.proxy->backend.use_server_size() - 1) + "]");
}

void stickTableKeyword(KeywordContext& ctx) {
  if (!notInDefaults(ctx)) return;
  const auto& w = ctx.words;
  lb::v1::StickTable table;
  bool has_size = false;
  for (size_t i = 1; i < w.size(); ++i) {
    const std::string& k = w[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 < w.size()) return &w[++i];
      ctx.error("'stick-table " + k + "' needs a value");
      return nullptr;
    };
    if (k == "type") {
      auto* t = value();
      if (t == nullptr) return;
      if (*t == "ip" || *t == "ipv4") {
        table.set_type(lb::v1::StickTable::IP);
      } else if (*t == "ipv6") {
        table.set_type(lb::v1::StickTable::IPV6);
      } else if (*t == "integer") {
        table.set_type(lb::v1::StickTable::INTEGER);
      } else if (*t == "string" || *t == "binary") {
        table.set_type(*t == "string" ? lb::v1::StickTable::STRING : lb::v1::StickTable::BINARY);
        if (i + 2 < w.size() && w[i + 1] == "len") {
          auto len = ctx.number("stick-table len", w[i + 2], 1, 65535);
          if (!len) return;
          table.set_len(*len);
          i += 2;
        }
      } else {
        ctx.error("unknown stick-table type '" + *t + "' (ip, ipv6, integer, string, binary)");
        return;
      }
    } else if (k == "len") {
      auto* v = value();
      if (v == nullptr) return;
      auto len = ctx.number("stick-table len", *v, 1, 65535);
      if (!len) return;
      table.set_len(*len);
    } else if (k == "size") {
      auto* v = value();
      if (v == nullptr) return;
      std::string text = *v;
      uint64_t factor = 1;
      char last = text.empty() ? '\0' : static_cast<char>(std::tolower(text.back()));
      if (last == 'k' || last == 'm' || last == 'g') {
        factor = last == 'k' ? 1024 : last == 'm' ? 1024 * 1024 : 1024ull * 1024 * 1024;
        text.pop_back();
      }
      auto n = ctx.number("stick-table size", text, 1, 1u << 31);
      if (!n) return;
      table.set_size(*n * factor);
      has_size = true;
    } else if (k == "expire") {
      auto* v = value();
      if (v == nullptr) return;
      auto t = ctx.time("stick-table expire", *v);
      if (!t) return;
      *table.mutable_expire() = *t;
    } else if (k == "nopurge") {
      table.set_nopurge(true);
    } else if (k == "peers") {
      auto* v = value();
      if (v == nullptr) return;
      table.set_peers(*v);
      ctx.warning("'stick-table ... peers " + *v +
                  "': lb does not synchronise tables with peers; this agent's table is its own");
    } else if (k == "store") {
      auto* v = value();
      if (v == nullptr) return;
      std::string_view rest = *v;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto item = rest.substr(0, comma);
        std::string error;
        if (!rules::parseStore(item, error)) {
          ctx.error("'stick-table store': " + error);
          return;
        }
        table.add_store(std::string(item));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    } else if (k == "srvkey" || k == "recv-only" || k == "write-to") {
      if (k != "recv-only") value();
      ctx.warning("'stick-table " + k + "' is ignored");
    } else {
      static const std::vector<std::string> kWords{"type",    "len",   "size", "expire",
                                                   "nopurge", "peers", "store"};
      ctx.error("unknown 'stick-table' parameter '" + k + "'" + didYouMean(k, kWords));
      return;
    }
  }
  if (table.type() == lb::v1::StickTable::KEY_TYPE_UNSPECIFIED || !has_size) {
    ctx.error("'stick-table' needs 'type' and 'size', e.g. 'stick-table type ip size 100k " +
              std::string("expire 30s store conn_rate(10s)'"));
    return;
  }
  bool to_frontend = ctx.proxy->has_frontend && !ctx.proxy->has_backend;
  if (to_frontend) {
    *ctx.proxy->frontend.mutable_stick_table() = table;
    ctx.markFrontend("stick_table");
  } else {
    *ctx.proxy->backend.mutable_stick_table() = table;
    ctx.markBackend("stick_table");
  }
}

void stickKeyword(KeywordContext& ctx) {
  if (!notInDefaults(ctx)) return;
  const auto& w = ctx.words;
  if (w.size() < 3) {
    ctx.error("'stick' expects 'on|match|store-request EXPR [table TABLE] [if|unless COND]'");
    return;
  }
  lb::v1::StickRule rule;
  if (w[1] == "on") {
    rule.set_kind(lb::v1::StickRule::ON);
  } else if (w[1] == "match") {
    rule.set_kind(lb::v1::StickRule::MATCH);
  } else if (w[1] == "store-request") {
    rule.set_kind(lb::v1::StickRule::STORE);
  } else if (w[1] == "store-response") {
    ctx.warning("'stick store-response' is accepted and not evaluated: lb does not inspect " +
                std::string("responses (clients are not stuck by what servers answer)"));
    return;
  } else {
    static const std::vector<std::string> kKinds{"on", "match", "store-request", "store-response"};
    ctx.error("unknown 'stick' rule '" + w[1] + "'" + didYouMean(w[1], kKinds));
    return;
  }
  size_t end = 0;
  bool has = false;
  if (!readCondition(ctx, 3, end, rule.mutable_condition(), &has)) return;
  if (!has) rule.clear_condition();
  rule.set_expr(w[2]);
  std::string error;
  if (!rules::Fetch::parse(w[2], error)) {
    ctx.error("'stick " + w[1] + "': " + error);
    return;
  }
  if (end == 5 && w[3] == "table") {
    rule.set_table(w[4]);
  } else if (end != 3) {
    ctx.error("'stick " + w[1] + " " + w[2] + "' is followed by '" + w[3] +
              "'; expected 'table NAME', 'if' or 'unless'");
    return;
  }
  *ctx.proxy->backend.add_stick() = std::move(rule);
  ctx.markBackend("stick[" + std::to_string(ctx.proxy->backend.stick_size() - 1) + "]");
}

constexpr std::array kRuleKeywords{
    KeywordSpec{"acl", kCapProxy, aclKeyword},
    KeywordSpec{"tcp-request", kCapProxy, tcpRequestKeyword},
    KeywordSpec{"tcp-response", kCapDefaults | kCapBackend, tcpResponseKeyword},
    KeywordSpec{"use_backend", kCapFrontend, useBackendKeyword},
    KeywordSpec{"use-server", kCapBackend, useServerKeyword},
    KeywordSpec{"stick-table", kCapFrontend | kCapBackend, stickTableKeyword},
    KeywordSpec{"stick", kCapBackend, stickKeyword},
};

}  // namespace

std::span<const KeywordSpec> ruleKeywords() {
  return kRuleKeywords;
}

}  // namespace lb::config::detail
