#include "agent/control/metrics.h"

#include <fmt/format.h>
#include <google/protobuf/util/time_util.h>

#include <functional>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

namespace lb::control {

namespace {

using google::protobuf::util::TimeUtil;
using lb::v1::BackendStatus;
using lb::v1::FrontendStatus;
using lb::v1::ServerStatus;

// Prometheus' text format (version 0.0.4): HELP and TYPE once per family, then its samples.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, text] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        for (char c : text) {
          if (c == '\\' || c == '"') {
            out_ += '\\';
            out_ += c;
          } else if (c == '\n') {
            out_ += "\\n";
          } else {
            out_ += c;
          }
        }
        out_ += '"';
      }
      out_ += '}';
    }
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string name_;
  std::string out_;
};

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

template <typename T>
struct Column {
  Family family;
  std::function<double(const T&)> value;
};

constexpr std::string_view kServerStates[] = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
constexpr std::string_view kCheckStates[] = {
    "HANA",   "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK",    "L6TOUT",   "L6RSP",
    "L7TOUT", "L7RSP",   "L7OK", "L7OKC",  "L7STS", "PROCERR", "PROCTOUT", "PROCOK"};

double seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(TimeUtil::DurationToNanoseconds(d)) / 1e9;
}

}  // namespace

void Metrics::addRoutes(http::HttpServer& server) {
  server.route("/metrics", [this](const http::Request&) {
    http::Response response;
    response.body = render();
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return response;
  });
}

