// Every sample fetch on the facts of one connection: addresses and ports, the client's first
// bytes (req.len, req.payload, req.payload_lv), a real ClientHello (req.ssl_*), the constant
// and waiting fetches, proxy counters through a binder, and the stick-table fetches (sc0_*,
// sc_*(N), src_*), with what `may_change` says while more bytes may come.
#include "agent/rules/fetch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/common/client_hello_samples.h"
#include "tests/unit/rules/rules_test_util.h"

namespace lb::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Type = Sample::Type;

// What a fetch read, as text ("" for nothing), and whether it may still change.
struct Read {
  Type type;
  std::string value;
  bool may_change;
};

Read readOf(const std::string& text, Facts& f, Binder* binder = nullptr) {
  Sample s = fetch(text, binder).read(f);
  return {s.type, s.toString(), s.may_change};
}

struct FetchCase {
  std::string fetch;
  std::string payload;
  bool final;
  Type type;
  std::string value;
  bool may_change;
};

void PrintTo(const FetchCase& c, std::ostream* os) {
  *os << c.fetch << " on " << ::testing::PrintToString(c.payload)
      << (c.final ? " (final)" : " (more may come)");
}

class FetchTest : public ::testing::TestWithParam<FetchCase> {};

TEST_P(FetchTest, Reads) {
  const auto& c = GetParam();
  Facts f = facts(c.payload, c.final);
  Read r = readOf(c.fetch, f);
  EXPECT_EQ(static_cast<int>(r.type), static_cast<int>(c.type));
  EXPECT_EQ(r.value, c.value);
  EXPECT_EQ(r.may_change, c.may_change);
}

const std::string kHello = testing::fromHex(testing::kHelloSniAlpnHex);
const std::string kHelloHalf = kHello.substr(0, 100);

INSTANTIATE_TEST_SUITE_P(
    Layer4, FetchTest,
    ::testing::Values(FetchCase{"src", "", true, Type::kIp, "192.0.2.7", false},
                      FetchCase{"dst", "", true, Type::kIp, "10.0.0.1", false},
                      FetchCase{"src_port", "", true, Type::kInt, "40000", false},
                      FetchCase{"dst_port", "", true, Type::kInt, "443", false},
                      FetchCase{"always_true", "", true, Type::kBool, "1", false},
                      FetchCase{"always_false", "", true, Type::kBool, "0", false},
                      FetchCase{"wait_end", "", true, Type::kBool, "1", false},
                      FetchCase{"wait_end", "abc", false, Type::kNone, "", true}));

