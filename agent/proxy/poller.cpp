#include "agent/proxy/poller.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace lb::proxy {

namespace asio = boost::asio;

namespace {

// Events read per epoll_wait, and batches handled before timers and posted work get a turn.
constexpr int kBatch = 256;
constexpr int kRounds = 4;

int createEpoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}

}  // namespace

Poller::Poller(asio::io_context& io) : io_(io), epoll_(io, createEpoll()), events_(kBatch) {}

Poller::~Poller() = default;

void Poller::start() {
  wait();
}

bool Poller::add(int fd, PollHandler* handler) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = handler;
  return ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

void Poller::retire(std::shared_ptr<void> object) {
  retired_.push_back(std::move(object));
  if (!dispatching_ && !collect_posted_) {
    // Retired outside a batch (a timer, a posted wake-up): free it once this handler is done.
    collect_posted_ = true;
    asio::post(io_, [this] {
      collect_posted_ = false;
      collect();
    });
  }
}

void Poller::collect() {
  // Destructors may retire more; swap first so that they land in the next round.
  std::vector<std::shared_ptr<void>> done;
  done.swap(retired_);
  done.clear();
  if (retired_.empty()) retired_.swap(done);  // keep the capacity
}

void Poller::wait() {
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec == asio::error::operation_aborted) return;
                      if (ec) spdlog::error("data-plane poller: {}", ec.message());
                      onReady();
                    });
}

void Poller::onReady() {
  dispatching_ = true;
  bool more = false;
  for (int round = 0; round < kRounds; ++round) {
    int n = ::epoll_wait(epoll_.native_handle(), events_.data(), kBatch, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("data-plane epoll_wait: {}", std::strerror(errno));
      break;
    }
    batch_now_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      static_cast<PollHandler*>(events_[i].data.ptr)->onEvents(events_[i].events);
    }
    collect();
    more = n == kBatch;
    if (!more) break;
  }
  dispatching_ = false;
  if (more) {
    // Events are still queued, and an edge-triggered outer wait would not report them again:
    // continue after the io_context's other work.
    asio::post(io_, [this] { onReady(); });
    return;
  }
  wait();
}

}  // namespace lb::proxy
