// The inactivity rules of an established session (HAProxy's), as a table: which clocks run
// for each side, which timeout applies, and whose deadline comes first.
#include "agent/proxy/deadlines.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

namespace lb::proxy {
namespace {

using namespace std::chrono_literals;
using common::MonoTime;

const MonoTime kT0 = MonoTime{} + 1000s;

SideClock idle(std::chrono::milliseconds read_ago_ms = 0ms) {
  SideClock side;
  side.reading = true;
  side.read_since = kT0 - read_ago_ms;
  return side;
}

struct Row {
  std::string name;
  RelayClocks clocks;
  RelayTimeouts timeouts;
  std::optional<std::chrono::milliseconds> at;  // after kT0; nullopt: no deadline
  bool client = false;                          // whose it is
};

void PrintTo(const Row& row, std::ostream* os) {
  *os << row.name;
}

RelayTimeouts clientServer(std::chrono::milliseconds client, std::chrono::milliseconds server) {
  RelayTimeouts t;
  t.client = client;
  t.server = server;
  return t;
}

class DeadlineTest : public ::testing::TestWithParam<Row> {};

TEST_P(DeadlineTest, WhoseTimeoutAndWhen) {
  const Row& row = GetParam();
  auto deadline = relayDeadline(row.clocks, row.timeouts);
  if (!row.at) {
    EXPECT_FALSE(deadline) << "at +" << (deadline->at - kT0).count() << "ns";
    return;
  }
  ASSERT_TRUE(deadline);
  EXPECT_EQ(deadline->at - kT0, *row.at);
  EXPECT_EQ(deadline->client, row.client);
}

Row backPressureDownload() {
  // The server sends, the client never reads: lb stops reading from the server because the
  // client is full. The server is not idle: the stall is the client's (cD at timeout client).
  Row row{"ServerSendsClientNeverReads", {idle(), idle()}, clientServer(8s, 3s), 8s, true};
  row.clocks.server.reading = false;  // its bytes wait for the client
  row.clocks.client.writing = true;
  row.clocks.client.write_since = kT0;
  return row;
}

Row backPressureUpload() {
  // Mirrored: the client sends, the server never reads (sD at timeout server).
  Row row{"ClientSendsServerNeverReads", {idle(), idle()}, clientServer(3s, 8s), 8s, false};
  row.clocks.client.reading = false;
  row.clocks.server.writing = true;
  row.clocks.server.write_since = kT0;
  return row;
}

Row finTimeout(bool tunnel) {
  // The client sent its FIN; passed on to the server, which now has server-fin.
  Row row{tunnel ? "TunnelServerFin" : "ServerFinAfterClientsFin", {idle(), idle()}, {}, 1s, false};
  row.timeouts = clientServer(30s, 30s);
  row.timeouts.server_fin = 1s;
  if (tunnel) row.timeouts.tunnel = 1h;
  row.clocks.client.sent_fin = true;
  row.clocks.client.reading = false;
  row.clocks.server.received_fin = true;
  return row;
}

Row tunnelOwnFin() {
  // With timeout tunnel, a side's own FIN also brings its fin timeout (HAProxy's rule).
  Row row{"TunnelClientFinAfterItsOwnFin", {idle(), idle()}, {}, 2s, true};
  row.timeouts.tunnel = 1h;
  row.timeouts.client_fin = 2s;
  row.clocks.client.sent_fin = true;
  row.clocks.client.reading = false;
  row.clocks.client.writing = true;  // the server's answer still goes to it
  row.clocks.client.write_since = kT0;
  row.clocks.server = idle();
  return row;
}

Row bothDone() {
  Row row{"NothingExpectedNothingToWrite", {idle(), idle()}, clientServer(1s, 1s), std::nullopt};
  for (SideClock* side : {&row.clocks.client, &row.clocks.server}) {
    side->sent_fin = true;
    side->reading = false;
  }
  return row;
}

Row writeClockFromLastProgress() {
  // Bytes have waited for the client since 5 s ago; its read clock was refreshed by that write
  // only: 2 s left of timeout client 7s.
  Row row{
      "WriteClockCountsFromTheLastProgress", {idle(5s), idle()}, clientServer(7s, 30s), 2s, true};
  row.clocks.client.writing = true;
  row.clocks.client.write_since = kT0 - 5s;
  row.clocks.server.reading = false;
  return row;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, DeadlineTest,
    ::testing::Values(Row{"BothIdleShorterWins", {idle(), idle()}, clientServer(8s, 3s), 3s, false},
                      Row{"ClientIdleLonger", {idle(6s), idle()}, clientServer(8s, 3s), 2s, true},
                      Row{"TieGoesToTheClient", {idle(), idle()}, clientServer(5s, 5s), 5s, true},
                      Row{"OnlyClientTimeout",
                          {idle(), idle()},
                          [] {
                            RelayTimeouts t;
                            t.client = 4s;
                            return t;
                          }(),
                          4s,
                          true},
                      Row{"NoTimeoutsNoDeadline", {idle(), idle()}, {}, std::nullopt},
                      Row{"TunnelReplacesBoth",
                          {idle(), idle()},
                          [] {
                            RelayTimeouts t = clientServer(1s, 1s);
                            t.tunnel = 1h;
                            return t;
                          }(),
                          1h,
                          true},
                      backPressureDownload(), backPressureUpload(), finTimeout(false),
                      finTimeout(true), tunnelOwnFin(), bothDone(), writeClockFromLastProgress()),
    [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

TEST(SideDeadlineTest, TheEarlierOfReadAndWriteClocks) {
  RelayTimeouts t = clientServer(10s, 10s);
  SideClock side = idle(1s);
  side.writing = true;
  side.write_since = kT0 - 4s;
  EXPECT_EQ(*sideDeadline(side, true, t) - kT0, 6s);
  side.write_since = kT0;
  EXPECT_EQ(*sideDeadline(side, true, t) - kT0, 9s);
}

}  // namespace
}  // namespace lb::proxy
