// Keywords of the `global` section.
#include <array>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

namespace {

void globalMaxconn(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "maxconn NUMBER")) return;
  if (auto n = ctx.number("maxconn", ctx.words[1], 1, UINT32_MAX)) ctx.global->set_maxconn(*n);
}

void globalNbthread(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "nbthread NUMBER")) return;
  if (auto n = ctx.number("nbthread", ctx.words[1], 1, 1024)) ctx.global->set_nbthread(*n);
}

void globalBufsize(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "tune.bufsize BYTES")) return;
  if (auto n = ctx.number("tune.bufsize", ctx.words[1], 1024, 1 << 24)) {
    ctx.global->set_bufsize(*n);
  }
}

void globalNosplice(KeywordContext& ctx) {
  if (!ctx.expectArgs(0, "nosplice")) return;
  ctx.global->set_nosplice(true);
}

void globalAllowNoListener(KeywordContext& ctx) {
  if (!ctx.expectArgs(0, "allow-no-listener")) return;
  ctx.global->set_allow_no_listener(true);
}

void globalSchedPolicy(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "tune.sched-policy batch|normal")) return;
  const std::string& policy = ctx.words[1];
  if (policy == "batch") {
    ctx.global->set_sched_policy(lb::v1::Global::BATCH);
  } else if (policy == "normal") {
    ctx.global->set_sched_policy(lb::v1::Global::NORMAL);
  } else {
    ctx.error("unknown scheduling policy '" + policy + "' for 'tune.sched-policy'; use 'batch' " +
              "(the default) or 'normal'");
  }
}

void globalHardStopAfter(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "hard-stop-after TIME")) return;
  if (auto t = ctx.time("hard-stop-after", ctx.words[1])) {
    *ctx.global->mutable_hard_stop_after() = *t;
  }
}

void globalSpreadChecks(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "spread-checks PERCENT")) return;
  if (auto n = ctx.number("spread-checks", ctx.words[1], 0, 50)) ctx.global->set_spread_checks(*n);
}

void globalLog(KeywordContext& ctx) {
  if (auto target = parseLogTarget(ctx)) *ctx.global->add_log_targets() = std::move(*target);
}

void globalLogTag(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "log-tag TAG")) return;
  ctx.global->set_log_tag(ctx.words[1]);
}

void globalLogSendHostname(KeywordContext& ctx) {
  if (ctx.words.size() > 2) {
    ctx.error("usage: log-send-hostname [NAME]");
    return;
  }
  ctx.global->set_log_send_hostname(ctx.words.size() == 2 ? ctx.words[1] : "");
}

