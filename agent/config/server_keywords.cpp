// `server` and `default-server` lines. Ranges (weight 0-256, rise >= 1, ...) are checked by the
// validator, so that YAML/JSON input gets the same checks; here only the syntax is.
#include <functional>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

namespace {

using lb::v1::Server;

// One server setting: how many values it takes and how it applies them.
struct ServerSetting {
  std::string_view name;
  int values;  // 0 or 1
  std::function<void(const KeywordContext&, const std::string&, Server&)> apply;
};

void setNumber(const KeywordContext& ctx, std::string_view keyword, const std::string& text,
               const std::function<void(uint32_t)>& set) {
  if (auto n = ctx.number(keyword, text, 0, UINT32_MAX)) set(*n);
}

void setTime(const KeywordContext& ctx, std::string_view keyword, const std::string& text,
             google::protobuf::Duration* field) {
  if (auto t = ctx.time(keyword, text)) *field = *t;
}

const std::vector<ServerSetting>& settings() {
  using Ctx = const KeywordContext&;
  using Str = const std::string&;
  static const std::vector<ServerSetting> kSettings{
      {"weight", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "weight", v, [&](uint32_t n) { s.set_weight(n); });
       }},
      {"maxconn", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "maxconn", v, [&](uint32_t n) { s.set_maxconn(n); });
       }},
      {"maxqueue", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "maxqueue", v, [&](uint32_t n) { s.set_maxqueue(n); });
       }},
      {"backup", 0, [](Ctx, Str, Server& s) { s.set_backup(true); }},
      {"no-backup", 0, [](Ctx, Str, Server& s) { s.set_backup(false); }},
      {"disabled", 0, [](Ctx, Str, Server& s) { s.set_disabled(true); }},
      {"enabled", 0, [](Ctx, Str, Server& s) { s.set_disabled(false); }},
      {"check", 0, [](Ctx, Str, Server& s) { s.set_check(true); }},
      {"no-check", 0, [](Ctx, Str, Server& s) { s.set_check(false); }},
      {"inter", 1, [](Ctx c, Str v, Server& s) { setTime(c, "inter", v, s.mutable_inter()); }},
      {"fastinter", 1,
       [](Ctx c, Str v, Server& s) { setTime(c, "fastinter", v, s.mutable_fastinter()); }},
      {"downinter", 1,
       [](Ctx c, Str v, Server& s) { setTime(c, "downinter", v, s.mutable_downinter()); }},
      {"slowstart", 1,
       [](Ctx c, Str v, Server& s) { setTime(c, "slowstart", v, s.mutable_slowstart()); }},
      {"rise", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "rise", v, [&](uint32_t n) { s.set_rise(n); });
       }},
      {"fall", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "fall", v, [&](uint32_t n) { s.set_fall(n); });
       }},
      {"port", 1,
       [](Ctx c, Str v, Server& s) {
         if (auto n = c.number("port", v, 1, 65535)) s.set_check_port(*n);
       }},
      {"addr", 1,
       [](Ctx c, Str v, Server& s) {
         std::string problem;
         if (auto parsed = parseHostPort(v, false, &problem); parsed && !parsed->port) {
           s.set_check_addr(parsed->host);
         } else {
           c.error("'addr' expects an address without a port (use 'port' for the port), not '" + v +
                   "'");
         }
       }},
      {"observe", 1,
       [](Ctx c, Str v, Server& s) {
         if (v == "layer4") {
           s.set_observe(Server::LAYER4);
         } else if (v == "layer7") {
           s.set_observe(Server::LAYER7);
         } else {
           c.error("'observe' expects 'layer4' or 'layer7', not '" + v + "'" +
                   didYouMean(v, {"layer4", "layer7"}));
         }
       }},
      {"error-limit", 1,
       [](Ctx c, Str v, Server& s) {
         setNumber(c, "error-limit", v, [&](uint32_t n) { s.set_error_limit(n); });
       }},
      {"on-error", 1,
       [](Ctx c, Str v, Server& s) {
         if (v == "fastinter") {
           s.set_on_error(Server::FASTINTER);
         } else if (v == "fail-check") {
           s.set_on_error(Server::FAIL_CHECK);
         } else if (v == "sudden-death") {
           s.set_on_error(Server::SUDDEN_DEATH);
         } else if (v == "mark-down") {
           s.set_on_error(Server::MARK_DOWN);
         } else {
           c.error("'on-error' expects fastinter, fail-check, sudden-death or mark-down, not '" +
                   v + "'" +
                   didYouMean(v, {"fastinter", "fail-check", "sudden-death", "mark-down"}));
         }
       }},
      {"on-marked-down", 1,
       [](Ctx c, Str v, Server& s) {
         if (v == "shutdown-sessions") {
           s.set_on_marked_down(Server::SHUTDOWN_SESSIONS);
         } else {
           c.error("'on-marked-down' expects 'shutdown-sessions', not '" + v + "'");
         }
       }},
      {"send-proxy", 0, [](Ctx, Str, Server& s) { s.set_send_proxy(Server::V1); }},
      {"send-proxy-v2", 0, [](Ctx, Str, Server& s) { s.set_send_proxy(Server::V2); }},
      {"no-send-proxy", 0, [](Ctx, Str, Server& s) { s.set_send_proxy(Server::PROXY_NONE); }},
      {"no-send-proxy-v2", 0, [](Ctx, Str, Server& s) { s.set_send_proxy(Server::PROXY_NONE); }},
      {"check-send-proxy", 0, [](Ctx, Str, Server& s) { s.set_check_send_proxy(true); }},
      {"agent-check", 0, [](Ctx, Str, Server& s) { s.set_agent_check(true); }},
      {"no-agent-check", 0, [](Ctx, Str, Server& s) { s.set_agent_check(false); }},
      {"agent-port", 1,
       [](Ctx c, Str v, Server& s) {
         if (auto n = c.number("agent-port", v, 1, 65535)) s.set_agent_port(*n);
       }},
      {"agent-addr", 1,
       [](Ctx c, Str v, Server& s) {
         std::string problem;
         if (auto parsed = parseHostPort(v, false, &problem); parsed && !parsed->port) {
           s.set_agent_addr(parsed->host);
         } else {
           c.error("'agent-addr' expects an address without a port (use 'agent-port'), not '" + v +
                   "'");
         }
       }},
      {"agent-send", 1, [](Ctx, Str v, Server& s) { s.set_agent_send(v); }},
      {"agent-inter", 1,
       [](Ctx c, Str v, Server& s) { setTime(c, "agent-inter", v, s.mutable_agent_inter()); }},
      {"cookie", 1,
       [](Ctx c, Str, Server&) {
         c.warning("server 'cookie' is ignored: it applies to HTTP mode only");
       }},
      {"id", 1,
       [](Ctx c, Str, Server&) {
         c.warning("server 'id' is ignored: lb identifies servers by backend and name");
       }},
      {"resolvers", 1,
       [](Ctx c, Str, Server&) {
         c.warning(
             "server 'resolvers' is ignored: lb resolves host names when the config is "
             "applied");
       }},
      {"init-addr", 1,
       [](Ctx c, Str v, Server& s) {
         s.clear_init_addr();
         size_t start = 0;
         while (true) {
           size_t comma = v.find(',', start);
           std::string method = v.substr(start, comma - start);
           if (method == "last" || method == "libc" || method == "none" || isIpLiteral(method)) {
             s.add_init_addr(method);
           } else {
             c.error("'init-addr' expects a comma-separated list of last, libc, none or IP " +
                     std::string("addresses, not '") + method + "'" +
                     didYouMean(method, {"last", "libc", "none"}));
           }
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
       }},
  };
  return kSettings;
}