INSTANTIATE_TEST_SUITE_P(
    Payload, FetchTest,
    ::testing::Values(
        FetchCase{"req.len", "", true, Type::kInt, "0", false},
        FetchCase{"req.len", "hello", true, Type::kInt, "5", false},
        FetchCase{"req.len", "hello", false, Type::kInt, "5", true},
        FetchCase{"req_len", "hi", true, Type::kInt, "2", false},
        FetchCase{"req.payload(0,3)", "GET /", true, Type::kStr, "GET", false},
        FetchCase{"req.payload(4,1)", "GET /", true, Type::kStr, "/", false},
        // Complete: it cannot change however many more bytes come.
        FetchCase{"req.payload(0,3)", "GET /", false, Type::kStr, "GET", false},
        FetchCase{"req.payload(0,3)", "GE", false, Type::kNone, "", true},
        FetchCase{"req.payload(0,3)", "GE", true, Type::kNone, "", false},
        FetchCase{"payload(1,2)", "abcd", true, Type::kStr, "bc", false},
        // Length 0: everything from the offset on, which grows with the client's bytes.
        FetchCase{"req.payload(2,0)", "abcd", true, Type::kStr, "cd", false},
        FetchCase{"req.payload(2,0)", "abcd", false, Type::kStr, "cd", true},
        FetchCase{"req.payload(4,0)", "abcd", true, Type::kStr, "", false},
        FetchCase{"req.payload(5,0)", "abcd", false, Type::kNone, "", true},
        FetchCase{"req.payload(5,0)", "abcd", true, Type::kNone, "", false},
        // Length-prefixed: one length byte at 0, the value right after it ...
        FetchCase{"req.payload_lv(0,1)",
                  "\x03"
                  "abcdef",
                  true, Type::kStr, "abc", false},
        FetchCase{"req.payload_lv(0,1)",
                  "\x03"
                  "ab",
                  false, Type::kNone, "", true},
        FetchCase{"req.payload_lv(0,1)",
                  "\x03"
                  "ab",
                  true, Type::kNone, "", false},
        FetchCase{"req.payload_lv(0,1)", "", false, Type::kNone, "", true},
        // A zero length never matches, as in HAProxy (not an empty value).
        FetchCase{"req.payload_lv(0,1)", std::string("\x00x", 2), true, Type::kNone, "", false},
        FetchCase{"req.payload_lv(0,1)", std::string("\x00x", 2), false, Type::kNone, "", false},
        // ... two big-endian length bytes ...
        FetchCase{"req.payload_lv(1,2)", std::string("_\x00\x02xyz", 6), true, Type::kStr, "xy",
                  false},
        // ... or the value at its own offset.
        FetchCase{"req.payload_lv(0,1,4)",
                  "\x02"
                  "abcdef",
                  true, Type::kStr, "de", false},
        FetchCase{"payload_lv(0,1)",
                  "\x01"
                  "z",
                  true, Type::kStr, "z", false},
        FetchCase{"req.payload(0,3),lower", "GET", true, Type::kStr, "get", false},
        FetchCase{"req.payload(0,3),upper", "get", true, Type::kStr, "GET", false}));

INSTANTIATE_TEST_SUITE_P(
    ClientHello, FetchTest,
    ::testing::Values(
        FetchCase{"req.ssl_sni", kHello, true, Type::kStr, "a.example.com", false},
        FetchCase{"req.ssl_sni", kHello, false, Type::kStr, "a.example.com", false},
        FetchCase{"req_ssl_sni", kHello, true, Type::kStr, "a.example.com", false},
        FetchCase{"req.ssl_sni,upper", kHello, true, Type::kStr, "A.EXAMPLE.COM", false},
        FetchCase{"req.ssl_sni", kHelloHalf, false, Type::kNone, "", true},
        FetchCase{"req.ssl_sni", kHelloHalf, true, Type::kNone, "", false},
        FetchCase{"req.ssl_sni", "", false, Type::kNone, "", true},
        // Not TLS: no SNI will ever come, whatever follows.
        FetchCase{"req.ssl_sni", "GET / HTTP/1.1\r\n", false, Type::kNone, "", false},
        FetchCase{"req.ssl_sni", testing::fromHex(testing::kHelloNoSniHex), false, Type::kNone, "",
                  false},
        FetchCase{"req.ssl_alpn", kHello, true, Type::kStr, "h2", false},
        FetchCase{"req.ssl_alpn", kHelloHalf, false, Type::kNone, "", true},
        FetchCase{"req.ssl_alpn", testing::fromHex(testing::kHelloTls12Hex), true, Type::kNone, "",
                  false},
        FetchCase{"req.ssl_hello_type", kHello, true, Type::kInt, "1", false},
        FetchCase{"req_ssl_hello_type", kHelloHalf, false, Type::kInt, "1", false},
        FetchCase{"req.ssl_hello_type", kHello.substr(0, 5), false, Type::kNone, "", true},
        FetchCase{"req.ssl_hello_type", kHello.substr(0, 5), true, Type::kNone, "", false},
        FetchCase{"req.ssl_hello_type", "SSH-2.0-x\r\n", false, Type::kNone, "", false},
        FetchCase{"req.ssl_ver", kHello, true, Type::kInt, std::to_string(0x30001), false},
        FetchCase{"req_ssl_ver", kHello.substr(0, 5), false, Type::kInt, std::to_string(0x30001),
                  false},
        FetchCase{"req.ssl_ver", kHello.substr(0, 3), false, Type::kNone, "", true},
        FetchCase{"req.ssl_ver", "GET /", false, Type::kNone, "", false}));

