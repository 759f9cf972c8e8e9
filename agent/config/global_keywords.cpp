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
  ctx.warning("'log' target ignored: lb does not send syslog yet; it logs to stderr or to " +
              std::string("--log-file"));
}

void globalNbproc(KeywordContext& ctx) {
  ctx.error("'nbproc' was removed in HAProxy 2.5 and lb has no processes to spread; use " +
            std::string("'nbthread' (or --threads)"));
}

constexpr std::array kGlobalKeywords{
    KeywordSpec{"maxconn", kCapGlobal, globalMaxconn},
    KeywordSpec{"nbthread", kCapGlobal, globalNbthread},
    KeywordSpec{"tune.bufsize", kCapGlobal, globalBufsize},
    KeywordSpec{"nosplice", kCapGlobal, globalNosplice},
    KeywordSpec{"allow-no-listener", kCapGlobal, globalAllowNoListener},
    KeywordSpec{"tune.sched-policy", kCapGlobal, globalSchedPolicy},
    KeywordSpec{"hard-stop-after", kCapGlobal, globalHardStopAfter},
    KeywordSpec{"spread-checks", kCapGlobal, globalSpreadChecks},
    KeywordSpec{"log", kCapGlobal, globalLog},
    KeywordSpec{"nbproc", kCapGlobal, globalNbproc},
};

}  // namespace

std::span<const KeywordSpec> globalKeywords() {
  return kGlobalKeywords;
}

}  // namespace lb::config::detail