// `stats socket ADDRESS [mode OCTAL] [level user|operator|admin] ...`, `stats timeout T`; the
// rest of HAProxy's global `stats` lines change nothing here and are said to.
void globalStats(KeywordContext& ctx) {
  const auto& w = ctx.words;
  if (w.size() < 2) {
    ctx.error(
        "'stats' needs a subcommand: 'stats socket PATH [level admin]' or 'stats timeout "
        "TIME'");
    return;
  }
  if (w[1] == "timeout") {
    if (w.size() != 3) {
      ctx.error("usage: stats timeout TIME");
      return;
    }
    if (auto t = ctx.time("stats timeout", w[2])) *ctx.global->mutable_stats_timeout() = *t;
    return;
  }
  if (w[1] == "maxconn" || w[1] == "bind-process") {
    ctx.warning("'stats " + w[1] + "' ignored: lb serves every Runtime API connection on its " +
                "control thread");
    return;
  }
  if (w[1] != "socket") {
    ctx.error("unknown 'stats " + w[1] + "' in the global section" +
              didYouMean(w[1], {"socket", "timeout", "maxconn"}) +
              " (lb serves 'stats socket' and 'stats timeout')");
    return;
  }
  if (w.size() < 3) {
    ctx.error(
        "usage: stats socket PATH|ipv4@HOST:PORT|ipv6@HOST:PORT [mode OCTAL] [level "
        "user|operator|admin]");
    return;
  }
  lb::v1::StatsSocket socket;
  const std::string& address = w[2];
  // As HAProxy reads it: a path (with a '/') or unix@PATH is a UNIX socket; anything else is
  // a TCP address, with or without ipv4@ / ipv6@.
  bool is_unix = address.rfind("unix@", 0) == 0 ||
                 (address.find('/') != std::string::npos && address.find('@') == std::string::npos);
  if (address.rfind("abns@", 0) == 0 || address.rfind("fd@", 0) == 0 ||
      address.rfind("sockpair@", 0) == 0) {
    ctx.error("stats socket '" + address + "': lb serves UNIX paths and TCP addresses " +
              "(ipv4@HOST:PORT, ipv6@HOST:PORT)");
    return;
  }
  if (!is_unix) {
    std::string error;
    if (!parseHostPort(address, true, &error)) {
      ctx.error("stats socket '" + address + "': " + error +
                " (a UNIX socket is a path with a '/', e.g. /run/lb/admin.sock)");
      return;
    }
  }
  socket.set_address(address);
  for (size_t i = 3; i < w.size(); ++i) {
    const std::string& option = w[i];
    bool has_value = i + 1 < w.size();
    if (option == "level" && has_value) {
      const std::string& level = w[++i];
      if (level == "user") {
        socket.set_level(lb::v1::StatsSocket::USER);
      } else if (level == "operator") {
        socket.set_level(lb::v1::StatsSocket::OPERATOR);
      } else if (level == "admin") {
        socket.set_level(lb::v1::StatsSocket::ADMIN);
      } else {
        ctx.error("unknown stats socket level '" + level + "'; use user, operator or admin");
      }
    } else if (option == "mode" && has_value) {
      const std::string& mode = w[++i];
      char* end = nullptr;
      unsigned long value = std::strtoul(mode.c_str(), &end, 8);
      if (mode.empty() || *end != '\0' || value > 07777) {
        ctx.error("stats socket mode '" + mode + "' is not an octal permission like 600 or 660");
      } else {
        socket.set_mode(static_cast<uint32_t>(value));
      }
    } else if ((option == "user" || option == "group" || option == "uid" || option == "gid" ||
                option == "process" || option == "name" || option == "severity-output") &&
               has_value) {
      ctx.warning("stats socket option '" + option + " " + w[++i] +
                  "' ignored: lb creates the socket as the user it runs as");
    } else if (option == "expose-fd" && has_value) {
      ++i;
      ctx.warning(
          "stats socket option 'expose-fd' ignored: lb reloads in place, no listener "
          "is passed between processes");
    } else {
      ctx.error("unknown stats socket option '" + option + "'" +
                didYouMean(option, {"level", "mode", "user", "group", "expose-fd"}) +
                " (or a missing value)");
      return;  // what follows it cannot be read reliably
    }
  }
  for (const auto& existing : ctx.global->stats_sockets()) {
    if (existing.address() == socket.address()) {
      ctx.error("stats socket '" + address + "' is declared twice");
      return;
    }
  }
  *ctx.global->add_stats_sockets() = std::move(socket);
}

void globalMaxconnrate(KeywordContext& ctx) {
  if (!ctx.expectArgs(1, "maxconnrate NUMBER")) return;
  if (auto n = ctx.number("maxconnrate", ctx.words[1], 1, UINT32_MAX)) {
    ctx.global->set_maxconnrate(*n);
  }
}

void globalNbproc(KeywordContext& ctx) {
  ctx.error("'nbproc' was removed in HAProxy 2.5 and lb has no processes to spread; use " +
            std::string("'nbthread' (or --threads)"));
}

constexpr std::array kGlobalKeywords{
    KeywordSpec{"maxconn", kCapGlobal, globalMaxconn},
    KeywordSpec{"maxconnrate", kCapGlobal, globalMaxconnrate},
    KeywordSpec{"nbthread", kCapGlobal, globalNbthread},
    KeywordSpec{"tune.bufsize", kCapGlobal, globalBufsize},
    KeywordSpec{"nosplice", kCapGlobal, globalNosplice},
    KeywordSpec{"allow-no-listener", kCapGlobal, globalAllowNoListener},
    KeywordSpec{"tune.sched-policy", kCapGlobal, globalSchedPolicy},
    KeywordSpec{"hard-stop-after", kCapGlobal, globalHardStopAfter},
    KeywordSpec{"spread-checks", kCapGlobal, globalSpreadChecks},
    KeywordSpec{"log", kCapGlobal, globalLog},
    KeywordSpec{"log-tag", kCapGlobal, globalLogTag},
    KeywordSpec{"log-send-hostname", kCapGlobal, globalLogSendHostname},
    KeywordSpec{"nbproc", kCapGlobal, globalNbproc},
    KeywordSpec{"stats", kCapGlobal, globalStats},
};

}  // namespace

std::span<const KeywordSpec> globalKeywords() {
  return kGlobalKeywords;
}

}  // namespace lb::config::detail