// HAProxy 2.6's server keywords that lb has no setting for, with the number of values each
// takes (so that a value is never read as the next keyword), and what lb does about them.
struct ForeignServerKeyword {
  std::string_view name;
  int values;
  bool refused;  // ignoring it would change where or how lb connects
  std::string_view reason;
};

constexpr std::string_view kServerTls = "lb does not speak TLS to servers";
constexpr std::string_view kServerHttp = "it applies to HTTP mode only";

constexpr ForeignServerKeyword kForeignServerKeywords[] = {
    {"ssl", 0, true, "lb relays TCP and does not speak TLS to servers"},
    {"check-ssl", 0, true, "lb relays TCP and does not speak TLS to servers"},
    {"socks4", 1, true, "lb connects to servers directly, not through a SOCKS proxy"},
    {"check-via-socks4", 0, true, "lb checks servers directly, not through a SOCKS proxy"},
    {"namespace", 1, true, "lb connects from its own network namespace"},
    {"source", 1, true, "lb connects from the address the kernel chooses"},
    {"usesrc", 1, true, "lb connects from the address the kernel chooses"},
    {"verify", 1, false, kServerTls},
    {"verifyhost", 1, false, kServerTls},
    {"sni", 1, false, kServerTls},
    {"crt", 1, false, kServerTls},
    {"ca-file", 1, false, kServerTls},
    {"crl-file", 1, false, kServerTls},
    {"alpn", 1, false, kServerTls},
    {"npn", 1, false, kServerTls},
    {"ciphers", 1, false, kServerTls},
    {"ciphersuites", 1, false, kServerTls},
    {"ssl-min-ver", 1, false, kServerTls},
    {"ssl-max-ver", 1, false, kServerTls},
    {"ssl-reuse", 0, false, kServerTls},
    {"no-ssl-reuse", 0, false, kServerTls},
    {"no-ssl", 0, false, kServerTls},
    {"no-check-ssl", 0, false, kServerTls},
    {"tls-tickets", 0, false, kServerTls},
    {"no-tls-tickets", 0, false, kServerTls},
    {"force-sslv3", 0, false, kServerTls},
    {"force-tlsv10", 0, false, kServerTls},
    {"force-tlsv11", 0, false, kServerTls},
    {"force-tlsv12", 0, false, kServerTls},
    {"force-tlsv13", 0, false, kServerTls},
    {"no-sslv3", 0, false, kServerTls},
    {"no-tlsv10", 0, false, kServerTls},
    {"no-tlsv11", 0, false, kServerTls},
    {"no-tlsv12", 0, false, kServerTls},
    {"no-tlsv13", 0, false, kServerTls},
    {"allow-0rtt", 0, false, kServerTls},
    {"check-sni", 1, false, kServerTls},
    {"check-alpn", 1, false, kServerTls},
    {"send-proxy-v2-ssl", 0, true, "lb sends PROXY v2 headers without the TLS fields"},
    {"send-proxy-v2-ssl-cn", 0, true, "lb sends PROXY v2 headers without the TLS fields"},
    {"no-send-proxy-v2-ssl", 0, false, "lb sends PROXY v2 headers without the TLS fields"},
    {"no-send-proxy-v2-ssl-cn", 0, false, "lb sends PROXY v2 headers without the TLS fields"},
    {"proxy-v2-options", 1, false, "lb sends PROXY v2 headers without optional fields"},
    {"minconn", 1, false, "lb has no dynamic server limits (fullconn), only maxconn"},
    {"max-reuse", 1, false, kServerHttp},
    {"pool-low-conn", 1, false, kServerHttp},
    {"pool-max-conn", 1, false, kServerHttp},
    {"pool-purge-delay", 1, false, kServerHttp},
    {"redir", 1, false, kServerHttp},
    {"ws", 1, false, kServerHttp},
    {"proto", 1, false, "in TCP mode the only protocol is 'none', what lb does"},
    {"check-proto", 1, false, "in TCP mode the only protocol is 'none', what lb does"},
    {"log-proto", 1, false, "it applies to log servers of ring sections"},
    {"on-marked-up", 1, false, "lb does not end backup servers' sessions on recovery"},
    {"track", 1, false, "lb does not track another server's state; give this one 'check'"},
    {"resolve-prefer", 1, false, "lb uses the first address the system resolver gives"},
    {"resolve-net", 1, false, "lb uses the first address the system resolver gives"},
    {"resolve-opts", 1, false, "lb uses the first address the system resolver gives"},
    {"tfo", 0, false, "lb does not use TCP Fast Open towards servers"},
    {"no-tfo", 0, false, "lb does not use TCP Fast Open towards servers"},
    {"tcp-ut", 1, false, "lb leaves TCP_USER_TIMEOUT to the kernel"},
    {"no-check-send-proxy", 0, false, "lb's checks follow send-proxy (see check-send-proxy)"},
};

