#include "agent/control/runtime_stat.h"

#include <fmt/format.h>
#include <google/protobuf/util/time_util.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string_view>

#ifndef LB_VERSION
#define LB_VERSION "dev"
#endif

namespace lb::control {

namespace {

using google::protobuf::util::TimeUtil;
using lb::v1::BackendStatus;
using lb::v1::FrontendStatus;
using lb::v1::ServerStatus;

// HAProxy 2.6's `show stat` columns, in order (the header line is these joined by ',').
constexpr std::string_view kColumns =
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,"
    "check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,"
    "safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
    "agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,"
    "h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,"
    "h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,"
    "h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out";

const std::map<std::string_view, size_t>& columnIndex() {
  static const auto* index = [] {
    auto* map = new std::map<std::string_view, size_t>;
    size_t i = 0, start = 0;
    while (start <= kColumns.size()) {
      size_t end = kColumns.find(',', start);
      if (end == std::string_view::npos) end = kColumns.size();
      map->emplace(kColumns.substr(start, end - start), i++);
      start = end + 1;
    }
    return map;
  }();
  return *index;
}

// One CSV row: columns by name, the rest empty; joined with a trailing ',' as HAProxy does.
class Row {
 public:
  Row() : fields_(columnIndex().size()) {}
  Row& set(std::string_view column, std::string value) {
    fields_[columnIndex().at(column)] = std::move(value);
    return *this;
  }
  template <typename N>
  Row& num(std::string_view column, N value) {
    return set(column, std::to_string(value));
  }
  std::string line() const {
    std::string out;
    for (const auto& f : fields_) {
      // A field with a comma or a quote (a server's check text) is quoted, RFC 4180.
      if (f.find_first_of(",\"\n") != std::string::npos) {
        out += '"';
        for (char c : f)
          out += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
        out += '"';
      } else {
        out += f;
      }
      out += ',';
    }
    return out + "\n";
  }

 private:
  std::vector<std::string> fields_;
};

long secondsSince(const google::protobuf::Timestamp& when) {
  auto now = std::chrono::system_clock::now();
  long then = static_cast<long>(TimeUtil::TimestampToSeconds(when));
  return std::max(0L, static_cast<long>(std::chrono::system_clock::to_time_t(now)) - then);
}

// The server's status as `show stat` words it ("UP", "UP 1/3", "DOWN 1/2", "no check",
// "DRAIN", "MAINT").
std::string statusText(const ServerStatus& s) {
  if (s.admin_state() == ServerStatus::MAINT) return "MAINT";
  if (s.op_state() == ServerStatus::DOWN) {
    if (s.check_enabled() && s.health() > 0 && s.health() < s.rise()) {
      return fmt::format("DOWN {}/{}", s.health(), s.rise());
    }
    return "DOWN";
  }
  if (s.admin_state() == ServerStatus::DRAIN) return "DRAIN";
  if (s.op_state() == ServerStatus::NOLB) return "NOLB";
  if (!s.check_enabled()) return "no check";
  uint32_t full = s.rise() + s.fall() - 1;
  if (s.health() < full && s.health() >= s.rise()) {
    return fmt::format("UP {}/{}", s.health() - s.rise() + 1, s.fall());
  }
  return "UP";
}

// HAProxy's check status numbers (enum healthcheck_status) and results, for
// `show servers state`.
int checkStatusNumber(const std::string& status) {
  static const std::map<std::string, int> numbers = {
      {"HANA", 4},  {"SOCKERR", 5}, {"L4OK", 6},   {"L4TOUT", 7},  {"L4CON", 8},
      {"L6OK", 9},  {"L6TOUT", 10}, {"L6RSP", 11}, {"L7TOUT", 12}, {"L7RSP", 13},
      {"L7OK", 15}, {"L7OKC", 16},  {"L7STS", 17}};
  auto it = numbers.find(status);
  return it == numbers.end() ? 1 : it->second;  // 1: INI, no result yet
}

struct Proxy {
  int iid = 0;
  const FrontendStatus* frontend = nullptr;
  const BackendStatus* backend = nullptr;
};

// Proxies by name, numbered in the order they first appear (frontends, then backends); a
// frontend and a backend of one name (a `listen` section) are one proxy, as in HAProxy.
std::vector<std::pair<std::string, Proxy>> proxiesOf(const lb::v1::GetStatusResponse& status) {
  std::vector<std::pair<std::string, Proxy>> proxies;
  auto slot = [&](const std::string& name) -> Proxy& {
    for (auto& [n, p] : proxies) {
      if (n == name) return p;
    }
    proxies.push_back({name, Proxy{static_cast<int>(proxies.size()) + 1}});
    return proxies.back().second;
  };
  for (const auto& fe : status.frontends()) slot(fe.name()).frontend = &fe;
  for (const auto& be : status.backends()) slot(be.name()).backend = &be;
  return proxies;
}

std::string uptimeText(long seconds) {
  return fmt::format("{}d {}h{:02}m{:02}s", seconds / 86400, (seconds / 3600) % 24,
                     (seconds / 60) % 60, seconds % 60);
}

}  // namespace

std::string cliDate(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%d/%b/%Y:%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()) % 1000;
  return fmt::format("{}.{:03}", text, ms.count());
}

