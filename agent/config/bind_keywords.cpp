// `bind ADDRESS[,ADDRESS...] [options...]`: the listening addresses of a frontend, as HAProxy
// 2.6 reads them (environment variables in addresses, port ranges), and the bind options lb
// applies, tolerates with a warning, or refuses because ignoring them would change what the
// listener does.
#include <array>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

std::optional<std::string> KeywordContext::address(const std::string& text) const {
  std::string expanded = env != nullptr ? expandAddressEnv(text, *env) : text;
  if (expanded.empty()) {
    error("'" + text + "' resolves to an empty address (environment variable missing?)");
    return std::nullopt;
  }
  return expanded;
}

namespace {

// Bind options lb accepts and does nothing with, and how many values each takes.
struct ToleratedBindOption {
  std::string_view name;
  int values;
  std::string_view reason;
};

constexpr std::string_view kUnixOnly = "it applies to UNIX sockets only";
constexpr std::string_view kThreads = "lb spreads every bind over all its worker threads";

constexpr std::array kToleratedBindOptions{
    ToleratedBindOption{"id", 1, "lb identifies listeners by frontend and address"},
    ToleratedBindOption{"nice", 1, "lb does not prioritise listeners"},
    ToleratedBindOption{"process", 1, kThreads},
    ToleratedBindOption{"thread", 1, kThreads},
    ToleratedBindOption{"shards", 1, kThreads},
    ToleratedBindOption{"mss", 1, "lb leaves the MSS to the kernel"},
    ToleratedBindOption{"tcp-ut", 1, "lb leaves TCP_USER_TIMEOUT to the kernel"},
    ToleratedBindOption{"defer-accept", 0, "lb accepts connections as they come"},
    ToleratedBindOption{"uid", 1, kUnixOnly},
    ToleratedBindOption{"gid", 1, kUnixOnly},
    ToleratedBindOption{"user", 1, kUnixOnly},
    ToleratedBindOption{"group", 1, kUnixOnly},
    ToleratedBindOption{"mode", 1, kUnixOnly},
    ToleratedBindOption{"level", 1, "it applies to stats sockets only"},
    ToleratedBindOption{"severity-output", 1, "it applies to stats sockets only"},
    ToleratedBindOption{"expose-fd", 1, "lb reloads in place, no listener is passed on"},
};

// TLS options: lb relays TCP and does not terminate TLS. Values taken by each.
constexpr std::array<std::pair<std::string_view, int>, 27> kTlsBindOptions{{
    {"ssl", 0},
    {"crt", 1},
    {"crt-list", 1},
    {"ca-file", 1},
    {"verify", 1},
    {"alpn", 1},
    {"npn", 1},
    {"ciphers", 1},
    {"ciphersuites", 1},
    {"curves", 1},
    {"ecdhe", 1},
    {"crl-file", 1},
    {"ssl-min-ver", 1},
    {"ssl-max-ver", 1},
    {"strict-sni", 0},
    {"ca-ignore-err", 1},
    {"crt-ignore-err", 1},
    {"ca-sign-file", 1},
    {"ca-sign-pass", 1},
    {"ca-verify-file", 1},
    {"no-sslv3", 0},
    {"no-tlsv10", 0},
    {"no-tlsv11", 0},
    {"no-tls-tickets", 0},
    {"allow-0rtt", 0},
    {"prefer-client-ciphers", 0},
    {"generate-certificates", 0},
}};

std::vector<std::string> bindOptionNames() {
  std::vector<std::string> names{"v4v6",    "v6only",  "accept-proxy", "interface", "name",
                                 "backlog", "maxconn", "tfo",          "proto"};
  for (const auto& option : kToleratedBindOptions) names.emplace_back(option.name);
  for (const auto& [name, _] : kTlsBindOptions) names.emplace_back(name);
  return names;
}

// "PORT" or "LOW-HIGH" (HAProxy's port range: one listener per port).
bool parsePorts(std::string_view text, uint32_t* low, uint32_t* high) {
  auto dash = text.find('-');
  auto first = parseUint(text.substr(0, dash), 65535);
  if (!first) return false;
  *low = *high = *first;
  if (dash == std::string_view::npos) return true;
  auto last = parseUint(text.substr(dash + 1), 65535);
  if (!last || *last < *first) return false;
  *high = *last;
  return true;
}

}  // namespace

