#include "agent/proxy/tcp_log.h"

#include <cstdio>
#include <ctime>

namespace lb::proxy {

std::string formatTcpLog(const TcpLogRecord& r) {
  using namespace std::chrono;
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = system_clock::to_time_t(r.accepted);
  long millis =
      static_cast<long>(duration_cast<milliseconds>(r.accepted.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  std::string address = r.client.address().to_string();
  char line[1024];
  std::snprintf(line, sizeof line,
                "%s:%u [%02d/%s/%04d:%02d:%02d:%02d.%03ld] %s %s/%s %ld/%ld/%ld %llu %c%c "
                "%u/%u/%u/%u/%s%u %u/%u",
                address.c_str(), r.client.port(), tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis, r.frontend.c_str(), r.backend.c_str(),
                r.server.empty() ? "<NOSRV>" : r.server.c_str(), r.queue_ms, r.connect_ms,
                r.total_ms, static_cast<unsigned long long>(r.bytes_read), r.termination[0],
                r.termination[1], r.actconn, r.feconn, r.beconn, r.srv_conn,
                r.redispatched ? "+" : "", r.retries, r.srv_queue, r.backend_queue);
  return line;
}

}  // namespace lb::proxy