TEST(FetchTest, AlpnHasEveryProtocolTheClientOffers) {
  Facts f = facts(kHello);
  Sample s = fetch("req.ssl_alpn").read(f);
  std::vector<std::string> all{std::string(s.str)};
  for (auto other : s.more) all.emplace_back(other);
  EXPECT_THAT(all, ElementsAre("h2", "http/1.1"));
}

TEST(FetchTest, AConverterAppliesToEveryAlpnProtocolAndSurvivesCopies) {
  Facts f = facts(kHello);
  Sample s = fetch("req.ssl_alpn,upper").read(f);
  Sample copy;
  copy = s;
  s = Sample::none();  // the copy owns its converted values
  std::vector<std::string> all{std::string(copy.str)};
  for (auto other : copy.more) all.emplace_back(other);
  EXPECT_THAT(all, ElementsAre("H2", "HTTP/1.1"));
}

TEST(FetchTest, AV6ClientAndItsPorts) {
  Facts f = facts();
  f.src = endpoint("2001:db8::7", 1234);
  f.dst = endpoint("::ffff:10.0.0.1", 8443);
  EXPECT_EQ(readOf("src", f).value, "2001:db8::7");
  EXPECT_EQ(readOf("dst", f).value, "::ffff:10.0.0.1");
  EXPECT_EQ(readOf("src_port", f).value, "1234");
  EXPECT_EQ(readOf("dst_port", f).value, "8443");
}

TEST(FetchTest, ProxyCountersReadWhatTheBinderGives) {
  FakeBinder binder;
  binder.counters = {{"fe_conn", 12},          {"be_conn(app)", 3},      {"nbsrv(app)", 2},
                     {"connslots(app)", 98},   {"queue(app)", 4},        {"avg_queue(app)", 1},
                     {"srv_is_up(app/s1)", 1}, {"srv_is_up(app/s2)", 0}, {"srv_conn(app/s1)", 7}};
  Facts f = facts();
  EXPECT_EQ(readOf("fe_conn", f, &binder).value, "12");
  EXPECT_EQ(readOf("be_conn(app)", f, &binder).value, "3");
  EXPECT_EQ(readOf("nbsrv(app)", f, &binder).value, "2");
  EXPECT_EQ(readOf("connslots(app)", f, &binder).value, "98");
  EXPECT_EQ(readOf("queue(app)", f, &binder).value, "4");
  EXPECT_EQ(readOf("avg_queue(app)", f, &binder).value, "1");
  EXPECT_EQ(readOf("srv_conn(app/s1)", f, &binder).value, "7");
  EXPECT_EQ(readOf("srv_is_up(app/s1)", f, &binder).type, Type::kBool);
  EXPECT_EQ(readOf("srv_is_up(app/s1)", f, &binder).value, "1");
  EXPECT_EQ(readOf("srv_is_up(app/s2)", f, &binder).value, "0");
  // Read when evaluated, not when bound.
  Fetch nbsrv = fetch("nbsrv(app)", &binder);
  binder.counters["nbsrv(app)"] = 0;
  EXPECT_EQ(nbsrv.read(f).integer, 0);
  // An unknown proxy fails to bind, with the binder's reason.
  std::string error;
  auto unknown = Fetch::parse("nbsrv(nope)", error);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->bind(binder, error));
  EXPECT_THAT(error, HasSubstr("nbsrv(nope)"));
  // Unbound (the validator's compile): nothing.
  EXPECT_EQ(readOf("nbsrv(app)", f).type, Type::kNone);
}

