// Keywords of the proxy sections (defaults, frontend, backend, listen), except the server and
// health-check ones. The global section is in global_keywords.cpp, what is accepted and ignored
// in ignored_keywords.cpp.
#include <algorithm>
#include <array>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

std::string KeywordContext::keywordIn(std::string_view keyword) const {
  std::string out = "'" + std::string(keyword) + "'";
  if (proxy != nullptr) out += " in " + proxy->describe();
  return out;
}

bool KeywordContext::expectArgs(size_t count, std::string_view usage) const {
  if (words.size() == count + 1) return true;
  error("'" + words[0] + "' expects " +
        (count == 0 ? std::string("no argument")
                    : std::to_string(count) + (count == 1 ? " argument" : " arguments")) +
        ": " + std::string(usage));
  return false;
}

std::optional<google::protobuf::Duration> KeywordContext::time(std::string_view keyword,
                                                               std::string_view text) const {
  std::string problem;
  auto parsed = parseTime(text, &problem);
  if (!parsed) {
    error("'" + std::string(keyword) + "': " + problem);
    return std::nullopt;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(parsed->value).count();
  if (parsed->unitless && ms > 0 && ms < 100) {
    warning("'" + std::string(keyword) + " " + std::string(text) + "' is " + std::to_string(ms) +
            " ms, since a time without a unit is in milliseconds; write '" + std::string(text) +
            "s' for " + std::to_string(ms) + (ms == 1 ? " second" : " seconds"));
  }
  return toProto(parsed->value);
}

std::optional<uint32_t> KeywordContext::number(std::string_view keyword, std::string_view text,
                                               uint32_t min, uint32_t max) const {
  auto value = parseUint(text, max);
  if (!value || *value < min) {
    error("'" + std::string(keyword) + "' expects a whole number from " + std::to_string(min) +
          " to " + std::to_string(max) + ", not '" + std::string(text) + "'");
    return std::nullopt;
  }
  return value;
}

namespace {

using lb::v1::Balance;

void modeKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "mode tcp")) return;
  lb::v1::Mode mode;
  if (ctx.words[1] == "tcp") {
    mode = lb::v1::MODE_TCP;
  } else if (ctx.words[1] == "http") {
    mode = lb::v1::MODE_HTTP;  // rejected by the validator only where a proxy ends up in it
  } else {
    ctx.error("unknown mode '" + ctx.words[1] + "'; lb supports 'mode tcp'" +
              didYouMean(ctx.words[1], {"tcp", "http"}));
    return;
  }
  if (ctx.proxy->has_frontend) {
    ctx.proxy->frontend.set_mode(mode);
    ctx.markFrontend("mode");
  }
  if (ctx.proxy->has_backend) {
    ctx.proxy->backend.set_mode(mode);
    ctx.markBackend("mode");
  }
}

void defaultBackendKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "default_backend BACKEND")) return;
  ctx.proxy->frontend.set_default_backend(ctx.words[1]);
  ctx.markFrontend("default_backend");
}

void maxconnKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "maxconn NUMBER")) return;
  if (auto n = ctx.number("maxconn", ctx.words[1], 0, UINT32_MAX)) {
    ctx.proxy->frontend.set_maxconn(*n);
    ctx.markFrontend("maxconn");
  }
}

void timeoutKeyword(KeywordContext& ctx) {
  static const std::vector<std::string> kNames{"connect",    "client",     "server", "tunnel",
                                               "client-fin", "server-fin", "queue",  "check"};
  if (ctx.words.size() < 2) {
    ctx.error("'timeout' needs a name and a time, e.g. 'timeout connect 5s'");
    return;
  }
  const std::string& name = ctx.words[1];
  if (name == "http-request" || name == "http-keep-alive" || name == "tarpit") {
    ctx.warning("'timeout " + name + "' is ignored: it applies to HTTP mode only");
    return;
  }
  if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) {
    ctx.error("unknown timeout '" + name + "'" + didYouMean(name, kNames));
    return;
  }
  if (ctx.words.size() != 3) {
    ctx.error("'timeout " + name + "' expects one time, e.g. 'timeout " + name + " 30s'");
    return;
  }
  auto value = ctx.time("timeout " + name, ctx.words[2]);
  if (!value) return;
  bool frontend_side = name == "client" || name == "client-fin";
  bool usable = frontend_side ? ctx.proxy->has_frontend : ctx.proxy->has_backend;
  if (!usable) {
    ctx.warning("'timeout " + name + "' ignored because " + ctx.proxy->describe() + " has no " +
                (frontend_side ? "frontend" : "backend") + " capability");
    return;
  }
  lb::v1::Timeouts* t = frontend_side ? ctx.proxy->frontend.mutable_timeouts()
                                      : ctx.proxy->backend.mutable_timeouts();
  std::string field = name;
  std::replace(field.begin(), field.end(), '-', '_');
  const auto* descriptor = t->GetDescriptor()->FindFieldByName(field);
  t->GetReflection()->MutableMessage(t, descriptor)->CopyFrom(*value);
  if (frontend_side) {
    ctx.markFrontend("timeouts." + field);
  } else {
    ctx.markBackend("timeouts." + field);
  }
}

