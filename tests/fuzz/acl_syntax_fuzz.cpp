// libFuzzer target: the ACL and condition grammar reads words of configuration files (and of
// configurations pushed through the API), then lb compiles and runs what it read against the
// first bytes of connections. Input: a first line of words (an ACL body, or a condition), then
// the client's bytes. Nothing may crash; a condition must decide once no more bytes will come
// (never "cannot tell yet" when final); an ACL body that parses must compile.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/acl_syntax.h"
#include "agent/rules/acl.h"
#include "agent/rules/fetch.h"
#include "agent/rules/stick_table.h"

namespace {

using lb::rules::Facts;
using lb::rules::Tri;

std::vector<std::string> splitWords(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

// Proxy counters read a constant; every table name finds one small shared table.
class FuzzBinder : public lb::rules::Binder {
 public:
  std::function<int64_t()> counter(std::string_view, std::string_view, std::string&) override {
    return [] { return int64_t{1}; };
  }
  std::shared_ptr<lb::rules::StickTable> table(std::string_view, std::string&) override {
    static const auto kTable = [] {
      lb::v1::StickTable spec;
      spec.set_type(lb::v1::StickTable::IP);
      spec.set_size(8);
      spec.mutable_expire()->set_seconds(10);
      for (const char* item : {"conn_cur", "conn_cnt", "conn_rate(10s)", "gpc0", "gpc0_rate(10s)",
                               "gpc1", "gpt0", "bytes_in_cnt"}) {
        spec.add_store(item);
      }
      return std::make_shared<lb::rules::StickTable>("fuzz", spec);
    }();
    return kTable;
  }
};

Facts factsFor(std::string_view payload, bool final, lb::rules::Tracked* tracked) {
  Facts f;
  f.src = {boost::asio::ip::make_address("192.0.2.7"), 40000};
  f.dst = {boost::asio::ip::make_address("10.0.0.1"), 443};
  f.payload = payload;
  f.final = final;
  f.now = lb::rules::TimePoint{} + std::chrono::hours(1);
  f.tracked = tracked;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  std::string_view line = input.substr(0, newline);
  std::string_view payload = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  std::vector<std::string> words = splitWords(line);
  if (words.empty() || words.size() > 64) return 0;
  for (const auto& w : words) {
    if (w == "-f") return 0;  // pattern files are read from disk: not the grammar's bytes
  }
  FuzzBinder binder;
  std::string error;
  // The connection tracks its source on sc0, so that sc0_* fetches have an entry to read.
  lb::rules::Tracked tracked;
  tracked.track(0, binder.table("", error), std::string("\xc0\x00\x02\x07", 4),
                lb::rules::TimePoint{} + std::chrono::hours(1));

  // As the body of `acl NAME ...`.
  lb::v1::Acl acl;
  acl.set_name("a");
  bool acl_ok = lb::config::parseAclWords(words, 0, words.size(), acl, error);
  if (!acl_ok && error.empty()) std::abort();
  google::protobuf::RepeatedPtrField<lb::v1::Acl> acls;
  if (acl_ok) {
    auto expr = lb::rules::compileAcl(acl, error);
    if (!expr) std::abort();  // parseAclWords checked it compiles
    *acls.Add() = acl;
    if (expr->fetch.bind(binder, error)) {
      for (bool final : {false, true}) {
        Facts f = factsFor(payload, final, &tracked);
        Tri t = expr->evaluate(f);
        if (final && t == Tri::kMiss) std::abort();
      }
    }
  }

  // As a condition (after `if`, unless it starts with `if`/`unless`).
  std::vector<std::string> cond_words = words;
  if (cond_words[0] != "if" && cond_words[0] != "unless")
    cond_words.insert(cond_words.begin(), "if");
  size_t at = lb::config::findCondition(cond_words, 0);
  if (at != 0) std::abort();
  auto cond = lb::config::parseCondition(cond_words, 0, error);
  if (!cond) {
    if (error.empty()) std::abort();
    return 0;
  }
  (void)lb::config::renderCondition(*cond);
  lb::rules::AclSet set;
  if (!set.compile(acls, error)) std::abort();
  if (!set.bind(binder, error)) return 0;
  auto compiled = set.condition(*cond, &binder, error);
  if (!compiled) {
    if (error.empty()) std::abort();
    return 0;
  }
  (void)compiled->readsPayload();
  for (bool final : {false, true}) {
    Facts f = factsFor(payload, final, &tracked);
    Tri t = compiled->evaluate(f);
    if (final && t == Tri::kMiss) std::abort();
  }
  return 0;
}