TEST(FetchTest, DefaultMatchMethods) {
  const std::vector<std::pair<std::string, MatchMethod>> cases{
      {"src", MatchMethod::kIp},
      {"dst", MatchMethod::kIp},
      {"src_port", MatchMethod::kInt},
      {"dst_port", MatchMethod::kInt},
      {"req.len", MatchMethod::kInt},
      {"req.payload(0,1)", MatchMethod::kBin},
      {"req.payload_lv(0,1)", MatchMethod::kBin},
      {"req.ssl_sni", MatchMethod::kStr},
      {"req.ssl_alpn", MatchMethod::kStr},
      {"req.ssl_hello_type", MatchMethod::kInt},
      {"req.ssl_ver", MatchMethod::kInt},
      {"always_true", MatchMethod::kBool},
      {"wait_end", MatchMethod::kBool},
      {"nbsrv(app)", MatchMethod::kInt},
      {"srv_is_up(app/s1)", MatchMethod::kBool},
      {"sc0_tracked", MatchMethod::kBool},
      {"sc0_conn_rate", MatchMethod::kInt},
      {"src_conn_cur", MatchMethod::kInt},
  };
  for (const auto& [text, method] : cases) {
    EXPECT_EQ(fetch(text).defaultMethod(), method) << text;
  }
}

TEST(FetchTest, WhichFetchesReadTheClientsBytes) {
  for (const char* text : {"req.len", "req.payload(0,1)", "req.payload_lv(0,1)", "req.ssl_sni",
                           "req.ssl_alpn", "req.ssl_hello_type", "req.ssl_ver", "wait_end"}) {
    EXPECT_TRUE(fetch(text).readsPayload()) << text;
    EXPECT_FALSE(fetch(text).layer4()) << text;
  }
  for (const char* text : {"src", "dst", "src_port", "dst_port", "always_true", "fe_conn",
                           "sc0_conn_rate", "src_conn_rate", "sc_tracked(1)"}) {
    EXPECT_FALSE(fetch(text).readsPayload()) << text;
    EXPECT_TRUE(fetch(text).layer4()) << text;
  }
}

struct BadFetch {
  std::string text;
  std::string says;
};

