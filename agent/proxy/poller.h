#pragma once

#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace lb::proxy {

// Receives the readiness events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP) of one
// descriptor registered with a Poller.
class PollHandler {
 public:
  virtual void onEvents(uint32_t events) = 0;

 protected:
  ~PollHandler() = default;
};

// The data plane's own epoll set, one per worker, waited on as a single descriptor of the
// worker's io_context (timers and posted work stay Asio's). Sockets are created non-blocking
// (accept4, SOCK_NONBLOCK), added once, edge-triggered for reading, writing and the peer's FIN,
// and leave the set when closed. Why not Asio sockets for the relay (about nine more system
// calls per connection): docs/architecture.md, "The data plane's epoll set", and the counts in
// docs/performance.md.
//
// Edge-triggered means a handler hears of new readiness once: it keeps what it heard (readable,
// FIN seen) until a read or write says otherwise.
//
// Threads: the worker's thread only.
class Poller {
 public:
  explicit Poller(boost::asio::io_context& io);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Starts waiting for events. Call once, before the io_context runs.
  void start();
  // Adds `fd` for EPOLLIN | EPOLLOUT | EPOLLRDHUP, edge-triggered. The current readiness is
  // reported as a first event. `handler` must stay valid until `fd` is closed and, if that
  // happens while events are being handled, until the batch is done: see retire(). Returns
  // false with errno set when the kernel refuses (out of memory).
  bool add(int fd, PollHandler* handler);
  // Keeps `object` (the owner of a handler whose descriptor was just closed) alive until the
  // events already read for it have been handed out.
  void retire(std::shared_ptr<void> object);

  // The steady clock, read once per batch of events while handlers run (HAProxy's now_ms):
  // sessions stamp their activity with it many times per batch. Outside a batch (timers,
  // posted work) it is read afresh.
  std::chrono::steady_clock::time_point now() const {
    return dispatching_ ? batch_now_ : std::chrono::steady_clock::now();
  }

 private:
  void wait();
  void onReady();
  void collect();

  boost::asio::io_context& io_;
  boost::asio::posix::stream_descriptor epoll_;
  std::vector<epoll_event> events_;
  std::vector<std::shared_ptr<void>> retired_;
  bool dispatching_ = false;
  std::chrono::steady_clock::time_point batch_now_;
  bool collect_posted_ = false;
};

}  // namespace lb::proxy
