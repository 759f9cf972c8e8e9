#include "agent/proxy/worker.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "agent/proxy/session.h"

namespace lb::proxy {

Worker::Worker(unsigned index)
    : index_(index),
      guard_(io_.get_executor()),
      random_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
              (uint64_t{index} << 32)) {}

Worker::~Worker() {
  stop();
}

void Worker::start(bool own_thread) {
  poller_.start();
  if (own_thread) thread_ = std::thread([this] { io_.run(); });
}

void Worker::stop() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

// SCHED_BATCH: a worker woken by a packet does not preempt the thread running on that CPU
// (often the backend or the client on a shared host); it runs when that thread blocks or its
// slice ends, and finds more events waiting. On a dedicated host there is nothing to preempt
// and nothing changes. Allowed without privileges (sched(7)); a refusal leaves the policy.
void Worker::setRuntime(std::shared_ptr<const runtime::Runtime> runtime) {
  bool batch = runtime->sched_batch;
  runtime_ = std::move(runtime);
  if (batch == sched_batch_) return;
  sched_param param{};
  int error = pthread_setschedparam(pthread_self(), batch ? SCHED_BATCH : SCHED_OTHER, &param);
  if (error != 0) {
    spdlog::warn("worker {}: cannot switch to {}: {}", index_,
                 batch ? "SCHED_BATCH" : "SCHED_OTHER", std::strerror(error));
    return;
  }
  sched_batch_ = batch;
}

void Worker::add(std::shared_ptr<Session> session) {
  session->worker_slot_ = sessions_.size();
  sessions_.push_back(std::move(session));
}

void Worker::remove(Session* session) {
  size_t slot = session->worker_slot_;
  if (slot >= sessions_.size() || sessions_[slot].get() != session) return;
  poller_.retire(std::move(sessions_[slot]));
  if (slot + 1 != sessions_.size()) {
    sessions_[slot] = std::move(sessions_.back());
    sessions_[slot]->worker_slot_ = slot;
  }
  sessions_.pop_back();
}

void Worker::abortSessions() {
  std::vector<std::shared_ptr<Session>> running = sessions_;
  for (const auto& session : running) session->abort();
}

void Worker::abortSessionsOf(const runtime::ServerState* server) {
  std::vector<std::shared_ptr<Session>> matching;
  for (const auto& session : sessions_) {
    if (session->serverState() == server) matching.push_back(session);
  }
  for (const auto& session : matching) session->abort();
}

}  // namespace lb::proxy
