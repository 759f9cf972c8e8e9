#include "agent/config/validator.h"

#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "agent/common/syslog.h"
#include "agent/config/address.h"
#include "agent/config/duration.h"
#include "agent/config/lexical.h"
#include "agent/config/rule_validator.h"
#include "agent/config/suggest.h"

namespace lb::config {

namespace {

using lb::v1::Backend;
using lb::v1::Bind;
using lb::v1::Expect;
using lb::v1::Frontend;
using lb::v1::HealthCheck;
using lb::v1::Server;

std::string at(std::string_view prefix, int index) {
  return std::string(prefix) + "[" + std::to_string(index) + "]";
}

class Validator {
 public:
  Validator(const lb::v1::Config& config, const ValidateOptions& options, Diagnostics& diag)
      : config_(config), options_(options), diag_(diag) {}

  void run() {
    checkGlobal();
    for (int i = 0; i < config_.backends_size(); ++i) {
      backend_names_.push_back(config_.backends(i).name());
    }
    std::map<std::string, int> seen;
    for (int i = 0; i < config_.frontends_size(); ++i) {
      const Frontend& fe = config_.frontends(i);
      std::string path = at("frontends", i);
      checkName("frontend", fe.name(), path, seen);
      checkFrontend(fe, path, options_.unread_binds.count(i) > 0);
    }
    seen.clear();
    for (int i = 0; i < config_.backends_size(); ++i) {
      const Backend& be = config_.backends(i);
      std::string path = at("backends", i);
      checkName("backend", be.name(), path, seen);
      checkBackend(be, path);
    }
    checkBindConflicts();
  }

 private:
  void error(const std::string& path, std::string message) {
    diag_.errorAt(path, std::move(message));
  }
  void warning(const std::string& path, std::string message) {
    diag_.warningAt(path, std::move(message));
  }

  void checkName(std::string_view kind, const std::string& name, const std::string& path,
                 std::map<std::string, int>& seen) {
    if (!isValidName(name)) {
      error(path + ".name", "invalid " + std::string(kind) + " name '" + name +
                                "': use letters, digits, '-', '_', '.' and ':' only");
      return;
    }
    auto [it, inserted] = seen.emplace(name, 0);
    if (!inserted) {
      error(path + ".name", "duplicate " + std::string(kind) + " name '" + name + "'; each " +
                                std::string(kind) + " needs its own name");
    }
  }

  void checkResolves(const std::string& host, const std::string& path, std::string_view what) {
    if (host.empty()) {
      error(path, std::string(what) + " has no address");
      return;
    }
    if (options_.resolver == nullptr) return;
    std::string problem;
    if (!options_.resolver->resolves(host, &problem)) {
      error(path, std::string(what) + ": cannot resolve '" + host + "' (" + problem +
                      "); use an IP address or a name this host can resolve");
    }
  }

  void checkGlobal() {
    const auto& g = config_.global();
    if (g.has_nbthread() && (g.nbthread() < 1 || g.nbthread() > 1024)) {
      error("global.nbthread", "nbthread must be from 1 to 1024");
    }
    if (g.has_bufsize() && (g.bufsize() < 1024 || g.bufsize() > (1u << 24))) {
      error("global.bufsize", "tune.bufsize must be from 1024 to 16777216 bytes");
    }
    if (g.has_spread_checks() && g.spread_checks() > 50) {
      error("global.spread_checks", "spread-checks must be from 0 to 50 (percent)");
    }
    if (g.has_maxconn() && g.maxconn() == 0) error("global.maxconn", "global maxconn must be >= 1");
    if (g.has_maxconnrate() && g.maxconnrate() == 0) {
      error("global.maxconnrate", "maxconnrate must be >= 1 (connections per second)");
    }
    for (int i = 0; i < g.log_targets_size(); ++i) {
      checkLogTarget(g.log_targets(i), "global" + at(".log_targets", i));
    }
  }

