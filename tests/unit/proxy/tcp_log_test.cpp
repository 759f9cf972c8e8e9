// HAProxy's tcplog line, field by field: what log parsers and people read.
#include "agent/proxy/tcp_log.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace lb::proxy {
namespace {

using namespace std::chrono;

class TcpLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The line shows local time: pin the zone.
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }

  static TcpLogRecord guide() {
    TcpLogRecord r;
    r.client = {boost::asio::ip::make_address("10.0.0.1"), 51234};
    // 2026-12-04 18:22:35.123 UTC
    r.accepted = system_clock::time_point(seconds(1796408555)) + milliseconds(123);
    r.frontend = "web-test";
    r.backend = "web_test";
    r.server = "server2";
    r.queue_ms = 0;
    r.connect_ms = 1;
    r.total_ms = 105;
    r.bytes_read = 1234;
    r.actconn = 3;
    r.feconn = 2;
    r.beconn = 2;
    r.srv_conn = 1;
    return r;
  }
};

TEST_F(TcpLogTest, ANormalSession) {
  EXPECT_EQ(formatTcpLog(guide()),
            "10.0.0.1:51234 [04/Dec/2026:18:22:35.123] web-test web_test/server2 0/1/105 1234 -- "
            "3/2/2/1/0 0/0");
}

TEST_F(TcpLogTest, NoServerRetriesRedispatchAndQueues) {
  TcpLogRecord nosrv = guide();
  nosrv.server.clear();
  nosrv.connect_ms = -1;
  nosrv.bytes_read = 0;
  nosrv.termination[0] = 'S';
  nosrv.termination[1] = 'C';
  EXPECT_EQ(formatTcpLog(nosrv),
            "10.0.0.1:51234 [04/Dec/2026:18:22:35.123] web-test web_test/<NOSRV> 0/-1/105 0 SC "
            "3/2/2/1/0 0/0");
  TcpLogRecord retried = guide();
  retried.retries = 3;
  retried.redispatched = true;
  retried.queue_ms = 12;
  retried.srv_queue = 4;
  retried.backend_queue = 5;
  EXPECT_EQ(formatTcpLog(retried),
            "10.0.0.1:51234 [04/Dec/2026:18:22:35.123] web-test web_test/server2 12/1/105 1234 -- "
            "3/2/2/1/+3 4/5");
}

TEST_F(TcpLogTest, Ipv6ClientsAreWrittenWithoutBrackets) {
  TcpLogRecord r = guide();
  r.client = {boost::asio::ip::make_address("::1"), 40000};
  EXPECT_EQ(formatTcpLog(r).rfind("::1:40000 [04/Dec/2026:18:22:35.123] ", 0), 0u);
}

}  // namespace
}  // namespace lb::proxy
