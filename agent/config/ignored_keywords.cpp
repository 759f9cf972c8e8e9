// Keywords and options HAProxy knows that do nothing for a TCP balancer (or that lb does
// another way): accepted with a warning that says why.
#include <array>

#include "agent/config/address.h"
#include "agent/config/keyword_context.h"
#include "agent/config/suggest.h"

namespace lb::config::detail {

namespace {

constexpr std::string_view kHttpOnly = "it applies to HTTP mode only";
constexpr std::string_view kNoTls = "lb does not terminate TLS";

constexpr std::array kIgnoredKeywords{
    IgnoredSpec{"chroot", kCapGlobal, "lb does not chroot; run it under systemd's sandboxing"},
    IgnoredSpec{"user", kCapGlobal,
                "lb does not change user; start it as the user it should run as"},
    IgnoredSpec{"group", kCapGlobal,
                "lb does not change group; start it as the user it should run as"},
    IgnoredSpec{"uid", kCapGlobal,
                "lb does not change user; start it as the user it should run as"},
    IgnoredSpec{"gid", kCapGlobal,
                "lb does not change group; start it as the user it should run as"},
    IgnoredSpec{"daemon", kCapGlobal, "lb runs in the foreground; let systemd supervise it"},
    IgnoredSpec{"master-worker", kCapGlobal, "lb reloads in place (SIGHUP or gRPC apply)"},
    IgnoredSpec{"pidfile", kCapGlobal, "lb runs in the foreground; let systemd track its pid"},
    IgnoredSpec{"ca-base", kCapGlobal, kNoTls},
    IgnoredSpec{"crt-base", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-bind-ciphers", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-bind-ciphersuites", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-bind-options", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-server-ciphers", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-server-ciphersuites", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-default-server-options", kCapGlobal, kNoTls},
    IgnoredSpec{"ssl-dh-param-file", kCapGlobal, kNoTls},
    IgnoredSpec{"tune.ssl.default-dh-param", kCapGlobal, kNoTls},
    IgnoredSpec{"ulimit-n", kCapGlobal, "set the file limit in the service manager (LimitNOFILE=)"},
    IgnoredSpec{"node", kCapGlobal, "the agent's name is set with --name"},
    IgnoredSpec{"description", kCapGlobal, "the agent's name is set with --name"},
    IgnoredSpec{"quiet", kCapGlobal, "use --log-level"},
    IgnoredSpec{"errorfile", kCapProxy, kHttpOnly},
    IgnoredSpec{"errorloc", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-response", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-reuse", kCapProxy, kHttpOnly},
    IgnoredSpec{"compression", kCapProxy, kHttpOnly},
    IgnoredSpec{"cookie", kCapProxy, kHttpOnly},
    IgnoredSpec{"capture", kCapProxy, kHttpOnly},
    IgnoredSpec{"monitor-uri", kCapProxy, kHttpOnly},
    IgnoredSpec{"unique-id-format", kCapProxy, kHttpOnly},
    IgnoredSpec{"log-format", kCapProxy, "lb writes HAProxy's fixed tcplog format"},
};

constexpr std::array kIgnoredOptions{
    IgnoredSpec{"http-server-close", kCapProxy, kHttpOnly},
    IgnoredSpec{"httpclose", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-keep-alive", kCapProxy, kHttpOnly},
    IgnoredSpec{"forwardfor", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-buffer-request", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-pretend-keepalive", kCapProxy, kHttpOnly},
    IgnoredSpec{"http-use-htx", kCapProxy, kHttpOnly},
    IgnoredSpec{"httpchk-no-cache", kCapProxy, kHttpOnly},
    IgnoredSpec{"tcpka", kCapProxy, "TCP keep-alive is not configurable in lb yet"},
    IgnoredSpec{"clitcpka", kCapProxy, "TCP keep-alive is not configurable in lb yet"},
    IgnoredSpec{"srvtcpka", kCapProxy, "TCP keep-alive is not configurable in lb yet"},
    IgnoredSpec{"splice-auto", kCapProxy, "lb chooses splicing by itself"},
    IgnoredSpec{"splice-request", kCapProxy, "lb chooses splicing by itself"},
    IgnoredSpec{"splice-response", kCapProxy, "lb chooses splicing by itself"},
    IgnoredSpec{"log-separate-errors", kCapProxy, "lb has one log stream"},
};

}  // namespace

std::span<const IgnoredSpec> ignoredKeywords() {
  return kIgnoredKeywords;
}
std::span<const IgnoredSpec> ignoredOptions() {
  return kIgnoredOptions;
}

}  // namespace lb::config::detail