  // A `log` target: a form lb can send to, known facility and levels, a host that resolves.
  void checkLogTarget(const lb::v1::LogTarget& target, const std::string& path) {
    common::SyslogKind kind;
    std::string host, problem;
    uint16_t port = 0;
    if (!common::parseSyslogAddress(target.address(), &kind, &host, &port, &problem)) {
      error(path + ".address", "log target " + problem);
    } else if (kind == common::SyslogKind::kUdp) {
      checkResolves(host, path + ".address", "log target");
    }
    if (common::syslogFacility(target.facility()) < 0) {
      error(path + ".facility", "unknown log facility '" + target.facility() +
                                    "'; use local0 .. local7, daemon, user, ...");
    }
    for (const auto* level : {&target.level(), &target.min_level()}) {
      if (!level->empty() && common::syslogLevel(*level) < 0) {
        error(path + (level == &target.level() ? ".level" : ".min_level"),
              "unknown log level '" + *level + "'; use emerg, alert, crit, err, warning, " +
                  "notice, info or debug");
      }
    }
    if (target.has_len() && (target.len() < 80 || target.len() > 65535)) {
      error(path + ".len", "log len must be from 80 to 65535 bytes");
    }
  }

  void checkMode(lb::v1::Mode mode, const std::string& path, const std::string& what) {
    if (mode == lb::v1::MODE_HTTP) {
      error(path + ".mode", what + " is in HTTP mode: HTTP mode is not supported yet; write " +
                                "'mode tcp' in it (or in the defaults section it inherits from)");
    }
  }

  void checkFrontend(const Frontend& fe, const std::string& path, bool binds_unread) {
    std::string what = "frontend '" + fe.name() + "'";
    for (int i = 0; i < fe.log().targets_size(); ++i) {
      checkLogTarget(fe.log().targets(i), path + at(".log.targets", i));
    }
    if (isStatsOnly(fe)) {
      // Served by lb as the statistics page only: no traffic, any mode.
      if (!fe.stats_page().enabled() && fe.stats_page().prometheus_path().empty()) return;
      for (int j = 0; j < fe.binds_size(); ++j) {
        const Bind& bind = fe.binds(j);
        std::string bpath = path + at(".binds", j);
        if (bind.port() > 65535) error(bpath + ".port", "bind port must be from 0 to 65535");
        checkResolves(bind.address(), bpath + ".address", what + " bind");
        binds_.push_back({&bind, fe.name(), bpath});
      }
      if (fe.stats_page().enabled() && fe.stats_page().uri().empty()) {
        error(path + ".stats_page.uri", what + ": the statistics page needs a 'stats uri'");
      }
      return;
    }
    if (fe.mode() == lb::v1::MODE_HTTP &&
        (fe.stats_page().enabled() || !fe.stats_page().prometheus_path().empty())) {
      error(path + ".mode", what + " serves statistics but also proxies HTTP: lb serves the " +
                                "statistics page only for an HTTP section with no servers and " +
                                "no default_backend; move the stats lines to a section of their " +
                                "own (e.g. 'listen stats' with 'bind :8404')");
      return;
    }
    if (fe.mode() == lb::v1::MODE_HTTP) {
      // A listen section is one frontend and one backend of its name: one message for both.
      for (const auto& be : config_.backends()) {
        if (be.name() == fe.name() && fe.default_backend() == fe.name() &&
            be.mode() == lb::v1::MODE_HTTP) {
          http_listens_.insert(fe.name());
          what = "listen '" + fe.name() + "'";
        }
      }
    }
    checkMode(fe.mode(), path, what);
    if (fe.binds_size() == 0 && !fe.disabled() && !binds_unread) {
      warning(path, what + " has no 'bind' line, so it accepts no connection");
    }
    for (int j = 0; j < fe.binds_size(); ++j) {
      const Bind& bind = fe.binds(j);
      std::string bpath = path + at(".binds", j);
      if (bind.port() > 65535) error(bpath + ".port", "bind port must be from 0 to 65535");
      checkResolves(bind.address(), bpath + ".address", what + " bind");
      if (bind.v4v6() && bind.v6only()) {
        error(bpath, "bind options 'v4v6' and 'v6only' contradict each other");
      }
      binds_.push_back({&bind, fe.name(), bpath});
    }
    if (fe.default_backend().empty()) {
      if (!fe.disabled() && !routesByRules(fe)) {
        error(path + ".default_backend",
              what + " has no default_backend; add 'default_backend NAME' naming one of its " +
                  "backends");
      }
    } else if (std::find(backend_names_.begin(), backend_names_.end(), fe.default_backend()) ==
               backend_names_.end()) {
      error(path + ".default_backend", "default_backend '" + fe.default_backend() + "' of " + what +
                                           " not found" +
                                           didYouMean(fe.default_backend(), backend_names_));
    }
    if (!fe.timeouts().has_client() && !fe.disabled()) {
      warning(path, "missing timeouts for " + what + ": set 'timeout client' (HAProxy warns " +
                        "the same way; without it, idle clients are kept forever)");
    }
  }

