#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/rules/sample.h"

namespace re2 {
class RE2;
}

namespace lb::rules {

// How an ACL compares a sample with its patterns (`-m METHOD`; HAProxy's match methods).
enum class MatchMethod : uint8_t {
  kBool,   // the sample is true (non-zero); takes no pattern
  kFound,  // the fetch found a value; takes no pattern
  kInt,    // integers and ranges: 80, 1024:65535, ge 10
  kIp,     // addresses and networks: 10.0.0.0/8, ::1
  kStr,    // exact string
  kBeg,    // prefix
  kEnd,    // suffix
  kSub,    // substring
  kReg,    // regular expression (RE2 syntax: PCRE without backreferences and lookaround)
  kLen,    // the string's length, compared like kInt
  kDom,    // a dot-delimited word: "example.com" matches "www.example.com"
  kBin,    // exact bytes, patterns written in hexadecimal (`-m bin 16`)
};

// The compiled patterns of one ACL. Built once per snapshot, read by any thread.
class Matcher {
 public:
  Matcher();
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // Compiles `patterns` for `method`; on a bad pattern, returns nothing and says why in `error`.
  static std::optional<Matcher> compile(MatchMethod method, bool ignore_case,
                                        const std::vector<std::string>& patterns,
                                        std::string& error);
  // Whether the sample matches any pattern. A kNone sample never matches (except kFound's
  // "not found", which is false as well).
  bool match(const Sample& sample) const;
  MatchMethod method() const { return method_; }

 private:
  struct IntRange {
    int64_t low;
    int64_t high;
  };
  struct Network {
    boost::asio::ip::address_v6 address;  // IPv4 as v4-mapped
    unsigned prefix = 128;
  };
  bool matchString(std::string_view value) const;
  bool matchInt(int64_t value) const;

  MatchMethod method_ = MatchMethod::kBool;
  bool ignore_case_ = false;
  std::vector<std::string> strings_;
  std::vector<IntRange> ranges_;
  std::vector<Network> networks_;
  // IPv4 networks again as masks, for IPv4 samples (the common case: one AND and a compare).
  struct Network4 {
    uint32_t address;
    uint32_t mask;
  };
  std::vector<Network4> networks4_;
  bool v6_networks_ = false;  // some pattern is IPv6 (an IPv4 sample is then also tried v4-mapped)
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
};

// A whole decimal integer ("-12"); nothing for anything else.
std::optional<int64_t> parseInteger(std::string_view text);
// "str" -> kStr ...; nothing for an unknown name.
std::optional<MatchMethod> matchMethodByName(std::string_view name);
// Parses "10", "10:20", "10:", ":20" and "ge 10" style integer patterns; also "3.1" version
// patterns (major * 65536 + minor; "3" is 3.0; ranges "3.0:3.3" or "3.0-3.3") when `versions`.
std::optional<std::pair<int64_t, int64_t>> parseIntPattern(std::string_view text, bool versions,
                                                           std::string& error);

}  // namespace lb::rules