std::chrono::system_clock::time_point eventTime(const lb::v1::Event& event) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(TimeUtil::TimestampToNanoseconds(event.time()))));
}

std::string formatShowInfo(ControlPlane& control, const AgentIdentity& identity) {
  auto status = buildStatus(control, identity, "");
  const auto& a = status.agent();
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  long uptime = static_cast<long>(TimeUtil::DurationToSeconds(a.uptime()));
  uint64_t cumulated = 0;
  size_t listeners = 0;
  for (const auto& fe : status.frontends()) {
    cumulated += fe.total_connections();
    listeners += static_cast<size_t>(fe.binds_size());
  }
  char host[256] = "lb";
  ::gethostname(host, sizeof host - 1);
  std::string node = a.name().empty() ? host : a.name();
  // The build date, as HAProxy's Release_date (YYYY/MM/DD).
  std::tm built{};
  ::strptime(__DATE__, "%b %d %Y", &built);
  char release[16];
  std::strftime(release, sizeof release, "%Y/%m/%d", &built);
  std::string out;
  auto line = [&out](std::string_view key, const auto& value) {
    out += fmt::format("{}: {}\n", key, value);
  };
  line("Name", "lb");
  line("Version", LB_VERSION);
  line("Release_date", release);
  line("Nbthread", a.threads());
  line("Nbproc", 1);
  line("Process_num", 1);
  line("Pid", a.pid());
  line("Uptime", uptimeText(uptime));
  line("Uptime_sec", uptime);
  line("Memmax_MB", 0);
  line("Ulimit-n", files.rlim_cur);
  line("Maxsock", files.rlim_cur);
  line("Maxconn", a.maxconn());
  line("Hard_maxconn", a.maxconn());
  line("CurrConns", a.current_connections());
  line("CumConns", cumulated);
  line("Maxpipes", 0);
  line("PipesUsed", 0);
  line("PipesFree", 0);
  line("Tasks", 0);
  line("Run_queue", 0);
  line("node", node);
  line("Stopping", 0);
  line("Listeners", listeners);
  line("DroppedLogs", a.log_lines_dropped());
  line("Start_time_sec", TimeUtil::TimestampToSeconds(a.started_at()));
  return out;
}