  void checkBackend(const Backend& be, const std::string& path) {
    std::string what = "backend '" + be.name() + "'";
    if (http_listens_.count(be.name()) == 0) checkMode(be.mode(), path, what);
    if (be.retries() > 100) error(path + ".retries", "retries must be from 0 to 100");
    if (be.balance().has_random_draws() &&
        (be.balance().random_draws() < 1 || be.balance().random_draws() > 100)) {
      error(path + ".balance.random_draws", "balance random(N): N must be from 1 to 100");
    }
    if (be.servers_size() == 0 && !be.disabled()) {
      warning(path, what + " has no server; connections sent to it will be closed");
    } else if (!be.timeouts().has_connect() || !be.timeouts().has_server()) {
      std::string missing = !be.timeouts().has_connect() && !be.timeouts().has_server()
                                ? "'timeout connect' and 'timeout server'"
                            : !be.timeouts().has_connect() ? "'timeout connect'"
                                                           : "'timeout server'";
      warning(path, "missing timeouts for " + what + ": set " + missing +
                        " (HAProxy warns the same way)");
    }
    if (be.timeouts().has_check() && fromProto(be.timeouts().check()).count() <= 0) {
      error(path + ".timeouts.check", "timeout check must be greater than 0");
    }
    checkHealthCheck(be, path);
    std::map<std::string, int> names;
    for (int j = 0; j < be.servers_size(); ++j) {
      checkServer(be, be.servers(j), path + at(".servers", j), names);
    }
  }

  void checkRegex(const std::string& pattern, const std::string& path) {
    try {
      std::regex re(pattern);  // ECMAScript: the closest to HAProxy's PCRE
    } catch (const std::regex_error& e) {
      error(path + ".pattern", "invalid regular expression '" + pattern + "': " + e.what());
    }
  }

  void checkStatusList(const std::string& pattern, const std::string& path) {
    // "200", "200-299", "200,302,400-404"
    static const std::regex kList(
        "^[1-5][0-9][0-9](-[1-5][0-9][0-9])?(,[1-5][0-9][0-9](-[1-5]"
        "[0-9][0-9])?)*$");
    if (!std::regex_match(pattern, kList)) {
      error(path + ".pattern", "'" + pattern + "' is not an HTTP status list; write codes and " +
                                   "ranges like '200' or '200-299,302'");
    }
  }

  void checkExpect(const Expect& expect, const std::string& path, bool http) {
    switch (expect.match()) {
      case Expect::STATUS:
        if (!http) error(path + ".match", "'status' applies to http-check only");
        checkStatusList(expect.pattern(), path);
        break;
      case Expect::RSTATUS:
      case Expect::RSTRING:
        if (!http && expect.match() == Expect::RSTATUS) {
          error(path + ".match", "'rstatus' applies to http-check only");
        }
        checkRegex(expect.pattern(), path);
        break;
      case Expect::STRING:
        if (expect.pattern().empty()) error(path + ".pattern", "empty expect string");
        break;
      case Expect::BINARY:
        if (http) error(path + ".match", "'binary' applies to tcp-check only");
        if (expect.pattern().empty() || !isHexBytes(expect.pattern())) {
          error(path + ".pattern", "'binary' expects an even number of hexadecimal digits");
        }
        break;
      default:
        error(path + ".match", "expect rule has no match type (status, rstatus, string, " +
                                   std::string("rstring or binary)"));
    }
  }