// Applies "KEYWORD [VALUE] ..." starting at words[first] to `server`.
void applySettings(KeywordContext& ctx, size_t first, Server& server) {
  const auto& all = settings();
  for (size_t i = first; i < ctx.words.size(); ++i) {
    const std::string& word = ctx.words[i];
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const ServerSetting& s) { return s.name == word; });
    if (it == all.end()) {
      auto foreign =
          std::find_if(std::begin(kForeignServerKeywords), std::end(kForeignServerKeywords),
                       [&](const ForeignServerKeyword& k) { return k.name == word; });
      if (foreign == std::end(kForeignServerKeywords)) {
        ctx.error("unknown server option '" + word + "'" + didYouMean(word, serverSettingNames()));
        continue;
      }
      std::string text = word;
      // `source ADDR [usesrc ADDR] [interface NAME]` takes what follows it.
      int values = foreign->values;
      for (int v = 0; v < values && i + 1 < ctx.words.size(); ++v) text += " " + ctx.words[++i];
      if (word == "source") {
        while (i + 2 < ctx.words.size() &&
               (ctx.words[i + 1] == "usesrc" || ctx.words[i + 1] == "interface")) {
          text += " " + ctx.words[i + 1] + " " + ctx.words[i + 2];
          i += 2;
        }
      }
      if (foreign->refused) {
        ctx.error("server option '" + text + "' is not supported: " + std::string(foreign->reason));
      } else {
        ctx.warning("server option '" + text + "' is ignored: " + std::string(foreign->reason));
      }
      continue;
    }
    std::string value;
    if (it->values == 1) {
      if (i + 1 >= ctx.words.size()) {
        ctx.error("server option '" + word + "' needs a value");
        return;
      }
      value = ctx.words[++i];
    }
    it->apply(ctx, value, server);
  }
}

}  // namespace

