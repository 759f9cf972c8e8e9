#include "agent/health/probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

namespace lb::health {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Millis = std::chrono::milliseconds;

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

namespace {

using runtime::CheckSpec;
using runtime::ExpectRule;
using runtime::TcpCheckStep;

// One check in flight: connect, then the HTTP exchange or the tcp-check steps. Every wait has a
// deadline on one timer; the result is reported once.
class CheckRun : public std::enable_shared_from_this<CheckRun> {
 public:
  CheckRun(asio::io_context& io, common::TimeSource& time, std::shared_ptr<const CheckSpec> spec,
           const ProbeTarget& target, ProbeCallback done)
      : io_(io),
        time_(time),
        spec_(std::move(spec)),
        target_(target),
        done_(std::move(done)),
        socket_(io),
        timer_(time.makeTimer()) {}

  void start() {
    start_ = time_.now();
    if (spec_->kind == CheckSpec::Kind::kTcpCheck) {
      nextStep();
    } else if (spec_->kind == CheckSpec::Kind::kHttp &&
               (spec_->http_port || spec_->http_address || spec_->http_send_proxy)) {
      // `http-check connect`: elsewhere, and a PROXY header only if it asks for one.
      tcp::endpoint endpoint = target_.endpoint;
      if (spec_->http_port) endpoint.port(*spec_->http_port);
      if (spec_->http_address) endpoint.address(*spec_->http_address);
      connect(endpoint, spec_->http_send_proxy ? common::proxyHeaderLocal(target_.step_proxy) : "",
              [self = shared_from_this()] { self->connected(); });
    } else if (spec_->kind == CheckSpec::Kind::kAgent) {
      // The agent is not the server: no PROXY header for it.
      connect(target_.endpoint, "", [self = shared_from_this()] { self->sendAgent(); });
    } else {
      connect(target_.endpoint, target_.preamble,
              [self = shared_from_this()] { self->connected(); });
    }
  }

 private:
  // ---- common ----
  // Errors of this host, not of the server: out of descriptors, buffers, memory or ports.
  static bool isLocal(const error_code& ec) {
    return ec == asio::error::no_descriptors || ec.value() == ENFILE ||
           ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
           ec.value() == EADDRNOTAVAIL;
  }

  void finishLocal(const error_code& ec) {
    local_ = true;
    finish(CheckStatus::kSockErr, false, ec.message());
  }

  void finish(CheckStatus status, bool passed, std::string info) {
    if (finished_) return;
    finished_ = true;
    timer_->cancel();
    if (reset_on_close_ || linger_) {
      // A plain connect check: the server's kernel answered the SYN, which is all it asks.
      // Resetting before the handshake's last ACK (held back, see connect()) means the server
      // never accepts the connection, and neither side keeps a TIME_WAIT. HAProxy does the same.
      linger option{1, 0};
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
    }
    error_code ignored;
    socket_.close(ignored);
    CheckResult result{status,          passed,
                       std::move(info), std::chrono::duration_cast<Millis>(time_.now() - start_),
                       local_,          std::move(reply_)};
    auto done = std::move(done_);
    done(result);
  }

  common::MonoTime readDeadline() const {
    if (target_.read_timeout) return connected_at_ + *target_.read_timeout;
    return start_ + target_.total_timeout;
  }

  // Arms the timer; on expiry closes the socket so the pending operation completes, and
  // remembers that it was a timeout.
  void arm(common::MonoTime deadline) {
    timed_out_ = false;
    timer_->armAt(deadline, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->finished_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.close(ignored);
    });
  }

