#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

namespace lb::proxy {

// What one line of HAProxy's TCP log format says about a finished connection.
struct TcpLogRecord {
  boost::asio::ip::tcp::endpoint client;
  std::chrono::system_clock::time_point accepted;
  std::string frontend;
  std::string backend;
  std::string server;       // empty: no server was chosen (<NOSRV>)
  long queue_ms = -1;       // %Tw, -1 when never queued... or 0
  long connect_ms = -1;     // %Tc, -1 when no connection was established
  long total_ms = 0;        // %Tt
  uint64_t bytes_read = 0;  // %B: bytes sent to the client
  char termination[2] = {'-', '-'};
  uint32_t actconn = 0, feconn = 0, beconn = 0, srv_conn = 0, retries = 0;
  bool redispatched = false;
  uint32_t srv_queue = 0, backend_queue = 0;
};

// HAProxy's `option tcplog` line:
// %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
std::string formatTcpLog(const TcpLogRecord& record);

}  // namespace lb::proxy
