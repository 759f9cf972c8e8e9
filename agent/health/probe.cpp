#include "agent/health/probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <regex>

namespace lb::health {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

ProbeTarget makeTarget(const tcp::endpoint& endpoint, Millis inter,
                       std::optional<Millis> timeout_connect, std::optional<Millis> timeout_check) {
  ProbeTarget target;
  target.endpoint = endpoint;
  target.total_timeout = inter;
  if (timeout_check) {
    target.connect_timeout = std::min(timeout_connect.value_or(inter), inter);
    target.read_timeout = timeout_check;
  } else {
    target.connect_timeout = inter;
  }
  return target;
}

bool statusMatches(const std::string& list, unsigned status) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto dash = item.find('-');
    try {
      unsigned low = static_cast<unsigned>(std::stoul(item.substr(0, dash)));
      unsigned high = dash == std::string::npos
                          ? low
                          : static_cast<unsigned>(std::stoul(item.substr(dash + 1)));
      if (status >= low && status <= high) return true;
    } catch (const std::exception&) {
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

namespace {

std::string hexDecode(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// One check in flight: connect, then the HTTP exchange or the tcp-check rules. Every wait has a
// deadline on one timer; the result is reported once.
class CheckRun : public std::enable_shared_from_this<CheckRun> {
 public:
  CheckRun(asio::io_context& io, std::shared_ptr<const lb::v1::HealthCheck> spec,
           const ProbeTarget& target, ProbeCallback done)
      : io_(io),
        spec_(std::move(spec)),
        target_(target),
        done_(std::move(done)),
        socket_(io),
        timer_(io) {}

  void start() {
    start_ = Clock::now();
    if (spec_->type() == lb::v1::HealthCheck::TCP_CHECK) {
      nextRule();
    } else {
      connect(target_.endpoint, [self = shared_from_this()] { self->connected(); });
    }
  }

 private:
  // ---- common ----
  void finish(CheckStatus status, bool passed, std::string info) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    if (reset_on_close_) {
      // A plain connect check: the server's kernel answered the SYN, which is all it asks.
      // Resetting before the handshake's last ACK (held back, see connect()) means the server
      // never accepts the connection, and neither side keeps a TIME_WAIT. HAProxy does the same.
      linger option{1, 0};
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
    }
    error_code ignored;
    socket_.close(ignored);
    CheckResult result{status, passed, std::move(info),
                       std::chrono::duration_cast<Millis>(Clock::now() - start_)};
    done_(result);
  }

  Clock::time_point readDeadline() const {
    if (target_.read_timeout) return connected_at_ + *target_.read_timeout;
    return start_ + target_.total_timeout;
  }

  // Arms the timer; on expiry closes the socket so the pending operation completes, and
  // remembers that it was a timeout.
  void arm(Clock::time_point deadline) {
    timed_out_ = false;
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.close(ignored);
    });
  }

  template <typename Next>
  void connect(const tcp::endpoint& endpoint, Next next) {
    error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    socket_ = tcp::socket(io_);
    socket_.open(endpoint.protocol(), ec);
    if (ec) {
      finish(CheckStatus::kSockErr, false, ec.message());
      return;
    }
    // Delayed ACKs from the start: the handshake's last ACK rides on the request sent right
    // after the connect, and the ACK of the answer on the FIN, two packets fewer per check
    // (HAProxy's tcp-smart-connect, which its checks use too).
    int zero = 0;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    auto deadline =
        std::min(Clock::now() + target_.connect_timeout, start_ + target_.total_timeout);
    arm(deadline);
    socket_.async_connect(endpoint, [self = shared_from_this(), next](const error_code& error) {
      if (self->finished_) return;
      if (self->timed_out_) {
        self->finish(CheckStatus::kL4Tout, false, "Connection timed out");
        return;
      }
      if (error) {
        std::string info =
            error == asio::error::connection_refused ? "Connection refused" : error.message();
        self->finish(CheckStatus::kL4Con, false, info);
        return;
      }
      self->timer_.cancel();
      self->connected_at_ = Clock::now();
      next();
    });
  }

  void connected() {
    if (spec_->type() == lb::v1::HealthCheck::HTTP) {
      sendHttp();
    } else {
      reset_on_close_ = true;
      finish(CheckStatus::kL4Ok, true, "");
    }
  }

  // ---- HTTP ----
  void sendHttp() {
    const auto& http = spec_->http();
    request_ = http.method() + " " + http.uri() + " " + http.version() + "\r\n";
    bool has_connection = false;
    for (const auto& header : http.headers()) {
      request_ += header.name() + ": " + header.value() + "\r\n";
      if (boost::beast::iequals(header.name(), "connection")) has_connection = true;
    }
    if (!http.body().empty()) {
      request_ += "Content-Length: " + std::to_string(http.body().size()) + "\r\n";
    }
    if (!has_connection) request_ += "Connection: close\r\n";
    request_ += "\r\n" + http.body();
    arm(readDeadline());
    asio::async_write(
        socket_, asio::buffer(request_), [self = shared_from_this()](const error_code& ec, size_t) {
          if (self->finished_) return;
          if (ec) {
            self->finish(self->timed_out_ ? CheckStatus::kL7Tout : CheckStatus::kL7Rsp, false,
                         self->timed_out_ ? "" : ec.message());
            return;
          }
          self->readHttp();
        });
  }

  void readHttp() {
    parser_ = std::make_unique<http::response_parser<http::string_body>>();
    parser_->body_limit(1 << 20);
    parser_->eager(true);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->onHttpResponse(ec); });
  }

  void onHttpResponse(const error_code& ec) {
    if (finished_) return;
    bool complete = parser_->is_header_done() &&
                    (!ec || ec == http::error::end_of_stream || ec == http::error::body_limit);
    if (timed_out_ && !parser_->is_header_done()) {
      finish(CheckStatus::kL7Tout, false, "");
      return;
    }
    if (!complete && !(timed_out_ && parser_->is_header_done())) {
      finish(CheckStatus::kL7Rsp, false,
             ec == http::error::end_of_stream || ec == asio::error::eof
                 ? "socket closed before a complete response"
                 : "invalid response: " + ec.message());
      return;
    }
    const auto& response = parser_->get();
    unsigned status = response.result_int();
    const std::string& body = response.body();
    const auto& expects = spec_->http().expect();
    if (expects.empty()) {
      if (status >= 200 && status < 400) {
        finish(CheckStatus::kL7Ok, true,
               std::to_string(status) + " " + std::string(response.reason()));
      } else {
        finish(CheckStatus::kL7Sts, false,
               "HTTP status check returned code <" + std::to_string(status) + ">");
      }
      return;
    }
    const std::string status_text = std::to_string(status);
    for (const auto& expect : expects) {
      bool matched = false;
      switch (expect.match()) {
        case lb::v1::Expect::STATUS:
          matched = statusMatches(expect.pattern(), status);
          break;
        case lb::v1::Expect::RSTATUS:
          matched = std::regex_search(status_text, std::regex(expect.pattern()));
          break;
        case lb::v1::Expect::STRING:
          matched = body.find(expect.pattern()) != std::string::npos;
          break;
        case lb::v1::Expect::RSTRING:
          matched = std::regex_search(body, std::regex(expect.pattern()));
          break;
        default:
          break;
      }
      if (matched == expect.negate()) {
        bool on_status =
            expect.match() == lb::v1::Expect::STATUS || expect.match() == lb::v1::Expect::RSTATUS;
        std::string what = std::string(expect.negate() ? "matched unwanted " : "did not match ") +
                           (on_status ? "status" : "content") + " '" + expect.pattern() + "'";
        finish(on_status ? CheckStatus::kL7Sts : CheckStatus::kL7Rsp, false,
               "HTTP check " + what + " (status <" + status_text + ">)");
        return;
      }
    }
    finish(CheckStatus::kL7Ok, true, status_text + " " + std::string(response.reason()));
  }

  // ---- tcp-check ----
  void nextRule() {
    if (finished_) return;
    const auto& rules = spec_->tcp_check();
    if (step_ >= spec_->tcp_check_size()) {
      if (!socket_.is_open()) {  // no rule at all: a plain connect check
        connect(target_.endpoint, [self = shared_from_this()] {
          self->reset_on_close_ = true;
          self->finish(CheckStatus::kL4Ok, true, "");
        });
        return;
      }
      // As HAProxy: the status names the last rule that ran, L4OK after a connect, L7OK after
      // an exchange.
      finish(last_was_connect_ ? CheckStatus::kL4Ok : CheckStatus::kL7Ok, true, "");
      return;
    }
    const auto& rule = rules[step_];
    size_t number = static_cast<size_t>(step_) + 1;
    if (!socket_.is_open() && rule.rule_case() != lb::v1::TcpCheckRule::kConnect &&
        rule.rule_case() != lb::v1::TcpCheckRule::kComment) {
      // Rules start with an implicit connect to the server.
      connect(target_.endpoint, [self = shared_from_this()] { self->nextRule(); });
      return;
    }
    ++step_;
    if (rule.rule_case() != lb::v1::TcpCheckRule::kComment) {
      last_was_connect_ = rule.rule_case() == lb::v1::TcpCheckRule::kConnect;
    }
    switch (rule.rule_case()) {
      case lb::v1::TcpCheckRule::kConnect: {
        tcp::endpoint endpoint = target_.endpoint;
        if (rule.connect().has_port()) endpoint.port(static_cast<uint16_t>(rule.connect().port()));
        if (!rule.connect().addr().empty()) {
          error_code ec;
          auto address = asio::ip::make_address(rule.connect().addr(), ec);
          if (ec) {
            finish(CheckStatus::kSockErr, false,
                   "tcp-check connect: bad address at step " + std::to_string(number));
            return;
          }
          endpoint.address(address);
        }
        connect(endpoint, [self = shared_from_this()] { self->nextRule(); });
        return;
      }
      case lb::v1::TcpCheckRule::kSend:
      case lb::v1::TcpCheckRule::kSendBinary: {
        received_.clear();
        request_ = rule.has_send() ? rule.send() : hexDecode(rule.send_binary());
        arm(readDeadline());
        asio::async_write(socket_, asio::buffer(request_),
                          [self = shared_from_this(), number](const error_code& ec, size_t) {
                            if (self->finished_) return;
                            if (ec) {
                              self->finish(
                                  self->timed_out_ ? CheckStatus::kL7Tout : CheckStatus::kL7Rsp,
                                  false, "TCPCHK send failed at step " + std::to_string(number));
                              return;
                            }
                            self->timer_.cancel();
                            self->nextRule();
                          });
        return;
      }
      case lb::v1::TcpCheckRule::kExpect:
        arm(readDeadline());
        expect(rule.expect(), number);
        return;
      default:
        nextRule();
        return;
    }
  }

  // True when the received bytes satisfy the rule's pattern (before negation).
  bool found(const lb::v1::Expect& rule) const {
    switch (rule.match()) {
      case lb::v1::Expect::STRING:
        return received_.find(rule.pattern()) != std::string::npos;
      case lb::v1::Expect::RSTRING:
        return std::regex_search(received_, std::regex(rule.pattern()));
      case lb::v1::Expect::BINARY:
        return received_.find(hexDecode(rule.pattern())) != std::string::npos;
      default:
        return false;
    }
  }

  void expect(const lb::v1::Expect& rule, size_t number) {
    if (found(rule)) {
      if (rule.negate()) {
        finish(CheckStatus::kL7Rsp, false,
               "TCPCHK matched unwanted content '" + rule.pattern() + "' at step " +
                   std::to_string(number));
        return;
      }
      // The bytes stay: a following expect looks at the same answer, as in HAProxy (only a
      // send starts a new one).
      timer_.cancel();
      nextRule();
      return;
    }
    chunk_.resize(16384);
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this(), &rule, number](
                                                      const error_code& ec, size_t n) {
      if (self->finished_) return;
      if (!ec) {
        self->received_.append(self->chunk_.data(), n);
        if (self->received_.size() > (1 << 20))
          self->received_.erase(0, self->received_.size() / 2);
        self->expect(rule, number);
        return;
      }
      // The peer closed: a negated rule passes, a plain one failed. A timeout fails both, as
      // in HAProxy (the answer never became conclusive).
      if (rule.negate() && !self->timed_out_) {
        self->timer_.cancel();
        self->nextRule();
        return;
      }
      if (self->timed_out_) {
        self->finish(CheckStatus::kL7Tout, false,
                     "TCPCHK timeout waiting for '" + rule.pattern() + "' at step " +
                         std::to_string(number));
      } else {
        self->finish(CheckStatus::kL7Rsp, false,
                     "TCPCHK did not match content '" + rule.pattern() + "' at step " +
                         std::to_string(number));
      }
    });
  }

  asio::io_context& io_;
  std::shared_ptr<const lb::v1::HealthCheck> spec_;  // shared by the backend's checks
  ProbeTarget target_;
  ProbeCallback done_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  Clock::time_point start_;
  Clock::time_point connected_at_;
  bool finished_ = false;
  bool timed_out_ = false;
  bool reset_on_close_ = false;  // a plain connect check that succeeded
  std::string request_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<http::response_parser<http::string_body>> parser_;
  int step_ = 0;                  // index of the next tcp-check rule
  bool last_was_connect_ = true;  // the last non-comment tcp-check rule run was a connect
  std::string received_;
  std::vector<char> chunk_;
};

}  // namespace

void runProbe(asio::io_context& io, std::shared_ptr<const lb::v1::HealthCheck> spec,
              const ProbeTarget& target, ProbeCallback done) {
  std::make_shared<CheckRun>(io, std::move(spec), target, std::move(done))->start();
}

}  // namespace lb::health
