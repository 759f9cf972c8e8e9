#pragma once

#include <array>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/rules/sample.h"
#include "lb/v1/config.pb.h"

namespace lb::rules {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// What a stick-table entry can store (`store ...`), in HAProxy's names.
enum class StickData : uint8_t {
  kConnCur,
  kConnCnt,
  kConnRate,
  kSessCnt,
  kSessRate,
  kBytesInCnt,
  kBytesInRate,
  kBytesOutCnt,
  kBytesOutRate,
  kGpc0,
  kGpc0Rate,
  kGpc1,
  kGpc1Rate,
  kGpt0,
  kServerId,
  kHttpReqCnt,
  kHttpReqRate,
  kHttpErrCnt,
  kHttpErrRate,
  kCount
};
// "conn_rate" -> kConnRate; nothing for an unknown name.
std::optional<StickData> stickDataByName(std::string_view name);
bool isRate(StickData data);

// An event count over a sliding period, HAProxy's freq_ctr: the current period's count plus
// the previous period's, weighted by how much of it still overlaps the last `period`.
struct RateCounter {
  TimePoint current_start{};
  uint32_t current = 0;
  uint32_t previous = 0;
  void add(TimePoint now, Millis period, uint32_t n);
  uint32_t read(TimePoint now, Millis period) const;

 private:
  void rotate(TimePoint now, Millis period);
};

// One key's counters. Changed and read under its table's lock only.
struct StickEntry {
  std::string key;
  std::array<int64_t, static_cast<size_t>(StickData::kCount)> values{};
  std::array<RateCounter, static_cast<size_t>(StickData::kCount)> rates{};
  std::string server;  // server_id: the server's name (names survive reloads, ids need not)
  TimePoint expires{};
  std::list<StickEntry*>::iterator lru;
  uint32_t trackers = 0;  // connections tracking it (kept from eviction)
};

// A `stick-table`: keys and their counters, shared by every worker thread (one lock; its
// critical sections are a hash lookup and a few additions). It lives outside the snapshot: an
// apply that keeps a table of the same name and shape keeps its entries (the StateStore hands
// the same object to the next snapshot).
class StickTable {
 public:
  // `spec` as validated. Millisecond periods of the `store` rates are read from it.
  StickTable(std::string name, const lb::v1::StickTable& spec);
  ~StickTable();
  StickTable(const StickTable&) = delete;
  StickTable& operator=(const StickTable&) = delete;

  const std::string& name() const { return name_; }
  lb::v1::StickTable::KeyType keyType() const { return type_; }
  // Whether another spec describes this very table (an apply that keeps it keeps its entries;
  // any change of type, size, expiry or stored data starts a new, empty table).
  bool compatible(const lb::v1::StickTable& spec) const;
  bool stores(StickData data) const { return stored_[static_cast<size_t>(data)]; }

  // A connection starts tracking `key` (track-sc*): counts the connection and session and
  // holds the entry until untrack(). Returns the entry (never null: a full table evicts the
  // least recently used untracked entry, or refuses to track when all are tracked: null).
  StickEntry* track(const std::string& key, TimePoint now);
  // The tracking connection ended; its bytes are added.
  void untrack(StickEntry* entry, uint64_t bytes_in, uint64_t bytes_out, TimePoint now);

  // Removes every entry that no connection tracks (`clear table`), or the one of `key`.
  void clear(const std::optional<std::string>& key);
  // Reads `data` of `key` (src_* fetches) or of a tracked entry (sc*_ fetches); nothing when
  // the key is absent or the table does not store it.
  std::optional<int64_t> read(const std::string& key, StickData data, TimePoint now);
  std::optional<int64_t> read(StickEntry* entry, StickData data, TimePoint now);
  // Adds 1 to gpc0/gpc1 or conn_cnt (and its rate); returns the new value (sc-inc-gpc0,
  // sc0_inc_gpc0, src_updt_conn_cnt).
  std::optional<int64_t> increment(StickEntry* entry, StickData counter, TimePoint now);
  std::optional<int64_t> increment(const std::string& key, StickData counter, TimePoint now);
  void set(StickEntry* entry, StickData data, int64_t value, TimePoint now);
  // Clears gpc0/gpc1; returns the value it had.
  std::optional<int64_t> clear(StickEntry* entry, StickData counter, TimePoint now);

  // `stick match`: the server name stored for `key`, if any.
  std::optional<std::string> server(const std::string& key, TimePoint now);
  // `stick store-request`: remembers `server` for `key`.
  void storeServer(const std::string& key, const std::string& server, TimePoint now);

  size_t size() const;
  // What `show table NAME` prints: its header line, then one line per entry, most recently
  // used first ("0x...: key=127.0.0.1 use=0 exp=29000 conn_rate(10000)=1 conn_cur=0"),
  // HAProxy's format.
  std::string header() const;
  std::vector<std::string> dump(TimePoint now) const;
  // The table's key for a sample's text (ip tables take addresses; an IPv4 client in an ipv6
  // table is v4-mapped); nothing when the sample cannot be a key of this table.
  std::optional<std::string> keyOf(const Sample& sample) const;

 private:
  StickEntry* findLocked(const std::string& key, TimePoint now);
  StickEntry* createLocked(const std::string& key, TimePoint now);
  void touchLocked(StickEntry* entry, TimePoint now);
  void addLocked(StickEntry* entry, StickData counter, StickData rate, int64_t n, TimePoint now);
  int64_t readLocked(StickEntry* entry, StickData data, TimePoint now) const;
  std::optional<int64_t> incrementLocked(StickEntry* entry, StickData counter, TimePoint now);
  void purgeLocked(TimePoint now);

  std::string name_;
  std::string spec_;  // serialized, for compatible()
  lb::v1::StickTable::KeyType type_;
  uint32_t key_len_ = 32;
  size_t size_ = 0;
  std::optional<Millis> expire_;
  bool nopurge_ = false;
  std::array<bool, static_cast<size_t>(StickData::kCount)> stored_{};
  std::array<Millis, static_cast<size_t>(StickData::kCount)> periods_{};

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<StickEntry>> entries_;
  std::list<StickEntry*> lru_;  // most recently touched first
};

// Parses an HAProxy time ("10s", "500ms", "1m", "2h", "1d"; no unit: ms).
std::optional<Millis> parseTime(std::string_view text);
// Parses a `store` item ("conn_rate(10s)") into its data type and period.
std::optional<std::pair<StickData, Millis>> parseStore(std::string_view item, std::string& error);

}  // namespace lb::rules