  // Connects, sends `preamble` (a PROXY header) if any, then goes on with `next`.
  template <typename Next>
  void connect(const tcp::endpoint& endpoint, std::string preamble, Next next) {
    preamble_ = std::move(preamble);  // kept here while it is written
    error_code ec;
    if (socket_.is_open()) socket_.close(ec);
    socket_ = tcp::socket(io_);
    socket_.open(endpoint.protocol(), ec);
    if (ec) {
      if (isLocal(ec)) {
        finishLocal(ec);
      } else {
        finish(CheckStatus::kSockErr, false, ec.message());
      }
      return;
    }
    // Delayed ACKs from the start: the handshake's last ACK rides on the request sent right
    // after the connect, and the ACK of the answer on the FIN, two packets fewer per check
    // (HAProxy's tcp-smart-connect, which its checks use too).
    int zero = 0;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof zero);
    arm(std::min(time_.now() + target_.connect_timeout, start_ + target_.total_timeout));
    socket_.async_connect(endpoint, [self = shared_from_this(), next](const error_code& error) {
      if (self->finished_) return;
      if (self->timed_out_) {
        self->finish(CheckStatus::kL4Tout, false, "Connection timed out");
        return;
      }
      if (error) {
        if (isLocal(error)) {
          self->finishLocal(error);
          return;
        }
        std::string info =
            error == asio::error::connection_refused ? "Connection refused" : error.message();
        self->finish(CheckStatus::kL4Con, false, info);
        return;
      }
      self->timer_->cancel();
      self->connected_at_ = self->time_.now();
      if (self->preamble_.empty()) {
        next();
        return;
      }
      self->sent_preamble_ = true;
      self->arm(self->readDeadline());
      asio::async_write(self->socket_, asio::buffer(self->preamble_),
                        [self, next](const error_code& ec, size_t) {
                          if (self->finished_) return;
                          if (ec) {
                            self->finish(CheckStatus::kL4Con, false,
                                         "cannot send the PROXY header: " + ec.message());
                            return;
                          }
                          self->timer_->cancel();
                          next();
                        });
    });
  }

  void connected() {
    if (spec_->kind == CheckSpec::Kind::kHttp) {
      sendHttp();
    } else {
      // After a PROXY header the server has a connection to close, not just a SYN to forget.
      reset_on_close_ = !sent_preamble_;
      finish(CheckStatus::kL4Ok, true, "");
    }
  }

