#include "agent/rules/stick_table.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace lb::rules {

namespace {

// In HAProxy's order (its STKTABLE_DT_* list), which `show table` follows.
constexpr std::pair<std::string_view, StickData> kDataNames[] = {
    {"server_id", StickData::kServerId},
    {"gpt0", StickData::kGpt0},
    {"gpc0", StickData::kGpc0},
    {"gpc0_rate", StickData::kGpc0Rate},
    {"conn_cnt", StickData::kConnCnt},
    {"conn_rate", StickData::kConnRate},
    {"conn_cur", StickData::kConnCur},
    {"sess_cnt", StickData::kSessCnt},
    {"sess_rate", StickData::kSessRate},
    {"http_req_cnt", StickData::kHttpReqCnt},
    {"http_req_rate", StickData::kHttpReqRate},
    {"http_err_cnt", StickData::kHttpErrCnt},
    {"http_err_rate", StickData::kHttpErrRate},
    {"bytes_in_cnt", StickData::kBytesInCnt},
    {"bytes_in_rate", StickData::kBytesInRate},
    {"bytes_out_cnt", StickData::kBytesOutCnt},
    {"bytes_out_rate", StickData::kBytesOutRate},
    {"gpc1", StickData::kGpc1},
    {"gpc1_rate", StickData::kGpc1Rate},
};

size_t at(StickData d) {
  return static_cast<size_t>(d);
}

}  // namespace

std::optional<StickData> stickDataByName(std::string_view name) {
  for (auto [known, data] : kDataNames) {
    if (known == name) return data;
  }
  return std::nullopt;
}

bool isRate(StickData data) {
  switch (data) {
    case StickData::kConnRate:
    case StickData::kSessRate:
    case StickData::kBytesInRate:
    case StickData::kBytesOutRate:
    case StickData::kGpc0Rate:
    case StickData::kGpc1Rate:
    case StickData::kHttpReqRate:
    case StickData::kHttpErrRate:
      return true;
    default:
      return false;
  }
}

std::optional<Millis> parseTime(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t factor = 0;
  if (unit.empty() || unit == "ms") factor = 1;
  if (unit == "us") return Millis(n / 1000);
  if (unit == "s") factor = 1000;
  if (unit == "m") factor = 60'000;
  if (unit == "h") factor = 3'600'000;
  if (unit == "d") factor = 86'400'000;
  if (factor == 0 || n > (uint64_t{1} << 40) / factor) return std::nullopt;
  return Millis(static_cast<int64_t>(n * factor));
}

std::optional<std::pair<StickData, Millis>> parseStore(std::string_view item, std::string& error) {
  std::string_view name = item;
  std::optional<Millis> period;
  auto open = item.find('(');
  if (open != std::string_view::npos) {
    name = item.substr(0, open);
    if (item.back() != ')') {
      error = "'" + std::string(item) + "' lacks its closing ')'";
      return std::nullopt;
    }
    auto arg = item.substr(open + 1, item.size() - open - 2);
    period = parseTime(arg);
    if (!period || period->count() == 0) {
      error = "'" + std::string(item) + "': '" + std::string(arg) +
              "' is not a period (write it like 10s)";
      return std::nullopt;
    }
  }
  auto data = stickDataByName(name);
  if (!data) {
    error = "unknown stick-table data type '" + std::string(name) +
            "' (known: conn_cur, conn_cnt, conn_rate(T), sess_cnt, sess_rate(T), bytes_in_cnt, "
            "bytes_in_rate(T), bytes_out_cnt, bytes_out_rate(T), gpc0, gpc0_rate(T), gpc1, "
            "gpc1_rate(T), gpt0, server_id, http_req_cnt, http_req_rate(T), http_err_cnt, "
            "http_err_rate(T))";
    return std::nullopt;
  }
  if (isRate(*data) != period.has_value()) {
    error = isRate(*data) ? "'" + std::string(name) + "' needs a period, e.g. '" +
                                std::string(name) + "(10s)'"
                          : "'" + std::string(name) + "' takes no period";
    return std::nullopt;
  }
  return std::pair{*data, period.value_or(Millis(0))};
}

