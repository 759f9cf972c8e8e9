#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lb::rules {

// One value a fetch produced (HAProxy's "sample"): a boolean, an integer, an address or a
// string, or nothing. `may_change` says that a missing or non-matching value may turn out
// otherwise once more of the client's bytes arrive (the rule waits, up to inspect-delay).
struct Sample {
  enum class Type : uint8_t { kNone, kBool, kInt, kIp, kStr };
  Type type = Type::kNone;
  bool may_change = false;
  int64_t integer = 0;  // kBool (0/1) and kInt
  boost::asio::ip::address ip;
  std::string_view str;  // kStr: into the client's bytes, or into `owned`
  std::string owned;
  // A fetch with several values (req.ssl_alpn): the others, matched like `str`; into the
  // client's bytes, or into `more_owned` (after a converter).
  std::vector<std::string_view> more;
  std::vector<std::string> more_owned;

  static Sample none(bool may_change = false) {
    Sample s;
    s.may_change = may_change;
    return s;
  }
  static Sample boolean(bool value) {
    Sample s;
    s.type = Type::kBool;
    s.integer = value ? 1 : 0;
    return s;
  }
  static Sample number(int64_t value) {
    Sample s;
    s.type = Type::kInt;
    s.integer = value;
    return s;
  }
  static Sample address(const boost::asio::ip::address& value) {
    Sample s;
    s.type = Type::kIp;
    s.ip = value;
    return s;
  }
  static Sample text(std::string_view value) {
    Sample s;
    s.type = Type::kStr;
    s.str = value;
    return s;
  }
  static Sample ownedText(std::string value) {
    Sample s;
    s.type = Type::kStr;
    s.owned = std::move(value);
    s.str = s.owned;
    return s;
  }
  Sample(const Sample& other) { *this = other; }
  Sample& operator=(const Sample& other) {
    type = other.type;
    may_change = other.may_change;
    integer = other.integer;
    ip = other.ip;
    owned = other.owned;
    str = other.str.data() == other.owned.data() ? std::string_view(owned) : other.str;
    more_owned = other.more_owned;
    if (more_owned.empty()) {
      more = other.more;
    } else {
      more.assign(more_owned.begin(), more_owned.end());
    }
    return *this;
  }
  // Moves keep `str` and `more` pointing at the moved strings when they pointed at their own
  // (a short string's bytes live inside the object, so its address changes).
  Sample(Sample&& other) noexcept { *this = std::move(other); }
  Sample& operator=(Sample&& other) noexcept {
    type = other.type;
    may_change = other.may_change;
    integer = other.integer;
    ip = other.ip;
    bool into_owned = !other.owned.empty() && other.str.data() == other.owned.data();
    owned = std::move(other.owned);
    str = into_owned ? std::string_view(owned) : other.str;
    more_owned = std::move(other.more_owned);
    if (more_owned.empty()) {
      more = std::move(other.more);
    } else {
      more.assign(more_owned.begin(), more_owned.end());
    }
    return *this;
  }
  Sample() = default;
  // The value as text (str, the decimal integer, the address): use_backend %[...] names and
  // stick-table string keys.
  std::string toString() const;
};

}  // namespace lb::rules