void balanceKeyword(KeywordContext& ctx) {
  static const std::vector<std::string> kAlgorithms{"roundrobin", "static-rr", "leastconn",
                                                    "first",      "source",    "random"};
  if (ctx.words.size() < 2) {
    ctx.error("'balance' needs an algorithm: roundrobin, static-rr, leastconn, first, source " +
              std::string("or random"));
    return;
  }
  std::string algorithm = ctx.words[1];
  std::optional<uint32_t> draws;
  if (algorithm.rfind("random(", 0) == 0 && algorithm.back() == ')') {
    draws = ctx.number("balance random(N)", algorithm.substr(7, algorithm.size() - 8), 1, 100);
    if (!draws) return;
    algorithm = "random";
  }
  Balance balance;
  if (algorithm == "roundrobin") {
    balance.set_algorithm(Balance::ROUNDROBIN);
  } else if (algorithm == "static-rr") {
    balance.set_algorithm(Balance::STATIC_RR);
  } else if (algorithm == "leastconn") {
    balance.set_algorithm(Balance::LEASTCONN);
  } else if (algorithm == "first") {
    balance.set_algorithm(Balance::FIRST);
  } else if (algorithm == "source") {
    balance.set_algorithm(Balance::SOURCE);
  } else if (algorithm == "random") {
    balance.set_algorithm(Balance::RANDOM);
    if (draws) balance.set_random_draws(*draws);
  } else if (algorithm == "uri" || algorithm == "url_param" || algorithm == "hdr" ||
             algorithm.rfind("hdr(", 0) == 0 || algorithm == "rdp-cookie" ||
             algorithm.rfind("rdp-cookie(", 0) == 0 || algorithm == "hash") {
    ctx.error("'balance " + algorithm + "' needs HTTP or payload inspection, which lb does not " +
              "do; use roundrobin, static-rr, leastconn, first, source or random");
    return;
  } else {
    ctx.error("unknown balance algorithm '" + algorithm + "'" + didYouMean(algorithm, kAlgorithms));
    return;
  }
  if (ctx.words.size() > 2) {
    ctx.error("'balance " + algorithm + "' takes no further argument, found '" + ctx.words[2] +
              "'");
    return;
  }
  *ctx.proxy->backend.mutable_balance() = balance;
  ctx.markBackend("balance");
}

void retriesKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "retries NUMBER")) return;
  if (auto n = ctx.number("retries", ctx.words[1], 0, 100)) {
    ctx.proxy->backend.set_retries(*n);
    ctx.markBackend("retries");
  }
}

void logKeyword(KeywordContext& ctx) {
  if (ctx.words.size() == 2 && ctx.words[1] == "global") {
    if (ctx.proxy->has_frontend) ctx.proxy->frontend.mutable_log()->set_global(true);
    return;
  }
  auto target = parseLogTarget(ctx);
  if (target && ctx.proxy->has_frontend) {
    *ctx.proxy->frontend.mutable_log()->add_targets() = std::move(*target);
  }
}