// ---- RateCounter ----

void RateCounter::rotate(TimePoint now, Millis period) {
  if (current_start == TimePoint{}) {
    current_start = now;
    return;
  }
  auto elapsed = now - current_start;
  if (elapsed < period) return;
  previous = elapsed < 2 * period ? current : 0;
  current = 0;
  current_start = now - (elapsed % period);
}

void RateCounter::add(TimePoint now, Millis period, uint32_t n) {
  rotate(now, period);
  current += n;
}

uint32_t RateCounter::read(TimePoint now, Millis period) const {
  RateCounter copy = *this;
  copy.rotate(now, period);
  auto remaining = std::chrono::duration_cast<Millis>(copy.current_start + period - now);
  if (remaining.count() < 0) remaining = Millis(0);
  return copy.current + static_cast<uint32_t>(static_cast<uint64_t>(copy.previous) *
                                              static_cast<uint64_t>(remaining.count()) /
                                              static_cast<uint64_t>(period.count()));
}

// ---- StickTable ----

StickTable::StickTable(std::string name, const lb::v1::StickTable& spec)
    : name_(std::move(name)),
      spec_(spec.SerializeAsString()),
      type_(spec.type()),
      size_(spec.size()),
      nopurge_(spec.nopurge()) {
  if (spec.has_len()) key_len_ = spec.len();
  if (spec.has_expire()) {
    expire_ = Millis(spec.expire().seconds() * 1000 + spec.expire().nanos() / 1'000'000);
  }
  for (const auto& item : spec.store()) {
    std::string error;
    // Several comma-separated items may share one string.
    std::string_view rest = item;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto one = rest.substr(0, comma);
      if (auto parsed = parseStore(one, error)) {
        stored_[at(parsed->first)] = true;
        periods_[at(parsed->first)] = parsed->second;
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
}

StickTable::~StickTable() = default;

bool StickTable::compatible(const lb::v1::StickTable& spec) const {
  return spec.SerializeAsString() == spec_;
}

std::optional<std::string> StickTable::keyOf(const Sample& sample) const {
  using boost::asio::ip::address;
  switch (type_) {
    case lb::v1::StickTable::IP:
    case lb::v1::StickTable::IPV6: {
      address ip;
      if (sample.type == Sample::Type::kIp) {
        ip = sample.ip;
      } else if (sample.type == Sample::Type::kStr) {
        boost::system::error_code ec;
        ip = boost::asio::ip::make_address(std::string(sample.str), ec);
        if (ec) return std::nullopt;
      } else {
        return std::nullopt;
      }
      if (type_ == lb::v1::StickTable::IP) {
        if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
          ip = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6());
        }
        if (!ip.is_v4()) return std::nullopt;  // HAProxy cannot key an IPv6 client either
        auto bytes = ip.to_v4().to_bytes();
        return std::string(bytes.begin(), bytes.end());
      }
      auto v6 = ip.is_v4()
                    ? boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, ip.to_v4())
                    : ip.to_v6();
      auto bytes = v6.to_bytes();
      return std::string(bytes.begin(), bytes.end());
    }
    case lb::v1::StickTable::INTEGER:
      if (sample.type == Sample::Type::kInt || sample.type == Sample::Type::kBool) {
        return std::to_string(sample.integer);
      }
      if (sample.type == Sample::Type::kStr) {
        int64_t n = 0;
        auto [end, ec] =
            std::from_chars(sample.str.data(), sample.str.data() + sample.str.size(), n);
        if (ec == std::errc() && end == sample.str.data() + sample.str.size()) {
          return std::to_string(n);
        }
      }
      return std::nullopt;
    default: {
      if (sample.type == Sample::Type::kNone) return std::nullopt;
      std::string text = sample.toString();
      if (text.size() > key_len_) text.resize(key_len_);
      return text;
    }
  }
}

StickEntry* StickTable::findLocked(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  StickEntry* entry = it->second.get();
  if (expire_ && entry->trackers == 0 && entry->expires <= now) {
    lru_.erase(entry->lru);
    entries_.erase(it);
    return nullptr;
  }
  return entry;
}

