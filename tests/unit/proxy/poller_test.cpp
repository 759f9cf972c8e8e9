// The data plane's epoll set: edge-triggered events reach their handlers, every ready
// descriptor is served even beyond one batch, and a handler retired during a batch lives until
// the batch is done.
#include "agent/proxy/poller.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <vector>

namespace lb::proxy {
namespace {

using namespace std::chrono_literals;

// A connected pair of stream sockets: `ours` is watched, `peer` is the other end.
struct Pair {
  int ours = -1;
  int peer = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    ours = fds[0];
    peer = fds[1];
  }
  ~Pair() {
    if (ours >= 0) ::close(ours);
    if (peer >= 0) ::close(peer);
  }
};

struct Recorder : PollHandler {
  std::vector<uint32_t> events;
  void onEvents(uint32_t e) override { events.push_back(e); }
  bool saw(uint32_t flag) const {
    for (uint32_t e : events) {
      if (e & flag) return true;
    }
    return false;
  }
};

TEST(PollerTest, ReportsWritableAtOnceThenReadableThenThePeersFin) {
  boost::asio::io_context io;
  Poller poller(io);
  poller.start();
  Pair pair;
  Recorder handler;
  ASSERT_TRUE(poller.add(pair.ours, &handler));
  io.run_for(50ms);
  ASSERT_FALSE(handler.events.empty()) << "adding reports the current readiness";
  EXPECT_TRUE(handler.saw(EPOLLOUT));
  EXPECT_FALSE(handler.saw(EPOLLIN));

  handler.events.clear();
  ASSERT_EQ(::write(pair.peer, "x", 1), 1);
  io.restart();
  io.run_for(50ms);
  EXPECT_TRUE(handler.saw(EPOLLIN));
  EXPECT_FALSE(handler.saw(EPOLLRDHUP));

  // Edge-triggered: nothing new, no event, though the byte is still unread.
  handler.events.clear();
  io.restart();
  io.run_for(50ms);
  EXPECT_TRUE(handler.events.empty());

  ::shutdown(pair.peer, SHUT_WR);
  io.restart();
  io.run_for(50ms);
  EXPECT_TRUE(handler.saw(EPOLLRDHUP));
}

TEST(PollerTest, ServesEveryReadyDescriptorBeyondOneBatch) {
  boost::asio::io_context io;
  Poller poller(io);
  poller.start();
  constexpr int kPairs = 700;  // more than a few batches of 256
  std::vector<std::unique_ptr<Pair>> pairs;
  std::vector<Recorder> handlers(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<Pair>());
    ASSERT_TRUE(poller.add(pairs.back()->ours, &handlers[i]));
  }
  io.run_for(100ms);
  for (auto& h : handlers) h.events.clear();
  for (auto& p : pairs) ASSERT_EQ(::write(p->peer, "x", 1), 1);
  io.restart();
  io.run_for(200ms);
  int served = 0;
  for (const auto& h : handlers) served += h.saw(EPOLLIN) ? 1 : 0;
  EXPECT_EQ(served, kPairs);
}

// Two descriptors ready in one batch; whichever is handled first closes the other's and
// retires its owner, as a session does when it ends. The other's event, already read in the
// same batch, must still find its owner alive (ASan would catch it otherwise), and the owner is
// freed once the batch is done.
struct Owner : PollHandler {
  Poller* poller = nullptr;
  int fd = -1;
  bool retired = false;
  std::shared_ptr<Owner>* partner = nullptr;  // the test's slot owning the other one
  int* calls_after_retired = nullptr;
  ~Owner() {
    if (fd >= 0) ::close(fd);
  }
  void onEvents(uint32_t) override {
    if (retired) {
      ++*calls_after_retired;
      return;
    }
    if (*partner && !(*partner)->retired) {
      ::close((*partner)->fd);
      (*partner)->fd = -1;
      (*partner)->retired = true;
      poller->retire(std::move(*partner));
    }
  }
};

TEST(PollerTest, ARetiredHandlerLivesUntilItsBatchIsDone) {
  boost::asio::io_context io;
  Poller poller(io);
  poller.start();
  Pair first, second;
  std::shared_ptr<Owner> slots[2] = {std::make_shared<Owner>(), std::make_shared<Owner>()};
  int calls_after_retired = 0;
  int fds[2] = {first.ours, second.ours};
  first.ours = second.ours = -1;  // the owners close them
  for (int i = 0; i < 2; ++i) {
    slots[i]->poller = &poller;
    slots[i]->fd = fds[i];
    slots[i]->partner = &slots[1 - i];
    slots[i]->calls_after_retired = &calls_after_retired;
  }
  std::weak_ptr<Owner> weak[2] = {slots[0], slots[1]};
  // Readiness for both before the loop runs: one epoll_wait returns both.
  ASSERT_TRUE(poller.add(fds[0], slots[0].get()));
  ASSERT_TRUE(poller.add(fds[1], slots[1].get()));
  io.run_for(100ms);
  EXPECT_EQ(calls_after_retired, 1) << "the retired owner's event of the same batch was handled";
  EXPECT_NE(weak[0].expired(), weak[1].expired()) << "exactly the retired owner is freed";
}

}  // namespace
}  // namespace lb::proxy