std::string formatShowStat(ControlPlane& control, const AgentIdentity& identity,
                           const std::vector<std::string>& words) {
  auto status = buildStatus(control, identity, "");
  auto proxies = proxiesOf(status);
  // Filters: show stat <iid|proxy> <type> <sid>, each -1 for all; type is a mask of
  // 1 (frontends), 2 (backends), 4 (servers).
  int want_iid = -1, want_type = -1, want_sid = -1;
  std::string want_name;
  bool only_up = false, no_maint = false;
  size_t next = 2;
  if (words.size() >= 5) {
    const std::string& proxy = words[2];
    char* end = nullptr;
    long iid = std::strtol(proxy.c_str(), &end, 10);
    if (*end == '\0' && !proxy.empty()) {
      want_iid = static_cast<int>(iid);
    } else {
      want_name = proxy;
      bool found = false;
      for (const auto& [name, p] : proxies) found = found || name == proxy;
      if (!found) return "No such proxy.\n";
    }
    want_type = std::atoi(words[3].c_str());
    want_sid = std::atoi(words[4].c_str());
    next = 5;
  }
  for (size_t i = next; i < words.size(); ++i) {
    if (words[i] == "up") only_up = true;
    if (words[i] == "no-maint") no_maint = true;
    if (words[i] == "typed" || words[i] == "json" || words[i] == "desc") {
      return "show stat " + words[i] + ": lb answers in CSV only ('show stat'); the same " +
             "counters are on /metrics and in 'lbctl status -o json'\n";
    }
  }
  auto typeWanted = [&](int bit) { return want_type == -1 || (want_type & bit) != 0; };
  std::string out = "# " + std::string(kColumns) + ",\n";
  for (const auto& [name, p] : proxies) {
    if (want_iid != -1 && p.iid != want_iid) continue;
    if (!want_name.empty() && name != want_name) continue;
    if (p.frontend != nullptr && typeWanted(1) && (want_sid == -1 || want_sid == 0)) {
      const auto& f = *p.frontend;
      Row row;
      row.set("pxname", name).set("svname", "FRONTEND");
      row.num("scur", f.current_connections());
      if (f.maxconn() > 0) row.num("slim", f.maxconn());
      row.num("stot", f.total_connections());
      row.set("status", f.disabled() ? "STOP" : "OPEN");
      row.num("pid", 1).num("iid", p.iid).num("sid", 0).num("type", 0);
      row.set("mode", "tcp");
      row.num("conn_tot", f.total_connections());
      row.num("dreq", f.denied_requests()).num("dcon", f.denied_connections());
      row.num("dses", f.denied_sessions());
      out += row.line();
    }
    if (p.backend == nullptr) continue;
    const auto& b = *p.backend;
    uint64_t bin = 0, bout = 0, econ = 0, wretr = 0, wredis = 0;
    uint32_t act = 0, bck = 0, weight = 0;
    int sid = 0;
    for (const auto& s : b.servers()) {
      ++sid;
      bin += s.bytes_in();
      bout += s.bytes_out();
      econ += s.connect_errors();
      wretr += s.retries();
      wredis += s.redispatches();
      if (isUsable(s)) {
        if (s.backup()) {
          ++bck;
        } else {
          ++act;
          weight += s.effective_weight();
        }
      }
      if (!typeWanted(4) || (want_sid != -1 && want_sid != sid)) continue;
      if (only_up && !isUsable(s)) continue;
      if (no_maint && s.admin_state() == ServerStatus::MAINT) continue;
      Row row;
      row.set("pxname", name).set("svname", s.name());
      row.num("qcur", s.queue()).num("scur", s.current_connections());
      if (s.maxconn() > 0) row.num("slim", s.maxconn());
      row.num("stot", s.total_connections()).num("bin", s.bytes_in()).num("bout", s.bytes_out());
      row.num("econ", s.connect_errors()).num("wretr", s.retries());
      row.num("wredis", s.redispatches());
      row.set("status", statusText(s));
      row.num("weight", s.effective_weight());
      row.num("act", s.backup() ? 0 : 1).num("bck", s.backup() ? 1 : 0);
      if (s.check_enabled()) row.num("chkfail", s.failed_checks());
      row.num("chkdown", s.down_transitions());
      if (s.has_last_change()) row.num("lastchg", secondsSince(s.last_change()));
      row.num("pid", 1).num("iid", p.iid).num("sid", sid).num("lbtot", s.total_connections());
      row.num("type", 2);
      if (s.check_enabled() && !s.last_check().status().empty()) {
        row.set("check_status", s.last_check().status());
        row.num("check_duration", TimeUtil::DurationToMilliseconds(s.last_check().duration()));
        row.set("last_chk", s.last_check().info());
        row.set("check_desc", s.last_check().description());
      }
      if (s.check_enabled()) {
        row.num("check_rise", s.rise()).num("check_fall", s.fall());
        row.num("check_health", s.health());
      }
      row.set("addr", s.address()).set("mode", "tcp");
      row.num("uweight", s.configured_weight());
      out += row.line();
    }
    if (!typeWanted(2) || (want_sid != -1 && want_sid != 0)) continue;
    Row row;
    row.set("pxname", name).set("svname", "BACKEND");
    row.num("qcur", b.queue()).num("scur", b.current_connections());
    row.num("stot", b.total_connections()).num("bin", bin).num("bout", bout);
    row.num("econ", econ).num("wretr", wretr).num("wredis", wredis);
    row.set("status", b.usable_servers() > 0 ? "UP" : "DOWN");
    row.num("weight", weight).num("act", act).num("bck", bck);
    row.num("pid", 1).num("iid", p.iid).num("sid", 0).num("lbtot", b.total_connections());
    row.num("type", 1);
    row.set("mode", "tcp").set("algo", b.balance());
    out += row.line();
  }
  return out;
}

