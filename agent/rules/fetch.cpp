#include "agent/rules/fetch.h"

#include <charconv>

namespace lb::rules {

namespace {

// "get_gpc0" -> gpc0 ...: the stick-table data a sc*_/src_ fetch suffix reads.
std::optional<StickData> dataOfSuffix(std::string_view suffix, bool& kilo) {
  kilo = false;
  if (suffix == "get_gpc0") return StickData::kGpc0;
  if (suffix == "get_gpc1") return StickData::kGpc1;
  if (suffix == "get_gpt0") return StickData::kGpt0;
  if (suffix == "kbytes_in") {
    kilo = true;
    return StickData::kBytesInCnt;
  }
  if (suffix == "kbytes_out") {
    kilo = true;
    return StickData::kBytesOutCnt;
  }
  auto data = stickDataByName(suffix);
  if (data && *data == StickData::kServerId) return std::nullopt;
  return data;
}

struct Simple {
  std::string_view name;
  FetchKind kind;
};
constexpr Simple kSimple[] = {
    {"src", FetchKind::kSrc},
    {"dst", FetchKind::kDst},
    {"src_port", FetchKind::kSrcPort},
    {"dst_port", FetchKind::kDstPort},
    {"always_true", FetchKind::kAlwaysTrue},
    {"always_false", FetchKind::kAlwaysFalse},
    {"wait_end", FetchKind::kWaitEnd},
    {"req.len", FetchKind::kReqLen},
    {"req_len", FetchKind::kReqLen},
    {"req.ssl_sni", FetchKind::kSslSni},
    {"req_ssl_sni", FetchKind::kSslSni},
    {"req.ssl_alpn", FetchKind::kSslAlpn},
    {"req.ssl_hello_type", FetchKind::kSslHelloType},
    {"req_ssl_hello_type", FetchKind::kSslHelloType},
    {"req.ssl_ver", FetchKind::kSslVer},
    {"req_ssl_ver", FetchKind::kSslVer},
};

constexpr std::string_view kProxyCounters[] = {"fe_conn", "be_conn",   "nbsrv",     "connslots",
                                               "queue",   "avg_queue", "srv_is_up", "srv_conn"};

constexpr std::string_view kKnown =
    "src, dst, src_port, dst_port, req.len, req.payload(OFFSET,LENGTH), "
    "req.payload_lv(OFFSET,LENGTH), req.ssl_sni, req.ssl_alpn, req.ssl_hello_type, req.ssl_ver, "
    "always_true, always_false, wait_end, fe_conn, be_conn, nbsrv, connslots, queue, avg_queue, "
    "srv_is_up, srv_conn, sc0_*/sc1_*/sc2_*, sc_*(N), src_* (stick-table counters)";

}  // namespace

// ---- Tracked ----

Tracked::~Tracked() {
  auto now = std::chrono::steady_clock::now();
  for (auto& slot : slots_) {
    if (slot.entry != nullptr) slot.table->untrack(slot.entry, bytes_in_, bytes_out_, now);
  }
}

void Tracked::track(int counter, std::shared_ptr<StickTable> table, const std::string& key,
                    TimePoint now) {
  Slot& slot = slots_[static_cast<size_t>(counter)];
  if (slot.entry != nullptr) return;
  StickEntry* entry = table->track(key, now);
  if (entry == nullptr) return;  // a full table of tracked entries: nothing to track with
  slot.table = std::move(table);
  slot.entry = entry;
}

// ---- Facts ----

const common::ClientHello& Facts::hello() {
  if (!hello_ || hello_size_ != payload.size()) {
    hello_ = common::parseClientHello(payload);
    hello_size_ = payload.size();
  }
  return *hello_;
}

// ---- Fetch ----

std::optional<FetchSyntax> splitFetch(std::string_view text, std::string& error) {
  FetchSyntax out;
  size_t i = 0;
  while (i < text.size() && text[i] != '(' && text[i] != ',') ++i;
  out.name = std::string(text.substr(0, i));
  if (out.name.empty()) {
    error = "a fetch name is missing in '" + std::string(text) + "'";
    return std::nullopt;
  }
  if (i < text.size() && text[i] == '(') {
    out.has_parens = true;
    auto close = text.find(')', i);
    if (close == std::string_view::npos) {
      error = "'" + std::string(text) + "' lacks its closing ')'";
      return std::nullopt;
    }
    std::string_view args = text.substr(i + 1, close - i - 1);
    while (!args.empty()) {
      auto comma = args.find(',');
      out.args.emplace_back(args.substr(0, comma));
      if (comma == std::string_view::npos) break;
      args = args.substr(comma + 1);
      if (args.empty()) out.args.emplace_back();
    }
    i = close + 1;
  }
  while (i < text.size()) {
    if (text[i] != ',') {
      error = "unexpected '" + std::string(text.substr(i)) + "' after '" +
              std::string(text.substr(0, i)) + "'";
      return std::nullopt;
    }
    size_t start = ++i;
    int depth = 0;
    while (i < text.size() && (depth > 0 || text[i] != ',')) {
      if (text[i] == '(') ++depth;
      if (text[i] == ')') --depth;
      ++i;
    }
    out.converters.emplace_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<Fetch> Fetch::parse(std::string_view text, std::string& error) {
  auto syntax = splitFetch(text, error);
  if (!syntax) return std::nullopt;
  Fetch f;
  f.text = std::string(text);
  for (const auto& conv : syntax->converters) {
    if (conv == "lower") {
      f.lower = true;
    } else if (conv == "upper") {
      f.upper = true;
    } else {
      error = "converter '" + conv + "' in '" + f.text +
              "' is not supported (lb knows 'lower' and 'upper')";
      return std::nullopt;
    }
  }
  const std::string& name = syntax->name;
  const auto& args = syntax->args;
  auto noArgs = [&]() -> bool {
    if (args.empty()) return true;
    error = "'" + name + "' takes no argument";
    return false;
  };
  for (const auto& simple : kSimple) {
    if (simple.name != name) continue;
    if (!noArgs()) return std::nullopt;
    f.kind = simple.kind;
    return f;
  }
  if (name == "req.payload" || name == "payload" || name == "req.payload_lv" ||
      name == "payload_lv") {
    bool lv = name.find("_lv") != std::string::npos;
    int64_t a = -1;
    int64_t b = -1;
    int64_t c = -1;
    if (args.size() >= 1) a = parseInteger(args[0]).value_or(-1);
    if (args.size() >= 2) b = parseInteger(args[1]).value_or(-1);
    if (args.size() == 3) c = parseInteger(args[2]).value_or(-1);
    bool ok = a >= 0 && b >= 0 && a < (1 << 20) && b < (1 << 20) &&
              (args.size() == 2 || (lv && args.size() == 3 && c >= 0));
    if (lv && ok && (b < 1 || b > 4)) ok = false;
    if (!ok) {
      error = "'" + name + "' needs " +
              (lv ? "(OFFSET,LENGTH[,OFFSET2]) with LENGTH 1 to 4 bytes"
                  : "(OFFSET,LENGTH) in bytes, e.g. req.payload(0,1)");
      return std::nullopt;
    }
    f.kind = lv ? FetchKind::kReqPayloadLv : FetchKind::kReqPayload;
    f.offset = a;
    f.length = b;
    f.offset2 = c;
    return f;
  }
  // Response fetches: `tcp-response` rules are accepted and not evaluated, so their ACLs load
  // and never match.
  for (std::string_view response :
       {"rep_ssl_hello_type", "res.ssl_hello_type", "res.len", "rep.len", "res.payload",
        "res.payload_lv", "rep.payload", "rep.payload_lv", "res.ssl_ver"}) {
    if (response != name) continue;
    f.kind = FetchKind::kResponse;
    return f;
  }
  for (auto counter : kProxyCounters) {
    if (counter != name) continue;
    if (args.size() > 1) {
      error = "'" + name + "' takes at most one argument";
      return std::nullopt;
    }
    if ((name == "srv_is_up" || name == "srv_conn") &&
        (args.empty() || args[0].find('/') == std::string::npos)) {
      error = "'" + name + "' needs BACKEND/SERVER, e.g. " + name + "(app/s1)";
      return std::nullopt;
    }
    f.kind = FetchKind::kProxyCounter;
    f.counter_name = name;
    if (!args.empty()) f.proxy_name = args[0];
    return f;
  }
  // sc0_X, sc1_X, sc2_X, sc_X(N[,table]), src_X([table])
  std::string_view rest;
  bool sc = false;
  bool generic_sc = false;
  if (name.size() > 4 && name.compare(0, 2, "sc") == 0 && name[2] >= '0' && name[2] <= '2' &&
      name[3] == '_') {
    sc = true;
    f.counter = name[2] - '0';
    rest = std::string_view(name).substr(4);
  } else if (name.compare(0, 3, "sc_") == 0) {
    sc = generic_sc = true;
    rest = std::string_view(name).substr(3);
  } else if (name.compare(0, 4, "src_") == 0) {
    rest = std::string_view(name).substr(4);
  } else {
    error = "unknown fetch '" + name + "' (lb's layer-4 fetches: " + std::string(kKnown) + ")";
    return std::nullopt;
  }
  size_t first_table_arg = 0;
  if (generic_sc) {
    auto n = args.empty() ? std::nullopt : parseInteger(args[0]);
    if (!n || *n < 0 || *n > 2) {
      error = "'" + name + "' needs the tracking counter number first, e.g. " + name + "(0)";
      return std::nullopt;
    }
    f.counter = static_cast<int>(*n);
    first_table_arg = 1;
  }
  if (args.size() > first_table_arg + 1) {
    error = "'" + name + "' takes at most " + (generic_sc ? "two arguments" : "one argument");
    return std::nullopt;
  }
  if (args.size() == first_table_arg + 1) f.proxy_name = args[first_table_arg];
  if (sc && rest == "tracked") {
    f.kind = FetchKind::kScTracked;
    return f;
  }
  if (rest == "inc_gpc0" || rest == "inc_gpc1" || rest == "clr_gpc0" || rest == "clr_gpc1") {
    f.data = rest.back() == '0' ? StickData::kGpc0 : StickData::kGpc1;
    if (rest.compare(0, 3, "inc") == 0) {
      f.kind = sc ? FetchKind::kScIncGpc : FetchKind::kSrcIncGpc;
    } else if (sc) {
      f.kind = FetchKind::kScClrGpc;
    } else {
      error = "'" + name + "' is not supported (use sc0_clr_gpc0 with track-sc0 src)";
      return std::nullopt;
    }
    return f;
  }
  if (!sc && rest == "updt_conn_cnt") {
    f.kind = FetchKind::kSrcUpdtConnCnt;
    f.data = StickData::kConnCnt;
    return f;
  }
  bool kilo = false;
  auto data = dataOfSuffix(rest, kilo);
  if (!data) {
    error = "unknown stick-table fetch '" + name +
            "' (the part after the prefix names a stored data type: conn_cur, conn_cnt, "
            "conn_rate, sess_cnt, sess_rate, bytes_in_rate, get_gpc0, gpc0_rate, "
            "http_req_rate, ...)";
    return std::nullopt;
  }
  f.data = *data;
  f.length = kilo ? 1024 : 1;
  f.kind = sc ? FetchKind::kScData : FetchKind::kSrcData;
  return f;
}

MatchMethod Fetch::defaultMethod() const {
  switch (kind) {
    case FetchKind::kSrc:
    case FetchKind::kDst:
      return MatchMethod::kIp;
    case FetchKind::kAlwaysTrue:
    case FetchKind::kAlwaysFalse:
    case FetchKind::kWaitEnd:
    case FetchKind::kScTracked:
      return MatchMethod::kBool;
    case FetchKind::kReqPayload:
    case FetchKind::kReqPayloadLv:
      return MatchMethod::kBin;
    case FetchKind::kSslSni:
    case FetchKind::kSslAlpn:
      return MatchMethod::kStr;
    case FetchKind::kProxyCounter:
      return counter_name == "srv_is_up" ? MatchMethod::kBool : MatchMethod::kInt;
    default:
      return MatchMethod::kInt;
  }
}

bool Fetch::readsPayload() const {
  switch (kind) {
    case FetchKind::kReqLen:
    case FetchKind::kReqPayload:
    case FetchKind::kReqPayloadLv:
    case FetchKind::kSslSni:
    case FetchKind::kSslAlpn:
    case FetchKind::kSslHelloType:
    case FetchKind::kSslVer:
    case FetchKind::kWaitEnd:
      return true;
    default:
      return false;
  }
}

bool Fetch::layer4() const {
  return !readsPayload();
}

bool Fetch::bind(Binder& binder, std::string& error) {
  switch (kind) {
    case FetchKind::kProxyCounter:
      value = binder.counter(counter_name, proxy_name, error);
      return static_cast<bool>(value);
    case FetchKind::kSrcData:
    case FetchKind::kSrcIncGpc:
    case FetchKind::kSrcUpdtConnCnt:
      table = binder.table(proxy_name, error);
      return table != nullptr;
    case FetchKind::kScData:
      if (proxy_name.empty()) return true;  // the tracked entry's own table
      table = binder.table(proxy_name, error);
      return table != nullptr;
    default:
      return true;
  }
}

namespace {

Sample convert(Sample sample, bool lower, bool upper) {
  if ((!lower && !upper) || sample.type != Sample::Type::kStr) return sample;
  auto convertText = [&](std::string_view value) {
    std::string text(value);
    for (char& c : text) {
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
  };
  Sample out = Sample::ownedText(convertText(sample.str));
  out.may_change = sample.may_change;
  // The other values of a multi-valued fetch (req.ssl_alpn) are converted too.
  for (auto other : sample.more) out.more_owned.push_back(convertText(other));
  out.more.assign(out.more_owned.begin(), out.more_owned.end());
  return out;
}

Sample fromOptional(std::optional<int64_t> value, int64_t divisor = 1) {
  return value ? Sample::number(*value / divisor) : Sample::none();
}

}  // namespace

Sample Fetch::read(Facts& facts) const {
  auto may = !facts.final;
  Sample out;
  switch (kind) {
    case FetchKind::kSrc:
      out = Sample::address(facts.src.address());
      break;
    case FetchKind::kDst:
      out = Sample::address(facts.dst.address());
      break;
    case FetchKind::kSrcPort:
      out = Sample::number(facts.src.port());
      break;
    case FetchKind::kDstPort:
      out = Sample::number(facts.dst.port());
      break;
    case FetchKind::kAlwaysTrue:
      out = Sample::boolean(true);
      break;
    case FetchKind::kAlwaysFalse:
      out = Sample::boolean(false);
      break;
    case FetchKind::kWaitEnd:
      out = facts.final ? Sample::boolean(true) : Sample::none(true);
      break;
    case FetchKind::kReqLen:
      out = Sample::number(static_cast<int64_t>(facts.payload.size()));
      out.may_change = may;
      break;
    case FetchKind::kReqPayload: {
      auto size = static_cast<int64_t>(facts.payload.size());
      if (length == 0) {
        if (size < offset) return Sample::none(may);
        out = Sample::text(facts.payload.substr(static_cast<size_t>(offset)));
        out.may_change = may;
        break;
      }
      if (size < offset + length) return Sample::none(may);
      out = Sample::text(
          facts.payload.substr(static_cast<size_t>(offset), static_cast<size_t>(length)));
      break;
    }
    case FetchKind::kReqPayloadLv: {
      auto size = static_cast<int64_t>(facts.payload.size());
      if (size < offset + length) return Sample::none(may);
      int64_t n = 0;
      for (int64_t i = 0; i < length; ++i) {
        n = (n << 8) | static_cast<uint8_t>(facts.payload[static_cast<size_t>(offset + i)]);
      }
      if (n == 0) return Sample::none();  // as HAProxy: an empty block never matches
      int64_t start = offset2 >= 0 ? offset2 : offset + length;
      if (size < start + n) return Sample::none(may);
      out = Sample::text(facts.payload.substr(static_cast<size_t>(start), static_cast<size_t>(n)));
      break;
    }
    case FetchKind::kSslSni:
    case FetchKind::kSslAlpn: {
      const auto& hello = facts.hello();
      if (hello.status == common::ClientHello::Status::kNeedMore) return Sample::none(may);
      if (hello.status != common::ClientHello::Status::kOk) return Sample::none();
      if (kind == FetchKind::kSslSni) {
        if (hello.sni.empty()) return Sample::none();
        out = Sample::text(hello.sni);
      } else {
        if (hello.alpn.empty()) return Sample::none();
        out = Sample::text(hello.alpn[0]);
        out.more.assign(hello.alpn.begin() + 1, hello.alpn.end());
      }
      break;
    }
    case FetchKind::kSslHelloType: {
      const auto& hello = facts.hello();
      if (hello.handshake_type != 0) return Sample::number(hello.handshake_type);
      return Sample::none(hello.status == common::ClientHello::Status::kNeedMore && may);
    }
    case FetchKind::kSslVer: {
      const auto& hello = facts.hello();
      if (hello.record_version != 0) return Sample::number(hello.record_version);
      return Sample::none(hello.status == common::ClientHello::Status::kNeedMore && may);
    }
    case FetchKind::kResponse:
      return Sample::none();
    case FetchKind::kProxyCounter: {
      if (!value) return Sample::none();
      int64_t v = value();
      out = counter_name == "srv_is_up" ? Sample::boolean(v != 0) : Sample::number(v);
      break;
    }
    case FetchKind::kScTracked:
      return Sample::boolean(facts.tracked != nullptr &&
                             facts.tracked->slot(counter).entry != nullptr);
    case FetchKind::kScData:
    case FetchKind::kScIncGpc:
    case FetchKind::kScClrGpc: {
      if (facts.tracked == nullptr) return Sample::none();
      const auto& slot = facts.tracked->slot(counter);
      if (slot.entry == nullptr) return Sample::none();
      if (kind == FetchKind::kScIncGpc) {
        return fromOptional(slot.table->increment(slot.entry, data, facts.now));
      }
      if (kind == FetchKind::kScClrGpc) {
        return fromOptional(slot.table->clear(slot.entry, data, facts.now));
      }
      if (table && table != slot.table) {
        return fromOptional(table->read(slot.entry->key, data, facts.now), length);
      }
      return fromOptional(slot.table->read(slot.entry, data, facts.now), length);
    }
    case FetchKind::kSrcData:
    case FetchKind::kSrcIncGpc:
    case FetchKind::kSrcUpdtConnCnt: {
      if (!table) return Sample::none();
      auto key = table->keyOf(Sample::address(facts.src.address()));
      if (!key) return Sample::none();
      if (kind == FetchKind::kSrcData) {
        auto value = table->read(*key, data, facts.now);
        // A client the table has not seen yet has zero of everything it stores.
        if (!value && table->stores(data)) value = 0;
        return fromOptional(value, length);
      }
      return fromOptional(table->increment(*key, data, facts.now));
    }
  }
  if (!lower && !upper) return out;
  return convert(std::move(out), lower, upper);
}

}  // namespace lb::rules
