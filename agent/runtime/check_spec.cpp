#include "agent/runtime/check_spec.h"

#include <boost/beast/core/string.hpp>
#include <charconv>

#include "agent/runtime/check_protocols.h"

namespace lb::runtime {

namespace {

std::string hexDecode(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned value = 0;
    std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    out += static_cast<char>(value);
  }
  return out;
}

std::optional<unsigned> parseStatus(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool makeExpect(const lb::v1::Expect& in, ExpectRule* out, std::string* error) {
  out->negate = in.negate();
  out->pattern = in.pattern();
  out->comment = in.comment();
  if (in.has_min_recv()) out->min_recv = in.min_recv();
  switch (in.match()) {
    case lb::v1::Expect::STATUS: {
      out->match = ExpectRule::Match::kStatus;
      auto list = parseStatusList(in.pattern());
      if (!list) {
        *error = "'" + in.pattern() + "' is not an HTTP status list";
        return false;
      }
      out->statuses = std::move(*list);
      return true;
    }
    case lb::v1::Expect::RSTATUS:
    case lb::v1::Expect::RSTRING:
      out->match = in.match() == lb::v1::Expect::RSTATUS ? ExpectRule::Match::kRstatus
                                                         : ExpectRule::Match::kRstring;
      try {
        out->regex = std::make_shared<const std::regex>(in.pattern());
      } catch (const std::regex_error& e) {
        *error = "invalid regular expression '" + in.pattern() + "': " + e.what();
        return false;
      }
      return true;
    case lb::v1::Expect::BINARY:
      out->match = ExpectRule::Match::kBinary;
      out->bytes = hexDecode(in.pattern());
      return true;
    case lb::v1::Expect::STRING:
      out->match = ExpectRule::Match::kString;
      out->bytes = in.pattern();
      return true;
    default:
      *error = "expect rule has no match type";
      return false;
  }
}

std::string buildHttpRequest(const lb::v1::HttpCheck& http) {
  std::string request = http.method() + " " + http.uri() + " " + http.version() + "\r\n";
  bool has_connection = false;
  for (const auto& header : http.headers()) {
    request += header.name() + ": " + header.value() + "\r\n";
    if (boost::beast::iequals(header.name(), "connection")) has_connection = true;
  }
  if (!http.body().empty()) {
    request += "Content-Length: " + std::to_string(http.body().size()) + "\r\n";
  }
  if (!has_connection) request += "Connection: close\r\n";
  request += "\r\n" + http.body();
  return request;
}

}  // namespace

std::optional<std::vector<std::pair<unsigned, unsigned>>> parseStatusList(std::string_view list) {
  std::vector<std::pair<unsigned, unsigned>> out;
  size_t pos = 0;
  while (true) {
    size_t comma = list.find(',', pos);
    std::string_view item =
        list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos);
    size_t dash = item.find('-');
    auto low = parseStatus(item.substr(0, dash));
    auto high = dash == std::string_view::npos ? low : parseStatus(item.substr(dash + 1));
    if (!low || !high) return std::nullopt;
    out.emplace_back(*low, *high);
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

bool ExpectRule::matchesHttp(unsigned status, std::string_view body) const {
  switch (match) {
    case Match::kStatus:
      for (const auto& [low, high] : statuses) {
        if (status >= low && status <= high) return true;
      }
      return false;
    case Match::kRstatus: {
      std::string text = std::to_string(status);
      return std::regex_search(text, *regex);
    }
    case Match::kString:
      return body.find(bytes) != std::string_view::npos;
    case Match::kRstring:
      return std::regex_search(body.begin(), body.end(), *regex);
    case Match::kBinary:
    case Match::kCustom:
      return false;
  }
  return false;
}

bool ExpectRule::matchesBytes(std::string_view received) const {
  switch (match) {
    case Match::kString:
    case Match::kBinary:
      return received.find(bytes) != std::string_view::npos;
    case Match::kRstring:
      return std::regex_search(received.begin(), received.end(), *regex);
    default:
      return false;
  }
}

std::shared_ptr<const CheckSpec> makeCheckSpec(const lb::v1::HealthCheck& check, std::string* error,
                                               std::string* path) {
  std::string ignored_error, ignored_path;
  if (error == nullptr) error = &ignored_error;
  if (path == nullptr) path = &ignored_path;
  auto spec = std::make_shared<CheckSpec>();
  spec->log_health_checks = check.log_health_checks();
  switch (check.type()) {
    case lb::v1::HealthCheck::HTTP:
      spec->kind = CheckSpec::Kind::kHttp;
      break;
    case lb::v1::HealthCheck::TCP_CHECK:
      spec->kind = CheckSpec::Kind::kTcpCheck;
      break;
    case lb::v1::HealthCheck::MYSQL:
    case lb::v1::HealthCheck::PGSQL:
    case lb::v1::HealthCheck::REDIS:
    case lb::v1::HealthCheck::SMTP:
    case lb::v1::HealthCheck::LDAP:
    case lb::v1::HealthCheck::SSL_HELLO:
      // HAProxy's built-in rule sets; the section's own tcp-check rules do not apply.
      spec->kind = CheckSpec::Kind::kTcpCheck;
      spec->tcp_check = protocolCheckSteps(check);
      return spec;
    default:
      spec->kind = CheckSpec::Kind::kTcp;
  }
  if (spec->kind == CheckSpec::Kind::kHttp) {
    spec->http_request = buildHttpRequest(check.http());
    spec->http_disable_on_404 = check.http().disable_on_404();
    if (check.http().has_connect()) {
      const auto& connect = check.http().connect();
      if (connect.has_port()) spec->http_port = static_cast<uint16_t>(connect.port());
      spec->http_send_proxy = connect.send_proxy();
      if (!connect.addr().empty()) {
        boost::system::error_code ec;
        spec->http_address = boost::asio::ip::make_address(connect.addr(), ec);
        if (ec) {
          *error = "http-check connect: '" + connect.addr() + "' is not an IP address";
          *path = "http.connect.addr";
          return nullptr;
        }
      }
    }
    for (int i = 0; i < check.http().expect_size(); ++i) {
      ExpectRule rule;
      if (!makeExpect(check.http().expect(i), &rule, error)) {
        *path = "http.expect[" + std::to_string(i) + "]";
        return nullptr;
      }
      spec->http_expect.push_back(std::move(rule));
    }
  }
  if (spec->kind == CheckSpec::Kind::kTcpCheck) {
    for (int i = 0; i < check.tcp_check_size(); ++i) {
      const auto& rule = check.tcp_check(i);
      TcpCheckStep step;
      switch (rule.rule_case()) {
        case lb::v1::TcpCheckRule::kConnect: {
          step.kind = TcpCheckStep::Kind::kConnect;
          if (rule.connect().has_port()) step.port = static_cast<uint16_t>(rule.connect().port());
          step.send_proxy = rule.connect().send_proxy();
          if (!rule.connect().addr().empty()) {
            boost::system::error_code ec;
            step.address = boost::asio::ip::make_address(rule.connect().addr(), ec);
            if (ec) {
              *error = "tcp-check connect: '" + rule.connect().addr() + "' is not an IP address";
              *path = "tcp_check[" + std::to_string(i) + "].connect.addr";
              return nullptr;
            }
          }
          break;
        }
        case lb::v1::TcpCheckRule::kSend:
          step.kind = TcpCheckStep::Kind::kSend;
          step.send = rule.send();
          break;
        case lb::v1::TcpCheckRule::kSendBinary:
          step.kind = TcpCheckStep::Kind::kSend;
          step.send = hexDecode(rule.send_binary());
          break;
        case lb::v1::TcpCheckRule::kExpect:
          step.kind = TcpCheckStep::Kind::kExpect;
          if (!makeExpect(rule.expect(), &step.expect, error)) {
            *path = "tcp_check[" + std::to_string(i) + "].expect";
            return nullptr;
          }
          break;
        default:
          step.kind = TcpCheckStep::Kind::kComment;
      }
      spec->tcp_check.push_back(std::move(step));
    }
  }
  return spec;
}

std::shared_ptr<const CheckSpec> makeAgentSpec(const std::string& send) {
  auto spec = std::make_shared<CheckSpec>();
  spec->kind = CheckSpec::Kind::kAgent;
  spec->agent_send = send;
  return spec;
}

}  // namespace lb::runtime