// `stats ...` in a frontend or listen section: HAProxy's statistics page. lb serves it (and
// only it) for an HTTP section without servers; see StatsPages.
void statsKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  if (!ctx.proxy->has_frontend) {
    ctx.warning("'stats' is ignored in a backend section: lb serves the statistics page of a " +
                std::string("frontend or listen section"));
    return;
  }
  auto* page = ctx.proxy->frontend.mutable_stats_page();
  const std::string what = w.size() > 1 ? w[1] : "";
  if (what == "enable") {
    page->set_enabled(true);
  } else if (what == "uri" && w.size() == 3) {
    page->set_enabled(true);
    page->set_uri(w[2]);
  } else if (what == "realm" && w.size() >= 3) {
    page->set_realm(w[2]);
  } else if (what == "auth" && w.size() == 3) {
    if (w[2].find(':') == std::string::npos) {
      ctx.error("stats auth needs USER:PASSWORD");
      return;
    }
    page->set_enabled(true);
    page->add_auth(w[2]);
  } else if (what == "refresh" && w.size() == 3) {
    page->set_enabled(true);
    // A number without a unit is in seconds here (HAProxy reads it with TIME_UNIT_S).
    std::string text = w[2];
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) text += "s";
    if (auto t = ctx.time("stats refresh", text)) *page->mutable_refresh() = *t;
  } else if (what == "http-request") {
    std::string rule;
    for (size_t i = 1; i < w.size(); ++i) rule += (i > 1 ? " " : "") + w[i];
    page->add_unenforced(rule);
    ctx.warning("'" + rule + "': lb's statistics page cannot enforce HTTP rules, so " +
                ctx.proxy->describe() + " will not serve its page (it would be open); use " +
                "'stats auth USER:PASSWORD' instead");
  } else if (what == "hide-version" || what == "show-legends" || what == "show-node" ||
             what == "show-desc" || what == "show-modules" || what == "scope" || what == "admin" ||
             what == "bind-process") {
    ctx.warning("'stats " + what + "' ignored: lb's statistics page is read-only and shows " +
                "every proxy");
  } else if (what == "socket" || what == "timeout" || what == "maxconn") {
    ctx.error("'stats " + what + "' belongs in the global section");
  } else {
    ctx.error("unknown or incomplete 'stats " + what + "'" +
              didYouMean(what, {"enable", "uri", "auth", "realm", "refresh"}) +
              "; lb serves 'stats enable', 'stats uri PATH', 'stats auth USER:PASSWORD', " +
              "'stats realm', 'stats refresh'");
  }
}

// `http-request`: HTTP only, except HAProxy's Prometheus exporter service, which lb serves
// from its own metrics.
void httpRequestKeyword(KeywordContext& ctx) {
  const auto& w = ctx.words;
  auto service = std::find(w.begin(), w.end(), "use-service");
  if (service != w.end() && service + 1 != w.end() && *(service + 1) == "prometheus-exporter" &&
      ctx.proxy->has_frontend) {
    std::string path = "/metrics";
    auto at = std::find(w.begin(), w.end(), "path");
    if (at != w.end() && at + 1 != w.end()) path = *(at + 1);
    ctx.proxy->frontend.mutable_stats_page()->set_prometheus_path(path);
    return;
  }
  ctx.warning("'http-request' is ignored: it applies to HTTP mode only");
}

// `source ADDR[:PORT] [usesrc ...] [interface NAME]`: refused, since connecting from another
// address than the kernel's choice changes what servers and firewalls see.
void sourceKeyword(KeywordContext& ctx) {
  ctx.error("'source' is not supported: lb connects to servers from the address the kernel " +
            std::string("chooses (no source address, no transparent proxying)"));
}

void noLogKeyword(KeywordContext& ctx) {
  if (ctx.words.size() == 2 && ctx.words[1] == "log") {
    ctx.proxy->frontend.mutable_log()->set_global(false);
    ctx.proxy->frontend.mutable_log()->clear_targets();
    return;
  }
  ctx.error("'no' must be followed by 'option' or 'log'");
}

void disabledKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(0, "disabled")) return;
  if (ctx.proxy->has_frontend) ctx.proxy->frontend.set_disabled(true);
  if (ctx.proxy->has_backend) ctx.proxy->backend.set_disabled(true);
}

void enabledKeyword(KeywordContext& ctx) {
  if (!ctx.expectArgs(0, "enabled")) return;
  if (ctx.proxy->has_frontend) ctx.proxy->frontend.set_disabled(false);
  if (ctx.proxy->has_backend) ctx.proxy->backend.set_disabled(false);
}

void descriptionKeyword(KeywordContext& ctx) {
  std::string text;
  for (size_t i = 1; i < ctx.words.size(); ++i) text += (i > 1 ? " " : "") + ctx.words[i];
  if (ctx.proxy->has_frontend) ctx.proxy->frontend.set_description(text);
  if (ctx.proxy->has_backend) ctx.proxy->backend.set_description(text);
}

