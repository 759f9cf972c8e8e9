#pragma once
// Shared helpers of the lb_rules unit tests: connection facts, a fake Binder (proxy counters
// and stick tables by name), ACLs and conditions written as in haproxy.cfg, and a frontend's
// rules compiled from its lines.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/acl_syntax.h"
#include "agent/rules/acl.h"
#include "agent/rules/fetch.h"
#include "agent/rules/rule_set.h"
#include "agent/rules/stick_table.h"
#include "tests/unit/config/config_test_util.h"

namespace lb::rules {

// A fixed instant to count from; tests add durations to it, never read a clock.
inline const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

inline boost::asio::ip::tcp::endpoint endpoint(const std::string& address, uint16_t port) {
  return {boost::asio::ip::make_address(address), port};
}

// A connection from 192.0.2.7:40000 to 10.0.0.1:443 with `payload` read so far.
inline Facts facts(std::string_view payload = {}, bool final = true) {
  Facts f;
  f.src = endpoint("192.0.2.7", 40000);
  f.dst = endpoint("10.0.0.1", 443);
  f.payload = payload;
  f.final = final;
  f.now = kT0;
  return f;
}

inline std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A stick table from its haproxy.cfg words after `stick-table`, as the parser reads them.
inline std::shared_ptr<StickTable> makeTable(const std::string& name, const std::string& line) {
  auto parsed = config::parseHaproxy("backend " + name + "\n    stick-table " + line + "\n");
  EXPECT_FALSE(parsed.diagnostics.hasErrors()) << line;
  return std::make_shared<StickTable>(name, parsed.config.backends(0).stick_table());
}

// Proxy counters and tables by name; an unknown name fails as the real binders do.
class FakeBinder : public Binder {
 public:
  std::map<std::string, int64_t> counters;  // "nbsrv(app)" -> 2; "fe_conn" -> own proxy
  std::map<std::string, std::shared_ptr<StickTable>> tables;  // "" -> the rule's own proxy

  std::function<int64_t()> counter(std::string_view name, std::string_view arg,
                                   std::string& error) override {
    std::string key = std::string(name) + (arg.empty() ? "" : "(" + std::string(arg) + ")");
    if (counters.count(key) == 0) {
      error = "no counter " + key;
      return nullptr;
    }
    return [this, key] { return counters.at(key); };
  }
  std::shared_ptr<StickTable> table(std::string_view name, std::string& error) override {
    auto it = tables.find(std::string(name));
    if (it == tables.end()) {
      error = "no table '" + std::string(name) + "'";
      return nullptr;
    }
    return it->second;
  }
};

// `FETCH [FLAGS] PATTERNS` compiled as an ACL line is (bound when a binder is given).
inline AclExpr acl(const std::string& text, Binder* binder = nullptr) {
  lb::v1::Acl spec;
  std::string error;
  auto w = words(text);
  EXPECT_TRUE(config::parseAclWords(w, 0, w.size(), spec, error)) << text << ": " << error;
  auto expr = compileAcl(spec, error);
  EXPECT_TRUE(expr.has_value()) << text << ": " << error;
  if (!expr) return {};
  if (binder != nullptr) {
    EXPECT_TRUE(expr->fetch.bind(*binder, error)) << text << ": " << error;
  }
  return std::move(*expr);
}

// A fetch parsed and bound.
inline Fetch fetch(const std::string& text, Binder* binder = nullptr) {
  std::string error;
  auto f = Fetch::parse(text, error);
  EXPECT_TRUE(f.has_value()) << text << ": " << error;
  if (!f) return {};
  if (binder != nullptr) {
    EXPECT_TRUE(f->bind(*binder, error)) << text << ": " << error;
  }
  return std::move(*f);
}

// The rules of `frontend fe` with these lines, compiled (and bound with `binder`).
inline std::unique_ptr<ProxyRules> frontendRules(const std::string& lines,
                                                 Binder* binder = nullptr) {
  auto parsed = config::parseHaproxy("frontend fe\n" + lines);
  for (const auto& d : config::errorsOf(parsed.diagnostics)) ADD_FAILURE() << d.toString();
  std::string path;
  std::string error;
  auto rules = compileRules(rulesOf(parsed.config.frontends(0)), binder, path, error);
  EXPECT_NE(rules, nullptr) << path << ": " << error;
  return rules;
}

inline const char* triName(Tri t) {
  return t == Tri::kTrue ? "true" : t == Tri::kFalse ? "false" : "miss";
}

}  // namespace lb::rules
