// The Relay alone, between two socket pairs the test holds the far ends of: bytes both ways,
// half-closes passed on in order, back-pressure and the clocks it shows, bulk transfers with
// and without splice(2), errors passed on as resets, and the early read before a connect. The
// test plays the worker: it polls the relay's sockets and hands their readiness to the relay.
#include "agent/proxy/relay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace lb::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void setNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Two connected stream sockets: `near` is the relay's (non-blocking), `far` the test's peer.
struct Pair {
  int near = -1;
  int far = -1;
  ~Pair() {
    if (near >= 0) ::close(near);
    if (far >= 0) ::close(far);
  }
};

// An AF_UNIX socketpair: what most tests need.
void unixPair(Pair& pair) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  pair.near = fds[0];
  pair.far = fds[1];
  setNonBlocking(pair.near);
}

// TCP on loopback, for what only TCP has (an RST).
void tcpPair(Pair& pair) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t length = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &length);
  pair.far = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(pair.far, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  pair.near = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  ::close(listener);
  ASSERT_GE(pair.near, 0);
}

bool sendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads what is there within `timeout` (until `n` bytes, EOF or the timeout).
std::string readSome(int fd, size_t n, std::chrono::milliseconds timeout, bool* eof = nullptr) {
  std::string out;
  auto deadline = Clock::now() + timeout;
  if (eof) *eof = false;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) break;
    char buffer[65536];
    ssize_t got = ::recv(fd, buffer, std::min(sizeof buffer, n - out.size()), MSG_DONTWAIT);
    if (got == 0) {
      if (eof) *eof = true;
      break;
    }
    if (got < 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override { make(true); }

  void make(bool splice, bool tcp = false, size_t bufsize = 16384) {
    relay_.reset();
    client_ = {};
    server_ = {};
    if (tcp) {
      tcpPair(c_);
      tcpPair(s_);
    } else {
      unixPair(c_);
      unixPair(s_);
    }
    client_.fd = c_.near;
    server_.fd = s_.near;
    relay_ =
        std::make_unique<Relay>(pools_, static_cast<uint32_t>(bufsize), splice, client_, server_);
  }

  // Plays the worker until `done`, a relay end or `limit`: polls both sockets, folds their
  // readiness into the ends, hands it to the relay, and continues directions that yielded.
  Relay::Step run(
      const std::function<bool()>& done = [] { return false; },
      std::chrono::milliseconds limit = 300ms) {
    auto deadline = Clock::now() + limit;
    Relay::Step last;
    while (!done() && Clock::now() < deadline && !last.ended()) {
      pollfd fds[2] = {{client_.fd, POLLIN | POLLOUT | POLLRDHUP, 0},
                       {server_.fd, POLLIN | POLLOUT | POLLRDHUP, 0}};
      if (::poll(fds, 2, 10) <= 0) continue;
      for (int i = 0; i < 2 && !last.ended(); ++i) {
        RelayEnd& end = i == 0 ? client_ : server_;
        uint32_t events = 0;
        if (fds[i].revents & POLLIN) events |= EPOLLIN;
        if (fds[i].revents & POLLOUT) events |= EPOLLOUT;
        if (fds[i].revents & POLLRDHUP) events |= EPOLLRDHUP;
        if (fds[i].revents & POLLERR) events |= EPOLLERR;
        if (fds[i].revents & POLLHUP) events |= EPOLLHUP;
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) end.readable = true;
        if (events & EPOLLRDHUP) end.peer_fin = true;
        last = relay_->onEvents(i == 0, events, Clock::now());
        steps_.push_back(last);
        while (!last.ended() && (last.yield_up || last.yield_down)) {
          last = relay_->pump(last.yield_up ? Relay::Dir::kUp : Relay::Dir::kDown, Clock::now());
          ++yields_;
        }
      }
    }
    return last;
  }

  BufferPool buffers_;
  PipePool pipes_;
  RelayPools pools_{buffers_, pipes_};
  Pair c_, s_;  // client and server sockets: near (the relay's) and far (the test's)
  RelayEnd client_, server_;
  std::unique_ptr<Relay> relay_;
  std::vector<Relay::Step> steps_;
  int yields_ = 0;
};

