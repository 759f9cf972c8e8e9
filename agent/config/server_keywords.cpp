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
       [](Ctx c, Str, Server&) {
         c.warning(
             "server 'init-addr' is ignored: lb resolves host names when the config is "
             "applied");
       }},
  };
  return kSettings;
}

// Applies "KEYWORD [VALUE] ..." starting at words[first] to `server`.
void applySettings(KeywordContext& ctx, size_t first, Server& server) {
  const auto& all = settings();
  for (size_t i = first; i < ctx.words.size(); ++i) {
    const std::string& word = ctx.words[i];
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const ServerSetting& s) { return s.name == word; });
    if (it == all.end()) {
      if (word == "ssl" || word == "verify" || word == "sni" || word == "crt" ||
          word == "ca-file" || word == "check-ssl") {
        ctx.error("server option '" + word + "' is not supported: lb relays TCP and does not " +
                  "speak TLS to servers");
      } else {
        ctx.error("unknown server option '" + word + "'" + didYouMean(word, serverSettingNames()));
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

void parseServer(KeywordContext& ctx) {
  if (ctx.words.size() < 3) {
    ctx.error("'server' needs a name and an address, e.g. 'server web1 10.0.0.11:80 check'");
    return;
  }
  Server server = ctx.proxy->default_server;
  server.set_name(ctx.words[1]);
  std::string problem;
  auto address = parseHostPort(ctx.words[2], false, &problem);
  if (!address) {
    ctx.error("server '" + ctx.words[1] + "': " + problem);
    return;
  }
  server.set_address(address->host);
  server.set_port(address->port.value_or(0));
  applySettings(ctx, 3, server);
  lb::v1::Backend& backend = ctx.proxy->backend;
  *backend.add_servers() = std::move(server);
  ctx.markBackend("servers[" + std::to_string(backend.servers_size() - 1) + "]");
}

void parseDefaultServer(KeywordContext& ctx) {
  applySettings(ctx, 1, ctx.proxy->default_server);
}

}  // namespace lb::config::detail