std::string Metrics::render() const {
  auto status = buildStatus(control_, identity_, "");
  const auto& agent = status.agent();
  Exposition out;

  // ---- the process (HAProxy's names where they mean the same) ----
  out.family("haproxy_process_build_info", "gauge", "Build info");
  out.sample({{"version", agent.lb_version()}}, 1);
  out.family("haproxy_process_nbthread", "gauge", "Number of data-plane worker threads");
  out.sample({}, agent.threads());
  out.family("haproxy_process_uptime_seconds", "gauge",
             "How long ago this agent was started (seconds)");
  out.sample({}, seconds(agent.uptime()));
  out.family("haproxy_process_start_time_seconds", "gauge",
             "Start time in seconds since the Unix epoch");
  out.sample({}, static_cast<double>(TimeUtil::TimestampToSeconds(agent.started_at())));
  out.family("haproxy_process_max_connections", "gauge",
             "Maximum number of concurrent connections (global maxconn)");
  out.sample({}, agent.maxconn());
  out.family("haproxy_process_current_connections", "gauge", "Number of active sessions");
  out.sample({}, agent.current_connections());
  out.family("haproxy_process_dropped_logs_total", "counter",
             "Total number of dropped log lines (the log output was too slow)");
  out.sample({}, static_cast<double>(agent.log_lines_dropped()));

  // ---- lb's own ----
  out.family("lb_config_version", "gauge", "Version of the configuration in force (0: none)");
  out.sample({}, static_cast<double>(agent.config_version()));
  const auto& counters = control_.applyCounters();
  out.family("lb_config_applies_total", "counter",
             "Configuration applies (start-up, SIGHUP, the API) by how they ended");
  for (size_t i = 0; i < counters.size(); ++i) {
    std::string result = toString(static_cast<ApplyStatus>(i));
    for (char& c : result) c = c == ' ' ? '_' : c;
    out.sample({{"result", result}}, static_cast<double>(counters[i].count));
  }
  out.family("lb_config_apply_seconds_total", "counter",
             "Time spent applying configurations (diff, build, every worker switched), seconds");
  for (size_t i = 0; i < counters.size(); ++i) {
    std::string result = toString(static_cast<ApplyStatus>(i));
    for (char& c : result) c = c == ' ' ? '_' : c;
    out.sample({{"result", result}}, counters[i].seconds);
  }
  out.family("lb_events_total", "counter",
             "Events published (server and admin states, checks, applies) by this run");
  uint64_t first = control_.events().firstSequence();
  uint64_t last = agent.last_event();
  out.sample({}, last >= first ? static_cast<double>(last - first + 1) : 0);
  out.family("lb_agent_draining", "gauge",
             "1 while the agent-wide drain switch is on (tier health answers 503)");
  out.sample({}, agent.draining() ? 1 : 0);
  out.family("lb_health_checks_not_run_total", "counter",
             "Health checks that could not be run at all (no socket, no descriptor)");
  out.sample({}, static_cast<double>(agent.checks_not_run()));

  // ---- frontends ----
  const std::vector<Column<FrontendStatus>> frontend_columns = {
      {{"haproxy_frontend_current_sessions", "gauge", "Number of current sessions"},
       [](const FrontendStatus& f) { return f.current_connections(); }},
      {{"haproxy_frontend_limit_sessions", "gauge", "Frontend's maxconn (0: none)"},
       [](const FrontendStatus& f) { return f.maxconn(); }},
      {{"haproxy_frontend_sessions_total", "counter", "Total number of sessions"},
       [](const FrontendStatus& f) { return static_cast<double>(f.total_connections()); }},
      {{"haproxy_frontend_connections_total", "counter", "Total number of connections"},
       [](const FrontendStatus& f) { return static_cast<double>(f.total_connections()); }},
      {{"haproxy_frontend_denied_connections_total", "counter",
        "Total number of incoming connections blocked by tcp-request connection rules"},
       [](const FrontendStatus& f) { return static_cast<double>(f.denied_connections()); }},
      {{"haproxy_frontend_denied_sessions_total", "counter",
        "Total number of incoming sessions blocked by tcp-request session rules"},
       [](const FrontendStatus& f) { return static_cast<double>(f.denied_sessions()); }},
      {{"haproxy_frontend_requests_denied_total", "counter",
        "Total number of denied requests (tcp-request content rules)"},
       [](const FrontendStatus& f) { return static_cast<double>(f.denied_requests()); }},
      {{"lb_frontend_rejected_total", "counter",
        "Connections lb closed itself: no backend or server, the backend's queue full, a rule"},
       [](const FrontendStatus& f) { return static_cast<double>(f.rejected()); }},
      {{"lb_frontend_bad_proxy_headers_total", "counter",
        "Connections closed by accept-proxy for a missing, malformed or late PROXY header"},
       [](const FrontendStatus& f) { return static_cast<double>(f.bad_proxy_headers()); }},
  };
  for (const auto& column : frontend_columns) {
    out.family(column.family.name, column.family.type, column.family.help);
    for (const auto& f : status.frontends()) out.sample({{"proxy", f.name()}}, column.value(f));
  }
  out.family("haproxy_frontend_status", "gauge",
             "Current status of the service, per state label value.");
  for (const auto& f : status.frontends()) {
    out.sample({{"proxy", f.name()}, {"state", "DOWN"}}, f.disabled() ? 1 : 0);
    out.sample({{"proxy", f.name()}, {"state", "UP"}}, f.disabled() ? 0 : 1);
  }

  // ---- backends (bytes and errors summed over their servers, as HAProxy counts them) ----
  auto sum = [](const BackendStatus& b, auto field) {
    double total = 0;
    for (const auto& s : b.servers()) total += static_cast<double>((s.*field)());
    return total;
  };
  auto usable = [](const BackendStatus& b, bool backup) {
    double n = 0;
    for (const auto& s : b.servers()) {
      n += s.backup() == backup && isUsable(s) ? 1 : 0;
    }
    return n;
  };
  const std::vector<Column<BackendStatus>> backend_columns = {
      {{"haproxy_backend_current_queue", "gauge", "Number of current queued connections"},
       [](const BackendStatus& b) { return b.queue(); }},
      {{"haproxy_backend_current_sessions", "gauge", "Number of current sessions"},
       [](const BackendStatus& b) { return b.current_connections(); }},
      {{"haproxy_backend_sessions_total", "counter", "Total number of sessions"},
       [](const BackendStatus& b) { return static_cast<double>(b.total_connections()); }},
      {{"haproxy_backend_bytes_in_total", "counter",
        "Total number of request bytes since process started"},
       [&](const BackendStatus& b) { return sum(b, &ServerStatus::bytes_in); }},
      {{"haproxy_backend_bytes_out_total", "counter",
        "Total number of response bytes since process started"},
       [&](const BackendStatus& b) { return sum(b, &ServerStatus::bytes_out); }},
      {{"haproxy_backend_connection_errors_total", "counter",
        "Total number of failed connections to server since the worker process started"},
       [&](const BackendStatus& b) { return sum(b, &ServerStatus::connect_errors); }},
      {{"haproxy_backend_retry_warnings_total", "counter",
        "Total number of server connection retries since the worker process started"},
       [&](const BackendStatus& b) { return sum(b, &ServerStatus::retries); }},
      {{"haproxy_backend_redispatch_warnings_total", "counter",
        "Total number of server redispatches due to connection failures since the worker "
        "process started"},
       [&](const BackendStatus& b) { return sum(b, &ServerStatus::redispatches); }},
      {{"haproxy_backend_active_servers", "gauge",
        "Total number of active UP servers with a non-zero weight"},
       [&](const BackendStatus& b) { return usable(b, false); }},
      {{"haproxy_backend_backup_servers", "gauge",
        "Total number of backup UP servers with a non-zero weight"},
       [&](const BackendStatus& b) { return usable(b, true); }},
      {{"haproxy_backend_weight", "gauge",
        "Sum of the effective weights of the usable active servers"},
       [](const BackendStatus& b) {
         double total = 0;
         for (const auto& s : b.servers()) {
           if (!s.backup() && s.op_state() == ServerStatus::UP &&
               s.admin_state() == ServerStatus::READY) {
             total += s.effective_weight();
           }
         }
         return total;
       }},
      {{"lb_backend_no_server_total", "counter", "Connections closed because no server was usable"},
       [](const BackendStatus& b) { return static_cast<double>(b.no_server()); }},
  };
  for (const auto& column : backend_columns) {
    out.family(column.family.name, column.family.type, column.family.help);
    for (const auto& b : status.backends()) out.sample({{"proxy", b.name()}}, column.value(b));
  }
  out.family("haproxy_backend_status", "gauge",
             "Current status of the service, per state label value.");
  for (const auto& b : status.backends()) {
    out.sample({{"proxy", b.name()}, {"state", "DOWN"}}, b.usable_servers() == 0 ? 1 : 0);
    out.sample({{"proxy", b.name()}, {"state", "UP"}}, b.usable_servers() == 0 ? 0 : 1);
  }

  // ---- servers ----
  auto now = std::chrono::system_clock::now();
  const std::vector<Column<ServerStatus>> server_columns = {
      {{"haproxy_server_current_queue", "gauge", "Number of current queued connections"},
       [](const ServerStatus& s) { return s.queue(); }},
      {{"haproxy_server_current_sessions", "gauge", "Number of current sessions"},
       [](const ServerStatus& s) { return s.current_connections(); }},
      {{"haproxy_server_limit_sessions", "gauge", "Server's maxconn (0: none)"},
       [](const ServerStatus& s) { return s.maxconn(); }},
      {{"haproxy_server_sessions_total", "counter", "Total number of sessions"},
       [](const ServerStatus& s) { return static_cast<double>(s.total_connections()); }},
      {{"haproxy_server_bytes_in_total", "counter",
        "Total number of request bytes since process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.bytes_in()); }},
      {{"haproxy_server_bytes_out_total", "counter",
        "Total number of response bytes since process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.bytes_out()); }},
      {{"haproxy_server_connection_errors_total", "counter",
        "Total number of failed connections to server since the worker process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.connect_errors()); }},
      {{"haproxy_server_retry_warnings_total", "counter",
        "Total number of server connection retries since the worker process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.retries()); }},
      {{"haproxy_server_redispatch_warnings_total", "counter",
        "Total number of server redispatches due to connection failures since the worker "
        "process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.redispatches()); }},
      {{"haproxy_server_weight", "gauge", "Server's effective weight"},
       [](const ServerStatus& s) { return s.effective_weight(); }},
      {{"haproxy_server_uweight", "gauge", "Server's configured weight"},
       [](const ServerStatus& s) { return s.configured_weight(); }},
      {{"haproxy_server_check_failures_total", "counter",
        "Total number of failed individual health checks since the worker process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.failed_checks()); }},
      {{"haproxy_server_check_up_down_total", "counter",
        "Total number of UP to DOWN transitions since the worker process started"},
       [](const ServerStatus& s) { return static_cast<double>(s.down_transitions()); }},
      {{"haproxy_server_check_last_change_seconds", "gauge",
        "How long ago the last server state changed, in seconds"},
       [now](const ServerStatus& s) {
         if (!s.has_last_change()) return 0.0;
         auto since = now - std::chrono::system_clock::time_point(std::chrono::nanoseconds(
                                TimeUtil::TimestampToNanoseconds(s.last_change())));
         return std::max(0.0, std::chrono::duration<double>(since).count());
       }},
  };
  for (const auto& column : server_columns) {
    out.family(column.family.name, column.family.type, column.family.help);
    for (const auto& b : status.backends()) {
      for (const auto& s : b.servers()) {
        out.sample({{"proxy", b.name()}, {"server", s.name()}}, column.value(s));
      }
    }
  }
  out.family("haproxy_server_status", "gauge",
             "Current status of the service, per state label value.");
  for (const auto& b : status.backends()) {
    for (const auto& s : b.servers()) {
      for (auto state : kServerStates) {
        out.sample({{"proxy", b.name()}, {"server", s.name()}, {"state", state}},
                   stateName(s) == state ? 1 : 0);
      }
    }
  }
  out.family("haproxy_server_check_status", "gauge",
             "Status of last health check, per state label value.");
  for (const auto& b : status.backends()) {
    for (const auto& s : b.servers()) {
      if (!s.check_enabled()) continue;
      for (auto state : kCheckStates) {
        out.sample({{"proxy", b.name()}, {"server", s.name()}, {"state", state}},
                   s.last_check().status() == state ? 1 : 0);
      }
    }
  }
  out.family("haproxy_server_check_duration_seconds", "gauge",
             "Total duration of the latest server health check, in seconds.");
  for (const auto& b : status.backends()) {
    for (const auto& s : b.servers()) {
      if (!s.check_enabled()) continue;
      out.sample({{"proxy", b.name()}, {"server", s.name()}}, seconds(s.last_check().duration()));
    }
  }
  return out.take();
}

}  // namespace lb::control
