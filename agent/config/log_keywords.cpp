// `log` lines (global and proxies), `log-tag`, `log-send-hostname`: HAProxy's syslog targets.
#include <array>
#include <cstdlib>

#include "agent/common/syslog.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

std::optional<lb::v1::LogTarget> parseLogTarget(KeywordContext& ctx) {
  const auto& w = ctx.words;
  const char* usage =
      "usage: log ADDRESS [len N] [format rfc3164|rfc5424|raw|short] FACILITY [LEVEL "
      "[MINLEVEL]], e.g. 'log /dev/log local0' or 'log 127.0.0.1:514 local0 notice'";
  if (w.size() < 3) {
    ctx.error(usage);
    return std::nullopt;
  }
  lb::v1::LogTarget target;
  const std::string& address = w[1];
  if (address == "fd@1") {
    target.set_address("stdout");
  } else if (address == "fd@2") {
    target.set_address("stderr");
  } else if (address.rfind("ring@", 0) == 0 || address.rfind("fd@", 0) == 0 ||
             address.rfind("abns@", 0) == 0 || address.rfind("tcp@", 0) == 0) {
    ctx.error("log target '" + address + "' is not supported: lb sends to UDP syslog servers, " +
              "local syslog sockets (/dev/log) and stdout/stderr");
    return std::nullopt;
  } else {
    // The same reading of the address the validator and the build use.
    common::SyslogKind kind;
    std::string host, error;
    uint16_t port = 0;
    if (!common::parseSyslogAddress(address, &kind, &host, &port, &error)) {
      ctx.error("log target " + error);
      return std::nullopt;
    }
    target.set_address(address);
  }
  size_t i = 2;
  while (i < w.size()) {
    if (w[i] == "len" && i + 1 < w.size()) {
      if (auto n = ctx.number("log len", w[i + 1], 80, 65535)) target.set_len(*n);
      i += 2;
    } else if (w[i] == "format" && i + 1 < w.size()) {
      const std::string& format = w[i + 1];
      if (format == "rfc3164" || format == "legacy") {
        target.set_format(lb::v1::LogTarget::RFC3164);
      } else if (format == "rfc5424") {
        target.set_format(lb::v1::LogTarget::RFC5424);
      } else if (format == "raw") {
        target.set_format(lb::v1::LogTarget::RAW);
      } else if (format == "short") {
        target.set_format(lb::v1::LogTarget::SHORT);
      } else {
        ctx.error("unknown log format '" + format + "'; use rfc3164, rfc5424, raw or short");
        return std::nullopt;
      }
      i += 2;
    } else if (w[i] == "sample" && i + 1 < w.size()) {
      ctx.warning("'log ... sample " + w[i + 1] + "' ignored: lb sends every line");
      i += 2;
    } else {
      break;
    }
  }
  if (i >= w.size()) {
    ctx.error(std::string("the log line has no facility; ") + usage);
    return std::nullopt;
  }
  if (common::syslogFacility(w[i]) < 0) {
    ctx.error("unknown log facility '" + w[i] + "'" +
              didYouMean(w[i], common::syslogFacilityNames()) +
              " (local0 .. local7, daemon, user, ...)");
    return std::nullopt;
  }
  target.set_facility(w[i++]);
  if (i < w.size()) {
    if (common::syslogLevel(w[i]) < 0) {
      ctx.error("unknown log level '" + w[i] + "'" + didYouMean(w[i], common::syslogLevelNames()));
      return std::nullopt;
    }
    target.set_level(w[i++]);
  }
  if (i < w.size()) {
    if (common::syslogLevel(w[i]) < 0) {
      ctx.error("unknown log level '" + w[i] + "'" + didYouMean(w[i], common::syslogLevelNames()));
      return std::nullopt;
    }
    target.set_min_level(w[i++]);
  }
  if (i < w.size()) {
    ctx.error("unexpected '" + w[i] + "' after the log level; " + usage);
    return std::nullopt;
  }
  return target;
}

}  // namespace lb::config::detail
