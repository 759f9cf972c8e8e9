#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/client_hello.h"
#include "agent/rules/pattern.h"
#include "agent/rules/sample.h"
#include "agent/rules/stick_table.h"

namespace lb::rules {

// The stick-table entries a connection tracks (track-sc0/1/2): what the sc*_ fetches read.
// Given back (untracked, bytes added) when the connection ends.
class Tracked {
 public:
  static constexpr int kCounters = 3;
  struct Slot {
    std::shared_ptr<StickTable> table;
    StickEntry* entry = nullptr;
  };
  ~Tracked();
  const Slot& slot(int counter) const { return slots_[static_cast<size_t>(counter)]; }
  // Starts tracking `key` in `table` on counter N, unless N is already tracked (as in HAProxy,
  // the first track-scN wins).
  void track(int counter, std::shared_ptr<StickTable> table, const std::string& key, TimePoint now);
  // The bytes the connection moved, added when it ends.
  void setBytes(uint64_t in, uint64_t out) {
    bytes_in_ = in;
    bytes_out_ = out;
  }

 private:
  std::array<Slot, kCounters> slots_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

// What fetches read about one connection. `payload` is what the client sent so far (peeked,
// not consumed); `final` says no more will be waited for (inspect-delay over, buffer full,
// client closed, or no inspect-delay).
struct Facts {
  boost::asio::ip::tcp::endpoint src;
  boost::asio::ip::tcp::endpoint dst;
  std::string_view payload;
  bool final = true;
  TimePoint now{};
  Tracked* tracked = nullptr;
  // The ClientHello, parsed once per payload.
  const common::ClientHello& hello();

 private:
  std::optional<common::ClientHello> hello_;
  size_t hello_size_ = 0;
};

enum class FetchKind : uint8_t {
  kSrc,
  kDst,
  kSrcPort,
  kDstPort,
  kAlwaysTrue,
  kAlwaysFalse,
  kWaitEnd,
  kReqLen,
  kReqPayload,
  kReqPayloadLv,
  kSslSni,
  kSslAlpn,
  kSslHelloType,
  kSslVer,
  kProxyCounter,    // fe_conn, be_conn, nbsrv, connslots, queue, srv_is_up, ... (bound)
  kScData,          // sc0_conn_rate, sc_conn_rate(0[,table])
  kScTracked,       // sc0_tracked
  kScIncGpc,        // sc0_inc_gpc0: increments, returns the new value
  kScClrGpc,        // sc0_clr_gpc0
  kSrcData,         // src_conn_rate([table])
  kSrcIncGpc,       // src_inc_gpc0([table])
  kSrcUpdtConnCnt,  // src_updt_conn_cnt([table])
  kResponse,        // rep_ssl_hello_type, res.len, ...: for tcp-response rules, never found
};

// Reads counters of the running proxies and finds stick tables, for the snapshot being built.
class Binder {
 public:
  virtual ~Binder() = default;
  // A proxy counter fetch (`name` as "nbsrv", `arg` its argument; empty: the proxy the rule
  // belongs to); null with `error` set when it names an unknown proxy or server.
  virtual std::function<int64_t()> counter(std::string_view name, std::string_view arg,
                                           std::string& error) = 0;
  // The stick table of proxy `name` (empty: the rule's own proxy); null with `error` set.
  virtual std::shared_ptr<StickTable> table(std::string_view name, std::string& error) = 0;
};

// A sample fetch with its arguments and converters (`req.ssl_sni,lower`).
struct Fetch {
  FetchKind kind = FetchKind::kAlwaysTrue;
  std::string text;  // as written
  int64_t offset = 0;
  int64_t length = 0;
  int64_t offset2 = -1;  // req.payload_lv's third argument
  int counter = 0;       // sc number
  StickData data = StickData::kConnCnt;
  std::string proxy_name;  // nbsrv(NAME), src_conn_rate(NAME), sc_conn_rate(0,NAME)
  std::string counter_name;
  std::shared_ptr<StickTable> table;  // bound (src_*, sc_*(N,table))
  std::function<int64_t()> value;     // bound (kProxyCounter)
  bool lower = false;
  bool upper = false;

  // Parses `text`; on error returns nothing and says why.
  static std::optional<Fetch> parse(std::string_view text, std::string& error);
  // The match method an ACL on this fetch uses without `-m`.
  MatchMethod defaultMethod() const;
  // Whether it reads the client's bytes (then content rules may wait for them).
  bool readsPayload() const;
  // Whether it can be used at `tcp-request connection` time (nothing read yet).
  bool layer4() const;
  // Binds proxy counters and tables; false with `error` set.
  bool bind(Binder& binder, std::string& error);
  Sample read(Facts& facts) const;
};

// Splits "name(arg1,arg2),conv1,conv2" into the name, its arguments and the converters.
struct FetchSyntax {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::string> converters;
  bool has_parens = false;
};
std::optional<FetchSyntax> splitFetch(std::string_view text, std::string& error);

}  // namespace lb::rules
