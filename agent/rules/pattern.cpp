#include "agent/rules/pattern.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

namespace lb::rules {

namespace {

using boost::asio::ip::address_v6;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// "3.1" -> 3 * 65536 + 1 (req.ssl_ver patterns).
std::optional<int64_t> parseVersion(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto major = parseInteger(text.substr(0, dot));
  auto minor = parseInteger(text.substr(dot + 1));
  if (!major || !minor || *major < 0 || *minor < 0 || *major > 255 || *minor > 255) {
    return std::nullopt;
  }
  return (*major << 16) | *minor;
}

address_v6 asV6(const boost::asio::ip::address& address) {
  if (address.is_v4())
    return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4());
  return address.to_v6();
}

bool samePrefix(const address_v6& a, const address_v6& b, unsigned prefix) {
  auto x = a.to_bytes();
  auto y = b.to_bytes();
  unsigned full = prefix / 8;
  if (std::memcmp(x.data(), y.data(), full) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (x[full] & mask) == (y[full] & mask);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

size_t findFold(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return std::string_view::npos;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (equalFold(haystack.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Sample::toString() const {
  switch (type) {
    case Type::kNone:
      return {};
    case Type::kBool:
    case Type::kInt:
      return std::to_string(integer);
    case Type::kIp:
      return ip.to_string();
    case Type::kStr:
      return std::string(str);
  }
  return {};
}

std::optional<MatchMethod> matchMethodByName(std::string_view name) {
  static constexpr std::pair<std::string_view, MatchMethod> kNames[] = {
      {"bool", MatchMethod::kBool}, {"found", MatchMethod::kFound}, {"int", MatchMethod::kInt},
      {"ip", MatchMethod::kIp},     {"str", MatchMethod::kStr},     {"beg", MatchMethod::kBeg},
      {"end", MatchMethod::kEnd},   {"sub", MatchMethod::kSub},     {"reg", MatchMethod::kReg},
      {"len", MatchMethod::kLen},   {"dom", MatchMethod::kDom},     {"bin", MatchMethod::kBin},
  };
  for (auto [known, method] : kNames) {
    if (known == name) return method;
  }
  return std::nullopt;
}

std::optional<std::pair<int64_t, int64_t>> parseIntPattern(std::string_view text, bool versions,
                                                           std::string& error) {
  auto value = [&](std::string_view part) -> std::optional<int64_t> {
    if (!versions) return parseInteger(part);
    if (part.find('.') != std::string_view::npos) return parseVersion(part);
    // A major version alone is MAJOR.0, as in HAProxy ("lt 3" is below SSLv3).
    auto n = parseInteger(part);
    if (n && *n >= 0 && *n < 65536) return *n << 16;
    return n;
  };
  static constexpr std::pair<std::string_view, int> kOperators[] = {
      {"eq ", 0}, {"ge ", 1}, {"gt ", 2}, {"le ", 3}, {"lt ", 4}};
  for (auto [op, kind] : kOperators) {
    if (text.substr(0, op.size()) != op) continue;
    auto n = value(text.substr(op.size()));
    if (!n) break;
    if ((kind == 2 && *n == kMax) || (kind == 4 && *n == kMin)) {
      error = "'" + std::string(text) + "' matches no integer";
      return std::nullopt;
    }
    switch (kind) {
      case 0:
        return std::pair{*n, *n};
      case 1:
        return std::pair{*n, kMax};
      case 2:
        return std::pair{*n + 1, kMax};
      case 3:
        return std::pair{kMin, *n};
      default:
        return std::pair{kMin, *n - 1};
    }
  }
  // Versions may also be written "3.0-3.1" (no negative versions to confuse it with).
  auto colon = versions ? text.find_first_of(":-") : text.find(':');
  if (colon == std::string_view::npos) {
    if (auto n = value(text)) return std::pair{*n, *n};
  } else {
    auto low_text = text.substr(0, colon);
    auto high_text = text.substr(colon + 1);
    auto low = low_text.empty() ? std::optional<int64_t>(kMin) : value(low_text);
    auto high = high_text.empty() ? std::optional<int64_t>(kMax) : value(high_text);
    if (low && high && !(low_text.empty() && high_text.empty()) && *low <= *high) {
      return std::pair{*low, *high};
    }
  }
  error = "'" + std::string(text) + "' is not an integer or a range (N, N:M, N:, :M, ge N" +
          (versions ? ", 3.1" : "") + ")";
  return std::nullopt;
}

Matcher::Matcher() = default;
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

std::optional<Matcher> Matcher::compile(MatchMethod method, bool ignore_case,
                                        const std::vector<std::string>& patterns,
                                        std::string& error) {
  Matcher m;
  m.method_ = method;
  m.ignore_case_ = ignore_case;
  for (const std::string& pattern : patterns) {
    switch (method) {
      case MatchMethod::kBool:
      case MatchMethod::kFound:
        error = "'-m " + std::string(method == MatchMethod::kBool ? "bool" : "found") +
                "' takes no pattern, found '" + pattern + "'";
        return std::nullopt;
      case MatchMethod::kInt:
      case MatchMethod::kLen: {
        auto range = parseIntPattern(pattern, false, error);
        if (!range) return std::nullopt;
        m.ranges_.push_back({range->first, range->second});
        break;
      }
      case MatchMethod::kIp: {
        Network net;
        std::string_view text = pattern;
        auto slash = text.find('/');
        boost::system::error_code ec;
        auto address = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
        if (ec) {
          error = "'" + pattern +
                  "' is not an IP address or network (write 10.0.0.0/8, 192.168.1.5 or ::1; host "
                  "names are not resolved in patterns)";
          return std::nullopt;
        }
        net.address = asV6(address);
        unsigned max = address.is_v4() ? 32 : 128;
        net.prefix = max;
        if (slash != std::string_view::npos) {
          auto mask_text = text.substr(slash + 1);
          auto bits = parseInteger(mask_text);
          if (!bits && address.is_v4()) {
            // A dotted mask: 255.255.255.0
            auto mask = boost::asio::ip::make_address_v4(std::string(mask_text), ec);
            if (!ec) {
              uint32_t v = mask.to_uint();
              unsigned ones = 0;
              while (ones < 32 && (v & (0x80000000u >> ones))) ++ones;
              if ((ones == 32 ? 0 : (v << ones)) == 0) bits = ones;
            }
          }
          if (!bits || *bits < 0 || static_cast<unsigned>(*bits) > max) {
            error = "'" + pattern + "' has a bad network mask";
            return std::nullopt;
          }
          net.prefix = static_cast<unsigned>(*bits);
        }
        if (address.is_v4()) {
          uint32_t mask = net.prefix == 0 ? 0 : ~uint32_t{0} << (32 - net.prefix);
          m.networks4_.push_back({address.to_v4().to_uint() & mask, mask});
          net.prefix += 96;
        } else {
          m.v6_networks_ = true;
        }
        m.networks_.push_back(net);
        break;
      }
      case MatchMethod::kReg: {
        RE2::Options options;
        options.set_case_sensitive(!ignore_case);
        options.set_log_errors(false);
        auto re = std::make_unique<RE2>(pattern, options);
        if (!re->ok()) {
          error = "bad regular expression '" + pattern + "': " + re->error();
          return std::nullopt;
        }
        m.regexes_.push_back(std::move(re));
        break;
      }
      case MatchMethod::kBin: {
        std::string bytes;
        auto hex = [](char c) -> int {
          if (c >= '0' && c <= '9') return c - '0';
          if (c >= 'a' && c <= 'f') return c - 'a' + 10;
          if (c >= 'A' && c <= 'F') return c - 'A' + 10;
          return -1;
        };
        bool ok = pattern.size() % 2 == 0;
        for (size_t i = 0; ok && i < pattern.size(); i += 2) {
          int hi = hex(pattern[i]);
          int lo = hex(pattern[i + 1]);
          ok = hi >= 0 && lo >= 0;
          bytes.push_back(static_cast<char>(hi * 16 + lo));
        }
        if (!ok) {
          error = "'" + pattern + "' is not an even number of hexadecimal digits ('-m bin')";
          return std::nullopt;
        }
        m.strings_.push_back(std::move(bytes));
        break;
      }
      default:
        m.strings_.push_back(pattern);
    }
  }
  return m;
}

bool Matcher::matchInt(int64_t value) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const IntRange& r) { return value >= r.low && value <= r.high; });
}

bool Matcher::matchString(std::string_view value) const {
  switch (method_) {
    case MatchMethod::kBin:
      for (const auto& s : strings_) {
        if (value == s) return true;
      }
      return false;
    case MatchMethod::kStr:
      for (const auto& s : strings_) {
        if (ignore_case_ ? equalFold(value, s) : value == s) return true;
      }
      return false;
    case MatchMethod::kBeg:
      for (const auto& s : strings_) {
        if (value.size() >= s.size() && (ignore_case_ ? equalFold(value.substr(0, s.size()), s)
                                                      : value.substr(0, s.size()) == s)) {
          return true;
        }
      }
      return false;
    case MatchMethod::kEnd:
      for (const auto& s : strings_) {
        if (value.size() >= s.size()) {
          auto tail = value.substr(value.size() - s.size());
          if (ignore_case_ ? equalFold(tail, s) : tail == s) return true;
        }
      }
      return false;
    case MatchMethod::kSub:
      for (const auto& s : strings_) {
        if ((ignore_case_ ? findFold(value, s) : value.find(s)) != std::string_view::npos) {
          return true;
        }
      }
      return false;
    case MatchMethod::kDom:
      for (const auto& s : strings_) {
        // s delimited by '.' or '/' or the ends.
        for (size_t at = 0; at + s.size() <= value.size(); ++at) {
          auto part = value.substr(at, s.size());
          if (!(ignore_case_ ? equalFold(part, s) : part == s)) continue;
          bool left = at == 0 || value[at - 1] == '.' || value[at - 1] == '/';
          size_t end = at + s.size();
          bool right = end == value.size() || value[end] == '.' || value[end] == '/';
          if (left && right) return true;
        }
      }
      return false;
    case MatchMethod::kReg:
      for (const auto& re : regexes_) {
        if (RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re)) return true;
      }
      return false;
    case MatchMethod::kLen:
      return matchInt(static_cast<int64_t>(value.size()));
    default:
      return false;
  }
}

bool Matcher::match(const Sample& sample) const {
  if (sample.type == Sample::Type::kNone) return false;
  switch (method_) {
    case MatchMethod::kFound:
      return true;
    case MatchMethod::kBool:
      return sample.type == Sample::Type::kStr ? !sample.str.empty() : sample.integer != 0;
    case MatchMethod::kInt:
      if (sample.type == Sample::Type::kStr) {
        auto n = parseInteger(sample.str);
        return n && matchInt(*n);
      }
      return sample.type != Sample::Type::kIp && matchInt(sample.integer);
    case MatchMethod::kIp: {
      if (sample.type == Sample::Type::kIp && sample.ip.is_v4()) {
        uint32_t v = sample.ip.to_v4().to_uint();
        if (std::any_of(networks4_.begin(), networks4_.end(),
                        [v](const Network4& net) { return (v & net.mask) == net.address; })) {
          return true;
        }
        if (!v6_networks_) return false;
      }
      address_v6 value;
      if (sample.type == Sample::Type::kIp) {
        value = asV6(sample.ip);
      } else if (sample.type == Sample::Type::kStr) {
        boost::system::error_code ec;
        auto parsed = boost::asio::ip::make_address(std::string(sample.str), ec);
        if (ec) return false;
        value = asV6(parsed);
      } else {
        return false;
      }
      return std::any_of(networks_.begin(), networks_.end(), [&](const Network& net) {
        return samePrefix(value, net.address, net.prefix);
      });
    }
    default: {
      std::string text;
      std::string_view view = sample.str;
      if (sample.type != Sample::Type::kStr) {
        text = sample.toString();
        view = text;
      }
      if (matchString(view)) return true;
      for (auto other : sample.more) {
        if (matchString(other)) return true;
      }
      return false;
    }
  }
}

}  // namespace lb::rules