TEST(FetchTest, BadFetchesAreRefusedWithTheReason) {
  const std::vector<BadFetch> cases{
      {"hdr(host)", "unknown fetch 'hdr' (lb's layer-4 fetches: src, dst"},
      {"", "a fetch name is missing"},
      {"(1)", "a fetch name is missing"},
      {"req.payload(0,1", "lacks its closing ')'"},
      {"req.payload(0)", "'req.payload' needs (OFFSET,LENGTH)"},
      {"req.payload(a,1)", "needs (OFFSET,LENGTH)"},
      {"req.payload(-1,1)", "needs (OFFSET,LENGTH)"},
      {"req.payload(0,1,2)", "needs (OFFSET,LENGTH)"},
      {"req.payload_lv(0,5)", "with LENGTH 1 to 4 bytes"},
      {"req.payload_lv(0,0)", "with LENGTH 1 to 4 bytes"},
      {"src(1)", "'src' takes no argument"},
      {"req.ssl_sni,base64", "converter 'base64' in 'req.ssl_sni,base64' is not supported"},
      {"req.payload(0,1)x", "unexpected 'x' after 'req.payload(0,1)'"},
      {"nbsrv(a,b)", "'nbsrv' takes at most one argument"},
      {"srv_is_up(s1)", "'srv_is_up' needs BACKEND/SERVER"},
      {"srv_conn", "'srv_conn' needs BACKEND/SERVER"},
      {"sc_conn_rate", "needs the tracking counter number first"},
      {"sc_conn_rate(3)", "needs the tracking counter number first"},
      {"sc_conn_rate(0,t,x)", "'sc_conn_rate' takes at most two arguments"},
      {"sc0_conn_rate(t,x)", "'sc0_conn_rate' takes at most one argument"},
      {"sc3_conn_rate", "unknown fetch 'sc3_conn_rate'"},
      {"sc0_bogus", "unknown stick-table fetch 'sc0_bogus'"},
      {"src_server_id", "unknown stick-table fetch 'src_server_id'"},
      {"src_clr_gpc0", "'src_clr_gpc0' is not supported"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string error;
    EXPECT_FALSE(Fetch::parse(c.text, error).has_value());
    EXPECT_THAT(error, HasSubstr(c.says));
  }
}

TEST(FetchTest, SplitFetchKeepsArgumentsAndConverters) {
  std::string error;
  auto s = splitFetch("sc_conn_rate(0,st),lower,upper", error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->name, "sc_conn_rate");
  EXPECT_THAT(s->args, ElementsAre("0", "st"));
  EXPECT_THAT(s->converters, ElementsAre("lower", "upper"));
  EXPECT_TRUE(s->has_parens);
  auto trailing = splitFetch("f(a,)", error);
  ASSERT_TRUE(trailing);
  EXPECT_THAT(trailing->args, ElementsAre("a", ""));
}

// ---- stick-table fetches ----

class StickFetchTest : public ::testing::Test {
 protected:
  std::shared_ptr<StickTable> own_ =
      makeTable("fe",
                "type ip size 1k expire 30s store conn_cur,conn_cnt,conn_rate(10s),gpc0,gpc1,"
                "gpc0_rate(10s),bytes_in_cnt,sess_cnt");
  std::shared_ptr<StickTable> other_ =
      makeTable("per_ip", "type ip size 1k expire 30s store conn_cnt,gpc0");
  FakeBinder binder_;
  Tracked tracked_;

  void SetUp() override { binder_.tables = {{"", own_}, {"per_ip", other_}}; }
  // A connection from 192.0.2.7, tracked on sc0 in the frontend's own table.
  Facts trackedFacts(TimePoint now = kT0) {
    Facts f = facts();
    f.now = now;
    f.tracked = &tracked_;
    return f;
  }
  int64_t value(const std::string& text, Facts& f) {
    Sample s = fetch(text, &binder_).read(f);
    EXPECT_NE(static_cast<int>(s.type), static_cast<int>(Type::kNone)) << text;
    return s.integer;
  }
  std::string key() { return *own_->keyOf(Sample::address(facts().src.address())); }
};

TEST_F(StickFetchTest, ScFetchesReadTheTrackedEntry) {
  Facts f = trackedFacts();
  EXPECT_EQ(readOf("sc0_tracked", f, &binder_).value, "0");
  EXPECT_EQ(readOf("sc0_conn_cur", f, &binder_).type, Type::kNone);  // nothing tracked yet
  tracked_.track(0, own_, key(), kT0);
  EXPECT_EQ(readOf("sc0_tracked", f, &binder_).value, "1");
  EXPECT_EQ(readOf("sc_tracked(0)", f, &binder_).value, "1");
  EXPECT_EQ(readOf("sc1_tracked", f, &binder_).value, "0");
  EXPECT_EQ(value("sc0_conn_cur", f), 1);
  EXPECT_EQ(value("sc0_conn_cnt", f), 1);
  EXPECT_EQ(value("sc0_sess_cnt", f), 1);
  EXPECT_EQ(value("sc0_conn_rate", f), 1);
  EXPECT_EQ(value("sc_conn_rate(0)", f), 1);
  EXPECT_EQ(value("sc0_get_gpc0", f), 0);
  EXPECT_EQ(value("sc0_inc_gpc0", f), 1);  // increments, returns the new value
  EXPECT_EQ(value("sc0_inc_gpc0", f), 2);
  EXPECT_EQ(value("sc0_get_gpc0", f), 2);
  EXPECT_EQ(value("sc0_gpc0_rate", f), 2);
  EXPECT_EQ(value("sc0_inc_gpc1", f), 1);
  EXPECT_EQ(value("sc0_clr_gpc0", f), 2);  // returns what it cleared
  EXPECT_EQ(value("sc0_get_gpc0", f), 0);
  EXPECT_EQ(value("sc0_kbytes_in", f), 0);
  // What the table does not store, a sc fetch does not find.
  EXPECT_EQ(readOf("sc0_bytes_out_cnt", f, &binder_).type, Type::kNone);
  EXPECT_EQ(readOf("sc0_get_gpt0", f, &binder_).type, Type::kNone);
  // Untracked counters find nothing; without any tracking, neither do tracked ones.
  EXPECT_EQ(readOf("sc1_conn_cnt", f, &binder_).type, Type::kNone);
  Facts untracked = facts();
  EXPECT_EQ(readOf("sc0_conn_cnt", untracked, &binder_).type, Type::kNone);
  EXPECT_EQ(readOf("sc0_tracked", untracked, &binder_).value, "0");
}

TEST_F(StickFetchTest, ScFetchOfANamedTableReadsTheSameKeyThere) {
  other_->increment(key(), StickData::kGpc0, kT0);
  other_->increment(key(), StickData::kGpc0, kT0);
  tracked_.track(0, own_, key(), kT0);
  Facts f = trackedFacts();
  EXPECT_EQ(value("sc_get_gpc0(0,per_ip)", f), 2);
  EXPECT_EQ(value("sc0_get_gpc0(per_ip)", f), 2);
  EXPECT_EQ(value("sc0_get_gpc0", f), 0);
}

TEST_F(StickFetchTest, ConnRateSlidesOverItsPeriod) {
  Facts f = trackedFacts();
  tracked_.track(0, own_, key(), kT0);
  for (int i = 0; i < 4; ++i) own_->track(key(), kT0 + std::chrono::seconds(1));
  f.now = kT0 + std::chrono::seconds(2);
  EXPECT_EQ(value("sc0_conn_rate", f), 5);
  EXPECT_EQ(value("sc0_conn_cnt", f), 5);
  // Half way through the next period, half of the last one still counts.
  f.now = kT0 + std::chrono::seconds(15);
  EXPECT_EQ(value("sc0_conn_rate", f), 2);
  f.now = kT0 + std::chrono::seconds(25);
  EXPECT_EQ(value("sc0_conn_rate", f), 0);
  EXPECT_EQ(value("sc0_conn_cnt", f), 5);
}

TEST_F(StickFetchTest, SrcFetchesReadTheClientsEntryWithoutTracking) {
  Facts f = facts();
  // A client the table has not seen has zero of what it stores, and nothing of the rest.
  EXPECT_EQ(value("src_conn_cnt", f), 0);
  EXPECT_EQ(value("src_conn_rate", f), 0);
  EXPECT_EQ(readOf("src_http_req_cnt", f, &binder_).type, Type::kNone);
  EXPECT_EQ(value("src_updt_conn_cnt", f), 1);
  EXPECT_EQ(value("src_updt_conn_cnt", f), 2);
  EXPECT_EQ(value("src_conn_cnt", f), 2);
  EXPECT_EQ(value("src_conn_rate", f), 2);
  EXPECT_EQ(value("src_inc_gpc0", f), 1);
  EXPECT_EQ(value("src_get_gpc0", f), 1);
  // Another table, by name.
  EXPECT_EQ(value("src_inc_gpc0(per_ip)", f), 1);
  EXPECT_EQ(value("src_inc_gpc0(per_ip)", f), 2);
  EXPECT_EQ(value("src_get_gpc0(per_ip)", f), 2);
  EXPECT_EQ(value("src_get_gpc0", f), 1);
  // Another client: its own entry.
  f.src = endpoint("192.0.2.8", 1);
  EXPECT_EQ(value("src_get_gpc0", f), 0);
  // A table that cannot key this client (an IPv6 client in an ip table): nothing.
  f.src = endpoint("2001:db8::1", 1);
  EXPECT_EQ(readOf("src_conn_cnt", f, &binder_).type, Type::kNone);
}

TEST_F(StickFetchTest, SrcFetchesNeedATable) {
  FakeBinder none;
  std::string error;
  for (const char* text : {"src_conn_rate", "src_inc_gpc0", "src_updt_conn_cnt",
                           "src_conn_cnt(nope)", "sc0_conn_rate(nope)"}) {
    auto f = Fetch::parse(text, error);
    ASSERT_TRUE(f) << error;
    EXPECT_FALSE(f->bind(none, error)) << text;
  }
  // sc0_* without a table name reads the tracked entry's table: nothing to bind.
  auto sc = Fetch::parse("sc0_conn_rate", error);
  EXPECT_TRUE(sc->bind(none, error));
}

}  // namespace
}  // namespace lb::rules