std::vector<std::string> serverSettingNames() {
  std::vector<std::string> names;
  for (const auto& s : settings()) names.emplace_back(s.name);
  return names;
}

namespace {

// One server named `name` at `address_text` with the settings from words[first].
void addServer(KeywordContext& ctx, const std::string& name, const std::string& address_text,
               size_t first) {
  Server server = ctx.proxy->default_server;
  server.set_name(name);
  auto expanded = ctx.address(address_text);
  if (!expanded) return;
  std::string problem;
  // HAProxy's port offset, "ADDR:+N" or "ADDR:-N": the client's destination port plus N.
  std::optional<int> offset;
  if (auto colon = expanded->rfind(':');
      colon != std::string::npos && colon + 1 < expanded->size() &&
      (expanded->at(colon + 1) == '+' || expanded->at(colon + 1) == '-')) {
    auto n = parseUint(std::string_view(*expanded).substr(colon + 2), 65535);
    if (!n) {
      ctx.error("server '" + name + "': invalid port offset '" + expanded->substr(colon + 1) +
                "'; expected +N or -N with N from 0 to 65535");
      return;
    }
    offset = expanded->at(colon + 1) == '+' ? static_cast<int>(*n) : -static_cast<int>(*n);
    expanded = expanded->substr(0, colon);
  }
  auto address = parseHostPort(*expanded, false, &problem);
  if (!address) {
    ctx.error("server '" + name + "': " + problem);
    return;
  }
  if (offset && address->port) {
    ctx.error("server '" + name + "': '" + address_text + "' has a port and an offset");
    return;
  }
  if (offset) server.set_port_offset(*offset);
  server.set_address(address->host);
  server.set_port(address->port.value_or(0));
  applySettings(ctx, first, server);
  lb::v1::Backend& backend = ctx.proxy->backend;
  *backend.add_servers() = std::move(server);
  ctx.markBackend("servers[" + std::to_string(backend.servers_size() - 1) + "]");
}

}  // namespace

void parseServer(KeywordContext& ctx) {
  if (ctx.words.size() < 3) {
    ctx.error("'server' needs a name and an address, e.g. 'server web1 10.0.0.11:80 check'");
    return;
  }
  addServer(ctx, ctx.words[1], ctx.words[2], 3);
}

// `server-template PREFIX NUM|LOW-HIGH ADDRESS[:PORT] [settings...]`: servers PREFIX<LOW> ..
// PREFIX<HIGH> (NUM is 1-NUM), all at ADDRESS, as HAProxy 2.6 creates them before its DNS
// resolution fills them in (lb resolves once, when the config is applied).
void parseServerTemplate(KeywordContext& ctx) {
  if (ctx.words.size() < 4) {
    ctx.error("'server-template' needs a prefix, a number or range and an address, e.g. " +
              std::string("'server-template web 1-3 app.example.com:80 check'"));
    return;
  }
  const std::string& range = ctx.words[2];
  auto dash = range.find('-');
  auto low = parseUint(range.substr(0, dash), 1u << 20);
  std::optional<uint32_t> high = low;
  if (dash != std::string::npos) {
    high = parseUint(range.substr(dash + 1), 1u << 20);
  } else {
    low = 1;
  }
  if (!low || !high || *low < 1 || *high < *low || *high - *low >= 10000) {
    ctx.error("'server-template': '" + range + "' is not a number of servers or a range " +
              "LOW-HIGH (from 1, at most 10000 servers)");
    return;
  }
  int errors = ctx.diag.errorCount();
  addServer(ctx, ctx.words[1] + std::to_string(*low), ctx.words[3], 4);
  if (ctx.diag.errorCount() > errors) return;
  // The line's warnings were said for the first server; not once more per server.
  Diagnostics said;
  KeywordContext quiet{ctx.words, ctx.where, said, ctx.section_cap, ctx.proxy, ctx.global, ctx.env};
  for (uint32_t n = *low + 1; n <= *high; ++n) {
    addServer(quiet, ctx.words[1] + std::to_string(n), ctx.words[3], 4);
  }
}

void parseDefaultServer(KeywordContext& ctx) {
  applySettings(ctx, 1, ctx.proxy->default_server);
}

}  // namespace lb::config::detail