std::string formatServersState(ControlPlane& control, const std::string& backend) {
  AgentIdentity none;
  auto status = buildStatus(control, none, "");
  auto proxies = proxiesOf(status);
  if (!backend.empty()) {
    bool found = false;
    for (const auto& b : status.backends()) found = found || b.name() == backend;
    if (!found) return "Can't find backend.\n";
  }
  std::string out =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
      "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
      "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
      "srv_agent_port\n";
  for (const auto& [name, p] : proxies) {
    if (p.backend == nullptr || (!backend.empty() && name != backend)) continue;
    int sid = 0;
    for (const auto& s : p.backend->servers()) {
      ++sid;
      std::string address = s.address();
      std::string port = "0";
      auto colon = address.rfind(':');
      if (colon != std::string::npos) {
        port = address.substr(colon + 1);
        address = address.substr(0, colon);
        if (address.size() > 1 && address.front() == '[')
          address = address.substr(1, address.size() - 2);
      }
      bool maint = s.admin_state() == ServerStatus::MAINT;
      int admin = maint ? 1 : (s.admin_state() == ServerStatus::DRAIN ? 8 : 0);
      // HAProxy's SRV_ST_*: 0 stopped, 2 running, 3 stopping (NOLB).
      int op = maint                                ? 0
               : s.op_state() == ServerStatus::UP   ? 2
               : s.op_state() == ServerStatus::NOLB ? 3
                                                    : 0;
      const std::string& check = s.last_check().status();
      int result = !s.check_enabled() || check.empty() ? 0 : isPassingCheck(check) ? 3 : 2;
      int state = s.check_enabled() ? (maint ? 14 : 6) : 0;
      long since = s.has_last_change() ? secondsSince(s.last_change()) : 0;
      out += fmt::format("{} {} {} {} {} {} {} {} {} {} {} {} {} {} 0 0 0 - {} - 0 0 - - 0\n",
                         p.iid, name, sid, s.name(), address, op, admin, s.effective_weight(),
                         s.configured_weight(), since,
                         s.check_enabled() ? checkStatusNumber(check) : 1, result,
                         s.check_enabled() ? s.health() : 0, state, port);
    }
  }
  return out;
}

}  // namespace lb::control