void StickTable::purgeLocked(TimePoint now) {
  // Expired entries first (from the least recently touched end), then, if still full, the
  // least recently used untracked entry.
  while (!lru_.empty()) {
    StickEntry* last = lru_.back();
    if (last->trackers != 0 || !expire_ || last->expires > now) break;
    lru_.pop_back();
    entries_.erase(last->key);
  }
  if (entries_.size() < size_ || nopurge_) return;
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
    if ((*it)->trackers != 0) continue;
    StickEntry* victim = *it;
    lru_.erase(std::next(it).base());
    entries_.erase(victim->key);
    return;
  }
}

StickEntry* StickTable::createLocked(const std::string& key, TimePoint now) {
  if (StickEntry* found = findLocked(key, now)) return found;
  purgeLocked(now);
  if (size_ != 0 && entries_.size() >= size_) return nullptr;  // full of tracked entries
  auto entry = std::make_unique<StickEntry>();
  entry->key = key;
  lru_.push_front(entry.get());
  entry->lru = lru_.begin();
  StickEntry* raw = entry.get();
  entries_.emplace(key, std::move(entry));
  return raw;
}

void StickTable::touchLocked(StickEntry* entry, TimePoint now) {
  if (expire_) entry->expires = now + *expire_;
  lru_.splice(lru_.begin(), lru_, entry->lru);
}

void StickTable::addLocked(StickEntry* entry, StickData counter, StickData rate, int64_t n,
                           TimePoint now) {
  if (stored_[at(counter)]) entry->values[at(counter)] += n;
  if (stored_[at(rate)] && n > 0) {
    entry->rates[at(rate)].add(now, periods_[at(rate)], static_cast<uint32_t>(n));
  }
}

int64_t StickTable::readLocked(StickEntry* entry, StickData data, TimePoint now) const {
  if (isRate(data)) return entry->rates[at(data)].read(now, periods_[at(data)]);
  return entry->values[at(data)];
}

StickEntry* StickTable::track(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  StickEntry* entry = createLocked(key, now);
  if (entry == nullptr) return nullptr;
  ++entry->trackers;
  if (stored_[at(StickData::kConnCur)]) ++entry->values[at(StickData::kConnCur)];
  addLocked(entry, StickData::kConnCnt, StickData::kConnRate, 1, now);
  addLocked(entry, StickData::kSessCnt, StickData::kSessRate, 1, now);
  touchLocked(entry, now);
  return entry;
}

void StickTable::untrack(StickEntry* entry, uint64_t bytes_in, uint64_t bytes_out, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (entry->trackers > 0) --entry->trackers;
  if (stored_[at(StickData::kConnCur)] && entry->values[at(StickData::kConnCur)] > 0) {
    --entry->values[at(StickData::kConnCur)];
  }
  addLocked(entry, StickData::kBytesInCnt, StickData::kBytesInRate, static_cast<int64_t>(bytes_in),
            now);
  addLocked(entry, StickData::kBytesOutCnt, StickData::kBytesOutRate,
            static_cast<int64_t>(bytes_out), now);
  touchLocked(entry, now);
}

std::optional<int64_t> StickTable::read(const std::string& key, StickData data, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!stored_[at(data)]) return std::nullopt;
  StickEntry* entry = findLocked(key, now);
  if (entry == nullptr) return std::nullopt;
  return readLocked(entry, data, now);
}

std::optional<int64_t> StickTable::read(StickEntry* entry, StickData data, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!stored_[at(data)]) return std::nullopt;
  return readLocked(entry, data, now);
}

std::optional<int64_t> StickTable::increment(StickEntry* entry, StickData counter, TimePoint now) {
  std::lock_guard lock(mutex_);
  return incrementLocked(entry, counter, now);
}