  void checkHealthCheck(const Backend& be, const std::string& path) {
    const HealthCheck& check = be.health_check();
    std::string cpath = path + ".health_check";
    const auto& http = check.http();
    if (check.type() == HealthCheck::HTTP) {
      static const std::regex kToken("^[A-Za-z]+$");
      if (!std::regex_match(http.method(), kToken)) {
        error(cpath + ".http.method", "invalid HTTP method '" + http.method() + "'");
      }
      if (http.uri().empty() || http.uri().find_first_of(" \r\n") != std::string::npos) {
        error(cpath + ".http.uri", "check URI '" + http.uri() + "' must start with '/'");
      } else if (http.uri()[0] != '/' && http.uri() != "*") {
        // HAProxy 2.6 takes a lone argument as the URI ("option httpchk GET" sends
        // "OPTIONS GET HTTP/1.0") and accepts it; so does lb, with a warning.
        warning(cpath + ".http.uri", "check URI '" + http.uri() + "' does not start with '/'; " +
                                         "the check sends '" + http.method() + " " + http.uri() +
                                         " " + http.version() + "' (write 'option httpchk " +
                                         http.uri() + " /' for a " + http.uri() + " of '/')");
      }
      if (http.version() != "HTTP/1.0" && http.version() != "HTTP/1.1") {
        error(cpath + ".http.version",
              "check HTTP version must be HTTP/1.0 or HTTP/1.1, not '" + http.version() + "'");
      }
      for (int k = 0; k < http.headers_size(); ++k) {
        const auto& header = http.headers(k);
        if (header.name().empty() || header.name().find_first_of(" :\r\n") != std::string::npos ||
            header.value().find_first_of("\r\n") != std::string::npos) {
          error(cpath + at(".http.headers", k), "invalid check header '" + header.name() + "'");
        }
      }
    } else if (http.expect_size() > 0 || http.headers_size() > 0 || !http.body().empty()) {
      warning(cpath, "http-check rules of backend '" + be.name() + "' have no effect without " +
                         "'option httpchk'");
    }
    for (int k = 0; k < http.expect_size(); ++k) {
      checkExpect(http.expect(k), cpath + at(".http.expect", k), true);
    }
    if (check.type() != HealthCheck::TCP_CHECK && check.tcp_check_size() > 0) {
      warning(cpath, "tcp-check rules of backend '" + be.name() + "' have no effect without " +
                         "'option tcp-check'");
    }
    checkProtocolCheck(check, cpath);
    if (http.has_connect()) checkConnect(http.connect(), cpath + ".http.connect", "http-check");
    for (int k = 0; k < check.tcp_check_size(); ++k) {
      const auto& rule = check.tcp_check(k);
      std::string rpath = cpath + at(".tcp_check", k);
      switch (rule.rule_case()) {
        case lb::v1::TcpCheckRule::kExpect:
          checkExpect(rule.expect(), rpath + ".expect", false);
          break;
        case lb::v1::TcpCheckRule::kConnect:
          checkConnect(rule.connect(), rpath + ".connect", "tcp-check");
          break;
        case lb::v1::TcpCheckRule::kSendBinary:
          if (!isHexBytes(rule.send_binary())) {
            error(rpath + ".send_binary", "send-binary expects an even number of hex digits");
          }
          break;
        case lb::v1::TcpCheckRule::RULE_NOT_SET:
          error(rpath, "empty tcp-check rule");
          break;
        default:
          break;
      }
    }
  }

  void checkConnect(const lb::v1::TcpCheckConnect& connect, const std::string& path,
                    const std::string& keyword) {
    if (connect.has_port() && (connect.port() < 1 || connect.port() > 65535)) {
      error(path + ".port", keyword + " connect port must be from 1 to 65535");
    }
    if (!connect.addr().empty() && !isIpLiteral(connect.addr())) {
      error(path + ".addr",
            keyword + " connect addr '" + connect.addr() + "' must be an IP address");
    }
  }