  // ---- HTTP ----
  void sendHttp() {
    arm(readDeadline());
    asio::async_write(socket_, asio::buffer(spec_->http_request),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        if (self->finished_) return;
                        if (ec) {
                          self->finish(
                              self->timed_out_ ? CheckStatus::kL7Tout : CheckStatus::kL7Rsp, false,
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
    const std::string status_text = std::to_string(status);
    const std::string passed = status_text + " " + std::string(response.reason());
    if (status == 404 && spec_->http_disable_on_404) {
      // HAProxy: the server is alive but going away; it takes no new connections (NOLB).
      finish(CheckStatus::kL7Okc, true, passed);
      return;
    }
    if (spec_->http_expect.empty()) {
      if (status >= 200 && status < 400) {
        finish(CheckStatus::kL7Ok, true, passed);
      } else {
        finish(CheckStatus::kL7Sts, false, "HTTP status check returned code <" + status_text + ">");
      }
      return;
    }
    for (const ExpectRule& expect : spec_->http_expect) {
      if (expect.matchesHttp(status, response.body()) == expect.negate) {
        std::string what = std::string(expect.negate ? "matched unwanted " : "did not match ") +
                           (expect.onStatus() ? "status" : "content") + " '" + expect.pattern + "'";
        finish(expect.onStatus() ? CheckStatus::kL7Sts : CheckStatus::kL7Rsp, false,
               "HTTP check " + what + " (status <" + status_text + ">)");
        return;
      }
    }
    finish(CheckStatus::kL7Ok, true, passed);
  }

  // ---- agent-check ----
  void sendAgent() {
    arm(readDeadline());
    if (spec_->agent_send.empty()) {
      readAgent();
      return;
    }
    asio::async_write(socket_, asio::buffer(spec_->agent_send),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        if (self->finished_) return;
                        if (ec) {
                          self->finish(
                              self->timed_out_ ? CheckStatus::kL7Tout : CheckStatus::kL7Rsp, false,
                              "cannot send to the agent: " + ec.message());
                          return;
                        }
                        self->readAgent();
                      });
  }

  // Reads up to the first CR or LF: the agent's one line.
  void readAgent() {
    size_t end = received_.find_first_of("\r\n");
    if (end != std::string::npos) {
      reply_ = received_.substr(0, end);
      finish(CheckStatus::kL7Ok, true, "");
      return;
    }
    chunk_.resize(1024);
    socket_.async_read_some(
        asio::buffer(chunk_), [self = shared_from_this()](const error_code& ec, size_t n) {
          if (self->finished_) return;
          if (!ec && self->received_.size() + n <= 16384) {
            self->received_.append(self->chunk_.data(), n);
            self->readAgent();
            return;
          }
          if (self->timed_out_) {
            self->finish(CheckStatus::kL7Tout, false, "");
          } else {
            self->finish(CheckStatus::kL7Rsp, false, "Ignoring incomplete line from agent");
          }
        });
  }

  // ---- tcp-check ----
  void nextStep() {
    if (finished_) return;
    const auto& steps = spec_->tcp_check;
    if (step_ >= steps.size()) {
      if (!socket_.is_open()) {  // no step at all: a plain connect check
        connect(target_.endpoint, target_.preamble, [self = shared_from_this()] {
          self->reset_on_close_ = !self->sent_preamble_;
          self->finish(CheckStatus::kL4Ok, true, "");
        });
        return;
      }
      // As HAProxy: the status names the last step that ran, L4OK after a connect, L7OK after
      // an exchange (L6OK after ssl-hello-chk's); a protocol check says what it found.
      finish(last_was_connect_ ? CheckStatus::kL4Ok
             : last_layer6_    ? CheckStatus::kL6Ok
                               : CheckStatus::kL7Ok,
             true, last_info_);
      return;
    }
    const TcpCheckStep& step = steps[step_];
    size_t number = step_ + 1;
    if (!socket_.is_open() && step.kind != TcpCheckStep::Kind::kConnect &&
        step.kind != TcpCheckStep::Kind::kComment) {
      // Steps start with an implicit connect to the server.
      connect(target_.endpoint, target_.preamble,
              [self = shared_from_this()] { self->nextStep(); });
      return;
    }
    ++step_;
    if (step.kind != TcpCheckStep::Kind::kComment) {
      last_was_connect_ = step.kind == TcpCheckStep::Kind::kConnect;
    }
    switch (step.kind) {
      case TcpCheckStep::Kind::kConnect: {
        linger_ = step.linger;
        tcp::endpoint endpoint = target_.endpoint;
        if (step.port) endpoint.port(*step.port);
        if (step.address) endpoint.address(*step.address);
        connect(endpoint, step.send_proxy ? common::proxyHeaderLocal(target_.step_proxy) : "",
                [self = shared_from_this()] { self->nextStep(); });
        return;
      }
      case TcpCheckStep::Kind::kSend:
        received_.clear();
        arm(readDeadline());
        send_ = step.send;
        if (step.unix_time_at && *step.unix_time_at + 4 <= send_.size()) {
          auto seconds = static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::seconds>(time_.wallNow().time_since_epoch())
                  .count());
          for (size_t i = 0; i < 4; ++i) {
            send_[*step.unix_time_at + i] = static_cast<char>((seconds >> (24 - 8 * i)) & 0xff);
          }
        }
        asio::async_write(socket_, asio::buffer(send_),
                          [self = shared_from_this(), number](const error_code& ec, size_t) {
                            if (self->finished_) return;
                            if (ec) {
                              self->finish(
                                  self->timed_out_ ? CheckStatus::kL7Tout : CheckStatus::kL7Rsp,
                                  false, "TCPCHK send failed at step " + std::to_string(number));
                              return;
                            }
                            self->timer_->cancel();
                            self->nextStep();
                          });
        return;
      case TcpCheckStep::Kind::kExpect:
        arm(readDeadline());
        expect(step.expect, number);
        return;
      case TcpCheckStep::Kind::kComment:
        nextStep();
        return;
    }
  }

  // A failed expect rule: its status, and HAProxy's message with the rule's comment.
  void expectFailed(const ExpectRule& rule, bool wrong_status, std::string info) {
    if (!rule.comment.empty()) info += (info.empty() ? "" : " ") + ("comment: " + rule.comment);
    CheckStatus status = rule.layer6    ? CheckStatus::kL6Rsp
                         : wrong_status ? CheckStatus::kL7Sts
                                        : CheckStatus::kL7Rsp;
    finish(status, false, std::move(info));
  }

  // Whether the rule needs more bytes than it has before it may decide.
  bool needsMore(const ExpectRule& rule) const {
    if (rule.min_recv) return received_.size() < *rule.min_recv;
    if (rule.match == ExpectRule::Match::kString || rule.match == ExpectRule::Match::kBinary) {
      return received_.size() < rule.bytes.size();
    }
    return false;
  }

  // Evaluates `rule` on what was received; `last_read`: nothing more will come. Returns false
  // when it must wait for more bytes.
  bool evaluate(const ExpectRule& rule, size_t number, bool last_read) {
    const std::string at_step = " at step " + std::to_string(number);
    if (rule.match == ExpectRule::Match::kCustom) {
      runtime::ExpectVerdict verdict = rule.custom(received_, last_read);
      if (verdict.outcome == runtime::ExpectVerdict::Outcome::kWait) return false;
      if (verdict.outcome == runtime::ExpectVerdict::Outcome::kFail) {
        expectFailed(rule, verdict.wrong_status, std::move(verdict.info));
        return true;
      }
      last_info_ = std::move(verdict.info);
      last_layer6_ = rule.layer6;
      timer_->cancel();
      nextStep();
      return true;
    }
    if (!last_read && needsMore(rule)) return false;
    bool matched = rule.matchesBytes(received_);
    // Without min-recv a mismatch may still turn into a match with more bytes; with it, the
    // answer is conclusive (HAProxy).
    if (!matched && !last_read && !rule.min_recv) return false;
    if (matched == rule.negate) {
      expectFailed(rule, false,
                   std::string(matched ? "TCPCHK matched unwanted content '"
                                       : "TCPCHK did not match content '") +
                       rule.pattern + "'" + at_step);
      return true;
    }
    // The bytes stay: a following expect looks at the same answer, as in HAProxy (only a send
    // starts a new one).
    last_info_.clear();
    last_layer6_ = rule.layer6;
    timer_->cancel();
    nextStep();
    return true;
  }

  void expect(const ExpectRule& rule, size_t number) {
    if (evaluate(rule, number, received_.size() >= kMaxReceived)) return;
    chunk_.resize(16384);
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this(), &rule, number](
                                                      const error_code& ec, size_t n) {
      if (self->finished_) return;
      if (!ec) {
        self->received_.append(self->chunk_.data(),
                               std::min(n, kMaxReceived - self->received_.size()));
        self->expect(rule, number);
        return;
      }
      // A timeout fails the rule whatever it is, as in HAProxy (the answer never became
      // conclusive); the peer closing is the last read: the rule decides on what came.
      if (self->timed_out_) {
        self->finish(
            rule.layer6 ? CheckStatus::kL6Tout : CheckStatus::kL7Tout, false,
            "TCPCHK timeout waiting for '" + rule.pattern + "' at step " + std::to_string(number));
        return;
      }
      self->evaluate(rule, number, true);
    });
  }

  // The most an expect looks at (HAProxy's check buffer is 16 kB; a full buffer is a last read).
  static constexpr size_t kMaxReceived = 1 << 20;

  asio::io_context& io_;
  common::TimeSource& time_;
  std::shared_ptr<const CheckSpec> spec_;  // shared by the backend's checks
  ProbeTarget target_;
  ProbeCallback done_;
  tcp::socket socket_;
  std::unique_ptr<common::Timer> timer_;
  common::MonoTime start_;
  common::MonoTime connected_at_;
  bool finished_ = false;
  bool timed_out_ = false;
  bool reset_on_close_ = false;  // a plain connect check that succeeded
  bool sent_preamble_ = false;   // a PROXY header went out on this connection
  std::string preamble_;
  bool local_ = false;  // failed for a reason of this host (finishLocal)
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<http::response_parser<http::string_body>> parser_;
  size_t step_ = 0;               // index of the next tcp-check step
  bool last_was_connect_ = true;  // the last non-comment step run was a connect
  std::string received_;
  std::vector<char> chunk_;
  std::string send_;       // the bytes a send step is writing
  bool linger_ = false;    // the connect step asked to end with an RST
  std::string last_info_;  // what the last expect found (a protocol check's status text)
  bool last_layer6_ = false;
  std::string reply_;  // agent-check: the agent's line
};

}  // namespace

void AsioProber::run(std::shared_ptr<const runtime::CheckSpec> spec, const ProbeTarget& target,
                     ProbeCallback done) {
  std::make_shared<CheckRun>(io_, time_, std::move(spec), target, std::move(done))->start();
}

}  // namespace lb::health
