#include "agent/proxy/worker.h"

#include <chrono>
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

void Worker::start() {
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::stop() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::abortSessions() {
  std::vector<std::shared_ptr<Session>> running;
  for (const auto& [key, session] : sessions_) running.push_back(session);
  for (const auto& session : running) session->abort();
}

}  // namespace lb::proxy

namespace lb::proxy {

void Worker::abortSessionsOf(const runtime::ServerState* server) {
  std::vector<std::shared_ptr<Session>> matching;
  for (const auto& [key, session] : sessions_) {
    if (session->serverState() == server) matching.push_back(session);
  }
  for (const auto& session : matching) session->abort();
}

}  // namespace lb::proxy