std::optional<int64_t> StickTable::incrementLocked(StickEntry* entry, StickData counter,
                                                   TimePoint now) {
  StickData rate = counter == StickData::kGpc0   ? StickData::kGpc0Rate
                   : counter == StickData::kGpc1 ? StickData::kGpc1Rate
                                                 : StickData::kConnRate;
  if (!stored_[at(counter)] && !stored_[at(rate)]) return std::nullopt;
  addLocked(entry, counter, rate, 1, now);
  touchLocked(entry, now);
  return entry->values[at(counter)];
}

std::optional<int64_t> StickTable::increment(const std::string& key, StickData counter,
                                             TimePoint now) {
  // One critical section: between creating the entry and counting on it, another worker
  // could otherwise find it untouched (expired) or least recently used, and free it.
  std::lock_guard lock(mutex_);
  StickEntry* entry = createLocked(key, now);
  if (entry == nullptr) return std::nullopt;
  return incrementLocked(entry, counter, now);
}

void StickTable::set(StickEntry* entry, StickData data, int64_t value, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!stored_[at(data)]) return;
  entry->values[at(data)] = value;
  touchLocked(entry, now);
}

std::optional<int64_t> StickTable::clear(StickEntry* entry, StickData counter, TimePoint now) {
  std::lock_guard lock(mutex_);
  if (!stored_[at(counter)]) return std::nullopt;
  int64_t was = entry->values[at(counter)];
  entry->values[at(counter)] = 0;
  touchLocked(entry, now);
  return was;
}

std::optional<std::string> StickTable::server(const std::string& key, TimePoint now) {
  std::lock_guard lock(mutex_);
  StickEntry* entry = findLocked(key, now);
  if (entry == nullptr || entry->server.empty()) return std::nullopt;
  touchLocked(entry, now);
  return entry->server;
}

void StickTable::storeServer(const std::string& key, const std::string& server, TimePoint now) {
  std::lock_guard lock(mutex_);
  StickEntry* entry = createLocked(key, now);
  if (entry == nullptr) return;
  entry->server = server;
  touchLocked(entry, now);
}

std::string StickTable::header() const {
  static const char* kTypes[] = {"ip", "ip", "ipv6", "integer", "string", "binary"};
  std::lock_guard lock(mutex_);
  return "# table: " + name_ + ", type: " + kTypes[type_] + ", size:" + std::to_string(size_) +
         ", used:" + std::to_string(entries_.size()) + "\n";
}

void StickTable::clear(const std::optional<std::string>& key) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    StickEntry* entry = it->second.get();
    if (entry->trackers == 0 && (!key || entry->key == *key)) {
      lru_.erase(entry->lru);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t StickTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::vector<std::string> StickTable::dump(TimePoint now) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  for (const StickEntry* entry : lru_) {
    std::string key;
    if (type_ == lb::v1::StickTable::IP && entry->key.size() == 4) {
      boost::asio::ip::address_v4::bytes_type b;
      std::copy(entry->key.begin(), entry->key.end(), b.begin());
      key = boost::asio::ip::address_v4(b).to_string();
    } else if (type_ == lb::v1::StickTable::IPV6 && entry->key.size() == 16) {
      boost::asio::ip::address_v6::bytes_type b;
      std::copy(entry->key.begin(), entry->key.end(), b.begin());
      key = boost::asio::ip::address_v6(b).to_string();
    } else {
      key = entry->key;
    }
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(entry));
    std::string line =
        std::string(address) + ": key=" + key + " use=" + std::to_string(entry->trackers);
    if (expire_) {
      auto left = std::chrono::duration_cast<Millis>(entry->expires - now).count();
      line += " exp=" + std::to_string(std::max<int64_t>(left, 0));
    }
    for (auto [name, data] : kDataNames) {
      if (!stored_[at(data)]) continue;
      if (data == StickData::kServerId) {
        line += " server_name=" + entry->server;
        continue;
      }
      std::string label(name);
      if (isRate(data)) label += "(" + std::to_string(periods_[at(data)].count()) + ")";
      line += " " + label + "=" +
              std::to_string(isRate(data) ? entry->rates[at(data)].read(now, periods_[at(data)])
                                          : entry->values[at(data)]);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace lb::rules
