#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "agent/balance/balancer.h"
#include "agent/proxy/buffer_pool.h"
#include "agent/proxy/pipe_pool.h"
#include "agent/proxy/poller.h"
#include "agent/proxy/relay.h"
#include "agent/runtime/runtime.h"

namespace lb::proxy {

class Session;

// A fast xorshift generator, one per worker (balance random).
class WorkerRandom : public balance::Random {
 public:
  explicit WorkerRandom(uint64_t seed) : state_(seed | 1) {}
  uint64_t next() override {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  uint64_t state_;
};

// One data-plane thread with its own io_context. Sessions and acceptors of a worker live on
// its thread from start to end, so they need no locks; other threads talk to it with post().
class Worker {
 public:
  explicit Worker(unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the worker's poller and, unless told otherwise, its thread. Without a thread of its
  // own, whoever calls io().run() drives the worker (tests that need sessions in exact states).
  void start(bool own_thread = true);
  // Stops the io_context and joins the thread.
  void stop();

  unsigned index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // The snapshot new connections of this worker use. Worker thread only (set through post).
  const std::shared_ptr<const runtime::Runtime>& runtime() const { return runtime_; }
  // Also switches the thread's scheduling policy when the snapshot asks for another one.
  void setRuntime(std::shared_ptr<const runtime::Runtime> runtime);

  WorkerRandom& random() { return random_; }
  BufferPool& buffers() { return buffers_; }
  PipePool& pipes() { return pipes_; }
  RelayPools& relayPools() { return relay_pools_; }

  Poller& poller() { return poller_; }

  size_t sessionCount() const { return sessions_.size(); }
  // Running sessions, for shutdown. Worker thread only.
  void add(std::shared_ptr<Session> session);
  // Drops the worker's reference; the session itself is freed once the events already read
  // for its sockets are handled (Poller::retire).
  void remove(Session* session);
  // Closes every running session at once (hard stop). Worker thread only.
  void abortSessions();
  // Closes the running sessions of one server. Worker thread only.
  void abortSessionsOf(const runtime::ServerState* server);

 private:
  unsigned index_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::shared_ptr<const runtime::Runtime> runtime_;
  bool sched_batch_ = false;  // threads start as SCHED_OTHER
  WorkerRandom random_;
  BufferPool buffers_;
  PipePool pipes_;
  RelayPools relay_pools_{buffers_, pipes_};
  Poller poller_{io_};
  // Owns each running session until it finishes; a session knows its slot, so adding and
  // removing one allocates nothing.
  std::vector<std::shared_ptr<Session>> sessions_;
};

}  // namespace lb::proxy