void parseBind(KeywordContext& ctx) {
  if (ctx.words.size() < 2) {
    ctx.error("'bind' needs an address, e.g. 'bind *:80'");
    return;
  }
  const int before = ctx.proxy->frontend.binds_size();
  lb::v1::Bind options;
  for (size_t i = 2; i < ctx.words.size(); ++i) {
    const std::string& word = ctx.words[i];
    auto value = [&]() -> const std::string* {
      if (i + 1 >= ctx.words.size()) {
        ctx.error("bind option '" + word + "' needs a value");
        return nullptr;
      }
      return &ctx.words[++i];
    };
    auto tolerated =
        std::find_if(kToleratedBindOptions.begin(), kToleratedBindOptions.end(),
                     [&](const ToleratedBindOption& option) { return option.name == word; });
    auto tls = std::find_if(kTlsBindOptions.begin(), kTlsBindOptions.end(),
                            [&](const auto& option) { return option.first == word; });
    if (word == "v4v6") {
      options.set_v4v6(true);
    } else if (word == "v6only") {
      options.set_v6only(true);
    } else if (word == "accept-proxy") {
      options.set_accept_proxy(true);
    } else if (word == "tfo") {
      options.set_tfo(true);
    } else if (word == "interface") {
      if (auto v = value()) options.set_interface(*v);
    } else if (word == "name") {
      if (auto v = value()) options.set_name(*v);
    } else if (word == "backlog") {
      if (auto v = value()) {
        if (auto n = ctx.number("backlog", *v, 1, 1 << 20)) options.set_backlog(*n);
      }
    } else if (word == "maxconn") {
      if (auto v = value()) {
        if (auto n = ctx.number("maxconn", *v, 1, UINT32_MAX)) options.set_maxconn(*n);
      }
    } else if (word == "proto") {
      // The multiplexer: in TCP mode HAProxy 2.6 knows only 'none' (its default).
      if (auto v = value()) {
        if (*v == "h1" || *v == "h2") {
          ctx.error("bind option 'proto " + *v + "' is an HTTP protocol; lb relays TCP " +
                    "(mode tcp), where the only protocol is 'none'");
        } else if (*v != "none") {
          ctx.error("bind option 'proto': unknown MUX protocol '" + *v + "' (HAProxy 2.6 " +
                    "refuses it too); in TCP mode the only one is 'none', which is the default");
        }
      }
    } else if (tolerated != kToleratedBindOptions.end()) {
      std::string text = word;
      if (tolerated->values == 1) {
        auto v = value();
        if (v == nullptr) continue;
        text += " " + *v;
      }
      ctx.warning("bind option '" + text + "' is ignored: " + std::string(tolerated->reason));
    } else if (word == "transparent" || word == "namespace" || word == "accept-netscaler-cip") {
      if (word != "transparent") value();
      ctx.error("bind option '" + word + "' is not supported: lb would listen or read " +
                "connections differently from HAProxy");
    } else if (tls != kTlsBindOptions.end()) {
      ctx.error("bind option '" + word + "' is not supported: lb does not terminate TLS " +
                "(it relays TCP; put TLS on the servers)");
      if (tls->second == 1 && i + 1 < ctx.words.size()) ++i;
    } else {
      ctx.error("unknown bind option '" + word + "'" + didYouMean(word, bindOptionNames()));
    }
  }
  if (options.v4v6() && options.v6only()) ctx.error("'v4v6' and 'v6only' contradict each other");

  // An address list: "bind :80,:443" or "bind 10.0.0.1:80,10.0.0.2:80"; a port range
  // ":9001-9006" is one listener per port, as in HAProxy.
  std::string_view list = ctx.words[1];
  while (true) {
    auto comma = list.find(',');
    std::string written(list.substr(0, comma));
    if (auto one = ctx.address(written)) {
      std::string problem;
      uint32_t low = 0, high = 0;
      auto colon = one->rfind(':');
      std::string port_text = colon == std::string::npos ? "" : one->substr(colon + 1);
      if (port_text.find('-') != std::string::npos) {
        if (!parsePorts(port_text, &low, &high)) {
          ctx.error("bind: invalid port range '" + port_text + "' in '" + written +
                    "'; expected LOW-HIGH with LOW <= HIGH, both from 1 to 65535");
        } else if (low == 0) {
          ctx.error("bind: a port range cannot start at 0 in '" + written + "'");
        } else if (auto parsed = parseHostPort(one->substr(0, colon + 1) + std::to_string(low),
                                               true, &problem)) {
          for (uint32_t port = low; port <= high; ++port) {
            lb::v1::Bind* bind = ctx.proxy->frontend.add_binds();
            *bind = options;
            bind->set_address(parsed->host);
            bind->set_port(port);
            ctx.markFrontend("binds[" + std::to_string(ctx.proxy->frontend.binds_size() - 1) + "]");
          }
        } else {
          ctx.error("bind: " + problem);
        }
      } else if (auto parsed = parseHostPort(*one, true, &problem)) {
        lb::v1::Bind* bind = ctx.proxy->frontend.add_binds();
        *bind = options;
        bind->set_address(parsed->host);
        bind->set_port(*parsed->port);
        ctx.markFrontend("binds[" + std::to_string(ctx.proxy->frontend.binds_size() - 1) + "]");
      } else {
        ctx.error("bind: " + problem);
      }
    }
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  // The validator's "no 'bind' line" warning would only repeat this line's error.
  if (ctx.proxy->frontend.binds_size() == before) ctx.proxy->bind_failed = true;
}

}  // namespace lb::config::detail
