#include "agent/config/renderer.h"

#include <cstdlib>
#include <sstream>

#include "agent/config/acl_syntax.h"
#include "agent/config/address.h"
#include "agent/config/duration.h"
#include "agent/config/normalize.h"

namespace lb::config {

namespace {

std::string logLine(const lb::v1::LogTarget& target) {
  std::string line = "log " + target.address();
  if (target.has_len()) line += " len " + std::to_string(target.len());
  if (target.format() != lb::v1::LogTarget::FORMAT_UNSPECIFIED) {
    std::string format = lb::v1::LogTarget::Format_Name(target.format());
    for (char& c : format) c = static_cast<char>(std::tolower(c));
    line += " format " + format;
  }
  line += " " + target.facility();
  if (!target.level().empty()) line += " " + target.level();
  if (!target.min_level().empty()) line += " " + target.min_level();
  return line;
}

using lb::v1::Backend;
using lb::v1::Balance;
using lb::v1::Expect;
using lb::v1::Frontend;
using lb::v1::HealthCheck;
using lb::v1::Server;

std::string time(const google::protobuf::Duration& d) {
  return formatTime(fromProto(d));
}

std::string hostPort(const std::string& host, uint32_t port) {
  if (host == "0.0.0.0") return "*:" + std::to_string(port);
  return formatHostPort(host, port);
}

void renderTimeouts(std::ostream& out, const lb::v1::Timeouts& t) {
  auto one = [&](const char* name, bool has, const google::protobuf::Duration& d) {
    if (has) out << "    timeout " << name << " " << time(d) << "\n";
  };
  one("connect", t.has_connect(), t.connect());
  one("client", t.has_client(), t.client());
  one("server", t.has_server(), t.server());
  one("tunnel", t.has_tunnel(), t.tunnel());
  one("client-fin", t.has_client_fin(), t.client_fin());
  one("server-fin", t.has_server_fin(), t.server_fin());
  one("queue", t.has_queue(), t.queue());
  one("check", t.has_check(), t.check());
}

std::string expectText(const Expect& e) {
  static const char* kNames[] = {"", "status", "rstatus", "string", "rstring", "binary"};
  std::string out;
  if (e.has_min_recv()) out += "min-recv " + std::to_string(e.min_recv()) + " ";
  if (!e.comment().empty()) out += "comment " + quoteWord(e.comment()) + " ";
  out += e.negate() ? "! " : "";
  out += kNames[e.match()];
  return out + " " + quoteWord(e.pattern());
}

std::string connectText(const lb::v1::TcpCheckConnect& connect) {
  std::string out = "connect";
  if (connect.has_port()) out += " port " + std::to_string(connect.port());
  if (!connect.addr().empty()) out += " addr " + quoteWord(connect.addr());
  if (connect.send_proxy()) out += " send-proxy";
  return out;
}

void renderFrontend(std::ostream& out, const Frontend& fe) {
  out << "frontend " << fe.name() << "\n";
  if (!fe.description().empty()) out << "    description " << quoteWord(fe.description()) << "\n";
  out << "    mode " << (fe.mode() == lb::v1::MODE_HTTP ? "http" : "tcp") << "\n";
  if (fe.disabled()) out << "    disabled\n";
  for (const auto& bind : fe.binds()) {
    out << "    bind " << hostPort(bind.address(), bind.port());
    if (bind.v4v6()) out << " v4v6";
    if (bind.v6only()) out << " v6only";
    if (bind.accept_proxy()) out << " accept-proxy";
    if (bind.tfo()) out << " tfo";
    if (!bind.interface().empty()) out << " interface " << quoteWord(bind.interface());
    if (bind.has_backlog()) out << " backlog " << bind.backlog();
    if (bind.has_maxconn()) out << " maxconn " << bind.maxconn();
    if (!bind.name().empty()) out << " name " << quoteWord(bind.name());
    out << "\n";
  }
  if (fe.has_maxconn()) out << "    maxconn " << fe.maxconn() << "\n";
  renderTimeouts(out, fe.timeouts());
  if (fe.log().global()) out << "    log global\n";
  for (const auto& target : fe.log().targets()) out << "    " << logLine(target) << "\n";
  if (fe.log().tcplog()) out << "    option tcplog\n";
  if (fe.log().dontlognull()) out << "    option dontlognull\n";
  if (fe.has_tcp_smart_accept()) {
    out << (fe.tcp_smart_accept() ? "    option" : "    no option") << " tcp-smart-accept\n";
  }
  if (fe.has_tcpka()) out << (fe.tcpka() ? "    option" : "    no option") << " clitcpka\n";
  out << renderRules(fe);
  if (fe.has_stats_page()) {
    const auto& page = fe.stats_page();
    if (page.enabled()) out << "    stats enable\n";
    if (!page.uri().empty()) out << "    stats uri " << quoteWord(page.uri()) << "\n";
    for (const auto& auth : page.auth()) out << "    stats auth " << quoteWord(auth) << "\n";
    if (!page.realm().empty()) out << "    stats realm " << quoteWord(page.realm()) << "\n";
    if (page.has_refresh()) out << "    stats refresh " << time(page.refresh()) << "\n";
    for (const auto& rule : page.unenforced()) out << "    stats " << rule << "\n";
    if (!page.prometheus_path().empty()) {
      out << "    http-request use-service prometheus-exporter if { path "
          << quoteWord(page.prometheus_path()) << " }\n";
    }
  }
  if (!fe.default_backend().empty()) out << "    default_backend " << fe.default_backend() << "\n";
}

void renderHealthCheck(std::ostream& out, const HealthCheck& check) {
  const auto& http = check.http();
  if (check.type() == HealthCheck::HTTP) {
    out << "    option httpchk " << quoteWord(http.method()) << " " << quoteWord(http.uri()) << " "
        << quoteWord(http.version()) << "\n";
  }
  if (http.has_connect()) out << "    http-check " << connectText(http.connect()) << "\n";
  if (http.headers_size() > 0 || !http.body().empty()) {
    out << "    http-check send";
    for (const auto& h : http.headers()) {
      out << " hdr " << quoteWord(h.name()) << " " << quoteWord(h.value());
    }
    if (!http.body().empty()) out << " body " << quoteWord(http.body());
    out << "\n";
  }
  for (const auto& e : http.expect()) out << "    http-check expect " << expectText(e) << "\n";
  if (http.disable_on_404()) out << "    http-check disable-on-404\n";
  switch (check.type()) {
    case HealthCheck::TCP_CHECK:
      out << "    option tcp-check\n";
      break;
    case HealthCheck::MYSQL:
      out << "    option mysql-check";
      if (!check.user().empty()) {
        out << " user " << quoteWord(check.user()) << (check.mysql_pre_41() ? " pre-41" : "");
      }
      out << "\n";
      break;
    case HealthCheck::PGSQL:
      out << "    option pgsql-check user " << quoteWord(check.user()) << "\n";
      break;
    case HealthCheck::REDIS:
      out << "    option redis-check\n";
      break;
    case HealthCheck::SMTP:
      out << "    option smtpchk";
      if (!check.smtp_hello().empty()) out << " " << check.smtp_hello();
      out << "\n";
      break;
    case HealthCheck::LDAP:
      out << "    option ldap-check\n";
      break;
    case HealthCheck::SSL_HELLO:
      out << "    option ssl-hello-chk\n";
      break;
    default:
      break;
  }
  for (const auto& rule : check.tcp_check()) {
    out << "    tcp-check ";
    switch (rule.rule_case()) {
      case lb::v1::TcpCheckRule::kConnect:
        out << connectText(rule.connect());
        break;
      case lb::v1::TcpCheckRule::kSend:
        out << "send " << quoteWord(rule.send());
        break;
      case lb::v1::TcpCheckRule::kSendBinary:
        out << "send-binary " << rule.send_binary();
        break;
      case lb::v1::TcpCheckRule::kExpect:
        out << "expect " << expectText(rule.expect());
        break;
      case lb::v1::TcpCheckRule::kComment:
        out << "comment " << quoteWord(rule.comment());
        break;
      case lb::v1::TcpCheckRule::RULE_NOT_SET:
        break;
    }
    out << "\n";
  }
  if (check.log_health_checks()) out << "    option log-health-checks\n";
}

void renderServer(std::ostream& out, const Server& s) {
  out << "    server " << s.name() << " "
      << (s.port() == 0 ? (isIpv6Literal(s.address()) ? "[" + s.address() + "]" : s.address())
                        : hostPort(s.address(), s.port()));
  if (s.port() == 0 && s.port_offset() != 0) {
    out << ":" << (s.port_offset() > 0 ? "+" : "-") << std::abs(s.port_offset());
  }
  if (s.check()) out << " check";
  if (s.has_inter() && fromProto(s.inter()) != kDefaultInter) out << " inter " << time(s.inter());
  if (s.has_fastinter()) out << " fastinter " << time(s.fastinter());
  if (s.has_downinter()) out << " downinter " << time(s.downinter());
  if (s.has_rise() && s.rise() != kDefaultRise) out << " rise " << s.rise();
  if (s.has_fall() && s.fall() != kDefaultFall) out << " fall " << s.fall();
  if (s.has_check_port()) out << " port " << s.check_port();
  if (!s.check_addr().empty()) {
    out << " addr "
        << (isIpv6Literal(s.check_addr()) ? "[" + s.check_addr() + "]" : s.check_addr());
  }
  if (s.check_send_proxy()) out << " check-send-proxy";
  if (s.agent_check()) out << " agent-check";
  if (s.has_agent_port()) out << " agent-port " << s.agent_port();
  if (!s.agent_addr().empty()) {
    out << " agent-addr "
        << (isIpv6Literal(s.agent_addr()) ? "[" + s.agent_addr() + "]" : s.agent_addr());
  }
  if (!s.agent_send().empty()) out << " agent-send " << quoteWord(s.agent_send());
  if (s.has_agent_inter()) out << " agent-inter " << time(s.agent_inter());
  if (s.observe() == Server::LAYER4) out << " observe layer4";
  if (s.observe() == Server::LAYER7) out << " observe layer7";
  if (s.has_error_limit() && s.error_limit() != kDefaultErrorLimit) {
    out << " error-limit " << s.error_limit();
  }
  switch (s.on_error()) {
    case Server::FASTINTER:
      out << " on-error fastinter";
      break;
    case Server::SUDDEN_DEATH:
      out << " on-error sudden-death";
      break;
    case Server::MARK_DOWN:
      out << " on-error mark-down";
      break;
    default:
      break;
  }
  if (s.on_marked_down() == Server::SHUTDOWN_SESSIONS) out << " on-marked-down shutdown-sessions";
  if (s.has_slowstart()) out << " slowstart " << time(s.slowstart());
  if (s.has_weight() && s.weight() != kDefaultWeight) out << " weight " << s.weight();
  if (s.has_maxconn()) out << " maxconn " << s.maxconn();
  if (s.has_maxqueue()) out << " maxqueue " << s.maxqueue();
  if (s.backup()) out << " backup";
  if (s.disabled()) out << " disabled";
  if (s.send_proxy() == Server::V1) out << " send-proxy";
  if (s.send_proxy() == Server::V2) out << " send-proxy-v2";
  if (s.init_addr_size() > 0) {
    out << " init-addr ";
    for (int i = 0; i < s.init_addr_size(); ++i) out << (i ? "," : "") << s.init_addr(i);
  }
  out << "\n";
}

void renderBackend(std::ostream& out, const Backend& be) {
  static const char* kAlgorithms[] = {"roundrobin", "roundrobin", "static-rr", "leastconn",
                                      "first",      "source",     "random"};
  out << "backend " << be.name() << "\n";
  if (!be.description().empty()) out << "    description " << quoteWord(be.description()) << "\n";
  out << "    mode " << (be.mode() == lb::v1::MODE_HTTP ? "http" : "tcp") << "\n";
  if (be.disabled()) out << "    disabled\n";
  const Balance& balance = be.balance();
  out << "    balance " << kAlgorithms[balance.algorithm()];
  if (balance.algorithm() == Balance::RANDOM && balance.has_random_draws() &&
      balance.random_draws() != kDefaultRandomDraws) {
    out << "(" << balance.random_draws() << ")";
  }
  out << "\n";
  if (be.has_retries() && be.retries() != kDefaultRetries) {
    out << "    retries " << be.retries() << "\n";
  }
  if (be.redispatch()) out << "    option redispatch\n";
  if (be.allbackups()) out << "    option allbackups\n";
  if (be.has_tcp_smart_connect()) {
    out << (be.tcp_smart_connect() ? "    option" : "    no option") << " tcp-smart-connect\n";
  }
  if (be.has_tcpka()) out << (be.tcpka() ? "    option" : "    no option") << " srvtcpka\n";
  renderTimeouts(out, be.timeouts());
  renderHealthCheck(out, be.health_check());
  out << renderRules(be);
  for (const auto& s : be.servers()) renderServer(out, s);
}

}  // namespace

std::string quoteWord(const std::string& word) {
  bool safe = !word.empty() && word.find_first_of(" \t\r\n\"'\\#$") == std::string::npos;
  if (safe) return word;
  std::string out = "\"";
  for (char c : word) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '$':
        out += "\\$";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* kHex = "0123456789abcdef";
          out += "\\x";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string renderHaproxy(const lb::v1::Config& config) {
  std::ostringstream out;
  out << "# Rendered by lb from its lb.v1.Config.\n";
  const auto& g = config.global();
  if (g.ByteSizeLong() > 0) {
    out << "global\n";
    if (g.has_maxconn()) out << "    maxconn " << g.maxconn() << "\n";
    if (g.has_maxconnrate()) out << "    maxconnrate " << g.maxconnrate() << "\n";
    if (g.has_nbthread()) out << "    nbthread " << g.nbthread() << "\n";
    if (g.has_bufsize()) out << "    tune.bufsize " << g.bufsize() << "\n";
    if (g.has_hard_stop_after()) out << "    hard-stop-after " << time(g.hard_stop_after()) << "\n";
    if (g.has_spread_checks()) out << "    spread-checks " << g.spread_checks() << "\n";
    if (g.nosplice()) out << "    nosplice\n";
    if (g.allow_no_listener()) out << "    allow-no-listener\n";
    if (g.sched_policy() != lb::v1::Global::SCHED_POLICY_UNSPECIFIED) {
      out << "    tune.sched-policy "
          << (g.sched_policy() == lb::v1::Global::NORMAL ? "normal" : "batch") << "\n";
    }
    for (const auto& socket : g.stats_sockets()) {
      out << "    stats socket " << socket.address();
      if (socket.has_mode()) out << " mode " << std::oct << socket.mode() << std::dec;
      if (socket.level() != lb::v1::StatsSocket::LEVEL_UNSPECIFIED) {
        std::string level = lb::v1::StatsSocket::Level_Name(socket.level());
        for (char& c : level) c = static_cast<char>(std::tolower(c));
        out << " level " << level;
      }
      out << "\n";
    }
    if (g.has_stats_timeout()) out << "    stats timeout " << time(g.stats_timeout()) << "\n";
    for (const auto& target : g.log_targets()) out << "    " << logLine(target) << "\n";
    if (!g.log_tag().empty()) out << "    log-tag " << g.log_tag() << "\n";
    if (g.has_log_send_hostname()) {
      out << "    log-send-hostname"
          << (g.log_send_hostname().empty() ? "" : " " + g.log_send_hostname()) << "\n";
    }
  }
  for (const auto& fe : config.frontends()) {
    out << "\n";
    renderFrontend(out, fe);
  }
  for (const auto& be : config.backends()) {
    out << "\n";
    renderBackend(out, be);
  }
  return out.str();
}

}  // namespace lb::config