  // option mysql-check / pgsql-check / smtpchk: their arguments.
  void checkProtocolCheck(const HealthCheck& check, const std::string& cpath) {
    auto bad_word = [](const std::string& word) {
      return word.find_first_of(std::string("\0\r\n", 3)) != std::string::npos;
    };
    if (check.type() == HealthCheck::PGSQL && check.user().empty()) {
      error(cpath + ".user", "option pgsql-check needs 'user <username>'");
    }
    if ((check.type() == HealthCheck::PGSQL || check.type() == HealthCheck::MYSQL) &&
        (bad_word(check.user()) || check.user().size() > 255)) {
      error(cpath + ".user", "invalid check user name '" + check.user() + "'");
    }
    if (check.type() == HealthCheck::SMTP && !check.smtp_hello().empty()) {
      const std::string& hello = check.smtp_hello();
      if ((hello.rfind("HELO ", 0) != 0 && hello.rfind("EHLO ", 0) != 0) || hello.size() < 6 ||
          bad_word(hello)) {
        error(cpath + ".smtp_hello",
              "smtp_hello must be 'HELO DOMAIN' or 'EHLO DOMAIN', not '" + hello + "'");
      }
    }
  }

  void checkPositiveTime(const google::protobuf::Duration& d, bool present, const std::string& path,
                         std::string_view keyword, const std::string& who) {
    if (present && fromProto(d).count() <= 0) {
      error(path, std::string(keyword) + " of " + who + " must be greater than 0");
    }
  }

  void checkServer(const Backend& be, const Server& s, const std::string& path,
                   std::map<std::string, int>& names) {
    std::string who = "server " + be.name() + "/" + s.name();
    checkName("server", s.name(), path, names);
    // init-addr: the first method that gives an address wins; with `none` (or an IP) a name
    // that does not resolve leaves the server in maintenance instead of failing the apply.
    bool may_stay_unresolved = false;
    for (int k = 0; k < s.init_addr_size(); ++k) {
      const std::string& method = s.init_addr(k);
      if (method == "none" || isIpLiteral(method)) may_stay_unresolved = true;
      if (method != "last" && method != "libc" && method != "none" && !isIpLiteral(method)) {
        error(path + at(".init_addr", k), who + ": unknown init-addr method '" + method +
                                              "'; use last, libc, none or an IP address");
      }
    }
    if (may_stay_unresolved && !s.address().empty()) {
      std::string problem;
      if (options_.resolver != nullptr && !options_.resolver->resolves(s.address(), &problem)) {
        // What takes over from the name: the first IP or `none` of the list.
        std::string fallback;
        for (const auto& method : s.init_addr()) {
          if (method == "none" || isIpLiteral(method)) {
            fallback = method;
            break;
          }
        }
        warning(path + ".address",
                who + ": cannot resolve '" + s.address() + "' (" + problem + "); " +
                    (fallback == "none" ? std::string("it starts in maintenance (init-addr none)")
                                        : "it uses " + fallback + " (init-addr)") +
                    ", as in HAProxy");
      }
    } else {
      checkResolves(s.address(), path + ".address", who);
    }
    if (s.port() > 65535) error(path + ".port", who + ": port must be from 0 to 65535");
    if (s.port_offset() != 0 &&
        (s.port() != 0 || s.port_offset() < -65535 || s.port_offset() > 65535)) {
      error(path + ".port_offset", who + ": a port offset (ADDR:+N, ADDR:-N) goes with no port, " +
                                       "and N is from 0 to 65535");
    }
    if (s.weight() > 256) {
      error(path + ".weight",
            who + ": weight " + std::to_string(s.weight()) + " is out of range; use 0 to 256");
    }
    if (s.rise() < 1) error(path + ".rise", who + ": rise must be at least 1");
    if (s.fall() < 1) error(path + ".fall", who + ": fall must be at least 1");
    if (s.has_check_port() && (s.check_port() < 1 || s.check_port() > 65535)) {
      error(path + ".check_port", who + ": check port must be from 1 to 65535");
    }
    if (!s.check_addr().empty()) checkResolves(s.check_addr(), path + ".check_addr", who);
    checkPositiveTime(s.inter(), s.has_inter(), path + ".inter", "inter", who);
    checkPositiveTime(s.fastinter(), s.has_fastinter(), path + ".fastinter", "fastinter", who);
    checkPositiveTime(s.downinter(), s.has_downinter(), path + ".downinter", "downinter", who);
    if (s.agent_check() && !s.has_agent_port()) {
      error(path + ".agent_port", who + ": 'agent-check' needs 'agent-port'");
    }
    if (s.has_agent_port() && (s.agent_port() < 1 || s.agent_port() > 65535)) {
      error(path + ".agent_port", who + ": agent-port must be from 1 to 65535");
    }
    if (!s.agent_addr().empty()) checkResolves(s.agent_addr(), path + ".agent_addr", who);
    checkPositiveTime(s.agent_inter(), s.has_agent_inter(), path + ".agent_inter", "agent-inter",
                      who);
    if (s.observe() != Server::OBSERVE_NONE && !s.check()) {
      error(path + ".observe", who + ": 'observe' needs 'check' on the same server (passive " +
                                   "errors feed the active check's state)");
    }
    if (s.observe() == Server::LAYER7) {
      warning(path + ".observe", who + ": 'observe layer7' needs HTTP mode; ignored, as HAProxy " +
                                     "does (write 'observe layer4' for passive checks in TCP)");
    }
    if (s.error_limit() < 1) error(path + ".error_limit", who + ": error-limit must be >= 1");
    if (s.has_maxqueue() && (!s.has_maxconn() || s.maxconn() == 0)) {
      warning(path + ".maxqueue", who + ": 'maxqueue' has no effect without 'maxconn'");
    }
    if (s.port() == 0 && s.check() && !s.has_check_port() &&
        be.health_check().type() != HealthCheck::TCP_CHECK) {
      error(path + ".port", who + " has no port, so its health check has none either; add " +
                                "a port to the address or 'port N' for the check");
    }
  }

