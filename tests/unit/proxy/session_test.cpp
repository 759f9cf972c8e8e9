// Session on a worker the test drives (no thread of its own): the backend queue's wake-ups,
// which need several sessions in precise states at once.
#include "agent/proxy/session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/config/loader.h"
#include "agent/runtime/build.h"

namespace lb::proxy {
namespace {

using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 that plays the server (its connections are never accepted:
// the kernel completes them, which is all a session needs to hold its server slot).
struct ServerPort {
  int fd = -1;
  uint16_t port = 0;
  ServerPort() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 64);
    socklen_t length = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
    port = ntohs(a.sin_port);
  }
  ~ServerPort() { ::close(fd); }
};

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    worker_.start(/*own_thread=*/false);
    std::string text =
        "frontend fe\n    bind 127.0.0.1:0\n    mode tcp\n    timeout client 30s\n"
        "    default_backend be\nbackend be\n    mode tcp\n    timeout connect 5s\n"
        "    timeout server 30s\n    timeout queue 30s\n    server s1 127.0.0.1:" +
        std::to_string(server_.port) + " maxconn 1\n";
    auto loaded = config::load({config::Source{"t.cfg", text, config::Format::kHaproxy}}, {});
    EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
    runtime_ = runtime::buildRuntime(loaded.config, {1, &store_, nullptr, nullptr}).runtime;
    worker_.setRuntime(runtime_);
  }

  // A session for a new client (one end of a socket pair; the test keeps the other).
  std::shared_ptr<Session> connect() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
    clients_.push_back(fds[1]);
    auto session = std::make_shared<Session>(
        worker_, fds[0],
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("10.0.0.1"),
                                       static_cast<uint16_t>(1000 + clients_.size())),
        runtime_, runtime_->frontends[0], GateSlot(), GateSlot());
    session->start();
    return session;
  }

  void runPosted() {
    worker_.io().restart();
    worker_.io().poll();
  }

  ~SessionTest() override {
    for (int fd : clients_) ::close(fd);
    worker_.abortSessions();
    runPosted();
  }

  runtime::BackendState& backendState() { return *runtime_->backends[0]->state; }
  uint32_t serverActive() { return runtime_->backends[0]->servers[0].state->active.load(); }

  ServerPort server_;
  Worker worker_{0};
  runtime::StateStore store_;
  std::shared_ptr<runtime::Runtime> runtime_;
  std::vector<int> clients_;
};

TEST_F(SessionTest, AtMaxconnTheNextSessionsWaitInTheQueue) {
  auto a = connect();
  auto b = connect();
  auto c = connect();
  EXPECT_NE(a->serverState(), nullptr);
  EXPECT_EQ(b->serverState(), nullptr);
  EXPECT_EQ(serverActive(), 1u);
  EXPECT_EQ(backendState().queued(), 2u);
  a->abort();  // its slot goes to the oldest waiter
  runPosted();
  EXPECT_NE(b->serverState(), nullptr);
  EXPECT_EQ(c->serverState(), nullptr);
  EXPECT_EQ(backendState().queued(), 1u);
  EXPECT_EQ(serverActive(), 1u);
}

TEST_F(SessionTest, AWaiterThatLeavesBeforeItsWakeUpPassesItOn) {
  auto a = connect();
  auto b = connect();
  auto c = connect();
  ASSERT_EQ(backendState().queued(), 2u);
  a->abort();  // wakes b: the wake-up is posted to b's worker
  b->abort();  // b leaves before it runs
  runPosted();
  // The wake-up did not die with b: c has the slot.
  EXPECT_NE(c->serverState(), nullptr) << "a wake-up was lost: c waits though a slot is free";
  EXPECT_EQ(backendState().queued(), 0u);
  EXPECT_EQ(serverActive(), 1u);
}

TEST_F(SessionTest, AWaiterThatIsGoneAltogetherPassesItsWakeUpOnToo) {
  auto a = connect();
  auto b = connect();
  auto c = connect();
  a->abort();
  b->abort();
  b.reset();  // nothing holds b any more: the wake-up finds no session
  runPosted();
  EXPECT_NE(c->serverState(), nullptr);
}

TEST_F(SessionTest, SlotsAreGivenBackExactlyOnce) {
  auto a = connect();
  auto b = connect();
  a->abort();
  a->abort();  // a second close changes nothing
  runPosted();
  EXPECT_EQ(serverActive(), 1u);  // b's
  b->abort();
  runPosted();
  EXPECT_EQ(serverActive(), 0u);
  EXPECT_EQ(backendState().active.load(), 0u);
  EXPECT_EQ(backendState().queued(), 0u);
}

}  // namespace
}  // namespace lb::proxy