// ---- options ----

void optionTcplog(KeywordContext& ctx, bool negate) {
  ctx.proxy->frontend.mutable_log()->set_tcplog(!negate);
}

void optionHttplog(KeywordContext& ctx, bool negate) {
  ctx.proxy->frontend.mutable_log()->set_tcplog(!negate);
  if (negate) {
    ctx.proxy->httplog_at.reset();
  } else {
    ctx.proxy->httplog_at = ctx.where;
  }
}

void optionDontlognull(KeywordContext& ctx, bool negate) {
  ctx.proxy->frontend.mutable_log()->set_dontlognull(!negate);
}

void optionRedispatch(KeywordContext& ctx, bool negate) {
  ctx.proxy->backend.set_redispatch(!negate);
}

void optionAllbackups(KeywordContext& ctx, bool negate) {
  ctx.proxy->backend.set_allbackups(!negate);
}

void optionTcpSmartAccept(KeywordContext& ctx, bool negate) {
  ctx.proxy->frontend.set_tcp_smart_accept(!negate);
}

void optionTcpSmartConnect(KeywordContext& ctx, bool negate) {
  ctx.proxy->backend.set_tcp_smart_connect(!negate);
}

// `option tcpka` sets both sides; `clitcpka` the client side, `srvtcpka` the server side.
void optionTcpka(KeywordContext& ctx, bool negate) {
  const std::string& name = ctx.words[0];
  if (name != "srvtcpka" && ctx.proxy->has_frontend) ctx.proxy->frontend.set_tcpka(!negate);
  if (name != "clitcpka" && ctx.proxy->has_backend) ctx.proxy->backend.set_tcpka(!negate);
}

constexpr unsigned kFe = kCapDefaults | kCapFrontend;
constexpr unsigned kBe = kCapDefaults | kCapBackend;

constexpr std::array kProxyKeywords{
    KeywordSpec{"mode", kCapProxy, modeKeyword},
    KeywordSpec{"bind", kCapFrontend, parseBind},
    KeywordSpec{"default_backend", kFe, defaultBackendKeyword},
    KeywordSpec{"maxconn", kFe, maxconnKeyword},
    KeywordSpec{"timeout", kCapProxy, timeoutKeyword},
    KeywordSpec{"balance", kBe, balanceKeyword},
    KeywordSpec{"retries", kBe, retriesKeyword},
    KeywordSpec{"log", kCapProxy, logKeyword},
    KeywordSpec{"stats", kCapProxy, statsKeyword},
    KeywordSpec{"http-request", kCapProxy, httpRequestKeyword},
    KeywordSpec{"no", kCapProxy, noLogKeyword},
    KeywordSpec{"disabled", kCapProxy, disabledKeyword},
    KeywordSpec{"enabled", kCapProxy, enabledKeyword},
    KeywordSpec{"description", kCapProxy, descriptionKeyword},
    KeywordSpec{"server", kCapBackend, parseServer},
    KeywordSpec{"server-template", kCapBackend, parseServerTemplate},
    KeywordSpec{"source", kBe, sourceKeyword},
    KeywordSpec{"default-server", kBe, parseDefaultServer},
};

constexpr std::array kProxyOptions{
    OptionSpec{"tcplog", kFe, optionTcplog},
    OptionSpec{"httplog", kFe, optionHttplog},
    OptionSpec{"dontlognull", kFe, optionDontlognull},
    OptionSpec{"redispatch", kBe, optionRedispatch},
    OptionSpec{"allbackups", kBe, optionAllbackups},
    OptionSpec{"tcp-smart-accept", kFe, optionTcpSmartAccept},
    OptionSpec{"tcp-smart-connect", kBe, optionTcpSmartConnect},
    OptionSpec{"tcpka", kCapProxy, optionTcpka},
    OptionSpec{"clitcpka", kFe, optionTcpka},
    OptionSpec{"srvtcpka", kBe, optionTcpka},
};

}  // namespace

std::span<const KeywordSpec> proxyKeywords() {
  return kProxyKeywords;
}
std::span<const OptionSpec> proxyOptions() {
  return kProxyOptions;
}

}  // namespace lb::config::detail