  struct BindRef {
    const Bind* bind;
    std::string frontend;
    std::string path;
  };

  // Whether two binds cannot both be served. One frontend may bind `:P` and `:::P` together
  // (HAProxy opens one socket each; SO_REUSEPORT lets both bind): only the same address twice
  // is a mistake there. Across frontends, any overlap is.
  static bool conflicts(const BindRef& a, const BindRef& b) {
    if (a.frontend != b.frontend) return overlaps(*a.bind, *b.bind);
    return a.bind->port() != 0 && a.bind->port() == b.bind->port() &&
           a.bind->address() == b.bind->address();
  }

  static bool overlaps(const Bind& a, const Bind& b) {
    if (a.port() == 0 || b.port() == 0 || a.port() != b.port()) return false;
    if (a.address() == b.address()) return true;
    auto wildcard_v4 = [](const Bind& x) { return x.address() == "0.0.0.0"; };
    auto wildcard_v6 = [](const Bind& x) { return x.address() == "::"; };
    auto v6 = [](const Bind& x) { return isIpv6Literal(x.address()); };
    if (wildcard_v4(a) && !v6(b)) return true;
    if (wildcard_v4(b) && !v6(a)) return true;
    if (wildcard_v6(a) && (v6(b) || !a.v6only())) return true;
    if (wildcard_v6(b) && (v6(a) || !b.v6only())) return true;
    return false;
  }

  void checkBindConflicts() {
    for (size_t i = 0; i < binds_.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (!conflicts(binds_[i], binds_[j])) continue;
        const Bind& b = *binds_[i].bind;
        error(binds_[i].path,
              "bind " + formatHostPort(b.address(), b.port()) + " of frontend '" +
                  binds_[i].frontend + "' overlaps bind " +
                  formatHostPort(binds_[j].bind->address(), binds_[j].bind->port()) +
                  " of frontend '" + binds_[j].frontend + "'; each address:port can be bound once");
        break;
      }
    }
  }

  const lb::v1::Config& config_;
  const ValidateOptions& options_;
  Diagnostics& diag_;
  std::vector<std::string> backend_names_;
  std::vector<BindRef> binds_;
  // HTTP listen sections already reported through their frontend.
  std::set<std::string> http_listens_;
};

}  // namespace

void validate(const lb::v1::Config& config, const ValidateOptions& options, Diagnostics& diag) {
  Validator(config, options, diag).run();
  validateRules(config, diag);
}

bool isStatsOnly(const lb::v1::Frontend& frontend) {
  const auto& page = frontend.stats_page();
  return (page.enabled() || !page.prometheus_path().empty()) &&
         frontend.default_backend().empty() && !routesByRules(frontend);
}

bool hasListener(const lb::v1::Config& config) {
  for (const auto& fe : config.frontends()) {
    if (!fe.disabled() && fe.binds_size() > 0 && !isStatsOnly(fe)) return true;
  }
  return false;
}

}  // namespace lb::config