TEST_F(RelayTest, BytesGoBothWaysAndAreCounted) {
  ASSERT_TRUE(relay_->start(Clock::now()).end == Relay::End::kRunning);
  ASSERT_TRUE(sendAll(c_.far, "GET / HTTP/1.0\r\n\r\n"));
  std::string got;
  run([&] { return (got += readSome(s_.far, 18, 0ms)).size() >= 18; });
  EXPECT_EQ(got, "GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(sendAll(s_.far, "HTTP/1.0 200 OK\r\n\r\nhello"));
  got.clear();
  run([&] { return (got += readSome(c_.far, 24, 0ms)).size() >= 24; });
  EXPECT_EQ(got, "HTTP/1.0 200 OK\r\n\r\nhello");
  EXPECT_EQ(relay_->bytes(Relay::Dir::kUp), 18u);
  EXPECT_EQ(relay_->bytes(Relay::Dir::kDown), 24u);
}

TEST_F(RelayTest, AClientFinIsPassedOnAfterItsBytesAndTheAnswerStillFlows) {
  relay_->start(Clock::now());
  ASSERT_TRUE(sendAll(c_.far, "last words"));
  ::shutdown(c_.far, SHUT_WR);
  bool eof = false;
  std::string got;
  run([&] {
    got += readSome(s_.far, 64, 0ms, &eof);
    return eof;
  });
  EXPECT_EQ(got, "last words");
  EXPECT_TRUE(eof) << "the FIN did not reach the server";
  auto clocks = relay_->clocks();
  EXPECT_TRUE(clocks.client.sent_fin);
  EXPECT_TRUE(clocks.server.received_fin);
  EXPECT_FALSE(clocks.client.reading);
  // The other direction goes on, and the server's FIN ends the relay.
  ASSERT_TRUE(sendAll(s_.far, "answer"));
  ::shutdown(s_.far, SHUT_WR);
  Relay::Step step = run();
  EXPECT_EQ(step.end, Relay::End::kClosed);
  EXPECT_EQ(readSome(c_.far, 64, 100ms), "answer");
}

TEST_F(RelayTest, BackPressureStopsReadingAndStartsTheWriteClock) {
  relay_->start(Clock::now());
  // The server never reads: what the client sends fills the server's socket buffers.
  std::string chunk(256 * 1024, 'x');
  int sent = 0;
  setNonBlocking(c_.far);
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::send(c_.far, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<int>(n);
    run([] { return false; }, 20ms);
    if (relay_->clocks().server.writing) break;
  }
  auto clocks = relay_->clocks();
  ASSERT_TRUE(clocks.server.writing) << "the server's buffers never filled (" << sent << " bytes)";
  EXPECT_FALSE(clocks.client.reading);  // the client is not idle: its bytes wait
  EXPECT_TRUE(std::any_of(steps_.begin(), steps_.end(), [](const auto& s) { return s.rearm; }));
  // The server reads: the relay resumes and everything arrives.
  std::string got;
  auto deadline = Clock::now() + 5s;
  while (got.size() < static_cast<size_t>(sent) && Clock::now() < deadline) {
    got += readSome(s_.far, static_cast<size_t>(sent) - got.size(), 5ms);
    run([] { return false; }, 5ms);
  }
  EXPECT_EQ(got.size(), static_cast<size_t>(sent));
  EXPECT_FALSE(relay_->clocks().server.writing);
  EXPECT_TRUE(relay_->clocks().client.reading);
}

// Sends a mebibyte and a FIN from `from`'s far end while `run` relays; checks what `to`'s far
// end received.
void bulkTransfer(Pair& from, Pair& to, const std::function<Relay::Step()>& run) {
  std::string payload(1 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 251);
  std::thread writer([&] {
    sendAll(from.far, payload);
    ::shutdown(from.far, SHUT_WR);
  });
  std::string got;
  std::thread reader([&] {
    bool eof = false;
    while (!eof) {
      std::string part = readSome(to.far, 1 << 20, 3s, &eof);
      if (part.empty() && !eof) break;
      got += part;
    }
  });
  run();
  writer.join();
  reader.join();
  EXPECT_EQ(got.size(), payload.size());
  EXPECT_TRUE(got == payload) << "the bytes arrived changed or out of order";
}

TEST_F(RelayTest, AMebibyteArrivesIntactThroughSplice) {
  relay_->start(Clock::now());
  bulkTransfer(s_, c_, [&] {
    return run([&] { return relay_->clocks().server.sent_fin && !relay_->clocks().client.writing; },
               10s);
  });
}

TEST_F(RelayTest, ABusyDirectionYieldsAfterABurst) {
  make(false, false, 1024);  // small buffers: a burst of reads cannot empty the socket
  relay_->start(Clock::now());
  ASSERT_TRUE(sendAll(s_.far, std::string(64 * 1024, 'y')));
  server_.readable = true;
  Relay::Step step = relay_->onEvents(false, EPOLLIN, Clock::now());
  EXPECT_TRUE(step.yield_down) << "a busy direction must let the worker's other sessions run";
  EXPECT_FALSE(step.yield_up);
  EXPECT_EQ(relay_->bytes(Relay::Dir::kDown), 16u * 1024);  // 16 reads of 1 KiB
  step = relay_->pump(Relay::Dir::kDown, Clock::now());
  EXPECT_EQ(relay_->bytes(Relay::Dir::kDown), 32u * 1024);
}

TEST_F(RelayTest, AMebibyteArrivesIntactThroughBuffers) {
  make(false);
  relay_->start(Clock::now());
  bulkTransfer(c_, s_, [&] {
    return run([&] { return relay_->clocks().client.sent_fin && !relay_->clocks().server.writing; },
               10s);
  });
}

TEST_F(RelayTest, AResetIsPassedOnAsAReset) {
  make(true, /*tcp=*/true);
  relay_->start(Clock::now());
  linger option{1, 0};
  ::setsockopt(c_.far, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(c_.far);
  c_.far = -1;
  Relay::Step step = run();
  ASSERT_EQ(step.end, Relay::End::kReadError);
  EXPECT_TRUE(step.client_culprit);
  // The owner closes the server's socket, which was set to close with an RST.
  ::close(s_.near);
  s_.near = -1;
  char c;
  pollfd p{s_.far, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(::recv(s_.far, &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST_F(RelayTest, BytesReadEarlyWaitForTheServerAndGoFirst) {
  ASSERT_TRUE(sendAll(c_.far, "EHLO"));
  client_.readable = true;
  EXPECT_EQ(relay_->readEarly(), Relay::EarlyRead::kData);
  EXPECT_TRUE(relay_->hasEarlyBytes());
  EXPECT_EQ(relay_->sendEarly(), Relay::EarlySend::kSent);
  relay_->start(Clock::now());
  EXPECT_EQ(readSome(s_.far, 4, 100ms), "EHLO");
  EXPECT_EQ(relay_->bytes(Relay::Dir::kUp), 4u);
}

TEST_F(RelayTest, AFinReadEarlyIsPassedOnOnceStarted) {
  ::shutdown(c_.far, SHUT_WR);
  client_.readable = client_.peer_fin = true;
  EXPECT_EQ(relay_->readEarly(), Relay::EarlyRead::kFin);
  EXPECT_FALSE(relay_->hasEarlyBytes());
  relay_->start(Clock::now());
  bool eof = false;
  readSome(s_.far, 1, 100ms, &eof);
  EXPECT_TRUE(eof);
  EXPECT_TRUE(relay_->clocks().client.sent_fin);
}

TEST_F(RelayTest, NothingToReadEarlyAndAResetAreTold) {
  EXPECT_EQ(relay_->readEarly(), Relay::EarlyRead::kNothing);
  EXPECT_FALSE(relay_->hasEarlyBytes());
  make(true, /*tcp=*/true);
  linger option{1, 0};
  ::setsockopt(c_.far, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(c_.far);
  c_.far = -1;
  pollfd p{c_.near, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_EQ(relay_->readEarly(), Relay::EarlyRead::kError);
}

TEST_F(RelayTest, ReleaseGivesBuffersAndEmptyPipesBack) {
  relay_->start(Clock::now());
  bulkTransfer(s_, c_, [&] {
    return run([&] { return relay_->clocks().server.sent_fin && !relay_->clocks().client.writing; },
               10s);
  });
  relay_->release();
  Pipe pipe = pipes_.acquire();  // one was pooled: the transfer's empty pipe
  EXPECT_TRUE(pipe.valid());
  pipes_.release(pipe, true);
}

}  // namespace
}  // namespace lb::proxy
