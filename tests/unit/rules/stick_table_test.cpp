// Live stick tables on explicit instants (no clock, no sleeps): sliding rate counters over
// their periods, expiry of untouched entries, size eviction of the least recently used
// untracked entry, conn_cur following track/untrack, stored servers, keys of each table type,
// the `store` and time syntax, and `show table` lines.
#include "agent/rules/stick_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/unit/rules/rules_test_util.h"

namespace lb::rules {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// ---- RateCounter: HAProxy's freq_ctr ----

struct RateStep {
  int at_ms;     // since kT0
  uint32_t add;  // events at that instant (0: just read)
  uint32_t read;
};

TEST(RateCounterTest, SlidesOverItsPeriod) {
  const milliseconds period(10'000);
  const std::vector<RateStep> steps{
      {0, 5, 5},        // five events in the first period
      {5'000, 0, 5},    // still within it
      {9'999, 0, 5},    //
      {10'000, 0, 5},   // the next period starts: all of the last one still overlaps
      {12'000, 3, 7},   // 3 + 5 * 8/10
      {15'000, 0, 5},   // 3 + 5 * 5/10 (2.5, rounded down)
      {19'999, 0, 3},   // 3 + 5 * 0.0001
      {25'000, 0, 1},   // 0 + 3 * 5/10
      {29'999, 0, 0},   //
      {45'000, 0, 0},   // two periods without events: nothing
      {45'000, 2, 2},   //
      {100'000, 1, 1},  // a long pause forgets everything before it
  };
  RateCounter rate;
  for (const auto& s : steps) {
    SCOPED_TRACE(s.at_ms);
    TimePoint now = kT0 + milliseconds(s.at_ms);
    if (s.add > 0) rate.add(now, period, s.add);
    EXPECT_EQ(rate.read(now, period), s.read);
  }
}

TEST(RateCounterTest, ANewCounterReadsZero) {
  RateCounter rate;
  EXPECT_EQ(rate.read(kT0, milliseconds(1000)), 0u);
}

// ---- StickTable ----

std::string ipKey(const std::string& address) {
  auto bytes = boost::asio::ip::make_address_v4(address).to_bytes();
  return {bytes.begin(), bytes.end()};
}

TEST(StickTableTest, ConnRateCountsTrackedConnectionsOverItsPeriod) {
  auto table = makeTable("t", "type ip size 10 store conn_rate(10s),conn_cnt");
  const std::string key = ipKey("192.0.2.1");
  for (int i = 0; i < 10; ++i) {
    StickEntry* e = table->track(key, kT0 + seconds(i));
    table->untrack(e, 0, 0, kT0 + seconds(i));
  }
  EXPECT_EQ(table->read(key, StickData::kConnRate, kT0 + seconds(9)), 10);
  EXPECT_EQ(table->read(key, StickData::kConnRate, kT0 + seconds(15)), 5);
  EXPECT_EQ(table->read(key, StickData::kConnRate, kT0 + seconds(30)), 0);
  EXPECT_EQ(table->read(key, StickData::kConnCnt, kT0 + seconds(30)), 10);
  // Not stored: nothing, for a known key as for an unknown one.
  EXPECT_EQ(table->read(key, StickData::kGpc0, kT0), std::nullopt);
  EXPECT_EQ(table->read(ipKey("192.0.2.2"), StickData::kConnCnt, kT0), std::nullopt);
}

TEST(StickTableTest, ConnCurFollowsTrackAndUntrackAndBytesAreAddedAtTheEnd) {
  auto table = makeTable("t",
                         "type ip size 10 store conn_cur,bytes_in_cnt,bytes_out_cnt,"
                         "bytes_in_rate(1s)");
  const std::string key = ipKey("192.0.2.1");
  StickEntry* a = table->track(key, kT0);
  StickEntry* b = table->track(key, kT0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(table->read(key, StickData::kConnCur, kT0), 2);
  table->untrack(a, 100, 2000, kT0 + seconds(1));
  EXPECT_EQ(table->read(key, StickData::kConnCur, kT0 + seconds(1)), 1);
  EXPECT_EQ(table->read(key, StickData::kBytesInCnt, kT0 + seconds(1)), 100);
  EXPECT_EQ(table->read(key, StickData::kBytesOutCnt, kT0 + seconds(1)), 2000);
  EXPECT_EQ(table->read(key, StickData::kBytesInRate, kT0 + seconds(1)), 100);
  table->untrack(b, 1, 1, kT0 + seconds(1));
  EXPECT_EQ(table->read(key, StickData::kConnCur, kT0 + seconds(1)), 0);
  // Never below zero, even if untracked once too often.
  table->untrack(b, 0, 0, kT0 + seconds(1));
  EXPECT_EQ(table->read(key, StickData::kConnCur, kT0 + seconds(1)), 0);
}

TEST(StickTableTest, UntouchedEntriesExpireButTrackedOnesStay) {
  auto table = makeTable("t", "type ip size 10 expire 30s store conn_cnt,gpc0");
  const std::string idle = ipKey("192.0.2.1");
  const std::string busy = ipKey("192.0.2.2");
  table->increment(idle, StickData::kGpc0, kT0);
  StickEntry* tracked = table->track(busy, kT0);
  EXPECT_EQ(table->read(idle, StickData::kGpc0, kT0 + seconds(29)), 1);
  EXPECT_EQ(table->read(idle, StickData::kGpc0, kT0 + seconds(30)), std::nullopt);
  EXPECT_EQ(table->read(busy, StickData::kConnCnt, kT0 + seconds(300)), 1);
  // Once untracked, its 30 s start from then.
  table->untrack(tracked, 0, 0, kT0 + seconds(300));
  EXPECT_EQ(table->read(busy, StickData::kConnCnt, kT0 + seconds(329)), 1);
  EXPECT_EQ(table->read(busy, StickData::kConnCnt, kT0 + seconds(331)), std::nullopt);
  EXPECT_EQ(table->size(), 0u);
  // Reading does not refresh an entry; touching it does.
  table->increment(idle, StickData::kGpc0, kT0 + seconds(400));
  table->read(idle, StickData::kGpc0, kT0 + seconds(420));
  table->increment(idle, StickData::kGpc0, kT0 + seconds(425));
  EXPECT_EQ(table->read(idle, StickData::kGpc0, kT0 + seconds(450)), 2);
  EXPECT_EQ(table->read(idle, StickData::kGpc0, kT0 + seconds(455)), std::nullopt);
}

TEST(StickTableTest, AFullTableEvictsTheLeastRecentlyUsedUntrackedEntry) {
  auto table = makeTable("t", "type ip size 3 store gpc0");
  const auto a = ipKey("10.0.0.1");
  const auto b = ipKey("10.0.0.2");
  const auto c = ipKey("10.0.0.3");
  const auto d = ipKey("10.0.0.4");
  const auto e = ipKey("10.0.0.5");
  StickEntry* tracked_a = table->track(a, kT0);
  table->increment(b, StickData::kGpc0, kT0 + seconds(1));
  table->increment(c, StickData::kGpc0, kT0 + seconds(2));
  table->increment(b, StickData::kGpc0, kT0 + seconds(3));  // b is now more recent than c
  table->increment(d, StickData::kGpc0, kT0 + seconds(4));  // full: c goes (a is tracked)
  EXPECT_EQ(table->size(), 3u);
  EXPECT_EQ(table->read(c, StickData::kGpc0, kT0 + seconds(4)), std::nullopt);
  EXPECT_EQ(table->read(b, StickData::kGpc0, kT0 + seconds(4)), 2);
  EXPECT_EQ(table->read(a, StickData::kGpc0, kT0 + seconds(4)), 0);
  table->increment(e, StickData::kGpc0, kT0 + seconds(5));  // b goes: older than d
  EXPECT_EQ(table->read(b, StickData::kGpc0, kT0 + seconds(5)), std::nullopt);
  EXPECT_EQ(table->read(d, StickData::kGpc0, kT0 + seconds(5)), 1);
  EXPECT_NE(table->read(a, StickData::kGpc0, kT0 + seconds(5)), std::nullopt);
  table->untrack(tracked_a, 0, 0, kT0 + seconds(5));
}

TEST(StickTableTest, ATableFullOfTrackedEntriesRefusesToTrackMore) {
  auto table = makeTable("t", "type ip size 2 store conn_cur");
  StickEntry* a = table->track(ipKey("10.0.0.1"), kT0);
  StickEntry* b = table->track(ipKey("10.0.0.2"), kT0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(table->track(ipKey("10.0.0.3"), kT0), nullptr);
  table->untrack(a, 0, 0, kT0 + seconds(1));
  // Now a is untracked and can make room.
  StickEntry* c = table->track(ipKey("10.0.0.3"), kT0 + seconds(2));
  EXPECT_NE(c, nullptr);
  EXPECT_EQ(table->read(ipKey("10.0.0.1"), StickData::kConnCur, kT0 + seconds(2)), std::nullopt);
  table->untrack(b, 0, 0, kT0 + seconds(3));
  table->untrack(c, 0, 0, kT0 + seconds(3));
}

TEST(StickTableTest, NopurgeKeepsOldEntriesAndRefusesNewOnes) {
  auto table = makeTable("t", "type ip size 1 nopurge store gpc0");
  EXPECT_EQ(table->increment(ipKey("10.0.0.1"), StickData::kGpc0, kT0), 1);
  EXPECT_EQ(table->increment(ipKey("10.0.0.2"), StickData::kGpc0, kT0), std::nullopt);
  EXPECT_EQ(table->read(ipKey("10.0.0.1"), StickData::kGpc0, kT0), 1);
}

TEST(StickTableTest, ServersAreStoredAndMatched) {
  auto table = makeTable("t", "type ip size 10 expire 10m");
  const auto key = ipKey("192.0.2.9");
  EXPECT_EQ(table->server(key, kT0), std::nullopt);
  table->storeServer(key, "s2", kT0);
  EXPECT_EQ(table->server(key, kT0 + seconds(5)), "s2");
  table->storeServer(key, "s3", kT0 + seconds(6));
  EXPECT_EQ(table->server(key, kT0 + seconds(7)), "s3");
  // A match touches the entry: it stays while the client keeps coming.
  EXPECT_EQ(table->server(key, kT0 + std::chrono::minutes(9)), "s3");
  EXPECT_EQ(table->server(key, kT0 + std::chrono::minutes(18)), "s3");
  EXPECT_EQ(table->server(key, kT0 + std::chrono::minutes(29)), std::nullopt);
  EXPECT_EQ(table->server(ipKey("192.0.2.10"), kT0), std::nullopt);
}

TEST(StickTableTest, IncrementSetAndClear) {
  auto table = makeTable("t", "type integer size 10 store gpc0,gpc1,gpt0,gpc0_rate(1m)");
  StickEntry* e = table->track("42", kT0);
  EXPECT_EQ(table->increment(e, StickData::kGpc0, kT0), 1);
  EXPECT_EQ(table->increment(e, StickData::kGpc0, kT0), 2);
  EXPECT_EQ(table->increment(e, StickData::kGpc1, kT0), 1);
  EXPECT_EQ(table->read(e, StickData::kGpc0Rate, kT0 + seconds(1)), 2);
  table->set(e, StickData::kGpt0, 9, kT0);
  EXPECT_EQ(table->read(e, StickData::kGpt0, kT0), 9);
  EXPECT_EQ(table->clear(e, StickData::kGpc0, kT0), 2);
  EXPECT_EQ(table->read(e, StickData::kGpc0, kT0), 0);
  // conn_cnt is not stored: src_updt_conn_cnt has nothing to count.
  EXPECT_EQ(table->increment(e, StickData::kConnCnt, kT0), std::nullopt);
  table->untrack(e, 0, 0, kT0);
}

struct KeyCase {
  std::string table;
  Sample sample;
  std::optional<std::string> key;
};

Sample addressSample(const std::string& a) {
  return Sample::address(boost::asio::ip::make_address(a));
}

TEST(StickTableTest, KeysOfEachTableType) {
  const std::string v6_of_v4 =
      std::string(10, '\0') + std::string("\xff\xff\x0a\x00\x00\x01", 6);  // ::ffff:10.0.0.1
  const std::vector<KeyCase> cases{
      {"type ip size 1", addressSample("10.0.0.1"), ipKey("10.0.0.1")},
      {"type ip size 1", addressSample("::ffff:10.0.0.1"), ipKey("10.0.0.1")},
      {"type ip size 1", addressSample("2001:db8::1"), std::nullopt},
      {"type ip size 1", Sample::text("10.0.0.1"), ipKey("10.0.0.1")},
      {"type ip size 1", Sample::text("nope"), std::nullopt},
      {"type ip size 1", Sample::number(1), std::nullopt},
      {"type ipv6 size 1", addressSample("10.0.0.1"), v6_of_v4},
      {"type ipv6 size 1", addressSample("::1"), std::string(15, '\0') + "\x01"},
      {"type integer size 1", Sample::number(-42), "-42"},
      {"type integer size 1", Sample::boolean(true), "1"},
      {"type integer size 1", Sample::text("0042"), "42"},
      {"type integer size 1", Sample::text("4x"), std::nullopt},
      {"type integer size 1", addressSample("10.0.0.1"), std::nullopt},
      {"type string size 1", Sample::text("a.example.com"), "a.example.com"},
      {"type string len 4 size 1", Sample::text("a.example.com"), "a.ex"},
      {"type string size 1", Sample::number(443), "443"},
      {"type string size 1", addressSample("10.0.0.1"), "10.0.0.1"},
      {"type string size 1", Sample::none(), std::nullopt},
      {"type binary len 2 size 1", Sample::text(std::string_view("\x16\x03\x01", 3)),
       std::string("\x16\x03", 2)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.table + " key of '" + c.sample.toString() + "'");
    EXPECT_EQ(makeTable("t", c.table)->keyOf(c.sample), c.key);
  }
}

TEST(StickTableTest, CompatibleOnlyWithTheSameShape) {
  auto parsed = config::parseHaproxy(
      "backend a\n    stick-table type ip size 1k expire 30s store conn_cur\n"
      "backend b\n    stick-table type ip size 1k expire 30s store conn_cur\n"
      "backend c\n    stick-table type ip size 2k expire 30s store conn_cur\n");
  StickTable a("a", parsed.config.backends(0).stick_table());
  EXPECT_TRUE(a.compatible(parsed.config.backends(1).stick_table()));
  EXPECT_FALSE(a.compatible(parsed.config.backends(2).stick_table()));
  EXPECT_TRUE(a.stores(StickData::kConnCur));
  EXPECT_FALSE(a.stores(StickData::kConnCnt));
  EXPECT_EQ(a.keyType(), lb::v1::StickTable::IP);
  EXPECT_EQ(a.name(), "a");
}

TEST(StickTableTest, DumpShowsEachEntryMostRecentFirst) {
  auto table = makeTable("t", "type ip size 10 expire 30s store conn_cnt,conn_rate(10s),gpc0");
  StickEntry* e = table->track(ipKey("192.0.2.1"), kT0);
  table->increment(ipKey("192.0.2.2"), StickData::kGpc0, kT0 + seconds(1));
  auto lines = table->dump(kT0 + seconds(2));
  ASSERT_EQ(lines.size(), 2u);
  for (const char* part :
       {"key=192.0.2.2 use=0 exp=29000", " conn_cnt=0", " conn_rate(10000)=0", " gpc0=1"}) {
    EXPECT_THAT(lines[0], HasSubstr(part));
  }
  for (const char* part :
       {"key=192.0.2.1 use=1 exp=28000", " conn_cnt=1", " conn_rate(10000)=1", " gpc0=0"}) {
    EXPECT_THAT(lines[1], HasSubstr(part));
  }
  table->untrack(e, 0, 0, kT0 + seconds(2));
}

TEST(StickTableTest, ConcurrentClientsOfOneKeyFromSeveralWorkers) {
  // Worker threads share a table: src_inc_gpc0 on one key from all of them, while other keys
  // push entries out, must never touch a removed entry (the sanitizer build tells).
  auto table = makeTable("t", "type ip size 4 expire 1s store gpc0");
  const auto key = ipKey("192.0.2.1");
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        table->increment(key, StickData::kGpc0, kT0);
        table->increment(ipKey("10.0.0." + std::to_string(t * 10 + i % 7)), StickData::kGpc0, kT0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(table->size(), 4u);
}

struct StoreCase {
  std::string item;
  std::optional<StickData> data;
  milliseconds period;
  std::string says;
};

TEST(StickTableTest, StoreItemsAndTimes) {
  const std::vector<StoreCase> cases{
      {"conn_cur", StickData::kConnCur, milliseconds(0), ""},
      {"conn_rate(10s)", StickData::kConnRate, milliseconds(10'000), ""},
      {"gpc0_rate(500ms)", StickData::kGpc0Rate, milliseconds(500), ""},
      {"http_req_rate(1m)", StickData::kHttpReqRate, milliseconds(60'000), ""},
      {"server_id", StickData::kServerId, milliseconds(0), ""},
      {"conn_rate", std::nullopt, {}, "'conn_rate' needs a period, e.g. 'conn_rate(10s)'"},
      {"conn_cnt(10s)", std::nullopt, {}, "'conn_cnt' takes no period"},
      {"conn_rate(10s", std::nullopt, {}, "lacks its closing ')'"},
      {"conn_rate(0s)", std::nullopt, {}, "is not a period"},
      {"conn_rate(ten)", std::nullopt, {}, "is not a period"},
      {"conn_rates", std::nullopt, {}, "unknown stick-table data type 'conn_rates'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.item);
    std::string error;
    auto parsed = parseStore(c.item, error);
    if (!c.data) {
      EXPECT_FALSE(parsed.has_value());
      EXPECT_THAT(error, HasSubstr(c.says));
      continue;
    }
    ASSERT_TRUE(parsed.has_value()) << error;
    EXPECT_EQ(parsed->first, *c.data);
    EXPECT_EQ(parsed->second, c.period);
  }
  EXPECT_EQ(parseTime("250"), milliseconds(250));
  EXPECT_EQ(parseTime("1500us"), milliseconds(1));
  EXPECT_EQ(parseTime("2h"), milliseconds(7'200'000));
  EXPECT_EQ(parseTime("1d"), milliseconds(86'400'000));
  EXPECT_EQ(parseTime("5x"), std::nullopt);
  EXPECT_EQ(parseTime("s"), std::nullopt);
  EXPECT_TRUE(isRate(StickData::kBytesOutRate));
  EXPECT_FALSE(isRate(StickData::kBytesOutCnt));
  EXPECT_EQ(stickDataByName("gpt0"), StickData::kGpt0);
  EXPECT_EQ(stickDataByName("gpt1"), std::nullopt);
}

}  // namespace
}  // namespace lb::rules
