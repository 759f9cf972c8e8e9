#pragma once

// Shared by the probe unit tests: servers played by the test on 127.0.0.1 (answering, silent,
// refusing, never answering a SYN), check specs from protobuf text, and a fixture that runs one
// probe at a time on its own io_context.

#include <fcntl.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/health/probe.h"
#include "tests/unit/health/loopback.h"

namespace lb::health {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

// ---- servers played by the test ----

// What a fake server does with each connection: greet, wait for (part of) a request, answer,
// then close or keep the connection open until the peer closes it.
struct Behaviour {
  std::string banner;      // sent at once
  std::string read_until;  // "" answers without reading
  std::string reply;
  bool close = true;  // false: never close first
};

class FakeServer {
 public:
  FakeServer(asio::io_context& io, Behaviour behaviour)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        behaviour_(std::move(behaviour)),
        requests_(std::make_shared<std::vector<std::string>>()) {
    accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  // What each connection sent before the answer.
  const std::vector<std::string>& requests() const { return *requests_; }

 private:
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string in;
    std::string out;
    char drain[1024];
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto c = std::make_shared<Connection>(std::move(socket));
      start(c);
      accept();
    });
  }

  void start(std::shared_ptr<Connection> c) {
    c->out = behaviour_.banner;
    asio::async_write(
        c->socket, asio::buffer(c->out), [this, c](const boost::system::error_code& ec, size_t) {
          if (ec) return;
          if (behaviour_.read_until.empty()) {
            answer(c);
            return;
          }
          asio::async_read_until(c->socket, asio::dynamic_buffer(c->in), behaviour_.read_until,
                                 [this, c](const boost::system::error_code& error, size_t) {
                                   requests_->push_back(c->in);
                                   if (!error) answer(c);
                                 });
        });
  }

  void answer(std::shared_ptr<Connection> c) {
    c->out = behaviour_.reply;
    asio::async_write(c->socket, asio::buffer(c->out),
                      [this, c](const boost::system::error_code& ec, size_t) {
                        if (ec) return;
                        boost::system::error_code ignored;
                        if (behaviour_.close)
                          c->socket.shutdown(tcp::socket::shutdown_send, ignored);
                        drain(c);
                      });
  }

  // Reads until the peer closes, so that our close never turns into an RST.
  static void drain(std::shared_ptr<Connection> c) {
    c->socket.async_read_some(asio::buffer(c->drain),
                              [c](const boost::system::error_code& ec, size_t) {
                                if (!ec) drain(c);
                              });
  }

  tcp::acceptor acceptor_;
  Behaviour behaviour_;
  std::shared_ptr<std::vector<std::string>> requests_;
};

// A port on 127.0.0.1 that refuses connections: bound, never listening.
class RefusingPort {
 public:
  RefusingPort() { fd_ = bindLoopback(&port_); }
  ~RefusingPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs
// (a host that never answers, without leaving 127.0.0.1).
class Blackhole {
 public:
  Blackhole() {
    listener_ = bindLoopback(&port_);
    ::listen(listener_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port_);
    for (int attempt = 0; attempt < 8 && !hangs_; ++attempt) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      fillers_.push_back(fd);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) continue;
      if (errno != EINPROGRESS) break;
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 300) == 0) hangs_ = true;
    }
  }
  ~Blackhole() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  bool hangs() const { return hangs_; }

 private:
  int listener_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
  bool hangs_ = false;
};

inline tcp::endpoint local(uint16_t port) {
  return tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
}

// A check spec from protobuf text, e.g. "type: HTTP http { ... }".
inline lb::v1::HealthCheck spec(const std::string& text) {
  lb::v1::HealthCheck check;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &check)) << text;
  return check;
}

inline lb::v1::HealthCheck httpSpec(const std::string& expects = "") {
  return spec("type: HTTP http { method: 'OPTIONS' uri: '/' version: 'HTTP/1.0' " + expects + "}");
}

inline std::string response(const std::string& status_line, const std::string& body) {
  return "HTTP/1.0 " + status_line + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

inline ProbeTarget target(tcp::endpoint endpoint, milliseconds total = 2s) {
  ProbeTarget t;
  t.endpoint = endpoint;
  t.connect_timeout = total;
  t.total_timeout = total;
  return t;
}

class ProbeTest : public ::testing::Test {
 protected:
  // Runs one probe to completion on io_ (which also runs the fake servers).
  CheckResult run(const lb::v1::HealthCheck& check, const ProbeTarget& where) {
    std::optional<CheckResult> result;
    int calls = 0;
    io_.restart();
    std::string error;
    auto compiled = runtime::makeCheckSpec(check, &error);
    if (!compiled) {
      ADD_FAILURE() << "invalid check spec: " << error;
      return CheckResult{CheckStatus::kSockErr, false, "invalid spec", 0ms};
    }
    prober_.run(compiled, where, [&](const CheckResult& r) {
      result = r;
      ++calls;
    });
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!result && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    // Whatever is still pending must not report a second time.
    io_.run_for(20ms);
    EXPECT_EQ(calls, 1);
    if (!result) {
      ADD_FAILURE() << "the probe never reported";
      return CheckResult{CheckStatus::kSockErr, false, "no result", 0ms};
    }
    return *result;
  }

  CheckResult http(const std::string& reply, const std::string& expects = "") {
    FakeServer server(io_, {"", "\r\n\r\n", reply, true});
    return run(httpSpec(expects), target(server.endpoint()));
  }

  asio::io_context io_;
  common::AsioTimeSource time_{io_};
  AsioProber prober_{io_, time_};
};

}  // namespace lb::health
